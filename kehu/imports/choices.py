"""Choices of the imports app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportStatus(models.TextChoices):
    """Where an import is: the wizard's steps, then the run and what became of it."""

    UPLOADED = "uploaded", _("Uploaded")
    MAPPED = "mapped", _("Mapped")
    CHECKING = "checking", _("Dry run in progress")
    CHECKED = "checked", _("Dry run done")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")
    UNDOING = "undoing", _("Undoing")
    UNDONE = "undone", _("Undone")


class ImportMode(models.TextChoices):
    CREATE = "create", _("Create new records only")
    UPDATE = "update", _("Update existing records only")
    UPSERT = "upsert", _("Update existing records, create the others")


class DuplicateAction(models.TextChoices):
    """What to do with a row that matches an existing record (or an earlier row of the file)."""

    SKIP = "skip", _("Skip the row")
    UPDATE = "update", _("Update the existing record")
    CREATE = "create", _("Create a new record anyway")


class OwnerMode(models.TextChoices):
    """Who owns the records an import creates."""

    RULES = "rules", _("Assignment rules")
    OWNER = "owner", _("A chosen owner")
    POOL = "pool", _("A pool")
    MAPPED = "mapped", _("The owner column of the file")
