from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountKind(models.TextChoices):
    COMPANY = "company", _("Company")
    PERSON = "person", _("Person")


# Picklist (数据字典) codes of the standard fields that hold picklist values.
PICKLIST_FIELDS = {
    "industry": "industry",
    "source": "source",
    "level": "customer_level",
}

# Fields whose values a field permission may hide, mask or make read-only.
ACCOUNT_RESTRICTABLE_FIELDS = ["phone", "email", "website", "address", "notes"]
CONTACT_RESTRICTABLE_FIELDS = ["phone", "mobile", "email", "wechat", "notes"]
