"""SLA policies (服务级别): which tickets they cover (conditions), their targets in business
minutes, warnings and what happens on a breach; and the log of warnings and breaches."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStampedModel
from kehu.core.permissions import RestrictedManager
from kehu.core.text import bilingual_name

from ..choices import SLAEventKind, SLAMetric, TicketPriority


class SLAPolicy(TimeStampedModel):
    """The first active policy (by `position`) whose conditions a ticket meets gives its targets.
    `conditions`: {"priorities": [4, 3], "types": [type ids], "account_levels": ["VIP"],
    "accounts": [account ids], "queues": [queue ids]}; an absent or empty list matches anything."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    calendar = models.ForeignKey(
        "service.BusinessCalendar",
        verbose_name=_("business calendar"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Empty: the queue's calendar, else the default."),
    )
    # Targets in business minutes; empty: no target for that metric.
    first_response_minutes = models.PositiveIntegerField(
        _("first response within (minutes)"), null=True, blank=True
    )
    next_response_minutes = models.PositiveIntegerField(
        _("next response within (minutes)"), null=True, blank=True
    )
    resolution_minutes = models.PositiveIntegerField(_("resolution within (minutes)"), null=True, blank=True)
    warn_percent = models.PositiveSmallIntegerField(
        # xgettext:no-python-format
        _("warn at (% of the target used)"),
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
    )
    # On breach (run by the escalation job, once per ticket and metric):
    notify_manager = models.BooleanField(_("notify the queue manager"), default=True)
    notify_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("also notify"), blank=True, related_name="+"
    )
    raise_priority_to = models.PositiveSmallIntegerField(
        _("raise priority to"), choices=TicketPriority.choices, null=True, blank=True
    )
    escalate_to_queue = models.ForeignKey(
        "service.Queue",
        verbose_name=_("reassign to queue"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return bilingual_name(self.name, self.name_en)

    def get_absolute_url(self) -> str:
        return reverse("service:sla_policy_detail", args=[self.pk])


class SLAEvent(models.Model):
    """A warning or breach of one ticket's metric, and what was done about it. Unique per
    (ticket, metric, kind, due time): the sweep may run twice, the actions run once."""

    ticket = models.ForeignKey(
        "service.Ticket", verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="sla_events"
    )
    metric = models.CharField(_("metric"), max_length=16, choices=SLAMetric.choices)
    kind = models.CharField(_("kind"), max_length=8, choices=SLAEventKind.choices)
    due_at = models.DateTimeField(_("due at"))
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    policy = models.ForeignKey(
        SLAPolicy,
        verbose_name=_("SLA policy"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    queue = models.ForeignKey(
        "service.Queue",
        verbose_name=_("queue"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actions = models.JSONField(_("actions taken"), default=list, blank=True)

    class Meta:
        verbose_name = _("SLA event")
        verbose_name_plural = _("SLA events")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "metric", "kind", "due_at"], name="service_sla_event_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.metric} {self.kind}"
