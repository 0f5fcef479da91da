"""Payment plans (回款计划), instalments, payments received (回款), account credits and invoices (发票).

Money received is a ledger: a payment is never edited or deleted; a reversal is a row of its own
(negative amounts, pointing at the payment it reverses). An instalment's `received` and an
account's credit are sums of those rows (`received` is cached on the instalment with `F()` updates
in the same transaction, so receivables and aging read one table)."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.models import OwnedModel, TimeStampedModel
from kehu.core.permissions import RestrictedManager

from ..choices import InvoiceKind, InvoiceStatus, PaymentMethod
from .base import money_field


class PaymentPlan(OwnedModel):
    """The expected instalments of one contract or one order; they add up to its value."""

    account = models.ForeignKey(
        "customers.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="payment_plans"
    )
    contract = models.OneToOneField(
        "commerce.Contract",
        verbose_name=_("contract"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="payment_plan",
    )
    order = models.OneToOneField(
        "commerce.Order",
        verbose_name=pgettext_lazy("sales document", "order"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="payment_plan",
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    total = money_field(_("total"))

    class Meta:
        verbose_name = _("payment plan")
        verbose_name_plural = _("payment plans")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(contract__isnull=False) & Q(order__isnull=True))
                | (Q(contract__isnull=True) & Q(order__isnull=False)),
                name="commerce_plan_one_document",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "-id"], name="commerce_plan_owner"),
            models.Index(fields=["department", "-id"], name="commerce_plan_dept"),
        ]

    def __str__(self) -> str:
        document = self.contract or self.order
        return str(document) if document else f"#{self.pk}"


class Instalment(OwnedModel):
    """One expected payment: due date and amount; `received` is what payments applied to it."""

    plan = models.ForeignKey(
        PaymentPlan, verbose_name=_("payment plan"), on_delete=models.CASCADE, related_name="instalments"
    )
    account = models.ForeignKey(
        "customers.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="instalments"
    )
    sequence = models.PositiveSmallIntegerField(_("instalment"), default=1)
    due_on = models.DateField(_("due date"))
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    amount = money_field(_("amount"))
    received = money_field(_("received"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    overdue_notified_at = models.DateTimeField(_("overdue notice sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("instalment")
        verbose_name_plural = _("instalments")
        ordering = ["plan", "sequence"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="commerce_instalment_amount"),
            models.CheckConstraint(condition=Q(received__gte=0), name="commerce_instalment_received"),
            models.UniqueConstraint(fields=["plan", "sequence"], name="commerce_instalment_sequence"),
        ]
        indexes = [
            models.Index(fields=["owner", "-id"], name="commerce_instalment_owner"),
            models.Index(fields=["department", "-id"], name="commerce_instalment_dept"),
            models.Index(fields=["account", "due_on"], name="commerce_instalment_account"),
            models.Index(fields=["due_on"], name="commerce_instalment_due"),
        ]

    def __str__(self) -> str:
        return f"{self.plan} #{self.sequence}"

    @property
    def outstanding(self) -> Decimal:
        return max(self.amount - self.received, 0)


class Payment(OwnedModel):
    """Money received (回款), or the reversal of such a receipt (negative amounts, `reverses` set)."""

    detail_url_name = "commerce:payment_detail"

    number = models.CharField(_("number"), max_length=40, unique=True)
    account = models.ForeignKey(
        "customers.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="payments"
    )
    plan = models.ForeignKey(
        PaymentPlan,
        verbose_name=_("payment plan"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    instalment = models.ForeignKey(
        Instalment,
        verbose_name=_("instalment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    amount = money_field(_("amount"))
    applied = money_field(_("applied to the instalment"))
    credited = money_field(_("credited to the account"))
    received_on = models.DateField(_("date received"), db_index=True)
    method = models.CharField(
        _("method"), max_length=16, choices=PaymentMethod.choices, default=PaymentMethod.BANK_TRANSFER
    )
    reference = models.CharField(
        _("reference"), max_length=100, blank=True, help_text=_("Bank slip or transaction number.")
    )
    note = models.TextField(_("note"), blank=True)
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("reverses"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversal",
    )
    reversal_reason = models.TextField(_("reversal reason"), blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-received_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(reverses__isnull=True) & Q(amount__gt=0))
                | (Q(reverses__isnull=False) & Q(amount__lt=0)),
                name="commerce_payment_sign",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "-id"], name="commerce_payment_owner"),
            models.Index(fields=["department", "-id"], name="commerce_payment_dept"),
            models.Index(fields=["account", "-received_on"], name="commerce_payment_account"),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse(self.detail_url_name, args=[self.pk])


class CreditEntry(TimeStampedModel):
    """The account's credit ledger: over-payments add, reversals and uses take away."""

    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="credit_entries",
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    amount = money_field(_("amount"))
    payment = models.ForeignKey(
        Payment,
        verbose_name=_("payment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_entries",
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("credit entry")
        verbose_name_plural = _("credit entries")
        ordering = ["-id"]
        indexes = [models.Index(fields=["account", "currency"], name="commerce_credit_account")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount} {self.currency}"


class Invoice(OwnedModel):
    """An invoice issued to the customer (the tax system issues it; Kehu keeps the record)."""

    detail_url_name = "commerce:invoice_detail"

    number = models.CharField(_("invoice number"), max_length=40, blank=True, db_index=True)
    kind = models.CharField(
        _("type"), max_length=12, choices=InvoiceKind.choices, default=InvoiceKind.SPECIAL_VAT
    )
    status = models.CharField(
        _("status"), max_length=8, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT, db_index=True
    )
    account = models.ForeignKey(
        "customers.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="invoices"
    )
    contract = models.ForeignKey(
        "commerce.Contract",
        verbose_name=_("contract"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    order = models.ForeignKey(
        "commerce.Order",
        verbose_name=pgettext_lazy("sales document", "order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    buyer_name = models.CharField(_("buyer name (发票抬头)"), max_length=200, blank=True)
    buyer_tax_id = models.CharField(_("buyer tax ID"), max_length=32, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    amount = money_field(_("amount excluding tax"))
    tax = money_field(_("tax"))
    total = money_field(_("total"))
    issued_on = models.DateField(_("issue date"), null=True, blank=True)
    payments = models.ManyToManyField(
        Payment, verbose_name=_("payments"), blank=True, related_name="invoices"
    )
    # Invoicing above what was contracted needs a permitted role and a reason.
    over_limit = models.BooleanField(_("above the contracted amount"), default=False)
    override_reason = models.TextField(_("reason for invoicing above the contract"), blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(total__gte=0) & Q(tax__gte=0), name="commerce_invoice_amounts"
            ),
            # an issued invoice's number (the tax system's) is used once: two people issuing with
            # the same number at the same moment cannot both succeed
            models.UniqueConstraint(
                fields=["number"],
                condition=Q(status="issued") & ~Q(number=""),
                name="commerce_invoice_number_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "-id"], name="commerce_invoice_owner"),
            models.Index(fields=["department", "-id"], name="commerce_invoice_dept"),
            models.Index(fields=["account", "-id"], name="commerce_invoice_account"),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse(self.detail_url_name, args=[self.pk])
