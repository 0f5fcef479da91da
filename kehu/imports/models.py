"""Imports (导入): the job of one uploaded file through the wizard and its run, the batches it
committed (what a resumed run skips), and the column-mapping presets users save.

What an import created or updated is recorded in the change log (`audit.ObjectChange` rows whose
``request_id`` is the import's `audit_tag`), written in bulk by the import service in each batch's
transaction; undo reads it from there."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.models import OwnedModel, TimeStampedModel

from .choices import DuplicateAction, ImportMode, ImportStatus, OwnerMode


class ImportJob(OwnedModel):
    """One file imported into one record type. `owner` is the user who started it (their
    department with it), so the usual data scopes decide who else sees it."""

    target = models.CharField(_("record type"), max_length=100, help_text=_("e.g. customers.contact"))
    status = models.CharField(
        _("status"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.UPLOADED, db_index=True
    )
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True, db_index=True)
    # How the file is read (kehu.imports.parsing.Sniffed.options): format, encoding, delimiter,
    # header row, sheet; what was detected, with the user's overrides.
    options = models.JSONField(_("reading options"), default=dict, blank=True)
    headers = models.JSONField(_("columns"), default=list, blank=True)
    row_estimate = models.PositiveBigIntegerField(_("rows (estimate)"), null=True, blank=True)
    preset = models.ForeignKey(
        "imports.ImportPreset",
        verbose_name=_("preset"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # {header: field name or ""}, and the value transforms (date order, phone region, picklist
    # value maps and what unknown values do, multi-value separators).
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    transforms = models.JSONField(_("value transforms"), default=dict, blank=True)
    mode = models.CharField(
        pgettext_lazy("import", "mode"), max_length=8, choices=ImportMode.choices, default=ImportMode.CREATE
    )
    match_key = models.CharField(
        _("match on"), max_length=100, blank=True, help_text=_("email, phone, tax_number, external_id …")
    )
    on_duplicate = models.CharField(
        _("when a row matches a record"),
        max_length=8,
        choices=DuplicateAction.choices,
        default=DuplicateAction.SKIP,
    )
    owner_mode = models.CharField(
        _("owner of new records"), max_length=8, choices=OwnerMode.choices, default=OwnerMode.RULES
    )
    assign_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assign to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # A pool (sales.Pool) by id: the imports app sits below sales.
    pool_id = models.BigIntegerField(_("pool"), null=True, blank=True)
    job = models.OneToOneField(
        "core.Job",
        verbose_name=_("background job"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="import_job",
    )
    dry_run = models.JSONField(_("dry run result"), default=dict, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    rows_done = models.PositiveBigIntegerField(_("rows done"), default=0)
    error_file = models.FileField(_("error file"), upload_to="imports/errors/%Y/%m/", blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("undone by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-id"], name="imports_job_owner_id"),
            models.Index(fields=["department", "-id"], name="imports_job_dept_id"),
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def audit_tag(self) -> str:
        """The `request_id` of this import's change-log rows."""
        return f"import-{self.pk}"


class ImportBatch(models.Model):
    """A batch of rows committed by a run, written in the batch's own transaction: a run killed
    in the middle leaves whole batches (rows, change log and this row) or nothing of the batch,
    and the resumed run starts after the last one."""

    job = models.ForeignKey(
        ImportJob, verbose_name=_("import"), on_delete=models.CASCADE, related_name="batches"
    )
    number = models.PositiveIntegerField(_("batch"))
    first_row = models.PositiveBigIntegerField(_("first row"))
    last_row = models.PositiveBigIntegerField(_("last row"))
    created = models.PositiveIntegerField(_("records created"), default=0)
    updated = models.PositiveIntegerField(_("records updated"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    errors = models.PositiveIntegerField(_("errors"), default=0)
    committed_at = models.DateTimeField(_("committed"), auto_now_add=True)

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering = ["job", "number"]
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="imports_batch_job_number")]

    def __str__(self) -> str:
        return f"{self.job_id} #{self.number}"


class ImportPreset(TimeStampedModel):
    """A saved column mapping and value transforms (kehu.imports.presets.Preset as JSON). Built-in
    vendor presets live in code; these are the users' own (no owner: shared with everyone who may
    import that record type)."""

    name = models.CharField(_("name"), max_length=100)
    target = models.CharField(_("record type"), max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    data = models.JSONField(_("preset"), default=dict)
    # hash of the sorted normalised headers: a file with the same columns finds its preset at once
    header_key = models.CharField(_("columns key"), max_length=64, blank=True, db_index=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("import preset")
        verbose_name_plural = _("import presets")
        ordering = ["target", "name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "target", "name"], name="imports_preset_owner_name"),
            models.UniqueConstraint(
                fields=["target", "name"],
                condition=models.Q(owner__isnull=True),
                name="imports_preset_shared_name",
            ),
        ]

    def __str__(self) -> str:
        return self.name
