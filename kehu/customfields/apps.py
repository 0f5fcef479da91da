from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomFieldsConfig(AppConfig):
    name = "kehu.customfields"
    label = "customfields"
    verbose_name = _("Custom fields")

    def ready(self) -> None:
        from kehu.core import navigation

        from .api import fields  # registers the OpenAPI extension of the `custom` object

        del fields
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
