"""Factories of surveys, invitations, answers and churn rules (rows written directly; the rules
of answering, sending and flagging are tested through the services)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from django.utils import timezone

from kehu.service.choices import ChurnSignal, SurveyKind
from kehu.service.models import ChurnRule, Survey, SurveyInvitation, SurveyResponse


def csat() -> Survey:
    """The default CSAT survey (seeded by migration 0003: sent when tickets are resolved)."""
    return Survey.objects.get(kind=SurveyKind.CSAT, send_on_resolve=True)


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Survey

    kind = SurveyKind.NPS
    name = factory.Sequence(lambda n: f"净推荐值调查 {n}")
    name_en = factory.Sequence(lambda n: f"NPS survey {n}")


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveyInvitation

    survey = factory.SubFactory(SurveyFactory)
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    expires_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=30))


def response(survey: Survey, score: int, *, at: dt.datetime | None = None, **kwargs: Any) -> SurveyResponse:
    return SurveyResponse.objects.create(
        survey=survey, kind=survey.kind, score=score, created_at=at or timezone.now(), **kwargs
    )


class ChurnRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChurnRule

    name = factory.Sequence(lambda n: f"流失规则 {n}")
    signal = ChurnSignal.COMPLAINTS
    threshold = 2
    window_days = 30
