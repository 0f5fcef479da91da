from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "kehu.audit"
    label = "audit"
    verbose_name = _("Audit")

    def ready(self) -> None:
        from kehu.users.models import ApiToken, Department, FieldPermission, Role, RolePermission, User

        from . import registry

        # The users app sits below audit, so audit registers its models here.
        registry.register(User, exclude=("password", "last_login"))
        registry.register(Department, exclude=("path", "depth"))
        registry.register(Role)
        registry.register(RolePermission, parent="role")
        registry.register(FieldPermission, parent="role")
        registry.register(ApiToken, exclude=("key_hash", "last_used_at"), parent="user")
