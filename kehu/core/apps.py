from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "kehu.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from . import navigation, permissions
        from .choices import Action
        from .models import Job, SavedView, UserPreference

        self._connect_cache_invalidation(SavedView, UserPreference)

        # Everyone sees their own jobs; a role may grant seeing (and cancelling) other people's.
        permissions.register(Job, actions=(Action.VIEW, Action.CHANGE), group=_("Administration"))
        # "Add" on saved views: may create views shared with everyone who sees the list.
        permissions.register(SavedView, actions=(Action.ADD,), group=_("Administration"))

        # Sidebar groups; apps add their items in their own ready().
        navigation.register_group("customers", _("Customers"), icon="users-group", order=10)
        navigation.register_group("settings", _("Administration"), icon="settings", order=90)

    @staticmethod
    def _connect_cache_invalidation(saved_view: Any, user_preference: Any) -> None:
        """Cache invalidation (`kehu.core.confcache`): a preference belongs to one user; a saved
        view may be shared with everyone, so it replaces the configuration token."""
        from django.db.models.signals import post_delete, post_save

        from . import confcache

        def preference_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
            confcache.bump_user(instance.user_id)

        def view_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
            confcache.bump()

        for signal in (post_save, post_delete):
            signal.connect(preference_changed, sender=user_preference, weak=False)
            signal.connect(view_changed, sender=saved_view, weak=False)
