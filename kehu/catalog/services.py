"""Writes of the catalog: currencies and exchange rates, categories, products, price lists and their
prices. Keyword-only, typed, atomic; bad input raises `CatalogError` with field messages and
changes nothing. Who may call them is decided by the views and API (`restrict`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from kehu.core.errors import DomainError

from .models import Currency, ExchangeRate, PriceList, PriceListItem, Product, ProductCategory


class CatalogError(DomainError):
    code = "catalog_invalid"
    IN_USE = "catalog_in_use"
    COMPANY_CURRENCY = "catalog_company_currency"
    CATEGORY_LOOP = "catalog_category_loop"
    STALE = "catalog_stale"


def _clean(obj: models.Model, exclude: list[str] | None = None) -> None:
    """Field and constraint checks of one record, as field messages."""
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as exc:
        fields = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
        first = next(iter(fields.values()))[0] if fields else _("Check the values.")
        raise CatalogError(first, fields=fields) from exc


def _apply(obj: models.Model, data: Mapping[str, Any], allowed: tuple[str, ...]) -> list[str]:
    changed = []
    for name in allowed:
        if name in data:
            value = data[name]
            if isinstance(value, str):
                value = value.strip()
            setattr(obj, name, value)
            changed.append(name)
    return changed


def _decimal(value: Any, field: str) -> Decimal:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError) as exc:
        raise CatalogError(_("Enter a number."), fields={field: [_("Enter a number.")]}) from exc
    if not number.is_finite():
        raise CatalogError(_("Enter a number."), fields={field: [_("Enter a number.")]})
    return number


def _protected(fn: Any, message: str) -> None:
    try:
        with transaction.atomic():
            fn()
    except (ProtectedError, IntegrityError) as exc:
        raise CatalogError(message, code=CatalogError.IN_USE, status=409) from exc


# --- currencies -----------------------------------------------------------------------------------

CURRENCY_FIELDS = ("name", "name_en", "symbol", "minor_unit", "is_active")


@transaction.atomic
def currency_create(*, by: Any, data: Mapping[str, Any]) -> Currency:
    code = str(data.get("code") or "").strip().upper()
    currency = Currency(code=code)
    _apply(currency, data, CURRENCY_FIELDS)
    _clean(currency)
    currency.save()
    if data.get("is_company"):
        currency_make_company(currency=currency, by=by)
    return currency


@transaction.atomic
def currency_update(*, currency: Currency, by: Any, data: Mapping[str, Any]) -> Currency:
    currency = Currency.objects.select_for_update().get(pk=currency.pk)
    _apply(currency, data, CURRENCY_FIELDS)
    if currency.is_company and not currency.is_active:
        raise CatalogError(
            _("The company currency cannot be deactivated; first make another one the company currency."),
            code=CatalogError.COMPANY_CURRENCY,
            fields={"is_active": [_("This is the company currency.")]},
        )
    _clean(currency)
    currency.save()
    return currency


@transaction.atomic
def currency_make_company(*, currency: Currency, by: Any) -> Currency:
    """Make `currency` the company currency (the one reports convert to); the previous one stops
    being it. Its exchange rates, relative to the old company currency, no longer apply."""
    locked = list(
        Currency.objects.select_for_update().filter(models.Q(is_company=True) | models.Q(pk=currency.pk))
    )
    for other in locked:
        if other.pk != currency.pk and other.is_company:
            other.is_company = False
            other.save(update_fields=["is_company", "updated_at"])
    currency = next(c for c in locked if c.pk == currency.pk)
    if not currency.is_active:
        raise CatalogError(
            _("Activate the currency first."), fields={"is_company": [_("This currency is not active.")]}
        )
    currency.is_company = True
    currency.save(update_fields=["is_company", "updated_at"])
    return currency


def currency_delete(*, currency: Currency, by: Any) -> None:
    if currency.is_company:
        raise CatalogError(_("The company currency cannot be deleted."), code=CatalogError.COMPANY_CURRENCY)
    _protected(currency.delete, _("The currency is used by price lists or documents; deactivate it instead."))


@transaction.atomic
def exchange_rate_set(
    *, currency: Currency, valid_on: dt.date, rate: Any, by: Any, source: str = ""
) -> ExchangeRate:
    """The rate of `currency` from `valid_on` (company-currency units for one unit): created, or
    replaced when that day already has one."""
    if currency.is_company:
        raise CatalogError(
            _("The company currency has no exchange rate (it is 1)."),
            code=CatalogError.COMPANY_CURRENCY,
            fields={"currency": [_("This is the company currency.")]},
        )
    value = _decimal(rate, "rate")
    if value <= 0:
        raise CatalogError(_("A rate is above zero."), fields={"rate": [_("A rate is above zero.")]})
    item = ExchangeRate.objects.select_for_update().filter(currency=currency, valid_on=valid_on).first()
    if item is None:
        item = ExchangeRate(currency=currency, valid_on=valid_on)
    item.rate, item.source = value, (source or "").strip()[:64]
    _clean(item, exclude=["currency"])
    item.save()
    return item


def exchange_rate_delete(*, rate: ExchangeRate, by: Any) -> None:
    rate.delete()


# --- categories -----------------------------------------------------------------------------------

CATEGORY_FIELDS = ("name", "name_en", "parent", "order")


def _check_parent(category: ProductCategory) -> None:
    seen = {category.pk} if category.pk else set()
    node = category.parent
    while node is not None:
        if node.pk in seen:
            raise CatalogError(
                _("A category cannot be placed under itself or one of its subcategories."),
                code=CatalogError.CATEGORY_LOOP,
                fields={"parent": [_("This would make a loop.")]},
            )
        seen.add(node.pk)
        node = node.parent


@transaction.atomic
def category_create(*, by: Any, data: Mapping[str, Any]) -> ProductCategory:
    category = ProductCategory()
    _apply(category, data, CATEGORY_FIELDS)
    _clean(category)
    category.save()
    return category


@transaction.atomic
def category_update(*, category: ProductCategory, by: Any, data: Mapping[str, Any]) -> ProductCategory:
    category = ProductCategory.objects.select_for_update().get(pk=category.pk)
    _apply(category, data, CATEGORY_FIELDS)
    _check_parent(category)
    _clean(category)
    category.save()
    return category


def category_delete(*, category: ProductCategory, by: Any) -> None:
    _protected(category.delete, _("The category still holds products or subcategories; move them first."))


# --- products -------------------------------------------------------------------------------------

PRODUCT_FIELDS = (
    "code",
    "name",
    "name_en",
    "kind",
    "category",
    "unit",
    "tax_rate",
    "cost",
    "description",
    "is_active",
)


def _product_checks(product: Product, data: Mapping[str, Any]) -> None:
    from kehu.customfields.services import custom_values_clean

    for field in ("tax_rate", "cost"):
        if field in data and data[field] not in (None, ""):
            setattr(product, field, _decimal(data[field], field))
    if "cost" in data and data["cost"] in ("",):
        product.cost = None
    if product.tax_rate is not None and not (0 <= product.tax_rate <= 100):
        raise CatalogError(
            _("A tax rate is between 0 and 100 %."), fields={"tax_rate": [_("Between 0 and 100.")]}
        )
    if product.cost is not None and product.cost < 0:
        raise CatalogError(_("A cost cannot be negative."), fields={"cost": [_("Cannot be negative.")]})
    clash = Product.objects.filter(code__iexact=product.code).exclude(pk=product.pk).first()
    if product.code and clash is not None:
        message = _("Another product has the code %(code)s.") % {"code": clash.code}
        raise CatalogError(message, fields={"code": [message]})
    if "custom" in data or product.pk is None:
        product.custom = custom_values_clean(
            model=Product,
            values=data.get("custom") or {},
            instance_values=product.custom if product.pk else None,
            partial=product.pk is not None,
        )


@transaction.atomic
def product_create(*, by: Any, data: Mapping[str, Any]) -> Product:
    product = Product()
    _apply(product, data, PRODUCT_FIELDS)
    _product_checks(product, data)
    _clean(product)
    product.save()
    return product


@transaction.atomic
def product_update(
    *, product: Product, by: Any, data: Mapping[str, Any], version: int | None = None
) -> Product:
    product = Product.objects.select_for_update().get(pk=product.pk)
    if version is not None and version != product.version:
        raise CatalogError(
            _("Someone else changed this product in the meantime; reload it and make your change again."),
            code=CatalogError.STALE,
            status=409,
        )
    _apply(product, data, PRODUCT_FIELDS)
    _product_checks(product, data)
    _clean(product)
    product.version += 1
    product.save()
    return product


def product_delete(*, product: Product, by: Any) -> None:
    _protected(product.delete, _("The product is used on documents; deactivate it instead."))


# --- price lists ----------------------------------------------------------------------------------

PRICE_LIST_FIELDS = (
    "name",
    "currency",
    "customer_level",
    "account",
    "valid_from",
    "valid_until",
    "is_active",
    "notes",
)


def _price_list_checks(price_list: PriceList) -> None:
    if price_list.valid_from and price_list.valid_until and price_list.valid_until < price_list.valid_from:
        raise CatalogError(
            _("The end date is before the start date."), fields={"valid_until": [_("Before the start date.")]}
        )
    if price_list.currency_id and not price_list.currency.is_active:
        raise CatalogError(_("The currency is not active."), fields={"currency": [_("Not active.")]})


@transaction.atomic
def price_list_create(*, by: Any, data: Mapping[str, Any]) -> PriceList:
    price_list = PriceList()
    _apply(price_list, data, PRICE_LIST_FIELDS)
    _price_list_checks(price_list)
    _clean(price_list)
    price_list.save()
    return price_list


@transaction.atomic
def price_list_update(*, price_list: PriceList, by: Any, data: Mapping[str, Any]) -> PriceList:
    price_list = PriceList.objects.select_for_update().get(pk=price_list.pk)
    _apply(price_list, data, PRICE_LIST_FIELDS)
    _price_list_checks(price_list)
    _clean(price_list)
    price_list.save()
    return price_list


def price_list_delete(*, price_list: PriceList, by: Any) -> None:
    _protected(price_list.delete, _("The price list is used on documents; deactivate it instead."))


@transaction.atomic
def price_set(
    *, price_list: PriceList, product: Product, unit_price: Any, by: Any, min_quantity: Any = Decimal("1")
) -> PriceListItem:
    """The unit price of `product` in `price_list` from `min_quantity` on (a tier): created, or
    replaced when that tier exists."""
    price = _decimal(unit_price, "unit_price")
    threshold = _decimal(min_quantity, "min_quantity")
    if price < 0:
        raise CatalogError(
            _("A price cannot be negative."), fields={"unit_price": [_("Cannot be negative.")]}
        )
    if threshold < 0:
        raise CatalogError(
            _("A quantity cannot be negative."), fields={"min_quantity": [_("Cannot be negative.")]}
        )
    item = (
        PriceListItem.objects.select_for_update()
        .filter(price_list=price_list, product=product, min_quantity=threshold)
        .first()
    )
    if item is None:
        item = PriceListItem(price_list=price_list, product=product, min_quantity=threshold)
    item.unit_price = price
    _clean(item, exclude=["price_list", "product"])
    item.save()
    return item


def price_delete(*, item: PriceListItem, by: Any) -> None:
    item.delete()
