from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UsersConfig(AppConfig):
    name = "kehu.users"
    label = "users"
    verbose_name = _("Users and access")

    def ready(self) -> None:
        from kehu.core import navigation, permissions
        from kehu.core.navigation import MenuItem

        from .backends import connect_cache_invalidation
        from .models import Department, Role, User

        connect_cache_invalidation()

        group = _("Administration")
        permissions.register(User, group=group, fields=["email", "phone"])
        permissions.register(Department, group=group)
        permissions.register(Role, group=group)

        navigation.register_item(
            "settings", MenuItem(_("Users"), "users:user_list", icon="users", requires=("users.user", "view"))
        )
        navigation.register_item(
            "settings",
            MenuItem(
                _("Departments"),
                "users:department_list",
                icon="sitemap",
                requires=("users.department", "view"),
            ),
        )
        navigation.register_item(
            "settings",
            MenuItem(_("Roles"), "users:role_list", icon="shield-lock", requires=("users.role", "view")),
        )
