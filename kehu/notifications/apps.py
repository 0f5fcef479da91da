from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "kehu.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from kehu.core.services import job_finished_hooks

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
