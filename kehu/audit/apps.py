from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "kehu.audit"
    label = "audit"
    verbose_name = _("Audit")

    def ready(self) -> None:
        from kehu.core import bulk, masking, navigation, permissions
        from kehu.core.choices import Action
        from kehu.users.models import ApiToken, Department, FieldPermission, Role, RolePermission, User

        from . import exporting, hooks, registry
        from .models import ObjectChange

        # The users app sits below audit, so audit registers its models here.
        registry.register(User, exclude=("password", "last_login"))
        registry.register(Department, exclude=("path", "depth"))
        registry.register(Role)
        registry.register(RolePermission, parent="role")
        registry.register(FieldPermission, parent="role")
        registry.register(ApiToken, exclude=("key_hash", "last_used_at"), parent="user")

        permissions.register(ObjectChange, actions=(Action.VIEW, Action.EXPORT), group=_("Administration"))
        navigation.register_item(
            "settings",
            navigation.MenuItem(
                _("Operation log"),
                "audit:operation_log",
                icon="history",
                requires=("audit.objectchange", "view"),
            ),
        )
        exporting.register()
        masking.register_reveal_recorder("audit", hooks.record_reveal)
        # One operation-log entry per bulk run, for every app's bulk actions (kehu.core.bulk).
        if hooks.record_bulk_operation not in bulk.bulk_hooks:
            bulk.bulk_hooks.append(hooks.record_bulk_operation)
