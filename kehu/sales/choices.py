"""Choices of the sales app (线索, 公海, 商机)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class LeadStatus(models.TextChoices):
    NEW = "new", pgettext_lazy("lead", "New")
    CONTACTING = "contacting", _("Contacting")
    QUALIFIED = "qualified", _("Qualified")
    UNQUALIFIED = "unqualified", _("Unqualified")
    CONVERTED = "converted", _("Converted")


class PoolKind(models.TextChoices):
    """What a pool holds: leads (线索池) or accounts (客户公海)."""

    LEAD = "lead", _("Leads")
    ACCOUNT = "account", pgettext_lazy("customers", "Accounts")


class PoolAction(models.TextChoices):
    """A move recorded in the pool history."""

    ENTER = "enter", _("Put in pool")
    CLAIM = "claim", _("Claimed")
    RETURN = "return", _("Returned")
    ASSIGN = "assign", _("Assigned")
    RECYCLE = "recycle", _("Recycled")
    TRANSFER = "transfer", _("Transferred to another pool")


class RecycleReason(models.TextChoices):
    NO_FOLLOW_UP = "no_follow_up", _("No follow-up")
    NOT_CONVERTED = "not_converted", _("Not converted or won in time")


class AssignmentAction(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round-robin among users")
    LEAST_LOADED = "least_loaded", _("Least-loaded user")
    USER = "user", _("A specific user")
    POOL = "pool", pgettext_lazy("assignment target", "A pool")


class StageKind(models.TextChoices):
    OPEN = "open", pgettext_lazy("stage", "Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class ForecastCategory(models.TextChoices):
    PIPELINE = "pipeline", pgettext_lazy("forecast category", "Pipeline")
    BEST_CASE = "best_case", _("Best case")
    COMMIT = "commit", _("Commit")
    CLOSED = "closed", _("Closed")
    OMITTED = "omitted", _("Omitted")


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")


class TargetMetric(models.TextChoices):
    WON_AMOUNT = "won_amount", _("Won amount")
    COLLECTED = "collected", _("Collected payments")


class OpportunityTeamRole(models.TextChoices):
    SALES = "sales", _("Sales")
    PRESALES = "presales", _("Pre-sales")
    SUPPORT = "support", _("Support")
    MANAGER = "manager", pgettext_lazy("team role", "Manager")
    OTHER = "other", pgettext_lazy("team role", "Other")


# Picklists (数据字典) the sales records use: field name → picklist code.
LEAD_PICKLIST_FIELDS = {
    "source": "source",
    "unqualified_reason": "lead_unqualified_reason",
    "product_interest": "product_interest",
}
OPPORTUNITY_PICKLIST_FIELDS = {"source": "source", "loss_reason": "opportunity_loss_reason"}
OPPORTUNITY_CONTACT_ROLE_PICKLIST = "contact_role"

LEAD_RESTRICTABLE_FIELDS = ["phone", "mobile", "email", "wechat", "company"]
OPPORTUNITY_RESTRICTABLE_FIELDS = ["amount", "probability", "competitors", "next_step"]
