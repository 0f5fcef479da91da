"""The company's letterhead for quote PDFs and e-mails: one row (pk 1), edited on a settings page."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStampedModel


class CompanyProfile(TimeStampedModel):
    """Name, address, phone, tax ID, bank account and logo printed on quotes. A singleton: the
    selector `company_profile()` reads (or creates) the row with pk 1."""

    SINGLETON_PK = 1

    name = models.CharField(_("company name"), max_length=200, blank=True)
    name_en = models.CharField(_("company name (English)"), max_length=200, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    address_en = models.CharField(_("address (English)"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    tax_id = models.CharField(
        _("tax ID"), max_length=40, blank=True, help_text=_("Unified social credit code (统一社会信用代码).")
    )
    bank_name = models.CharField(_("bank"), max_length=200, blank=True)
    bank_account = models.CharField(_("bank account"), max_length=60, blank=True)
    logo = models.FileField(_("logo"), upload_to="company/", blank=True)
    default_terms = models.TextField(
        _("default terms"), blank=True, help_text=_("Printed on quotes that have no terms of their own.")
    )

    class Meta:
        verbose_name = _("company profile")
        verbose_name_plural = _("company profile")

    def __str__(self) -> str:
        return self.name or self.name_en or str(_("Company profile"))

    def display_name(self, language: str) -> str:
        if language.startswith("en"):
            return self.name_en or self.name
        return self.name or self.name_en

    def display_address(self, language: str) -> str:
        if language.startswith("en"):
            return self.address_en or self.address
        return self.address or self.address_en
