from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UsersConfig(AppConfig):
    name = "kehu.users"
    label = "users"
    verbose_name = _("Users and access")

    def ready(self) -> None:
        from kehu.core import permissions
        from kehu.core.choices import Action

        from .models import Department, Role, User

        group = _("Administration")
        permissions.register(User, group=group, fields=["email", "phone"])
        permissions.register(Department, group=group)
        permissions.register(Role, group=group)
        del Action
