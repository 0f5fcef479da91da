from django.db import models
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    VIEW = "view", _("View")
    ADD = "add", _("Add")
    CHANGE = "change", _("Change")
    DELETE = "delete", _("Delete")
    EXPORT = "export", _("Export")
    IMPORT = "import", _("Import")
    ASSIGN = "assign", _("Assign")


class Scope(models.TextChoices):
    """Data scope (数据权限范围) of a role permission, from narrowest to widest."""

    OWN = "own", _("Own")
    DEPARTMENT = "department", _("Department")
    DEPARTMENT_AND_BELOW = "department_and_below", _("Department and below")
    ALL = "all", _("All")


SCOPE_RANK = {Scope.OWN: 1, Scope.DEPARTMENT: 2, Scope.DEPARTMENT_AND_BELOW: 3, Scope.ALL: 4}


class FieldMode(models.TextChoices):
    HIDDEN = "hidden", _("Hidden")
    MASKED = "masked", _("Masked")
    READ_ONLY = "read_only", _("Read-only")


# Least restrictive last: with several roles, the user gets the least restrictive mode.
FIELD_MODE_RANK = {FieldMode.HIDDEN: 0, FieldMode.MASKED: 1, FieldMode.READ_ONLY: 2}


class JobStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class SequenceReset(models.TextChoices):
    NEVER = "never", _("Never")
    YEARLY = "yearly", _("Every year")
    MONTHLY = "monthly", _("Every month")
    DAILY = "daily", _("Every day")
