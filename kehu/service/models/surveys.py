"""Satisfaction surveys (满意度调查): CSAT after a resolved ticket and NPS sent to chosen accounts
and contacts on a schedule. Each invitation is a signed link answered at most once."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStampedModel
from kehu.core.permissions import RestrictedManager
from kehu.core.text import bilingual_name

from ..choices import SurveyFrequency, SurveyKind


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Survey(TimeStampedModel):
    """A CSAT survey (one is the default, sent when tickets are resolved) or an NPS survey with
    its audience (filters on contacts, as the contact list's query string) and schedule."""

    kind = models.CharField(_("kind"), max_length=8, choices=SurveyKind.choices)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    question = models.CharField(_("question"), max_length=255, blank=True)
    question_en = models.CharField(_("question (English)"), max_length=255, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # CSAT: sent automatically when a ticket is resolved (the active CSAT survey with the lowest id).
    send_on_resolve = models.BooleanField(_("send when a ticket is resolved"), default=False)
    # NPS audience: contact-list filter parameters (the same FilterSet as the list), e.g.
    # {"level": ["VIP"], "tag": [3]}; and when to send.
    audience = models.JSONField(_("audience"), default=dict, blank=True)
    frequency = models.CharField(
        _("frequency"), max_length=16, choices=SurveyFrequency.choices, default=SurveyFrequency.ONCE
    )
    next_run_at = models.DateTimeField(_("next sending"), null=True, blank=True)
    last_run_at = models.DateTimeField(_("last sent"), null=True, blank=True)
    # Days an invitation link stays valid.
    valid_days = models.PositiveSmallIntegerField(_("link valid for (days)"), default=30)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        ordering = ["kind", "id"]

    def __str__(self) -> str:
        return bilingual_name(self.name, self.name_en)

    def get_absolute_url(self) -> str:
        return reverse("service:survey_detail", args=[self.pk])


class SurveyInvitation(models.Model):
    """One person asked once: the token in their link. A CSAT invitation is per ticket."""

    survey = models.ForeignKey(
        Survey, verbose_name=_("survey"), on_delete=models.CASCADE, related_name="invitations"
    )
    ticket = models.ForeignKey(
        "service.Ticket",
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="survey_invitations",
    )
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="survey_invitations",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="survey_invitations",
    )
    email = models.EmailField(_("e-mail"), blank=True)
    token = models.CharField(_("token"), max_length=64, unique=True, default=new_token, editable=False)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")
    # Which scheduled sending it belongs to (NPS: one invitation per contact per run).
    run = models.DateTimeField(_("sending"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    send_error = models.CharField(_("sending error"), max_length=500, blank=True)
    expires_at = models.DateTimeField(_("expires at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "ticket"],
                condition=Q(ticket__isnull=False),
                name="service_invitation_ticket_unique",
            ),
            models.UniqueConstraint(
                fields=["survey", "run", "contact"],
                condition=Q(run__isnull=False, contact__isnull=False),
                name="service_invitation_run_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey_id} {self.email or self.contact_id}"


class SurveyResponse(models.Model):
    """An answer: CSAT 1–5 or NPS 0–10 and a comment. One per invitation (a second is refused)."""

    survey = models.ForeignKey(
        Survey, verbose_name=_("survey"), on_delete=models.PROTECT, related_name="responses"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=SurveyKind.choices)
    invitation = models.OneToOneField(
        SurveyInvitation,
        verbose_name=_("invitation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="response",
    )
    ticket = models.ForeignKey(
        "service.Ticket",
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="survey_responses",
    )
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="survey_responses",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="survey_responses",
    )
    # The agent the CSAT rating is about (the ticket's assignee when it was resolved).
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("answered at"), db_index=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="csat", score__gte=1, score__lte=5) | Q(kind="nps", score__lte=10)),
                name="service_response_score_range",
            ),
            models.UniqueConstraint(
                fields=["kind", "ticket"],
                condition=Q(ticket__isnull=False),
                name="service_response_one_per_ticket",
            ),
        ]
        indexes = [models.Index(fields=["account", "-created_at"], name="service_response_account")]

    def __str__(self) -> str:
        return f"{self.kind} {self.score}"
