"""Reads of opportunities: scoped lists, the kanban board (lazy columns), the 360 panel, stage history."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connections
from django.db.models import Count, F, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber
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


@dataclass(frozen=True)
class PipelineConfig:
    """Every pipeline and stage by id (`pipeline_config`)."""

    pipelines: dict[int, Pipeline]
    stages: dict[int, Stage]


def _load_pipeline_config() -> PipelineConfig:
    return PipelineConfig(
        pipelines={p.pk: p for p in Pipeline.objects.all()},
        stages={s.pk: s for s in Stage.objects.all()},
    )


def pipeline_config() -> PipelineConfig:
    """Pipelines and stages by id, kept per process under the configuration token (a save or
    delete of either replaces it: `SalesConfig._connect_cache_invalidation`), so the opportunity
    list shows them without joining two more tables. The instances are shared: read them, never
    change them."""
    from kehu.core import confcache

    return confcache.cached(("sales", "pipeline-config"), _load_pipeline_config)


def pipelines_active() -> list[Pipeline]:
    return list(Pipeline.objects.filter(is_active=True).order_by("order", "id"))


def pipeline_choices() -> QuerySet[Pipeline]:
    """The pipelines a new opportunity may be put on (every active one: pipelines are shared
    configuration, not records with an owner)."""
    return Pipeline.objects.filter(is_active=True)


def stage_choices() -> QuerySet[Stage]:
    """The stages an opportunity may be given or moved to (the services check the stage belongs
    to the opportunity's pipeline)."""
    return Stage.objects.all()


def pipeline_for_board(pipeline_id: Any, *, pipelines: list[Pipeline] | None = None) -> Pipeline | None:
    """The active pipeline `pipeline_id` (None if unknown), or the default one without an id.
    `pipelines`: the active pipelines when the caller has them (the board's picker)."""
    if pipelines is None:
        pipelines = pipelines_active()
    if pipeline_id not in (None, ""):
        try:
            wanted = int(pipeline_id)
        except (TypeError, ValueError):
            return None
        return next((p for p in pipelines if p.pk == wanted), None)
    return next((p for p in pipelines if p.is_default), None) or (pipelines[0] if pipelines else None)


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


_CARD_FIELDS = (
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
_CARD_ORDER = ("position", "-id")


def _cards(queryset: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
    return queryset.select_related("account", "owner").only(*_CARD_FIELDS)


def kanban_cards(
    *, queryset: QuerySet[Opportunity], stage: Stage, offset: int = 0, limit: int = KANBAN_PAGE
) -> tuple[list[Opportunity], bool]:
    """One page of a column's cards (position order), and whether more follow."""
    now = timezone.now()
    rows = list(
        _cards(_column_queryset(queryset, stage, now)).order_by(*_CARD_ORDER)[offset : offset + limit + 1]
    )
    return _decorate(rows[:limit], stage, now), len(rows) > limit


def _board_condition(stages: list[Stage], now: dt.datetime) -> Q:
    """The deals a board shows: every open one of its open stages, the recently closed ones."""
    closed_ids = [s.pk for s in stages if s.kind != StageKind.OPEN]
    cond = Q(stage_id__in=[s.pk for s in stages if s.kind == StageKind.OPEN])
    if closed_ids:
        cond |= Q(stage_id__in=closed_ids, closed_at__gte=now - dt.timedelta(days=KANBAN_CLOSED_DAYS))
    return cond


def _cards_by_id(ids: list[int]) -> list[Opportunity]:
    """The cards of `ids` (already in scope) by primary key, in column order. Two short indexed
    statements rather than one whose plan depends on the table's statistics."""
    if not ids:
        return []
    return list(_cards(Opportunity.objects.filter(pk__in=ids)).order_by("stage_id", *_CARD_ORDER))


def _first_cards_window(
    queryset: QuerySet[Opportunity], stages: list[Stage], now: dt.datetime, limit: int
) -> list[Opportunity]:
    """Portable: ROW_NUMBER() over each stage in card order (on the deal columns only) gives the
    first `limit` ids of each column, then their cards."""
    ranked = queryset.filter(_board_condition(stages, now)).annotate(
        kanban_rank=Window(
            RowNumber(),
            partition_by=[F("stage_id")],
            order_by=[F("position").asc(), F("id").desc()],
        )
    )
    return _cards_by_id(list(ranked.filter(kanban_rank__lte=limit).values_list("pk", flat=True)))


def _first_cards_union(
    queryset: QuerySet[Opportunity], stages: list[Stage], now: dt.datetime, limit: int
) -> list[Opportunity]:
    """Vendors that take LIMIT inside UNION (PostgreSQL): each column's first ids by the kanban
    index (pipeline, stage, position) in one UNION ALL, then their cards."""
    parts = [
        _column_queryset(queryset, stage, now).order_by(*_CARD_ORDER).values("pk")[:limit] for stage in stages
    ]
    ids = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return _cards_by_id([row["pk"] for row in ids])


def kanban_first_cards(
    *,
    queryset: QuerySet[Opportunity],
    stages: list[Stage],
    limit: int = KANBAN_PAGE,
    method: str | None = None,
) -> dict[int, list[Opportunity]]:
    """The first `limit` cards of every column in one query (``limit + 1`` are read to know
    whether more follow). `method`: "window" or "union"; default: union where the database
    takes LIMIT inside UNION, else the window function."""
    if not stages:
        return {}
    now = timezone.now()
    if method is None:
        features = connections[queryset.db].features
        method = "union" if features.supports_slicing_ordering_in_compound else "window"
    read = _first_cards_union if method == "union" else _first_cards_window
    by_stage: dict[int, list[Opportunity]] = {s.pk: [] for s in stages}
    for card in read(queryset, stages, now, limit + 1):
        by_stage[card.stage_id].append(card)
    return by_stage


def kanban_totals(*, queryset: QuerySet[Opportunity], stages: list[Stage]) -> dict[int, KanbanColumn]:
    """Count and amount per stage (per currency) in one grouped query."""
    now = timezone.now()
    columns = {s.pk: KanbanColumn(stage=s) for s in stages}
    rows = (
        queryset.filter(_board_condition(stages, now))
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
    every column (one grouped query), the first `per_column` cards of each (one query, whatever
    the number of deals or stages); the rest loads on scroll."""
    stages = list(pipeline.stages.order_by("order", "id"))
    queryset = queryset.filter(pipeline=pipeline)
    columns = kanban_totals(queryset=queryset, stages=stages)
    filled = [s for s in stages if columns[s.pk].count]
    first = kanban_first_cards(queryset=queryset, stages=filled, limit=per_column)
    now = timezone.now()
    out = []
    for stage in stages:
        column = columns[stage.pk]
        rows = first.get(stage.pk, [])
        column.cards = _decorate(rows[:per_column], stage, now)
        column.has_more = len(rows) > per_column
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
