"""Serializer pieces shared by the deal documents' APIs: opportunities here, and quotes, contracts
and orders in `kehu.commerce.api` (commerce sits above sales and imports this; sales never imports
commerce).

* `LINE_AMOUNTS`: the computed amounts of a priced line, in the order the APIs list them.
* `optional_decimal()`: an optional decimal input of a line (absent or null: not given), and
  `LINE_DESCRIPTION` / `LINE_QUANTITY` / `UNIT_PRICE_HELP`, the inputs the lines share.
* `PriceSourceTextField`: a line's price source written out in the reader's language (the stored
  ``price_source`` is a language-neutral token).
* `CurrencyCodeMixin`: ``validate_currency`` for a header's ``currency`` field: an active ISO 4217
  code (the record's current one stays valid), upper-cased; otherwise a translated field error.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from kehu.catalog.selectors import currency_codes, price_source_text

LINE_AMOUNTS = ("gross", "discount", "net", "tax", "total")
UNIT_PRICE_HELP = "Tax-exclusive unit price. Absent or null: the price list's (quantity tiers apply)."
LINE_DESCRIPTION_HELP = "Default: the product's name."


def optional_decimal(
    *, max_digits: int = 18, decimal_places: int = 4, help_text: str | None = None
) -> serializers.DecimalField:
    """An optional decimal input (a price, a discount, a rate): absent or null means "not given"."""
    return serializers.DecimalField(
        max_digits=max_digits,
        decimal_places=decimal_places,
        required=False,
        allow_null=True,
        help_text=help_text,
    )


def line_description(*, max_length: int = 500) -> serializers.CharField:
    """A line's description (default: the product's name)."""
    return serializers.CharField(
        max_length=max_length, required=False, allow_blank=True, help_text=LINE_DESCRIPTION_HELP
    )


def line_quantity(*, max_digits: int = 18) -> serializers.DecimalField:
    """A line's quantity (> 0; the services check it)."""
    return serializers.DecimalField(max_digits=max_digits, decimal_places=4, help_text="> 0.")


class CurrencyCodeMixin:
    """For a ModelSerializer whose model has a ``currency`` code."""

    instance: Any

    def validate_currency(self, value: str) -> str:
        code = value.strip().upper()
        codes = currency_codes(include=getattr(self.instance, "currency", None))
        if code not in codes:
            raise serializers.ValidationError(
                _("Unknown currency “%(code)s”. Choose one of: %(codes)s.")
                % {"code": value, "codes": ", ".join(codes)}
            )
        return code


class PriceSourceTextField(serializers.CharField):
    """Read-only: where a line's unit price came from, in the reader's language ("From price list
    标准价, tier ≥ 100" / "来自价目表 标准价，数量 ≥ 100 档"); ``price_source`` keeps the stored token."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "Where the unit price came from, in the reader's language.")
        super().__init__(source="price_source", read_only=True, **kwargs)

    def to_representation(self, value: Any) -> str:
        return price_source_text(value)
