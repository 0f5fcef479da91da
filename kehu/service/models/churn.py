"""Churn warning (流失预警): rules that flag an account as at risk with the reasons, and the flag."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStampedModel
from kehu.core.permissions import RestrictedManager
from kehu.core.text import bilingual_name

from ..choices import ChurnSignal, RiskStatus


class ChurnRule(TimeStampedModel):
    """`signal` with `threshold` (days without an order; NPS score at or below; complaints more
    than; CSAT at or below) over `window_days` (complaints, NPS and CSAT answers counted in it)."""

    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    signal = models.CharField(_("signal"), max_length=16, choices=ChurnSignal.choices)
    threshold = models.PositiveIntegerField(_("threshold"))
    window_days = models.PositiveIntegerField(_("window (days)"), default=30)
    is_active = models.BooleanField(_("active"), default=True)
    create_task = models.BooleanField(_("create a follow-up task for the owner"), default=True)
    task_due_days = models.PositiveSmallIntegerField(_("task due in (days)"), default=3)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("churn rule")
        verbose_name_plural = _("churn rules")
        ordering = ["id"]

    def __str__(self) -> str:
        return bilingual_name(self.name, self.name_en)


class AccountRisk(models.Model):
    """An account flagged at risk of churning (流失预警), with the reasons: at most one open flag per
    account; later signals add reasons to it. Resolving it (after the intervention) closes it."""

    account = models.ForeignKey(
        "customers.Account", verbose_name=_("account"), on_delete=models.CASCADE, related_name="risks"
    )
    status = models.CharField(_("status"), max_length=16, choices=RiskStatus.choices, default=RiskStatus.OPEN)
    # [{"rule": id, "signal": ..., "value": ..., "at": iso}] — shown in the reader's language.
    reasons = models.JSONField(_("reasons"), default=list)
    # Where the flag came from: "rules" now, "model" when analytics' churn model feeds it.
    source = models.CharField(_("source"), max_length=16, default="rules")
    score = models.DecimalField(_("risk score"), max_digits=5, decimal_places=4, null=True, blank=True)
    task_id = models.BigIntegerField(_("follow-up task"), null=True, blank=True)
    flagged_at = models.DateTimeField(_("flagged at"), db_index=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolution_note = models.CharField(_("resolution note"), max_length=500, blank=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("at-risk account")
        verbose_name_plural = _("at-risk accounts")
        ordering = ["-flagged_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=Q(status="open"), name="service_one_open_risk"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.get_status_display()}"
