from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "kehu.service"
    label = "service"
    verbose_name = _("Service")

    def ready(self) -> None:
        from kehu.core import navigation

        navigation.register_group("service", _("Service"), icon="headset", order=18)
        # Each area (calendars, tickets, queues, sla, knowledge, mail, surveys, churn, public,
        # dashboard) registers its permissions, audit, timeline events, notification kinds, menu
        # items, panels, search providers and jobs in kehu/service/hooks/<area>.py: add yours there.
        from . import hooks

        hooks.register_all()
