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

from .choices import AccountKind, AddressKind, Channel, EmailKind, Gender, LifecycleStage, PhoneKind


class RegionFields(models.Model):
    """Where something is: an ISO 3166 country code and, in mainland China, the GB/T 2260 codes of
    the province, city (prefecture) and district (county). Names come from `kehu.customers.regions`."""

    country = models.CharField(_("country/region"), max_length=2, blank=True, db_index=True)
    province = models.CharField(_("province"), max_length=6, blank=True, db_index=True)
    city = models.CharField(_("city"), max_length=6, blank=True, db_index=True)
    district = models.CharField(_("district"), max_length=6, blank=True)

    class Meta:
        abstract = True

    @property
    def region_display(self) -> str:
        from .regions import region_label

        return region_label(
            country=self.country, province=self.province, city=self.city, district=self.district
        )


class Account(OwnedModel, CustomFieldsModel, RegionFields):
    """A company (单位客户) or a person (个人客户) the business sells to.

    `phone`, `email` and `address` are the denormalised primary values of `phones`, `emails` and
    `addresses` (fast lists and search), kept in sync by the services."""

    detail_url_name = "customers:account_detail"  # get_absolute_url (kehu.core.tables.detail_url)

    # The record's id in another system: the key of imports (upsert) and integrations.
    external_id = models.CharField(
        _("external ID"), max_length=100, blank=True, help_text=_("The record's id in another system.")
    )
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
    wechat = models.CharField(_("WeChat ID"), max_length=64, blank=True)
    # 统一社会信用代码 (GB 32100-2015): 18 characters with a check character.
    tax_number = models.CharField(_("unified social credit code"), max_length=18, blank=True, db_index=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,  # the service refuses with a clear message first
        related_name="children",
    )
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
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~models.Q(external_id=""),
                name="customers_account_external_id",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse(self.detail_url_name, args=[self.pk])


class Contact(OwnedModel, CustomFieldsModel):
    """A person at an account."""

    detail_url_name = "customers:contact_detail"  # get_absolute_url (kehu.core.tables.detail_url)

    # The record's id in another system: the key of imports (upsert) and integrations.
    external_id = models.CharField(
        _("external ID"), max_length=100, blank=True, help_text=_("The record's id in another system.")
    )
    account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        on_delete=models.PROTECT,  # the service refuses with a clear message first
        related_name="contacts",
    )
    # Every account the contact works with (the direct one included), with a role at each.
    accounts: models.ManyToManyField[Account, AccountContactRelation] = models.ManyToManyField(
        Account,
        through="AccountContactRelation",
        related_name="related_contacts",
        verbose_name=_("accounts"),
        blank=True,
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=100, db_index=True)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=8, choices=Channel.choices, blank=True
    )
    do_not_call = models.BooleanField(_("do not call"), default=False)
    do_not_email = models.BooleanField(_("do not e-mail"), default=False)
    do_not_sms = models.BooleanField(_("do not text (SMS)"), default=False)
    do_not_wechat = models.BooleanField(_("do not contact on WeChat"), default=False)
    do_not_visit = models.BooleanField(_("do not visit"), default=False)
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
                fields=["external_id"],
                condition=~models.Q(external_id=""),
                name="customers_contact_external_id",
            ),
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(is_primary=True),
                name="customers_contact_one_primary",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse(self.detail_url_name, args=[self.pk])


# --- details of accounts and contacts (visible with their parent record) ----------------------


class AccountAddress(RegionFields):
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="addresses"
    )
    kind = models.CharField(_("type"), max_length=16, choices=AddressKind.choices, default=AddressKind.OFFICE)
    street = models.CharField(_("street address"), max_length=300, blank=True)
    postcode = models.CharField(_("postcode"), max_length=16, blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        ordering = ["-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=models.Q(is_primary=True), name="customers_address_one_primary"
            )
        ]

    def __str__(self) -> str:
        return self.one_line()

    def one_line(self) -> str:
        """Region names then the street, as written on a Chinese envelope."""
        from .regions import region_label

        region = region_label(
            country=self.country, province=self.province, city=self.city, district=self.district, compact=True
        )
        return " ".join(p for p in (region, self.street, self.postcode) if p)


class _Phone(models.Model):
    kind = models.CharField(_("type"), max_length=8, choices=PhoneKind.choices, default=PhoneKind.WORK)
    number = models.CharField(_("number"), max_length=32)  # E.164
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        abstract = True
        ordering = ["-is_primary", "id"]

    def __str__(self) -> str:
        return self.number


class _Email(models.Model):
    kind = models.CharField(_("type"), max_length=8, choices=EmailKind.choices, default=EmailKind.WORK)
    email = models.EmailField(_("e-mail"), max_length=254)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        abstract = True
        ordering = ["-is_primary", "id"]

    def __str__(self) -> str:
        return self.email


class AccountPhone(_Phone):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="phones")

    class Meta(_Phone.Meta):
        verbose_name = _("account phone")
        verbose_name_plural = _("account phones")
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=models.Q(is_primary=True), name="customers_accphone_one_primary"
            )
        ]
        indexes = [models.Index(fields=["number"], name="customers_accphone_number")]


class AccountEmail(_Email):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="emails")

    class Meta(_Email.Meta):
        verbose_name = _("account e-mail")
        verbose_name_plural = _("account e-mails")
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=models.Q(is_primary=True), name="customers_accemail_one_primary"
            )
        ]
        indexes = [models.Index(fields=["email"], name="customers_accemail_email")]


class ContactPhone(_Phone):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones")

    class Meta(_Phone.Meta):
        verbose_name = _("contact phone")
        verbose_name_plural = _("contact phones")
        constraints = [
            models.UniqueConstraint(
                fields=["contact"], condition=models.Q(is_primary=True), name="customers_conphone_one_primary"
            )
        ]
        indexes = [models.Index(fields=["number"], name="customers_conphone_number")]


class ContactEmail(_Email):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="emails")

    class Meta(_Email.Meta):
        verbose_name = _("contact e-mail")
        verbose_name_plural = _("contact e-mails")
        constraints = [
            models.UniqueConstraint(
                fields=["contact"], condition=models.Q(is_primary=True), name="customers_conemail_one_primary"
            )
        ]
        indexes = [models.Index(fields=["email"], name="customers_conemail_email")]


class AccountContactRelation(models.Model):
    """A contact works with an account in a role (Salesforce's AccountContactRelation). The
    contact's own `account` (its direct account) always has one, with `is_direct` set."""

    account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="contact_relations",
        db_index=False,  # the unique (account, contact) index starts with it
    )
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="account_relations"
    )
    # Picklist "contact_role" (决策人, 采购, 财务 ...).
    role = models.CharField(_("role"), max_length=64, blank=True)
    is_direct = models.BooleanField(_("direct account"), default=False)
    start_date = models.DateField(_("from"), null=True, blank=True)
    end_date = models.DateField(_("until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("account contact relation")
        verbose_name_plural = _("account contact relations")
        ordering = ["-is_direct", "id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "contact"], name="customers_relation_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} @ {self.account_id}"
