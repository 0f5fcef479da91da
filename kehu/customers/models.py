"""Accounts (客户) and their contacts (联系人).

Data scope: both are owned records (`OwnedModel`: owner + the owner's department, denormalised at
write time). A contact's visibility follows ITS OWN owner and department, exactly like an
account's, not its account's: a rep may see a contact they own on an account owned by a colleague
(the account itself stays hidden unless their scope covers it), and a manager sees the contacts
owned within their department.
"""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.models import OwnedModel
from kehu.customfields.models import CustomFieldsModel

from .choices import AccountKind, LifecycleStage


class Account(OwnedModel, CustomFieldsModel):
    """A company (单位客户) or a person (个人客户) the business sells to."""

    kind = models.CharField(
        _("type"), max_length=16, choices=AccountKind.choices, default=AccountKind.COMPANY
    )
    name = models.CharField(_("name"), max_length=200, db_index=True)
    short_name = models.CharField(_("short name"), max_length=100, blank=True)
    phone = models.CharField(
        _("phone"),
        max_length=32,
        blank=True,
        help_text=_("Any common format, e.g. 138 1234 5678 or 010 6552 9988."),
    )
    email = models.EmailField(_("e-mail"), max_length=254, blank=True)
    website = models.URLField(_("website"), max_length=200, blank=True)
    # Picklist values (数据字典): "industry", "source", "customer_level".
    industry = models.CharField(_("industry"), max_length=64, blank=True)
    source = models.CharField(_("source"), max_length=64, blank=True)
    level = models.CharField(pgettext_lazy("customers", "level"), max_length=64, blank=True)
    address = models.CharField(_("address"), max_length=500, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    lifecycle_stage = models.CharField(
        _("lifecycle stage"),
        max_length=16,
        choices=LifecycleStage.choices,
        default=LifecycleStage.POTENTIAL,
    )
    lifecycle_changed_at = models.DateTimeField(_("lifecycle stage changed"), null=True, blank=True)
    # Set by the activities app through `account_record_activity` (an interaction was logged).
    last_activity_at = models.DateTimeField(_("last contact"), null=True, blank=True, db_index=True)
    # 0..100, weighted by the data collection standards; kept up to date by the services.
    completeness = models.PositiveSmallIntegerField(_("completeness"), default=0)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["-id"]
        indexes = [
            # "my accounts, newest first" and "my department's accounts" as index range scans
            models.Index(fields=["owner", "-id"], name="customers_account_owner_id"),
            models.Index(fields=["department", "-id"], name="customers_account_dept_id"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("customers:account_detail", args=[self.pk])


class Contact(OwnedModel, CustomFieldsModel):
    """A person at an account."""

    account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        on_delete=models.PROTECT,  # the service refuses with a clear message first
        related_name="contacts",
    )
    name = models.CharField(_("name"), max_length=100, db_index=True)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    mobile = models.CharField(_("mobile"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), max_length=254, blank=True)
    wechat = models.CharField(_("WeChat ID"), max_length=64, blank=True)
    is_primary = models.BooleanField(
        _("primary contact"), default=False, help_text=_("The account's main contact (one per account).")
    )
    notes = models.TextField(_("notes"), blank=True)
    last_activity_at = models.DateTimeField(_("last contact"), null=True, blank=True, db_index=True)
    completeness = models.PositiveSmallIntegerField(_("completeness"), default=0)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["owner", "-id"], name="customers_contact_owner_id"),
            models.Index(fields=["department", "-id"], name="customers_contact_dept_id"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(is_primary=True),
                name="customers_contact_one_primary",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("customers:contact_detail", args=[self.pk])
