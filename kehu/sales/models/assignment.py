"""Assignment rules: who gets a new lead or account (or which pool)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.models import TimeStampedModel
from kehu.core.permissions import RestrictedManager

from ..choices import AssignmentAction, PoolKind


class AssignmentRule(TimeStampedModel):
    """An ordered rule: the first active rule whose conditions match a new record decides its owner
    or pool. Conditions are the model's FilterSet query (the same filters as the list page), e.g.
    ``{"source": ["web"], "province": ["110000"]}``; empty conditions match everything."""

    scope_owner_field = None
    scope_department_field = None

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("applies to"), max_length=16, choices=PoolKind.choices, default=PoolKind.LEAD)
    order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(pgettext_lazy("enabled", "active"), default=True)
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=AssignmentAction.choices)
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("users"),
        blank=True,
        related_name="+",
        help_text=_("Round-robin and least-loaded choose among these users."),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    pool = models.ForeignKey(
        "sales.Pool",
        verbose_name=_("pool"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Round-robin position: the id of the user who got the last record (locked when advanced).
    last_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")
        ordering = ["kind", "order", "id"]

    def __str__(self) -> str:
        return self.name


class UserAvailability(models.Model):
    """A user marked unavailable (leave) gets no records from assignment rules."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sales_availability"
    )
    is_available = models.BooleanField(_("available"), default=True)
    away_from = models.DateField(_("away from"), null=True, blank=True)
    away_until = models.DateField(_("away until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("availability")
        verbose_name_plural = _("availability")

    def __str__(self) -> str:
        return str(self.user)
