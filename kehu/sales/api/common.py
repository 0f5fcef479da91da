"""Serializer pieces shared by the deal documents' APIs: opportunities here, and quotes, contracts
and orders in `kehu.commerce.api` (commerce sits above sales and imports this; sales never imports
commerce).

* `LINE_AMOUNTS`: the computed amounts of a priced line, in the order the APIs list them.
* `optional_decimal()`: an optional decimal input of a line (absent or null: not given), and
  `LINE_DESCRIPTION` / `LINE_QUANTITY` / `UNIT_PRICE_HELP`, the inputs the lines share.
* `CurrencyCodeMixin`: ``validate_currency`` for a header's ``currency`` field: an active ISO 4217
  code (the record's current one stays valid), upper-cased; otherwise a translated field error.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from kehu.catalog.selectors import currency_codes

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
