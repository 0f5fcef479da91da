"""Leads (线索): unqualified prospects, the first stage of a sale."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.models import OwnedModel
from kehu.customers.models import RegionFields
from kehu.customfields.models import CustomFieldsModel

from ..choices import LeadStatus


class Lead(OwnedModel, CustomFieldsModel, RegionFields):
    """A prospect: a person, usually at a company. Owned by a user, or unowned in a pool
    (`pool_item.in_pool`). Converting it creates or links an account, a contact and optionally an
    opportunity; a converted lead is read-only and keeps links to what it became."""

    detail_url_name = "sales:lead_detail"  # get_absolute_url (kehu.core.tables.detail_url)

    # The record's id in another system: the key of imports (upsert) and integrations.
    external_id = models.CharField(
        _("external ID"), max_length=100, blank=True, help_text=_("The record's id in another system.")
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=100, db_index=True)
    company = models.CharField(_("company"), max_length=200, blank=True, db_index=True)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    # Stored as E.164 (normalised by the services, default region CN).
    phone = models.CharField(_("phone"), max_length=32, blank=True, db_index=True)
    mobile = models.CharField(_("mobile"), max_length=32, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), max_length=254, blank=True, db_index=True)
    wechat = models.CharField(_("WeChat ID"), max_length=64, blank=True)
    website = models.URLField(_("website"), max_length=200, blank=True)
    address = models.CharField(_("address"), max_length=500, blank=True)
    tax_number = models.CharField(_("unified social credit code"), max_length=18, blank=True, db_index=True)
    # Picklist values (数据字典): "source", "product_interest", "lead_unqualified_reason".
    source = models.CharField(_("source"), max_length=64, blank=True)
    product_interest = models.CharField(_("product interest"), max_length=64, blank=True)
    # Free text until the marketing module adds campaigns.
    campaign = models.CharField(_("campaign"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=LeadStatus.choices, default=LeadStatus.NEW, db_index=True
    )
    unqualified_reason = models.CharField(_("unqualified reason"), max_length=64, blank=True)
    description = models.TextField(_("description"), blank=True)
    last_activity_at = models.DateTimeField(_("last contact"), null=True, blank=True, db_index=True)
    # When the current owner got the lead (claim, assignment, creation): recycling counts from here.
    owned_since = models.DateTimeField(_("owned since"), null=True, blank=True)
    # The assignment rule that chose the owner or pool (blank: chosen by hand).
    assignment_rule = models.ForeignKey(
        "sales.AssignmentRule",
        verbose_name=_("assignment rule"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # --- conversion ---
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True)
    converted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("converted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    converted_account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="converted_leads",
    )
    converted_contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="converted_leads",
    )
    converted_opportunity = models.ForeignKey(
        "sales.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["owner", "-id"], name="sales_lead_owner_id"),
            models.Index(fields=["department", "-id"], name="sales_lead_dept_id"),
            models.Index(fields=["status", "owner"], name="sales_lead_status_owner"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~models.Q(external_id=""),
                name="sales_lead_external_id",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.company})" if self.company else self.name

    def get_absolute_url(self) -> str:
        return reverse(self.detail_url_name, args=[self.pk])

    @property
    def is_converted(self) -> bool:
        return self.status == LeadStatus.CONVERTED

    def can_convert(self) -> bool:
        return self.status == LeadStatus.QUALIFIED


class ConversionFieldMap(models.Model):
    """How a lead's custom field carries over on conversion: into a custom field of the account,
    the contact or the opportunity (admin-defined)."""

    TARGETS = (
        ("customers.account", pgettext_lazy("customers", "Account")),
        ("customers.contact", _("Contact")),
        ("sales.opportunity", _("Opportunity")),
    )

    lead_field = models.CharField(_("lead custom field"), max_length=64)
    target_model = models.CharField(_("carries over to"), max_length=32, choices=TARGETS)
    target_field = models.CharField(_("target custom field"), max_length=64)

    class Meta:
        verbose_name = _("conversion field mapping")
        verbose_name_plural = _("conversion field mappings")
        ordering = ["lead_field", "target_model"]
        constraints = [
            models.UniqueConstraint(fields=["lead_field", "target_model"], name="sales_convmap_unique")
        ]

    def __str__(self) -> str:
        return f"{self.lead_field} → {self.target_model}.{self.target_field}"
