"""Pages of accounts and contacts, built from the generic views in `kehu.core.generic`."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kehu.core import generic
from kehu.core.choices import Action
from kehu.core.permissions import can

from . import selectors, services
from .filtersets import AccountFilterSet, ContactFilterSet
from .forms import AccountForm, ContactForm
from .models import Account, Contact
from .tables import AccountTable, ContactTable

# --- accounts ---------------------------------------------------------------------------------


class AccountListView(generic.ObjectListView):
    model = Account
    table_class = AccountTable
    filterset_class = AccountFilterSet
    exporter = "customers.account"


def _account_contacts(request: HttpRequest, account: Account) -> dict[str, Any]:
    contacts = list(selectors.account_contacts(user=request.user, account=account)[:50])
    return {
        "contacts": contacts,
        "can_add_contact": can(request.user, Contact, Action.ADD),
    }


class AccountDetailView(generic.ObjectDetailView):
    model = Account
    template_name = "customers/account_detail.html"
    select_related = ("owner", "department", "created_by")
    tabs = [
        generic.Tab(
            "overview", _("Overview"), "customers/_account_overview.html", icon="info-circle", order=0
        ),
        generic.Tab(
            "contacts",
            _("Contacts"),
            "customers/_account_contacts.html",
            context=_account_contacts,
            icon="address-book",
            order=10,
        ),
    ]

    def get_extra_context(self, obj: Account) -> dict[str, Any]:
        return {
            "contact_count": selectors.account_contacts(user=self.request.user, account=obj).count(),
            "picklist_items": selectors.account_picklist_items(obj),
        }


class AccountEditView(generic.ObjectEditView):
    model = Account
    form_class = AccountForm

    def save(self, form: AccountForm, obj: Account | None) -> Account:
        if obj is None:
            return services.account_create(by=self.request.user, data=form.service_data())  # type: ignore[arg-type]
        return services.account_update(
            account=obj,
            by=self.request.user,
            data=form.service_data(),  # type: ignore[arg-type]
            version=form.version,
        )


class AccountDeleteView(generic.ObjectDeleteView):
    model = Account

    def delete(self, obj: Account) -> None:
        services.account_delete(account=obj, by=self.request.user)


class AccountAutocompleteView(generic.ObjectAutocompleteView):
    model = Account
    search_fields = ("name", "short_name")


# --- contacts ---------------------------------------------------------------------------------


class ContactListView(generic.ObjectListView):
    model = Contact
    table_class = ContactTable
    filterset_class = ContactFilterSet
    exporter = "customers.contact"


class ContactDetailView(generic.ObjectDetailView):
    model = Contact
    template_name = "customers/contact_detail.html"
    select_related = ("owner", "department", "created_by", "account")
    tabs = [
        generic.Tab(
            "overview", _("Overview"), "customers/_contact_overview.html", icon="info-circle", order=0
        )
    ]

    def get_extra_context(self, obj: Contact) -> dict[str, Any]:
        account_visible = generic.in_scope(self.request.user, obj.account, Action.VIEW)
        return {"account_visible": account_visible}


class ContactEditView(generic.ObjectEditView):
    model = Contact
    form_class = ContactForm

    def save(self, form: ContactForm, obj: Contact | None) -> Contact:
        if obj is None:
            return services.contact_create(by=self.request.user, data=form.service_data())  # type: ignore[arg-type]
        return services.contact_update(
            contact=obj,
            by=self.request.user,
            data=form.service_data(),  # type: ignore[arg-type]
            version=form.version,
        )


class ContactDeleteView(generic.ObjectDeleteView):
    model = Contact

    def delete(self, obj: Contact) -> None:
        services.contact_delete(contact=obj, by=self.request.user)
