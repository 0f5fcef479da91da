from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "kehu.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from . import navigation, permissions
        from .choices import Action
        from .models import Job, SavedView

        # Everyone sees their own jobs; a role may grant seeing (and cancelling) other people's.
        permissions.register(Job, actions=(Action.VIEW, Action.CHANGE), group=_("Administration"))
        # "Add" on saved views: may create views shared with everyone who sees the list.
        permissions.register(SavedView, actions=(Action.ADD,), group=_("Administration"))

        # Sidebar groups; apps add their items in their own ready().
        navigation.register_group("customers", _("Customers"), icon="users-group", order=10)
        navigation.register_group("settings", _("Administration"), icon="settings", order=90)
