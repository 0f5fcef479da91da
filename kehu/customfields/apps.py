from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomFieldsConfig(AppConfig):
    name = "kehu.customfields"
    label = "customfields"
    verbose_name = _("Custom fields")

    def ready(self) -> None:
        from kehu.audit import registry as audit_registry
        from kehu.core import navigation

        from .api import fields  # registers the OpenAPI extension of the `custom` object
        from .models import CustomField, FieldRule, Picklist, PicklistItem

        del fields
        # Definitions are read once per request (selectors.custom_fields_for); a write forgets them.
        from django.db.models.signals import post_delete, post_save

        from .selectors import forget_definitions

        for model in (CustomField, Picklist, PicklistItem):
            post_save.connect(
                forget_definitions, sender=model, dispatch_uid=f"kehu_cf_forget_{model.__name__}"
            )
            post_delete.connect(
                forget_definitions, sender=model, dispatch_uid=f"kehu_cf_forget_del_{model.__name__}"
            )
        # Definition changes appear in the operation log (reordering is not recorded).
        audit_registry.register(CustomField, exclude=("order",))
        audit_registry.register(Picklist)
        audit_registry.register(PicklistItem, exclude=("order",), parent="picklist")
        audit_registry.register(FieldRule, exclude=("order",))

        # The History tab names custom-field changes by the field's label, not its key.
        from kehu.audit import display as audit_display

        from .selectors import custom_field_label

        if custom_field_label not in audit_display.json_key_labels:
            audit_display.json_key_labels.append(custom_field_label)

        # Field permissions (hidden / masked / read-only) can target custom fields: "custom.<name>".
        from kehu.users import selectors as users_selectors

        from .selectors import permission_fields

        if permission_fields not in users_selectors.field_providers:
            users_selectors.field_providers.append(permission_fields)
        navigation.register_item(
            "settings",
            navigation.MenuItem(_("Custom fields"), "customfields:field_list", icon="forms", admin_only=True),
        )
        navigation.register_item(
            "settings",
            navigation.MenuItem(
                _("Picklists"), "customfields:picklist_list", icon="list-details", admin_only=True
            ),
        )
        navigation.register_item(
            "settings",
            navigation.MenuItem(
                _("Data standards"), "customfields:standards", icon="checklist", admin_only=True
            ),
        )
