"""What quotes and orders share: priced lines and the totals of a document (the arithmetic is
`kehu.core.money.line_amounts` / `document_totals`, per line, half-up, to the currency's minor
unit; these columns keep its results so lists, reports and analytics never recompute)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

MONEY_DIGITS, MONEY_PLACES = 18, 4
QUANTITY_DIGITS, QUANTITY_PLACES = 18, 4
ZERO = Decimal("0")


def money_field(verbose_name: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("default", ZERO)
    return models.DecimalField(verbose_name, max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, **kwargs)


class DocumentTotals(models.Model):
    """The sums of a document's lines, in the document currency."""

    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    subtotal = money_field(_("subtotal"))  # quantity × unit price, before discounts
    discount_total = money_field(_("discount"))
    net_total = money_field(_("net amount"))  # subtotal − discount, before tax
    tax_total = money_field(_("tax"))
    total = money_field(_("total"))  # net + tax: what the customer pays

    class Meta:
        abstract = True


class LineBase(models.Model):
    """A priced line: product (kept exactly as sold: code, name, unit, price), quantity, discount as
    a percentage or an amount, tax rate, and the computed amounts."""

    position = models.PositiveIntegerField(_("position"), default=0)
    product = models.ForeignKey(
        "catalog.Product",
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    product_code = models.CharField(_("code"), max_length=64, blank=True)
    description = models.CharField(_("description"), max_length=500)
    quantity = models.DecimalField(_("quantity"), max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES)
    unit = models.CharField(_("unit"), max_length=16, blank=True)
    unit_price = models.DecimalField(_("unit price"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    # Where the unit price came from ("from price list X, tier ≥ 100", or "entered by hand").
    price_source = models.CharField(_("price source"), max_length=300, blank=True)
    discount_percent = models.DecimalField(
        _("discount (%)"), max_digits=7, decimal_places=4, null=True, blank=True
    )
    discount_amount = models.DecimalField(
        _("discount amount"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, null=True, blank=True
    )
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2, default=ZERO)
    # The product's cost per unit when the line was priced, in the company currency (below-cost rule).
    unit_cost = models.DecimalField(
        _("unit cost"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, null=True, blank=True
    )
    gross = money_field(_("amount before discount"))
    discount = money_field(_("discount"))
    net = money_field(_("net amount"))
    tax = money_field(_("tax"))
    total = money_field(_("total"))

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.description

    @classmethod
    def line_constraints(cls, prefix: str) -> list[models.BaseConstraint]:
        return [
            models.CheckConstraint(condition=Q(quantity__gt=0), name=f"{prefix}_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name=f"{prefix}_price_not_negative"),
            models.CheckConstraint(
                condition=Q(discount_percent__isnull=True)
                | (Q(discount_percent__gte=0) & Q(discount_percent__lte=100)),
                name=f"{prefix}_discount_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(discount_amount__isnull=True) | Q(discount_amount__gte=0),
                name=f"{prefix}_discount_amount_positive",
            ),
            models.CheckConstraint(
                condition=Q(tax_rate__gte=0) & Q(tax_rate__lte=100), name=f"{prefix}_tax_rate_range"
            ),
        ]
