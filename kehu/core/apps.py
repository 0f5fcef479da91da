from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "kehu.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from . import navigation

        # Sidebar groups; apps add their items in their own ready().
        navigation.register_group("customers", _("Customers"), icon="users-group", order=10)
        navigation.register_group("settings", _("Administration"), icon="settings", order=90)
