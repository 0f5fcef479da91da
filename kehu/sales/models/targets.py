"""Sales targets (销售目标) per user or department and period."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStampedModel
from kehu.core.permissions import RestrictedManager

from ..choices import PeriodKind, TargetMetric


class Target(TimeStampedModel):
    """A quota for one user or one department over one month, quarter or year.

    Scopes: `user` is the owner for data scopes (a rep sees their own targets, a manager their
    department subtree's)."""

    scope_owner_field = "user"
    scope_department_field = "department"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sales_targets",
    )
    department = models.ForeignKey(
        "users.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sales_targets",
        help_text=_("For a user's target: the user's department at the time (scopes)."),
    )
    metric = models.CharField(
        _("measure"), max_length=16, choices=TargetMetric.choices, default=TargetMetric.WON_AMOUNT
    )
    period_kind = models.CharField(_("period"), max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField(_("period start"))
    amount = models.DecimalField(_("target amount"), max_digits=18, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    # A member's share of a department target (split).
    parent = models.ForeignKey(
        "self",
        verbose_name=_("split from"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="splits",
    )

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["-period_start", "department", "user"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "metric", "period_kind", "period_start"],
                condition=Q(user__isnull=False),
                name="sales_target_user_unique",
            ),
            models.UniqueConstraint(
                fields=["department", "metric", "period_kind", "period_start"],
                condition=Q(user__isnull=True),
                name="sales_target_department_unique",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False) | Q(department__isnull=False), name="sales_target_has_subject"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="sales_target_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.user or self.department} {self.period_start:%Y-%m} {self.amount}"
