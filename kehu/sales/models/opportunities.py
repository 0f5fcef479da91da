"""Opportunities (商机), their contact roles, team, and stage history."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.models import OwnedModel, TimeStampedModel
from kehu.customfields.models import CustomFieldsModel

from ..choices import ForecastCategory, OpportunityTeamRole, StageKind


class Opportunity(OwnedModel, CustomFieldsModel):
    detail_url_name = "sales:opportunity_detail"  # get_absolute_url (kehu.core.tables.detail_url)

    # The record's id in another system: the key of imports (upsert) and integrations.
    external_id = models.CharField(
        _("external ID"), max_length=100, blank=True, help_text=_("The record's id in another system.")
    )
    name = models.CharField(_("name"), max_length=200, db_index=True)
    account = models.ForeignKey(
        "customers.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="opportunities"
    )
    amount = models.DecimalField(
        _("amount"),
        max_digits=18,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True, db_index=True)
    pipeline = models.ForeignKey(
        "sales.Pipeline", verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="opportunities"
    )
    stage = models.ForeignKey(
        "sales.Stage", verbose_name=_("stage"), on_delete=models.PROTECT, related_name="opportunities"
    )
    # Denormalised from the stage's type: open / won / lost (fast lists, funnel, forecast).
    status = models.CharField(
        _("status"), max_length=8, choices=StageKind.choices, default=StageKind.OPEN, db_index=True
    )
    probability = models.PositiveSmallIntegerField(_("probability (%)"), default=0)
    probability_overridden = models.BooleanField(_("probability set by hand"), default=False)
    forecast_category = models.CharField(
        _("forecast category"),
        max_length=16,
        choices=ForecastCategory.choices,
        default=ForecastCategory.PIPELINE,
    )
    forecast_category_overridden = models.BooleanField(default=False)
    # Picklist values (数据字典): "source", "opportunity_loss_reason".
    source = models.CharField(_("source"), max_length=64, blank=True)
    campaign = models.CharField(_("campaign"), max_length=200, blank=True)
    competitors = models.CharField(_("competitors"), max_length=500, blank=True)
    next_step = models.CharField(_("next step"), max_length=500, blank=True)
    loss_reason = models.CharField(_("loss reason"), max_length=64, blank=True)
    loss_notes = models.TextField(_("loss notes"), blank=True)
    description = models.TextField(_("description"), blank=True)
    lead = models.ForeignKey(
        "sales.Lead",
        verbose_name=_("lead"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="opportunities",
    )
    stage_entered_at = models.DateTimeField(_("in stage since"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, db_index=True)
    last_activity_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    # Position within its kanban column (smaller first).
    position = models.FloatField(default=0)

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["owner", "-id"], name="sales_opp_owner_id"),
            models.Index(fields=["department", "-id"], name="sales_opp_dept_id"),
            models.Index(fields=["pipeline", "stage", "position"], name="sales_opp_kanban"),
            models.Index(fields=["status", "expected_close_date"], name="sales_opp_status_close"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~models.Q(external_id=""),
                name="sales_opportunity_external_id",
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="sales_opp_amount_not_negative"),
            models.CheckConstraint(
                condition=models.Q(probability__lte=100), name="sales_opp_probability_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse(self.detail_url_name, args=[self.pk])

    @property
    def is_closed(self) -> bool:
        return self.status != StageKind.OPEN


class OpportunityContactRole(models.Model):
    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="contact_roles"
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        related_name="opportunity_roles",
    )
    # Picklist "contact_role" (decision maker, purchaser, finance, user, ...).
    role = models.CharField(_("role"), max_length=64, blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        verbose_name = _("contact role")
        verbose_name_plural = _("contact roles")
        ordering = ["-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(fields=["opportunity", "contact"], name="sales_oppcontact_unique"),
            models.UniqueConstraint(
                fields=["opportunity"],
                condition=models.Q(is_primary=True),
                name="sales_oppcontact_one_primary",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact} ({self.role})"


class OpportunityTeamMember(models.Model):
    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="team"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    role = models.CharField(
        _("role"), max_length=16, choices=OpportunityTeamRole.choices, default=OpportunityTeamRole.SALES
    )

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        constraints = [models.UniqueConstraint(fields=["opportunity", "user"], name="sales_oppteam_unique")]

    def __str__(self) -> str:
        return str(self.user)


class StageHistory(models.Model):
    """One row per stage an opportunity entered (the first stage included, from_stage empty).
    Funnel, conversion, velocity and forecast reports read this table, never the audit log."""

    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="stage_history"
    )
    pipeline = models.ForeignKey("sales.Pipeline", on_delete=models.CASCADE, related_name="+")
    from_stage = models.ForeignKey(
        "sales.Stage",
        verbose_name=pgettext_lazy("stage change", "from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    to_stage = models.ForeignKey(
        "sales.Stage",
        verbose_name=pgettext_lazy("stage change", "to"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    entered_at = models.DateTimeField(_("entered"))
    left_at = models.DateTimeField(_("left"), null=True, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    probability = models.PositiveSmallIntegerField(_("probability (%)"), default=0)
    # Denormalised from the opportunity at the time (scoped reports without a join).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    department = models.ForeignKey(
        "users.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("stage history entry")
        verbose_name_plural = _("stage history")
        ordering = ["opportunity", "entered_at", "id"]
        indexes = [
            models.Index(fields=["pipeline", "to_stage", "entered_at"], name="sales_stagehist_to"),
            # (opportunity, entered_at) first: an opportunity's history in order; the stage last so
            # that the funnel and conversion reports read the index alone (index-only scans).
            models.Index(fields=["opportunity", "entered_at", "to_stage"], name="sales_stagehist_opp_stage"),
        ]

    def __str__(self) -> str:
        return f"{self.opportunity_id}: {self.from_stage_id} → {self.to_stage_id}"


class OpportunityLine(TimeStampedModel):
    """A product on an opportunity (商机产品明细): quantity × unit price (from a price list, or
    typed), at most one discount (percent or amount) and the product's tax rate. The rounded
    amounts are computed by `kehu.core.money.line_amounts` in the services and stored; while an
    opportunity has lines, its amount is the sum of their net amounts (after discount, before tax)."""

    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(
        "catalog.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="opportunity_lines",
    )
    description = models.CharField(_("description"), max_length=300, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=4)
    unit = models.CharField(_("unit"), max_length=16, blank=True)
    unit_price = models.DecimalField(_("unit price"), max_digits=18, decimal_places=4)
    # The price list the unit price came from (empty: typed by hand) and how it was chosen.
    price_list = models.ForeignKey(
        "catalog.PriceList",
        verbose_name=_("price list"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    price_source = models.CharField(_("price source"), max_length=300, blank=True)
    discount_percent = models.DecimalField(
        _("discount (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    discount_amount = models.DecimalField(
        _("discount amount"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2, default=Decimal("0"))
    gross = models.DecimalField(_("gross"), max_digits=18, decimal_places=4, default=Decimal("0"))
    discount = models.DecimalField(_("discount"), max_digits=18, decimal_places=4, default=Decimal("0"))
    net = models.DecimalField(_("net"), max_digits=18, decimal_places=4, default=Decimal("0"))
    tax = models.DecimalField(_("tax"), max_digits=18, decimal_places=4, default=Decimal("0"))
    total = models.DecimalField(_("total"), max_digits=18, decimal_places=4, default=Decimal("0"))
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("opportunity line")
        verbose_name_plural = _("opportunity lines")
        ordering = ["opportunity", "position", "id"]
        indexes = [models.Index(fields=["opportunity", "position"], name="sales_oppline_position")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="sales_oppline_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(unit_price__gte=0), name="sales_oppline_price_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(discount_percent__isnull=True)
                | models.Q(discount_percent__gte=0, discount_percent__lte=100),
                name="sales_oppline_discount_percent_range",
            ),
            models.CheckConstraint(
                condition=models.Q(discount_amount__isnull=True) | models.Q(discount_amount__gte=0),
                name="sales_oppline_discount_amount_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(discount_percent__isnull=True) | models.Q(discount_amount__isnull=True),
                name="sales_oppline_one_discount",
            ),
            models.CheckConstraint(
                condition=models.Q(tax_rate__gte=0, tax_rate__lte=100), name="sales_oppline_tax_rate_range"
            ),
        ]

    def __str__(self) -> str:
        return self.description or str(self.product_id)

    @property
    def quantity_text(self) -> str:
        """The quantity without trailing zeros (2, 2.5), never in exponent form."""
        return f"{self.quantity.normalize():f}"

    @property
    def unit_price_text(self) -> str:
        """The unit price with at least two decimals (100.00, 33.335)."""
        price = self.unit_price.normalize()
        if -price.as_tuple().exponent < 2:  # type: ignore[operator]
            price = price.quantize(Decimal("0.01"))
        return f"{price:,f}"
