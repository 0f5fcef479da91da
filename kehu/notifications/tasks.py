from celery import shared_task

from . import services


@shared_task(name="kehu.notifications.tasks.notification_email")
def notification_email(ids: list[int]) -> int:
    """Send the e-mails of these notifications (each once: idempotent, safe to retry).

    A failed send stays due; `notification_email_sweep` (Celery beat) tries it again."""
    sent, _failed = services.notification_emails_send(ids=ids)
    return sent


@shared_task(name="kehu.notifications.tasks.notification_email_sweep")
def notification_email_sweep() -> int:
    """Every few minutes: e-mails still due (a lost task, an SMTP server that was down)."""
    return services.notification_email_sweep()
