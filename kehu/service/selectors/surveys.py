"""Reads of satisfaction surveys: lists, a survey's answers and scores (CSAT average, NPS), the
rating of a ticket, the answers on the account 360° and the monthly trend."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, TruncMonth

from kehu.core.choices import Action
from kehu.core.permissions import can

from ..choices import SurveyKind
from ..models import Survey, SurveyResponse, Ticket

PANEL_ROWS = 5


@dataclass
class Score:
    """The answers of a set: their count, the CSAT average (1–5) and the NPS (−100..100) with
    its promoters (9–10), passives (7–8) and detractors (0–6)."""

    count: int = 0
    average: float | None = None
    promoters: int = 0
    passives: int = 0
    detractors: int = 0

    @property
    def nps(self) -> int | None:
        total = self.promoters + self.passives + self.detractors
        if not total:
            return None
        return round((self.promoters - self.detractors) * 100 / total)


def nps_score(scores: list[int]) -> int | None:
    """Promoters (9–10) minus detractors (0–6), as a percentage of all answers (None: no answer)."""
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return round((promoters - detractors) * 100 / len(scores))


def _score_aggregates() -> dict[str, Any]:
    return {
        "count": Count("id"),
        "average": Avg("score"),
        "promoters": Count("id", filter=Q(score__gte=9)),
        "passives": Count("id", filter=Q(score__gte=7, score__lte=8)),
        "detractors": Count("id", filter=Q(score__lte=6)),
    }


def score_of(qs: QuerySet[SurveyResponse], kind: str) -> Score:
    row = qs.filter(kind=kind).aggregate(**_score_aggregates())
    score = Score(
        count=row["count"] or 0, average=float(row["average"]) if row["average"] is not None else None
    )
    if kind == SurveyKind.NPS:
        score.promoters, score.passives, score.detractors = (
            row["promoters"],
            row["passives"],
            row["detractors"],
        )
    return score


def survey_list(*, user: Any, action: str = Action.VIEW) -> QuerySet[Survey]:
    """Surveys in the user's scope with `response_count` and `response_average` over the answers
    the user may see (`response_list`: none without the answers' permission)."""
    answers = response_list(user=user).filter(survey=OuterRef("pk")).order_by().values("survey")
    return (
        Survey.objects.restrict(user, action)
        .annotate(
            response_count=Coalesce(
                Subquery(answers.annotate(n=Count("id")).values("n"), output_field=IntegerField()), 0
            ),
            response_average=Subquery(answers.annotate(a=Avg("score")).values("a")),
        )
        .order_by("kind", "id")
    )


def response_list(
    *, user: Any, survey: Survey | None = None, action: str = Action.VIEW
) -> QuerySet[SurveyResponse]:
    """Answers the user may see: SurveyResponse's permission and the account's scope (an answer
    without an account follows the permission alone)."""
    from kehu.customers.models import Account

    qs = SurveyResponse.objects.restrict(user, action)
    if not can(user, Account, Action.VIEW):
        qs = qs.filter(account__isnull=True)
    else:
        visible = Account.objects.restrict(user, Action.VIEW).values("pk")
        qs = qs.filter(Q(account__isnull=True) | Q(account_id__in=visible))
    if survey is not None:
        qs = qs.filter(survey=survey)
    return qs.select_related("survey", "account", "contact", "ticket", "agent")


def survey_score(
    *, survey: Survey, user: Any = None, responses: QuerySet[SurveyResponse] | None = None
) -> Score:
    """The score of `responses`, else of the survey's answers `user` may see (`response_list`:
    their accounts' answers; none without the answers' permission). Pages and the API pass the
    user; neither (system use: jobs, tests) scores every answer."""
    if responses is None:
        if user is not None:
            responses = response_list(user=user, survey=survey)
        else:
            responses = SurveyResponse.objects.filter(survey=survey)
    return score_of(responses, survey.kind)


def survey_invitation_counts(*, survey: Survey) -> dict[str, int]:
    row = survey.invitations.aggregate(
        total=Count("id"),
        sent=Count("id", filter=Q(sent_at__isnull=False)),
        failed=Count("id", filter=~Q(send_error="")),
        answered=Count("id", filter=Q(answered_at__isnull=False)),
    )
    return {k: v or 0 for k, v in row.items()}


def survey_trend(
    *, survey: Survey, responses: QuerySet[SurveyResponse], months: int = 12
) -> list[dict[str, Any]]:
    """Per month (the last `months` with answers) of `responses` — the reader's answers of the
    survey (`response_list`), never all of them: count, CSAT average or NPS."""
    rows = (
        responses.order_by()
        .annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(**_score_aggregates())
        .order_by("-month")[:months]
    )
    out = []
    for row in reversed(list(rows)):
        month = row["month"]
        label = month.strftime("%Y-%m") if isinstance(month, dt.date | dt.datetime) else str(month)[:7]
        total = row["count"] or 0
        nps = round((row["promoters"] - row["detractors"]) * 100 / total) if total else None
        value = nps if survey.kind == SurveyKind.NPS else round(float(row["average"] or 0), 2)
        out.append({"month": label, "count": total, "value": value})
    return out


def ticket_csat(ticket: Ticket) -> SurveyResponse | None:
    """The CSAT answer of a ticket (one per ticket), or None."""
    return (
        SurveyResponse.objects.filter(ticket_id=ticket.pk, kind=SurveyKind.CSAT)
        .select_related("survey")
        .first()
    )


def account_satisfaction(*, user: Any, account_id: int) -> dict[str, Any] | None:
    """The account 360° "Satisfaction" card: recent answers and the CSAT average and NPS of the
    last year. None when the user may not see answers."""
    if not can(user, SurveyResponse, Action.VIEW):
        return None
    qs = SurveyResponse.objects.restrict(user, Action.VIEW).filter(account_id=account_id)
    row = qs.aggregate(
        csat_count=Count("id", filter=Q(kind=SurveyKind.CSAT)),
        csat_average=Avg("score", filter=Q(kind=SurveyKind.CSAT)),
        nps_count=Count("id", filter=Q(kind=SurveyKind.NPS)),
        promoters=Count("id", filter=Q(kind=SurveyKind.NPS, score__gte=9)),
        detractors=Count("id", filter=Q(kind=SurveyKind.NPS, score__lte=6)),
    )
    nps = None
    if row["nps_count"]:
        nps = round((row["promoters"] - row["detractors"]) * 100 / row["nps_count"])
    recent = list(
        qs.select_related("survey", "ticket", "contact").order_by("-created_at", "-id")[:PANEL_ROWS]
    )
    return {
        "recent": recent,
        "csat_count": row["csat_count"],
        "csat_average": round(float(row["csat_average"]), 2) if row["csat_average"] is not None else None,
        "nps_count": row["nps_count"],
        "nps": nps,
    }


def csat_by(
    *, user: Any, field: str, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """CSAT per agent (``field="agent"``) or per queue (``field="queue"``, the ticket's queue) for
    the dashboards: [{"id", "count", "average", "low"}] — low is the count of ratings ≤ 2 — over
    the answers the user may see, most answers first."""
    key = {"agent": "agent_id", "queue": "ticket__queue_id"}[field]
    qs = response_list(user=user).filter(kind=SurveyKind.CSAT)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if until is not None:
        qs = qs.filter(created_at__lt=until)
    rows = (
        qs.order_by()
        .values(key)
        .annotate(count=Count("id"), average=Avg("score"), low=Count("id", filter=Q(score__lte=2)))
        .order_by("-count", key)
    )
    return [
        {"id": row[key], "count": row["count"], "average": round(float(row["average"]), 2), "low": row["low"]}
        for row in rows
    ]
