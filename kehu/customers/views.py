"""Pages of accounts and contacts, built from the generic views in `kehu.core.generic`."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views import View

from kehu.core import generic
from kehu.core.choices import Action

from . import detail, selectors, services
from .filtersets import AccountFilterSet, ContactFilterSet
from .forms import AccountForm, ContactForm
from .models import Account, Contact
from .tables import AccountTable, ContactTable
from .widgets import region_context, safe_prefix


def created_elsewhere_message(
    obj: Any, *, rule: str | None = None, owner: Any = None, pool: Any = None
) -> str:
    """What the creator reads when the new record went out of their data scope: to whom (or to
    which pool) it went, and by which assignment rule."""
    values = {"model": generic.verbose(type(obj)), "name": obj, "owner": owner, "pool": pool, "rule": rule}
    if rule and pool is not None:
        return (
            gettext("%(model)s “%(name)s” was created and put in the pool “%(pool)s” by rule “%(rule)s”.")
            % values
        )
    if rule and owner is not None:
        return (
            gettext("%(model)s “%(name)s” was created and assigned to %(owner)s by rule “%(rule)s”.") % values
        )
    if pool is not None:
        return gettext("%(model)s “%(name)s” was created and put in the pool “%(pool)s”.") % values
    if owner is not None:
        return gettext("%(model)s “%(name)s” was created and assigned to %(owner)s.") % values
    return gettext("%(model)s “%(name)s” was created. It is outside your data scope.") % values


class CreateOutOfScopeMixin:
    """After a create whose record the user can no longer see (an assignment rule, the pool or an
    explicit owner handed it on): the list, with a message naming who got it (page or htmx)."""

    request: HttpRequest
    model: ClassVar[type[models.Model]]

    def on_success(self, obj: Any, *, created: bool) -> HttpResponse:
        if not created or generic.in_scope(self.request.user, obj, Action.VIEW):
            return super().on_success(obj, created=created)  # type: ignore[misc]
        message = created_elsewhere_message(obj, **selectors.assignment_of(obj))
        url = generic.object_url(self.model, "list") or "/"
        return generic.success_response(self.request, url=url, message=message, level="info")


# --- accounts ---------------------------------------------------------------------------------


class AccountListView(generic.ObjectListView):
    model = Account
    table_class = AccountTable
    filterset_class = AccountFilterSet
    exporter = "customers.account"


class AccountDetailView(generic.ObjectDetailView):
    """The account's 360° page (客户全景): header key facts (own and registered by other apps), then
    overview, contacts, timeline, related and history tabs (other apps add tabs and cards)."""

    model = Account
    template_name = "customers/account_detail.html"
    select_related = ("owner", "department", "created_by", "parent")
    tabs = [
        generic.Tab(
            "overview",
            _("Overview"),
            "customers/_account_overview.html",
            context=detail.account_overview,
            icon="layout-dashboard",
            order=0,
        ),
        generic.Tab(
            "contacts",
            _("Contacts"),
            "customers/_account_contacts.html",
            context=detail.account_contacts_page,
            icon="address-book",
            order=10,
        ),
        generic.Tab("timeline", _("Timeline"), "customers/_timeline_tab.html", icon="timeline", order=20),
        generic.Tab(
            "related",
            pgettext_lazy("tab", "Related"),
            "customers/_account_related.html",
            context=detail.account_related,
            icon="hierarchy-2",
            order=30,
        ),
    ]

    def get_extra_context(self, obj: Account) -> dict[str, Any]:
        return {
            **detail.account_header(self.request, obj),
            "picklist_items": selectors.account_picklist_items(obj),
        }


class AccountEditView(CreateOutOfScopeMixin, generic.ObjectEditView):
    model = Account
    form_class = AccountForm

    @transaction.atomic
    def save(self, form: AccountForm, obj: Account | None) -> Account:
        if obj is None:
            # The tags go in with the create, before the assignment rules may hand it on.
            return services.account_create(
                by=self.request.user,
                data=form.service_data(),  # type: ignore[arg-type]
                confirmed=form.collisions_confirmed,
                tags=form.new_tags(),
            )
        saved = services.account_update(
            account=obj,
            by=self.request.user,
            data=form.service_data(),  # type: ignore[arg-type]
            version=form.version,
            confirmed=form.collisions_confirmed,
        )
        form.save_tags(saved)  # kehu.tags.services.tags_set when the tags changed
        return saved


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
    """A contact's page: overview, the accounts it works with (and its role at each), its timeline
    and history."""

    model = Contact
    template_name = "customers/contact_detail.html"
    select_related = ("owner", "department", "created_by", "account")
    tabs = [
        generic.Tab(
            "overview",
            _("Overview"),
            "customers/_contact_overview.html",
            context=detail.contact_overview,
            icon="layout-dashboard",
            order=0,
        ),
        generic.Tab(
            "accounts",
            pgettext_lazy("customers", "Accounts"),
            "customers/_contact_accounts.html",
            context=detail.contact_accounts,
            icon="building",
            order=10,
        ),
        generic.Tab("timeline", _("Timeline"), "customers/_timeline_tab.html", icon="timeline", order=20),
    ]

    def get_extra_context(self, obj: Contact) -> dict[str, Any]:
        return detail.contact_header(self.request, obj)


class ContactEditView(CreateOutOfScopeMixin, generic.ObjectEditView):
    model = Contact
    form_class = ContactForm

    @transaction.atomic
    def save(self, form: ContactForm, obj: Contact | None) -> Contact:
        if obj is None:
            return services.contact_create(
                by=self.request.user,
                data=form.service_data(),  # type: ignore[arg-type]
                confirmed=form.collisions_confirmed,
                tags=form.new_tags(),
            )
        saved = services.contact_update(
            contact=obj,
            by=self.request.user,
            data=form.service_data(),  # type: ignore[arg-type]
            version=form.version,
            confirmed=form.collisions_confirmed,
        )
        form.save_tags(saved)  # kehu.tags.services.tags_set when the tags changed
        return saved


class ContactDeleteView(generic.ObjectDeleteView):
    model = Contact

    def delete(self, obj: Contact) -> None:
        services.contact_delete(contact=obj, by=self.request.user)


# --- region picker ----------------------------------------------------------------------------


class RegionPickerView(LoginRequiredMixin, View):
    """GET: the cascading region selects (country, province, city, district) for the values in the
    query string, named with ``prefix`` (htmx swaps the block whenever one of them changes)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        prefix = safe_prefix(request.GET.get("prefix", ""))
        values = {
            n: request.GET.get(f"{prefix}{n}", "")[:6] for n in ("country", "province", "city", "district")
        }
        values["country"] = values["country"][:2].upper()
        context = region_context(prefix, values)
        # A changed province invalidates the city and district below it (and so on).
        if context["city"] and context["city"] not in {c for c, _n in context["cities"]}:
            context["city"] = ""
            values["city"] = ""
            context = region_context(prefix, {**values, "district": ""})
        if context["district"] and context["district"] not in {c for c, _n in context["districts"]}:
            context["district"] = ""
        return render(request, "customers/_region_picker.html", context)
