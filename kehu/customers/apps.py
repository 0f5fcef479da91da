from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CustomersConfig(AppConfig):
    name = "kehu.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from kehu.audit import events as audit_events
        from kehu.audit import registry as audit_registry
        from kehu.core import masking, navigation, permissions, search
        from kehu.core.choices import Action
        from kehu.customfields import registry as customfields_registry
        from kehu.tags import registry as tags_registry

        from . import exporting, services
        from .choices import (
            ACCOUNT_RESTRICTABLE_FIELDS,
            CONTACT_RESTRICTABLE_FIELDS,
            CONTACT_ROLE_PICKLIST,
            PICKLIST_FIELDS,
        )
        from .models import (
            Account,
            AccountAddress,
            AccountContactRelation,
            AccountEmail,
            AccountPhone,
            Contact,
            ContactEmail,
            ContactPhone,
        )
        from .selectors import account_search, contact_search

        actions = (
            Action.VIEW,
            Action.ADD,
            Action.CHANGE,
            Action.DELETE,
            Action.EXPORT,
            Action.IMPORT,
            Action.ASSIGN,
        )
        permissions.register(
            Account, actions=actions, group=_("Customers"), fields=ACCOUNT_RESTRICTABLE_FIELDS
        )
        permissions.register(
            Contact, actions=actions, group=_("Customers"), fields=CONTACT_RESTRICTABLE_FIELDS
        )

        audit_registry.register(Account)
        audit_registry.register(Contact, parent="account")
        # Phone, e-mail and address rows follow their record's field permissions in the audit log
        # (History, operation log, 360° timeline): a masked account phone masks its phone rows.
        from . import models as detail_models

        audit_registry.field_modes_from(
            detail_models.AccountPhone, Account, {"number": "phone"}, repr_field="number"
        )
        audit_registry.field_modes_from(
            detail_models.AccountEmail, Account, {"email": "email"}, repr_field="email"
        )
        audit_registry.field_modes_from(
            detail_models.AccountAddress,
            Account,
            {"street": "address", "postcode": "address"},
            repr_field="street",
        )
        audit_registry.field_modes_from(
            detail_models.ContactPhone, Contact, {"number": ("phone", "mobile")}, repr_field="number"
        )
        audit_registry.field_modes_from(
            detail_models.ContactEmail, Contact, {"email": "email"}, repr_field="email"
        )
        for detail in (AccountPhone, AccountEmail, AccountAddress):
            audit_registry.register(detail, parent="account")
        for contact_detail in (ContactPhone, ContactEmail, AccountContactRelation):
            audit_registry.register(contact_detail, parent="contact")
        audit_events.register_event(services.LIFECYCLE_EVENT, _("Lifecycle stage changed"), icon="stairs-up")

        customfields_registry.register(Account)
        customfields_registry.register(Contact)
        tags_registry.register_taggable(Account)
        tags_registry.register_taggable(Contact)
        for field_name, code in PICKLIST_FIELDS.items():
            customfields_registry.register_picklist_usage(Account, field_name, code)
        customfields_registry.register_picklist_usage(AccountContactRelation, "role", CONTACT_ROLE_PICKLIST)

        exporting.register()
        from . import bulk  # bulk actions of the account and contact lists (kehu.core.bulk)

        bulk.register()

        from . import search as search_index  # the global search index (kehu.search)

        search_index.register()

        search.register_provider(
            "customers.account",
            pgettext_lazy("customers", "Accounts"),
            account_search,
            icon="building",
            order=10,
            model="customers.account",
            list_url_name="customers:account_list",
        )
        search.register_provider(
            "customers.contact",
            _("Contacts"),
            contact_search,
            icon="address-book",
            order=20,
            model="customers.contact",
            list_url_name="customers:contact_list",
        )

        navigation.register_item(
            "customers",
            navigation.MenuItem(
                pgettext_lazy("customers", "Accounts"),
                "customers:account_list",
                icon="building",
                requires=("customers.account", "view"),
            ),
        )
        navigation.register_item(
            "customers",
            navigation.MenuItem(
                _("Contacts"),
                "customers:contact_list",
                icon="address-book",
                requires=("customers.contact", "view"),
            ),
        )

        # Revealing a masked value is recorded in the operation log. Core cannot import audit, so
        # the recorder is registered here unless the audit app already did.
        if not masking.has_reveal_recorder("audit"):
            masking.register_reveal_recorder("audit", _record_reveal)


def _record_reveal(*, user: object, obj: object, field: str) -> None:
    from kehu.audit.choices import ChangeAction
    from kehu.audit.services import object_change_record

    object_change_record(obj=obj, action=ChangeAction.REVEAL, changes={"revealed": [field]}, by=user)  # type: ignore[arg-type]
