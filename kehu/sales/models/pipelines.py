"""Pipelines (销售流程) and their stages (阶段): data, edited by admins."""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.models import TimeStampedModel
from kehu.core.permissions import RestrictedManager
from kehu.customfields.models import in_language

from ..choices import ForecastCategory, StageKind


class Pipeline(TimeStampedModel):
    detail_url_name = "sales:pipeline_detail"  # get_absolute_url (kehu.core.tables.detail_url)

    scope_owner_field = None
    scope_department_field = None

    name = models.CharField(_("name"), max_length=100, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(pgettext_lazy("enabled", "active"), default=True)
    is_default = models.BooleanField(_("default"), default=False)
    order = models.PositiveIntegerField(_("order"), default=0)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="sales_pipeline_one_default"
            )
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The name in the active language (English name when English is active and it is set)."""
        return in_language(self.name, self.name_en)

    def get_absolute_url(self) -> str:
        return reverse(self.detail_url_name, args=[self.pk])


class Stage(models.Model):
    """A step of a pipeline. `required_fields` must be filled before an opportunity enters it;
    `allowed_next` (empty: any) limits the moves out of it."""

    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages"
    )
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    kind = models.CharField(_("type"), max_length=8, choices=StageKind.choices, default=StageKind.OPEN)
    probability = models.PositiveSmallIntegerField(_("probability (%)"), default=0)
    forecast_category = models.CharField(
        _("forecast category"),
        max_length=16,
        choices=ForecastCategory.choices,
        default=ForecastCategory.PIPELINE,
    )
    # Field names of Opportunity (standard or "custom.<key>") that must be filled to enter the stage.
    required_fields = models.JSONField(_("fields required to enter"), default=list, blank=True)
    allowed_next = models.ManyToManyField(
        "self",
        verbose_name=_("allowed next stages"),
        symmetrical=False,
        blank=True,
        related_name="+",
        help_text=_("Empty: any stage of the pipeline."),
    )
    stuck_after_days = models.PositiveIntegerField(
        _("stuck after (days)"),
        null=True,
        blank=True,
        help_text=_("Alert when a deal stays longer. Blank: never."),
    )
    color = models.CharField(_("colour"), max_length=16, blank=True)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="sales_stage_unique_name"),
            models.CheckConstraint(
                condition=models.Q(probability__lte=100), name="sales_stage_probability_range"
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The name in the active language (English name when English is active and it is set)."""
        return in_language(self.name, self.name_en)
