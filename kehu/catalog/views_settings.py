"""The catalog's settings pages: currencies (one is the company currency, 本位币), their exchange
rates, and the product category tree. Built from the generic views (`kehu.core.generic`): lists
of the records the user may view, add/edit in the htmx modal, deletes through the services.

These records have no detail page: after a save or delete the user is back on the list."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kehu.core.choices import Action
from kehu.core.errors import DomainError
from kehu.core.generic import (
    ObjectDeleteView,
    ObjectEditView,
    ObjectListView,
    get_for_action,
    object_url,
    safe_next,
    success_response,
    verbose,
)
from kehu.core.permissions import can

from . import selectors, services
from .filtersets import ExchangeRateFilterSet
from .forms_settings import CurrencyForm, ExchangeRateForm, ProductCategoryForm
from .models import Currency, ExchangeRate, ProductCategory
from .tables_settings import CurrencyTable, ExchangeRateTable, ProductCategoryTable


def _crumbs(model: type[models.Model], *extra: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    return [(_("Administration"), None), (verbose(model, plural=True), object_url(model, "list")), *extra]


class _SettingsAccess:
    """A user without the model permission the view needs gets 403 (configuration records have no
    data scope to hide them in: the generic views would answer 404)."""

    model: ClassVar[type[models.Model]]
    required: ClassVar[str] = Action.VIEW
    request: HttpRequest

    def required_action(self) -> str:
        return self.required

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated and not can(request.user, self.model, self.required_action()):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class _SettingsList(_SettingsAccess, ObjectListView):
    template_name = "catalog/settings/settings_list.html"
    row_actions_template: ClassVar[str] = ""
    description: ClassVar[Any] = ""

    def get_extra_context(self) -> dict[str, Any]:
        user = self.request.user
        return {
            "breadcrumbs": [*_crumbs(self.model)[:1], (verbose(self.model, plural=True), None)],
            "row_actions_template": self.row_actions_template,
            "may_change": can(user, self.model, Action.CHANGE),
            "may_delete": can(user, self.model, Action.DELETE),
            "description": self.description,
            "settings_nav": [
                (object_url(m, "list"), verbose(m, plural=True), f"{m._meta.model_name}_list")
                for m in (Currency, ExchangeRate, ProductCategory)
            ],
            "settings_active": f"{self.model._meta.model_name}_list",
        }


class _SettingsEdit(_SettingsAccess, ObjectEditView):
    """Add (no pk) or edit in the modal; back to the list afterwards (the records have no page of
    their own: `generic.record_page`)."""

    def required_action(self) -> str:
        return Action.CHANGE if self.kwargs.get("pk") else Action.ADD


class _SettingsDelete(_SettingsAccess, ObjectDeleteView):
    required = Action.DELETE


# --- currencies -----------------------------------------------------------------------------------


class CurrencyListView(_SettingsList):
    model = Currency
    table_class = CurrencyTable
    search_fields = ("code", "name", "name_en")
    per_page_choices = (100, 250, 500)
    row_actions_template = "catalog/settings/_currency_actions.html"
    description = gettext_lazy(
        "The currencies documents may use. Reports convert amounts to the company currency."
    )


class CurrencyEditView(_SettingsEdit):
    model = Currency
    form_class = CurrencyForm

    def save(self, form: Any, obj: Currency | None) -> Currency:
        if obj is None:
            return services.currency_create(by=self.request.user, data=form.service_data())
        return services.currency_update(currency=obj, by=self.request.user, data=form.service_data())


@login_required
@require_POST
def currency_make_company_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Make a currency the company currency (本位币)."""
    if not can(request.user, Currency, Action.CHANGE):
        raise PermissionDenied
    currency = get_for_action(Currency, request.user, pk, Action.CHANGE)
    url = safe_next(request) or reverse("catalog:currency_list")
    try:
        currency = services.currency_make_company(currency=currency, by=request.user)
    except DomainError as exc:
        return success_response(request, url=url, message=str(exc.message), level="error")
    message = _("%(code)s is now the company currency.") % {"code": currency.code}
    return success_response(request, url=url, message=message)


class CurrencyDeleteView(_SettingsDelete):
    model = Currency

    def delete(self, obj: Currency) -> None:
        services.currency_delete(currency=obj, by=self.request.user)


# --- exchange rates -------------------------------------------------------------------------------


class ExchangeRateListView(_SettingsList):
    model = ExchangeRate
    table_class = ExchangeRateTable
    filterset_class = ExchangeRateFilterSet
    exporter = "catalog.exchangerate"
    row_actions_template = "catalog/settings/_exchangerate_actions.html"

    def get_queryset(self) -> models.QuerySet[Any]:
        return super().get_queryset().select_related("currency")

    def get_extra_context(self) -> dict[str, Any]:
        context = super().get_extra_context()
        company = selectors.company_currency()
        context["company_currency"] = company
        if company is not None:
            context["description"] = _(
                "A rate is how many %(code)s one unit of the currency was worth from its date on "
                "(the rate of a day is the latest one on or before it)."
            ) % {"code": company.code}
        return context


class ExchangeRateEditView(_SettingsEdit):
    """Set the rate of a currency on a day: created, or replacing that day's rate."""

    model = ExchangeRate
    form_class = ExchangeRateForm

    def get_object(self) -> Any:
        if not can(self.request.user, ExchangeRate, Action.ADD):
            raise PermissionDenied
        return None

    def save(self, form: Any, obj: None) -> ExchangeRate:
        data = form.cleaned_data
        return services.exchange_rate_set(
            currency=data["currency"],
            valid_on=data["valid_on"],
            rate=data["rate"],
            source=data.get("source") or "",
            by=self.request.user,
        )

    def success_message(self, obj: ExchangeRate, created: bool) -> str:
        return _("Exchange rate of %(code)s on %(date)s saved.") % {
            "code": obj.currency.code,
            "date": obj.valid_on.isoformat(),
        }


class ExchangeRateDeleteView(_SettingsDelete):
    model = ExchangeRate

    def get_object(self) -> Any:
        obj = super().get_object()
        return ExchangeRate.objects.select_related("currency").get(pk=obj.pk)

    def delete(self, obj: ExchangeRate) -> None:
        services.exchange_rate_delete(rate=obj, by=self.request.user)


# --- categories -----------------------------------------------------------------------------------


class CategoryListView(_SettingsList):
    model = ProductCategory
    table_class = ProductCategoryTable
    search_fields = ("name", "name_en")
    per_page_choices = (500, 1000)
    row_actions_template = "catalog/settings/_productcategory_actions.html"
    description = gettext_lazy(
        "Products are filed in a tree of categories; the number is the products directly in each."
    )


class CategoryEditView(_SettingsEdit):
    model = ProductCategory
    form_class = ProductCategoryForm

    def save(self, form: Any, obj: ProductCategory | None) -> ProductCategory:
        if obj is None:
            return services.category_create(by=self.request.user, data=form.service_data())
        return services.category_update(category=obj, by=self.request.user, data=form.service_data())


class CategoryDeleteView(_SettingsDelete):
    model = ProductCategory

    def delete(self, obj: ProductCategory) -> None:
        services.category_delete(category=obj, by=self.request.user)
