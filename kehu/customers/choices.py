from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AccountKind(models.TextChoices):
    COMPANY = "company", _("Company")
    PERSON = "person", _("Person")


class LifecycleStage(models.TextChoices):
    """Where an account is in its relationship with the business (生命周期阶段)."""

    POTENTIAL = "potential", _("Potential")
    NEW = "new", pgettext_lazy("lifecycle", "New")
    ACTIVE = "active", pgettext_lazy("lifecycle", "Active")
    MATURE = "mature", _("Mature")
    DECLINING = "declining", _("Declining")
    CHURNED = "churned", _("Churned")


class AddressKind(models.TextChoices):
    BILLING = "billing", _("Billing")
    SHIPPING = "shipping", _("Shipping")
    OFFICE = "office", _("Office")
    OTHER = "other", pgettext_lazy("address", "Other")


class PhoneKind(models.TextChoices):
    WORK = "work", pgettext_lazy("phone", "Work")
    MOBILE = "mobile", _("Mobile")
    FAX = "fax", _("Fax")
    HOME = "home", pgettext_lazy("phone", "Home")
    OTHER = "other", pgettext_lazy("phone", "Other")


class EmailKind(models.TextChoices):
    WORK = "work", pgettext_lazy("email", "Work")
    HOME = "home", pgettext_lazy("email", "Personal")
    OTHER = "other", pgettext_lazy("email", "Other")


class Gender(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class Channel(models.TextChoices):
    """Ways of reaching a contact (preferred channel, do-not-contact flags)."""

    PHONE = "phone", pgettext_lazy("channel", "Phone")
    EMAIL = "email", pgettext_lazy("channel", "E-mail")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    VISIT = "visit", _("Visit")


# The do-not-contact flag of each channel (Contact boolean fields).
DO_NOT_CONTACT_FIELDS = {
    Channel.PHONE: "do_not_call",
    Channel.EMAIL: "do_not_email",
    Channel.SMS: "do_not_sms",
    Channel.WECHAT: "do_not_wechat",
    Channel.VISIT: "do_not_visit",
}

# Picklist of a contact's role at an account (seeded by migration customers/0005).
CONTACT_ROLE_PICKLIST = "contact_role"

# Picklist (数据字典) codes of the standard fields that hold picklist values.
PICKLIST_FIELDS = {
    "industry": "industry",
    "source": "source",
    "level": "customer_level",
}

# Fields whose values a field permission may hide, mask or make read-only.
ACCOUNT_RESTRICTABLE_FIELDS = ["phone", "email", "website", "address", "notes", "wechat", "tax_number"]
CONTACT_RESTRICTABLE_FIELDS = ["phone", "mobile", "email", "wechat", "notes", "birthday"]
