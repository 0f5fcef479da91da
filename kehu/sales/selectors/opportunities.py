"""Reads of opportunities: scoped lists, the kanban board (lazy columns), the 360 panel, stage history."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext

from kehu.core.choices import Action

from ..choices import StageKind
from ..models import Opportunity, Pipeline, Stage, StageHistory

KANBAN_PAGE = 20
# Won and lost columns show the deals closed in the last N days (older ones are in the list).
KANBAN_CLOSED_DAYS = 90


def opportunity_list(*, user: Any, action: str = Action.VIEW) -> QuerySet[Opportunity]:
    return Opportunity.objects.restrict(user, action)


def pipelines_active() -> list[Pipeline]:
    return list(Pipeline.objects.filter(is_active=True).order_by("order", "id"))


def pipeline_for_board(pipeline_id: Any) -> Pipeline | None:
    qs = Pipeline.objects.filter(is_active=True)
    try:
        if pipeline_id not in (None, ""):
            return qs.filter(pk=int(pipeline_id)).first()
    except (TypeError, ValueError):
        return None
    return qs.filter(is_default=True).first() or qs.order_by("order", "id").first()


@dataclass
class KanbanColumn:
    stage: Stage
    count: int = 0
    totals: dict[str, Decimal] = field(default_factory=dict)  # currency → amount
    cards: list[Opportunity] = field(default_factory=list)
    has_more: bool = False
    next_offset: int = 0

    @property
    def totals_sorted(self) -> list[tuple[str, Decimal]]:
        return sorted(self.totals.items(), key=lambda kv: -kv[1])

    @property
    def totals_text(self) -> str:
        return " · ".join(f"{cur} {amount:,.2f}" for cur, amount in self.totals_sorted)


def _column_queryset(qs: QuerySet[Opportunity], stage: Stage, now: dt.datetime) -> QuerySet[Opportunity]:
    qs = qs.filter(stage=stage)
    if stage.kind != StageKind.OPEN:
        qs = qs.filter(closed_at__gte=now - dt.timedelta(days=KANBAN_CLOSED_DAYS))
    return qs


def days_in_stage_label(days: int) -> str:
    return ngettext("%(days)s day in stage", "%(days)s days in stage", days) % {"days": days}


def _decorate(cards: list[Opportunity], stage: Stage, now: dt.datetime) -> list[Opportunity]:
    """What a card shows, computed here once (a column renders fast: no URL reversing, number
    formatting or plural lookups per card in the template)."""
    prefix = reverse("sales:opportunity_list")
    labels: dict[int, str] = {}
    for card in cards:
        entered = card.stage_entered_at
        days = (now - entered).days if entered else 0
        if days not in labels:
            labels[days] = days_in_stage_label(days)
        card.days_in_stage = days  # type: ignore[attr-defined]
        card.days_label = labels[days]  # type: ignore[attr-defined]
        card.is_stuck = bool(  # type: ignore[attr-defined]
            stage.kind == StageKind.OPEN and stage.stuck_after_days and days > stage.stuck_after_days
        )
        card.url = f"{prefix}{card.pk}/"  # type: ignore[attr-defined]
        card.amount_text = f"{card.currency} {card.amount:,.2f}"  # type: ignore[attr-defined]
    return cards


def kanban_cards(
    *, queryset: QuerySet[Opportunity], stage: Stage, offset: int = 0, limit: int = KANBAN_PAGE
) -> tuple[list[Opportunity], bool]:
    """One page of a column's cards (position order), and whether more follow."""
    now = timezone.now()
    rows = list(
        _column_queryset(queryset, stage, now)
        .select_related("account", "owner")
        .only(
            "pk",
            "name",
            "amount",
            "currency",
            "stage_id",
            "status",
            "version",
            "position",
            "stage_entered_at",
            "expected_close_date",
            "next_step",
            "account__name",
            "owner__username",
            "owner__display_name",
            "owner__first_name",
            "owner__last_name",
        )
        .order_by("position", "-id")[offset : offset + limit + 1]
    )
    return _decorate(rows[:limit], stage, now), len(rows) > limit


def kanban_totals(*, queryset: QuerySet[Opportunity], stages: list[Stage]) -> dict[int, KanbanColumn]:
    """Count and amount per stage (per currency) in one grouped query."""
    now = timezone.now()
    columns = {s.pk: KanbanColumn(stage=s) for s in stages}
    closed_ids = [s.pk for s in stages if s.kind != StageKind.OPEN]
    cond = Q(stage_id__in=[s.pk for s in stages if s.kind == StageKind.OPEN])
    if closed_ids:
        cond |= Q(stage_id__in=closed_ids, closed_at__gte=now - dt.timedelta(days=KANBAN_CLOSED_DAYS))
    rows = (
        queryset.filter(cond)
        .order_by()
        .values("stage_id", "currency")
        .annotate(n=Count("id"), total=Sum("amount"))
    )
    for row in rows:
        column = columns.get(row["stage_id"])
        if column is None:
            continue
        column.count += row["n"]
        column.totals[row["currency"]] = column.totals.get(row["currency"], Decimal(0)) + (row["total"] or 0)
    return columns


def kanban_board(
    *, queryset: QuerySet[Opportunity], pipeline: Pipeline, per_column: int = KANBAN_PAGE
) -> list[KanbanColumn]:
    """The columns of `pipeline` over `queryset` (already restricted and filtered): totals for
    every column, the first `per_column` cards of each; the rest loads on scroll."""
    stages = list(pipeline.stages.order_by("order", "id"))
    queryset = queryset.filter(pipeline=pipeline)
    columns = kanban_totals(queryset=queryset, stages=stages)
    out = []
    for stage in stages:
        column = columns[stage.pk]
        if column.count:
            column.cards, column.has_more = kanban_cards(queryset=queryset, stage=stage, limit=per_column)
            column.next_offset = per_column
        out.append(column)
    return out


# --- detail page and 360 ----------------------------------------------------------------------


def stage_history(*, opportunity: Opportunity) -> list[StageHistory]:
    return list(
        StageHistory.objects.filter(opportunity=opportunity)
        .select_related("from_stage", "to_stage", "by")
        .order_by("entered_at", "id")
    )


def account_open_deals(*, user: Any, account_id: int) -> dict[str, Any]:
    """Open deals of an account the user may see: count and amount per currency (one query)."""
    rows = (
        Opportunity.objects.restrict(user, Action.VIEW)
        .filter(account_id=account_id, status=StageKind.OPEN)
        .order_by()
        .values("currency")
        .annotate(n=Count("id"), total=Sum("amount"))
    )
    count = 0
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        count += row["n"]
        totals[row["currency"]] += row["total"] or 0
    return {"count": count, "totals": sorted(totals.items(), key=lambda kv: -kv[1])}


def account_opportunities(*, user: Any, account_id: int, limit: int = 10) -> list[Opportunity]:
    return list(
        Opportunity.objects.restrict(user, Action.VIEW)
        .filter(account_id=account_id)
        .select_related("stage", "owner")
        .order_by("status", "-id")[:limit]
    )
