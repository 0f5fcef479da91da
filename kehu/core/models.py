from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import Action, JobStatus, SequenceReset
from .permissions import RestrictedManager, RestrictedQuerySet, scope_q


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class OwnedModel(TimeStampedModel):
    """A record with an owner (负责人) and the owner's department, denormalised at write time.

    `restrict()` reads `scope_owner_field` and `scope_department_field` to build data scopes.
    `version` supports optimistic locking on edit forms.
    """

    scope_owner_field = "owner"
    scope_department_field = "department"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        # Every concrete model declares an index that starts with the owner (e.g. (owner, -id) for
        # the lists' own scope): a second single-column index only costs each write.
        db_index=False,
    )
    department = models.ForeignKey(
        "users.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # likewise: an index starting with the department
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    version = models.PositiveIntegerField(_("version"), default=1)

    objects = RestrictedManager()

    class Meta:
        abstract = True


class JobQuerySet(RestrictedQuerySet):
    def restrict(self, user: Any, action: str = Action.VIEW) -> RestrictedQuerySet:
        """A user always sees (and may cancel) their own jobs; roles that grant `core.job` view or
        change with a scope (and administrators) widen that to other people's jobs."""
        if not (user is not None and getattr(user, "is_authenticated", False) and user.is_active):
            return self.none()
        q = scope_q(user, self.model, action)
        if q is not None and not q:  # an empty Q: every job
            return self.all()
        own = models.Q(owner=user.pk)
        return self.filter(own | q if q is not None else own)

    def unfinished(self) -> JobQuerySet:
        return self.filter(status__in=(JobStatus.PENDING, JobStatus.RUNNING))


JobManager = models.Manager.from_queryset(JobQuerySet)


class Job(models.Model):
    """Long work running in the background (后台任务), with progress the UI polls."""

    scope_owner_field = "owner"
    scope_department_field = None

    kind = models.CharField(_("kind"), max_length=64, db_index=True)
    title = models.CharField(_("title"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING, db_index=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="jobs",
    )
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    progress_done = models.PositiveBigIntegerField(_("done"), default=0)
    progress_total = models.PositiveBigIntegerField(_("total"), null=True, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    result_file = models.FileField(_("result file"), upload_to="jobs/results/%Y/%m/", blank=True)
    error_file = models.FileField(_("error file"), upload_to="jobs/errors/%Y/%m/", blank=True)
    error = models.TextField(_("error"), blank=True)
    celery_task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("heartbeat"), null=True, blank=True)

    objects = JobManager()

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="core_job_status_hb")]

    def __str__(self) -> str:
        return self.title or self.kind

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("core:job_detail", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)

    @property
    def percent(self) -> int | None:
        if not self.progress_total:
            return 100 if self.status == JobStatus.SUCCEEDED else None
        return min(100, int(self.progress_done * 100 / self.progress_total))


class Sequence(models.Model):
    """Document numbers (quote, order, ticket ...): `{prefix}-{yyyy}-{n:05d}`, race-safe."""

    key = models.SlugField(_("key"), max_length=50, unique=True)
    prefix = models.CharField(_("prefix"), max_length=20, blank=True)
    pattern = models.CharField(
        _("pattern"),
        max_length=100,
        default="{prefix}-{yyyy}-{n:05d}",
        help_text=_("Placeholders: {prefix}, {yyyy}, {yy}, {mm}, {dd}, {n} (e.g. {n:05d})."),
    )
    reset = models.CharField(
        _("reset"), max_length=10, choices=SequenceReset.choices, default=SequenceReset.YEARLY
    )
    period = models.CharField(_("current period"), max_length=10, blank=True)
    last_value = models.PositiveBigIntegerField(_("last value"), default=0)

    class Meta:
        verbose_name = _("sequence")
        verbose_name_plural = _("sequences")

    def __str__(self) -> str:
        return self.key


class UserPreference(models.Model):
    """A small per-user setting kept across sessions: list columns, page size ("table:customers.account")."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(_("key"), max_length=100)
    value = models.JSONField(_("value"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("user preference")
        verbose_name_plural = _("user preferences")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="core_userpref_unique")]

    def __str__(self) -> str:
        return self.key


class SavedView(models.Model):
    """A named list view (保存的视图): filters and sort (a query string), columns and page size.

    Personal views are seen by their owner only; shared ones by everyone who may see the list.
    `table` is the list's table key ("customers.account"). Each user's default view of a list is a
    `UserPreference` ("savedview-default:<table>")."""

    table = models.CharField(_("list"), max_length=100, db_index=True)
    name = models.CharField(_("name"), max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="+"
    )
    shared = models.BooleanField(
        _("shared"), default=False, help_text=_("Visible to everyone who can see this list.")
    )
    query = models.CharField(_("filters and sort"), max_length=2000, blank=True)
    columns = models.JSONField(_("columns"), default=list, blank=True)
    per_page = models.PositiveSmallIntegerField(_("rows per page"), null=True, blank=True)
    order = models.IntegerField(_("order"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["table", "order", "name", "id"]
        indexes = [models.Index(fields=["table", "owner"], name="core_savedview_tbl_owner")]

    def __str__(self) -> str:
        return self.name
