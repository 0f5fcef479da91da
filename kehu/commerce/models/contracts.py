"""Contracts (合同) and their attachments."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kehu.core.models import OwnedModel
from kehu.customfields.models import CustomFieldsModel

from ..choices import AttachmentKind, ContractStatus
from .base import money_field


class Contract(OwnedModel, CustomFieldsModel):
    detail_url_name = "commerce:contract_detail"

    number = models.CharField(_("number"), max_length=40, unique=True)
    name = models.CharField(_("subject"), max_length=200)
    account = models.ForeignKey(
        "customers.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="contracts"
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("signed by (customer)"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contracts",
    )
    quote = models.ForeignKey(
        "commerce.Quote",
        verbose_name=_("quote"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contracts",
    )
    opportunity = models.ForeignKey(
        "sales.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contracts",
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    value = money_field(_("contract value"))
    signed_on = models.DateField(_("signing date"), null=True, blank=True)
    start_on = models.DateField(_("start date"), null=True, blank=True)
    end_on = models.DateField(_("end date"), null=True, blank=True, db_index=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ContractStatus.choices,
        default=ContractStatus.DRAFT,
        db_index=True,
    )
    renewal_reminder_days = models.PositiveSmallIntegerField(
        _("renewal reminder (days before the end)"),
        null=True,
        blank=True,
        default=30,
        help_text=_("Leave empty for no reminder."),
    )
    renewal_reminded_at = models.DateTimeField(_("renewal reminder sent at"), null=True, blank=True)
    terms = models.TextField(_("terms"), blank=True)
    terminated_on = models.DateField(_("termination date"), null=True, blank=True)
    termination_reason = models.TextField(_("termination reason"), blank=True)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(value__gte=0), name="commerce_contract_value"),
            models.CheckConstraint(
                condition=Q(start_on__isnull=True) | Q(end_on__isnull=True) | Q(end_on__gte=F("start_on")),
                name="commerce_contract_dates",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "-id"], name="commerce_contract_owner"),
            models.Index(fields=["department", "-id"], name="commerce_contract_dept"),
            models.Index(fields=["account", "-id"], name="commerce_contract_account"),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse(self.detail_url_name, args=[self.pk])


class ContractAttachment(models.Model):
    """A file kept with a contract (the signed scan, appendices), stored through Django's storage;
    type and size limits are settings (KEHU_ATTACHMENT_TYPES, KEHU_ATTACHMENT_MAX_BYTES)."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.CASCADE, related_name="attachments"
    )
    kind = models.CharField(
        _("type"), max_length=10, choices=AttachmentKind.choices, default=AttachmentKind.SIGNED
    )
    file = models.FileField(_("file"), upload_to="contracts/%Y/%m/")
    name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("contract attachment")
        verbose_name_plural = _("contract attachments")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.name
