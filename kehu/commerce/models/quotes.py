"""Quotes (报价单): versions, lines, approval rules and approvals."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from kehu.core.models import OwnedModel, TimeStampedModel
from kehu.core.permissions import RestrictedManager
from kehu.customfields.models import CustomFieldsModel

from ..choices import ApprovalRuleKind, ApprovalStatus, ApproverKind, QuoteStatus
from .base import MONEY_DIGITS, MONEY_PLACES, DocumentTotals, LineBase


class Quote(OwnedModel, CustomFieldsModel, DocumentTotals):
    """A priced offer. Revising a quote creates its next version (same number, revision + 1); the
    earlier versions stay as they were, read-only (`is_latest` False)."""

    detail_url_name = "commerce:quote_detail"

    number = models.CharField(_("number"), max_length=40, db_index=True)
    revision = models.PositiveSmallIntegerField(_("version"), default=1)
    is_latest = models.BooleanField(_("latest version"), default=True)
    previous = models.OneToOneField(
        "self",
        verbose_name=_("previous version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="next_version",
    )
    name = models.CharField(_("subject"), max_length=200)
    account = models.ForeignKey(
        "customers.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="quotes"
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="quotes",
    )
    opportunity = models.ForeignKey(
        "sales.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="quotes",
    )
    price_list = models.ForeignKey(
        "catalog.PriceList",
        verbose_name=_("price list"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT, db_index=True
    )
    quote_date = models.DateField(_("quote date"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    # The document's language (PDF and e-mail): "zh-hans" or "en".
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")
    # "Terms" of a quote: its conditions (validity, payment, delivery), printed under the lines.
    terms = models.TextField(
        pgettext_lazy("quote", "terms"),
        blank=True,
        help_text=_("Printed on the quote under the lines: validity, payment and delivery conditions."),
    )
    notes = models.TextField(_("notes"), blank=True, help_text=_("Internal, not printed."))
    # Company-currency equivalent of the total on the quote date (reports, the total-above rule).
    exchange_rate = models.DecimalField(
        _("exchange rate"), max_digits=18, decimal_places=8, null=True, blank=True
    )
    total_company = models.DecimalField(
        _("total (company currency)"),
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        null=True,
        blank=True,
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("accepted or rejected at"), null=True, blank=True)
    decision_note = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["number", "revision"], name="commerce_quote_number_revision"),
        ]
        indexes = [
            models.Index(fields=["owner", "-id"], name="commerce_quote_owner"),
            models.Index(fields=["department", "-id"], name="commerce_quote_dept"),
            models.Index(fields=["account", "-id"], name="commerce_quote_account"),
        ]

    def __str__(self) -> str:
        return f"{self.number} v{self.revision}" if self.revision > 1 else self.number

    def get_absolute_url(self) -> str:
        return reverse(self.detail_url_name, args=[self.pk])

    @property
    def is_editable(self) -> bool:
        """Lines and terms change only on the latest version while it is a draft."""
        return self.is_latest and self.status == QuoteStatus.DRAFT


class QuoteLine(LineBase):
    quote = models.ForeignKey(Quote, verbose_name=_("quote"), on_delete=models.CASCADE, related_name="lines")

    class Meta(LineBase.Meta):
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        constraints = LineBase.line_constraints("commerce_quoteline")


class ApprovalRule(TimeStampedModel):
    """When a quote needs approval and by whom. Every active rule a submitted quote meets adds one
    approval step; the quote is approved when all of them are."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("condition"), max_length=20, choices=ApprovalRuleKind.choices)
    # A percentage (discount above) or an amount in the company currency (total above).
    threshold = models.DecimalField(
        _("threshold"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, null=True, blank=True
    )
    approver_kind = models.CharField(
        _("approver"), max_length=10, choices=ApproverKind.choices, default=ApproverKind.MANAGER
    )
    role = models.ForeignKey(
        "users.Role",
        verbose_name=_("role"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("approval rule")
        verbose_name_plural = _("approval rules")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(approver_kind=ApproverKind.ROLE) | Q(role__isnull=False),
                name="commerce_rule_role_needs_role",
            ),
            models.CheckConstraint(
                condition=Q(kind=ApprovalRuleKind.BELOW_COST) | Q(threshold__isnull=False),
                name="commerce_rule_threshold",
            ),
        ]

    def __str__(self) -> str:
        return self.name


def _number(value: Any) -> str:
    """A number kept as text in reason data, written the viewer's way (grouped thousands), with
    the decimal places it was stored with."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if not number.is_finite():
        return str(value)
    exponent = number.as_tuple().exponent
    places = max(0, -exponent) if isinstance(exponent, int) else 0
    return formats.number_format(number, decimal_pos=places, use_l10n=True, force_grouping=True)


def approval_reason_text(data: Mapping[str, Any] | None, fallback: str = "") -> str:
    """Why a quote needs approval, in the active language, from the reason data an approval step
    keeps (``{"rule": "discount_above", "limit": "10", "actual": "15"}``; total above adds
    ``currency``; below cost lists ``lines``). Steps written before the data existed (empty data)
    or with an unknown rule show their stored text, `fallback`."""
    if not isinstance(data, Mapping):
        return fallback
    rule = data.get("rule")
    if rule == ApprovalRuleKind.DISCOUNT_ABOVE:
        return gettext("Discount %(percent)s %% is above %(limit)s %%") % {
            "percent": _number(data.get("actual", "")),
            "limit": _number(data.get("limit", "")),
        }
    if rule == ApprovalRuleKind.TOTAL_ABOVE:
        return gettext("Total %(total)s %(currency)s is above %(limit)s %(currency)s") % {
            "total": _number(data.get("actual", "")),
            "limit": _number(data.get("limit", "")),
            "currency": data.get("currency", ""),
        }
    if rule == ApprovalRuleKind.BELOW_COST:
        lines = data.get("lines") or []
        return gettext("Priced below cost: %(lines)s") % {"lines": ", ".join(str(line) for line in lines)}
    return fallback


class QuoteApproval(TimeStampedModel):
    """One approval step of a submitted quote: why (the rule and what the quote showed), who may
    decide (a user: the owner's manager; or anyone holding a role), and the decision.

    Why is kept as data (`reason_data`: the rule kind and the values the quote showed) and written
    in the reader's language when shown (`reason_text`); `reason` keeps the text as the submitter
    read it (steps from before the data existed have only that)."""

    quote = models.ForeignKey(
        Quote, verbose_name=_("quote"), on_delete=models.CASCADE, related_name="approvals"
    )
    rule = models.ForeignKey(
        ApprovalRule,
        verbose_name=_("approval rule"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="approvals",
    )
    reason = models.CharField(_("reason"), max_length=300)
    reason_data = models.JSONField(_("reason (data)"), default=dict, blank=True)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approver"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    role = models.ForeignKey(
        "users.Role",
        verbose_name=_("role"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ApprovalStatus.choices,
        default=ApprovalStatus.PENDING,
        db_index=True,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("quote approval")
        verbose_name_plural = _("quote approvals")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["approver", "status"], name="commerce_approval_approver"),
            models.Index(fields=["role", "status"], name="commerce_approval_role"),
        ]

    def __str__(self) -> str:
        return f"{self.quote} — {self.reason_text}"

    @property
    def reason_text(self) -> str:
        """The reason in the active language (the stored text for steps without reason data)."""
        return approval_reason_text(self.reason_data, fallback=self.reason)
