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


# Picklist (数据字典) codes of the standard fields that hold picklist values.
PICKLIST_FIELDS = {
    "industry": "industry",
    "source": "source",
    "level": "customer_level",
}

# Fields whose values a field permission may hide, mask or make read-only.
ACCOUNT_RESTRICTABLE_FIELDS = ["phone", "email", "website", "address", "notes"]
CONTACT_RESTRICTABLE_FIELDS = ["phone", "mobile", "email", "wechat", "notes"]
