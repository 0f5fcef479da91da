from celery import shared_task

from . import services
from .models import Notification


@shared_task(name="kehu.notifications.tasks.notification_email")
def notification_email(ids: list[int]) -> int:
    """Send the e-mails of these notifications (each once: idempotent)."""
    return services.deliver(Notification.objects.filter(pk__in=ids, emailed_at__isnull=True), email=True)
