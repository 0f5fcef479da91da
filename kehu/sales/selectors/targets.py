"""Targets and their attainment (won amount in the period against the target; measures of higher
apps, such as collected payments from quote-to-cash, are registered with `register_measure`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import F, QuerySet, Sum

from kehu.core.choices import Action
from kehu.users.backends import department_subtree

from ..choices import StageKind, TargetMetric
from ..models import Opportunity, Target
from ..services.targets import period_end_of
from .reports import ReportFilters


@dataclass
class Attainment:
    target: Target
    actual: Decimal | None  # None: no app measures the target's metric (collected payments without commerce)

    @property
    def percent(self) -> float | None:
        if self.actual is None or not self.target.amount:
            return None
        return round(float(self.actual * 100 / self.target.amount), 1)


# metric -> fn(*, user_id, department_id, start, end, currency) -> Decimal. The sales app measures
# the won amount itself; higher apps register theirs (commerce: collected payments).
Measure = Callable[..., Decimal]
_measures: dict[str, Measure] = {}


def register_measure(metric: str, fn: Measure) -> None:
    """Let a higher app measure a target metric (e.g. collected payments, by the commerce app)."""
    _measures[str(metric)] = fn


def visible_targets(user: Any) -> QuerySet[Target]:
    return Target.objects.restrict(user, Action.VIEW).select_related("user", "department", "parent")


def won_amount(
    *, user_id: int | None, department_id: int | None, start: dt.date, end: dt.date, currency: str
) -> Decimal:
    """Won amount closed in [start, end] by one user, or by a department and everything below it
    (all opportunities: a target's attainment is not limited by the viewer's scope, the target is)."""
    filters = ReportFilters(start=start, end=end, currency=currency)
    qs = Opportunity.objects.filter(
        status=StageKind.WON, closed_at__gte=filters.start_at, closed_at__lt=filters.end_at, currency=currency
    )
    if user_id is not None:
        qs = qs.filter(owner_id=user_id)
    elif department_id is not None:
        qs = qs.filter(department_id__in=department_subtree(department_id))
    return qs.aggregate(t=Sum("amount"))["t"] or Decimal("0")


def attainment(*, user: Any, period_kind: str, period_start: dt.date) -> list[Attainment]:
    """The targets of one period the user may see, with what was achieved."""
    end = period_end_of(period_kind, period_start)
    out = []
    for target in (
        visible_targets(user)
        .filter(period_kind=period_kind, period_start=period_start)
        .order_by(F("user").asc(nulls_first=True), "department__path", "user__username")
    ):
        measure = won_amount if target.metric == TargetMetric.WON_AMOUNT else _measures.get(target.metric)
        if measure is None:
            out.append(Attainment(target=target, actual=None))
            continue
        actual = measure(
            user_id=target.user_id,
            department_id=target.department_id if target.user_id is None else None,
            start=period_start,
            end=end,
            currency=target.currency,
        )
        out.append(Attainment(target=target, actual=actual))
    return out
