from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "kehu.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from kehu.core import confcache
        from kehu.core.services import job_finished_hooks

        from .models import Notification

        def notification_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
            # the recipient's unread count is kept per user (kehu.notifications.selectors.unread_count)
            confcache.bump_user(instance.recipient_id)

        for signal in (post_save, post_delete):
            signal.connect(notification_changed, sender=Notification, weak=False)

        from .services import notify_job_finished

        if notify_job_finished not in job_finished_hooks:
            job_finished_hooks.append(notify_job_finished)

        from .kinds import Channel, register_kind

        register_kind(
            "job.succeeded", _("My background jobs finished"), default_channels={Channel.IN_APP}, order=900
        )
        register_kind(
            "job.failed", _("My background jobs failed"), default_channels={Channel.IN_APP}, order=901
        )
