"""The catalog (issue 7): products and services in a category tree, currencies with dated exchange
rates, and price lists (per currency, optionally per customer level or account, dated, with
quantity tiers). Which price a line gets is decided by `selectors.price_for`, in one place."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.models import TimeStampedModel
from kehu.core.permissions import RestrictedManager
from kehu.core.text import bilingual_name

MONEY_DIGITS, MONEY_PLACES = 18, 4
currency_code = RegexValidator(r"^[A-Z]{3}$", _("Use the three capital letters of ISO 4217, e.g. CNY."))


class Currency(TimeStampedModel):
    """A currency documents may use. Exactly one is the company currency (reports and
    company-currency equivalents convert to it); CNY on a new installation."""

    code = models.CharField(_("code"), max_length=3, unique=True, validators=[currency_code])
    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=64, blank=True)
    symbol = models.CharField(_("symbol"), max_length=8, blank=True)
    # Digits after the decimal point of its smallest unit (ISO 4217: CNY 2, JPY 0, KWD 3).
    minor_unit = models.PositiveSmallIntegerField(_("decimal places"), default=2)
    is_company = models.BooleanField(_("company currency"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("currency")
        verbose_name_plural = _("currencies")
        ordering = ["-is_company", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_company"], condition=Q(is_company=True), name="catalog_one_company_currency"
            ),
            models.CheckConstraint(condition=Q(minor_unit__lte=4), name="catalog_currency_minor_unit"),
        ]

    def __str__(self) -> str:
        return self.code


class ExchangeRate(TimeStampedModel):
    """How many units of the company currency one unit of `currency` was worth from `valid_on` (the
    rate of a date is the latest one on or before it)."""

    currency = models.ForeignKey(
        Currency, verbose_name=_("currency"), on_delete=models.CASCADE, related_name="rates"
    )
    valid_on = models.DateField(_("date"))
    rate = models.DecimalField(
        _("rate"), max_digits=18, decimal_places=8, validators=[MinValueValidator(Decimal("0.00000001"))]
    )
    source = models.CharField(_("source"), max_length=64, blank=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["currency", "-valid_on"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "valid_on"], name="catalog_rate_currency_day"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="catalog_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.currency.code} {self.valid_on} {self.rate.normalize():f}"


class ProductCategory(TimeStampedModel):
    """A node of the category tree (no loops: `services.category_save` refuses them)."""

    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    order = models.PositiveIntegerField(_("order"), default=0)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")
        ordering = ["order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="catalog_category_name"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(parent__isnull=True), name="catalog_root_category_name"
            ),
        ]

    def __str__(self) -> str:
        return bilingual_name(self.name, self.name_en)


class ProductKind(models.TextChoices):
    PRODUCT = "product", pgettext_lazy("catalog", "Product")
    SERVICE = "service", pgettext_lazy("catalog", "Service")


class Product(TimeStampedModel):
    """A product or service that lines (opportunity, quote, order) refer to."""

    code = models.CharField(_("code"), max_length=64, unique=True, help_text=_("SKU or item number, unique."))
    name = models.CharField(_("name"), max_length=200, db_index=True)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    kind = models.CharField(
        _("kind"), max_length=16, choices=ProductKind.choices, default=ProductKind.PRODUCT
    )
    category = models.ForeignKey(
        ProductCategory,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
    )
    unit = models.CharField(_("unit"), max_length=16, blank=True, help_text=_("e.g. 台, 套, 小时, pcs"))
    tax_rate = models.DecimalField(
        _("default tax rate (%)"), max_digits=5, decimal_places=2, default=Decimal("13.00")
    )
    # What it costs the company, in the company currency (the "below cost" approval rule).
    cost = models.DecimalField(
        _("cost"), null=True, blank=True, max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES
    )
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(tax_rate__gte=0) & Q(tax_rate__lte=100), name="catalog_product_tax_rate"
            ),
            models.CheckConstraint(
                condition=Q(cost__isnull=True) | Q(cost__gte=0), name="catalog_product_cost"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {bilingual_name(self.name, self.name_en)}"

    def get_absolute_url(self) -> str:
        return reverse("catalog:product_detail", args=[self.pk])


class PriceList(TimeStampedModel):
    """Prices in one currency, for everyone or for one customer level or one account, valid
    between two dates (either open)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    currency = models.ForeignKey(
        Currency, verbose_name=_("currency"), on_delete=models.PROTECT, related_name="price_lists"
    )
    # Picklist "customer_level" value (VIP, A, B, C; Account.level); blank: every level.
    customer_level = models.CharField(_("customer level"), max_length=64, blank=True)
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        ordering = ["currency", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gte=models.F("valid_from")),
                name="catalog_price_list_dates",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:pricelist_detail", args=[self.pk])


class PriceListItem(TimeStampedModel):
    """The unit price of a product in a price list from a quantity on (tiers: one row per
    threshold; the price of quantity q is the row with the largest `min_quantity` ≤ q)."""

    price_list = models.ForeignKey(
        PriceList, verbose_name=_("price list"), on_delete=models.CASCADE, related_name="items"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="prices"
    )
    min_quantity = models.DecimalField(
        _("from quantity"), max_digits=14, decimal_places=4, default=Decimal("1")
    )
    unit_price = models.DecimalField(_("unit price"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)

    class Meta:
        verbose_name = _("price list item")
        verbose_name_plural = _("price list items")
        ordering = ["price_list", "product", "min_quantity"]
        constraints = [
            models.UniqueConstraint(
                fields=["price_list", "product", "min_quantity"], name="catalog_price_tier"
            ),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="catalog_price_positive"),
            models.CheckConstraint(condition=Q(min_quantity__gte=0), name="catalog_price_min_quantity"),
        ]
        indexes = [models.Index(fields=["product", "price_list"], name="catalog_price_product")]

    def __str__(self) -> str:
        return f"{self.price_list_id}/{self.product_id} ≥ {self.min_quantity}: {self.unit_price}"
