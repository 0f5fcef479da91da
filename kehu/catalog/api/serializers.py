"""API shapes of the catalog. Rules (code clashes, tax rates, dates, tiers) live in the services;
money and rates are strings (DRF's DecimalField)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from kehu.core.api.mixins import FieldPermissionSerializerMixin
from kehu.core.choices import Action
from kehu.customers.models import Account
from kehu.customfields.api.fields import CustomFieldsField

from ..models import Currency, ExchangeRate, PriceList, PriceListItem, Product, ProductCategory
from ..services import PRODUCT_FIELDS

STAMPS = ["created_at", "updated_at"]


def _user(serializer: serializers.Serializer) -> Any:
    request = serializer.context.get("request")
    return getattr(request, "user", None)


def _visible(serializer: serializers.Serializer, fields: dict[str, Any], name: str, model: Any) -> None:
    """A link offered only among the records the user may view (plus the record's current one)."""
    if name not in fields or fields[name].read_only:
        return
    qs = model.objects.restrict(_user(serializer), Action.VIEW)
    instance = serializer.instance
    current = getattr(instance, f"{name}_id", None) if isinstance(instance, serializer.Meta.model) else None  # type: ignore[attr-defined]
    if current:
        qs = qs | model.objects.filter(pk=current)
    fields[name].queryset = qs


def _link(model: type[Any], help_text: str, **kwargs: Any) -> serializers.PrimaryKeyRelatedField:
    return serializers.PrimaryKeyRelatedField(queryset=model.objects.none(), help_text=help_text, **kwargs)


class CurrencySerializer(serializers.ModelSerializer):
    code = serializers.CharField(
        max_length=3,
        help_text="ISO 4217 code, e.g. CNY (upper-cased; set on create only).",
    )
    is_company = serializers.BooleanField(
        required=False,
        help_text="The company currency (reports convert to it). Set on create, or later with "
        "POST currencies/{id}/make-company/.",
    )

    class Meta:
        model = Currency
        fields = ["id", "code", "name", "name_en", "symbol", "minor_unit", "is_company", "is_active", *STAMPS]
        read_only_fields = ["id", *STAMPS]

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        if isinstance(self.instance, Currency):
            for name in ("code", "is_company"):
                fields[name].read_only = True
        return fields


class ExchangeRateSerializer(serializers.ModelSerializer):
    currency = _link(Currency, "Id of the currency (not the company currency).")
    currency_code = serializers.CharField(source="currency.code", read_only=True)
    rate = serializers.DecimalField(
        max_digits=18,
        decimal_places=8,
        help_text="Company-currency units for one unit of the currency, from `valid_on` on.",
    )

    class Meta:
        model = ExchangeRate
        fields = ["id", "currency", "currency_code", "valid_on", "rate", "source", *STAMPS]
        read_only_fields = ["id", *STAMPS]
        validators: list[Any] = []  # one rate a day: the service replaces the day's rate

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        _visible(self, fields, "currency", Currency)
        return fields


class CategorySerializer(serializers.ModelSerializer):
    parent = _link(  # type: ignore[assignment]
        ProductCategory, "Id of the parent category; null: a top-level one.", required=False, allow_null=True
    )

    class Meta:
        model = ProductCategory
        fields = ["id", "name", "name_en", "parent", "order", *STAMPS]
        read_only_fields = ["id", *STAMPS]
        validators: list[Any] = []  # names unique among siblings: checked by the service

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        _visible(self, fields, "parent", ProductCategory)
        return fields


class ProductSerializer(FieldPermissionSerializerMixin, serializers.ModelSerializer):
    code = serializers.CharField(max_length=64, help_text="SKU or item number, unique (case-insensitively).")
    category = _link(ProductCategory, "Id of a category; null: none.", required=False, allow_null=True)
    tax_rate = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, help_text="Default tax rate in %, 0–100."
    )
    cost = serializers.DecimalField(
        max_digits=18,
        decimal_places=4,
        required=False,
        allow_null=True,
        help_text="What it costs the company, in the company currency.",
    )
    custom = CustomFieldsField(required=False)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="On a change: the version you read; refused (409) when the product changed since.",
    )

    class Meta:
        model = Product
        fields = ["id", *PRODUCT_FIELDS, "custom", "version", *STAMPS]
        read_only_fields = ["id", *STAMPS]

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        _visible(self, fields, "category", ProductCategory)
        return fields


class PriceListSerializer(serializers.ModelSerializer):
    currency = _link(Currency, "Id of an active currency.")
    currency_code = serializers.CharField(source="currency.code", read_only=True)
    account = _link(
        Account,
        "Id of an account you may view: the list prices for that customer only; null: for everyone "
        "(or the customer level).",
        required=False,
        allow_null=True,
    )

    class Meta:
        model = PriceList
        fields = [
            "id",
            "name",
            "currency",
            "currency_code",
            "customer_level",
            "account",
            "valid_from",
            "valid_until",
            "is_active",
            "notes",
            *STAMPS,
        ]
        read_only_fields = ["id", *STAMPS]

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        _visible(self, fields, "currency", Currency)
        _visible(self, fields, "account", Account)
        return fields


class PriceItemSerializer(serializers.ModelSerializer):
    """One tier of a product's price in a price list (read)."""

    product_code = serializers.CharField(source="product.code", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)

    class Meta:
        model = PriceListItem
        fields = [
            "id",
            "price_list",
            "product",
            "product_code",
            "product_name",
            "min_quantity",
            "unit_price",
            *STAMPS,
        ]
        read_only_fields = fields


class PriceSetSerializer(serializers.Serializer):
    """A tier to create or replace (the price list, product and `min_quantity` name it)."""

    product = _link(Product, "Id of a product you may view.")
    min_quantity = serializers.DecimalField(
        max_digits=14,
        decimal_places=4,
        required=False,
        help_text="The price applies from this quantity on (default 1).",
    )
    unit_price = serializers.DecimalField(max_digits=18, decimal_places=4)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        product: Any = fields["product"]
        product.queryset = Product.objects.restrict(_user(self), Action.VIEW)
        return fields


class PriceQuerySerializer(serializers.Serializer):
    product = serializers.IntegerField(min_value=1, help_text="Id of a product you may view.")
    currency = serializers.CharField(
        max_length=3, help_text="ISO 4217 code of the currency, e.g. CNY (or its id)."
    )
    quantity = serializers.DecimalField(
        max_digits=14, decimal_places=4, min_value=0, required=False, help_text="Default 1."
    )
    account = serializers.IntegerField(
        min_value=1, required=False, help_text="Id of an account you may view: its own and its level's lists."
    )
    on = serializers.DateField(required=False, help_text="The day (default today).")


class PriceListRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ResolvedPriceSerializer(serializers.Serializer):
    unit_price = serializers.DecimalField(max_digits=18, decimal_places=4)
    price_list = PriceListRefSerializer()
    min_quantity = serializers.DecimalField(max_digits=14, decimal_places=4)
    explanation = serializers.CharField(help_text='Why, e.g. "From price list 2026 标准价, tier ≥ 100".')
