from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.permissions import RestrictedManager


class QualitySnapshot(models.Model):
    """The data quality figures of one model over the whole company on one day (trends).

    Written by the daily job (``services.quality_snapshot_take``): one row per (date, model),
    replaced when the job runs again the same day. Holding the permission *view* on it is what
    opens the data quality page (administrators always may)."""

    scope_owner_field = None
    scope_department_field = None

    date = models.DateField(_("date"), db_index=True)
    model = models.CharField(_("model"), max_length=100)
    figures = models.JSONField(_("figures"), default=dict)
    created_at = models.DateTimeField(_("taken at"), auto_now=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("data quality snapshot")
        verbose_name_plural = _("data quality")
        ordering = ["date", "model"]
        constraints = [models.UniqueConstraint(fields=["date", "model"], name="quality_snapshot_unique_day")]

    def __str__(self) -> str:
        return f"{self.model} {self.date}"
