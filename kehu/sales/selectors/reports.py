"""Sales reports: funnel, stage conversion (the seed's definition), lead conversion, win rate,
deal size, sales cycle, velocity, loss reasons, forecast and target attainment.

Every figure starts from ``Opportunity.objects.restrict(user, "view")`` (a rep sees their own
numbers, a manager their department subtree) and reads `StageHistory` for stage movements, never
the audit log. Amounts are summed in one currency (`ReportFilters.currency`, the company currency
by default): exchange rates arrive with the quote-to-cash module.

**Conversion rate** (转化率 = 出口阶段的商机个数 / 入口阶段的商机个数 × 100 %): for each open stage S
of the pipeline, of the opportunities that entered S (counted once however often they moved back
and forth), the share that later entered a later open stage or a won stage. A lost stage is not
progress. Cohort mode takes the opportunities created in the period; activity mode those that
entered S in the period.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Avg,
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.utils import timezone

from kehu.catalog.selectors import company_currency_code
from kehu.core.choices import Action
from kehu.users.backends import department_subtree

from ..choices import ForecastCategory, LeadStatus, StageKind
from ..models import Lead, Opportunity, Pipeline, Stage, StageHistory

ZERO = Decimal("0")


@dataclass(frozen=True)
class ReportFilters:
    """The period is [start, end] in local dates, both included."""

    start: dt.date
    end: dt.date
    pipeline: Pipeline | None = None
    owner_id: int | None = None
    department_id: int | None = None  # the department and everything below it
    source: str = ""
    currency: str = field(default_factory=company_currency_code)

    @property
    def start_at(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.start, dt.time.min))

    @property
    def end_at(self) -> dt.datetime:
        """Exclusive upper bound: midnight after `end`."""
        return timezone.make_aware(dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min))


def scoped_opportunities(user: Any, filters: ReportFilters) -> QuerySet[Opportunity]:
    qs = Opportunity.objects.restrict(user, Action.VIEW)
    if filters.pipeline is not None:
        qs = qs.filter(pipeline=filters.pipeline)
    if filters.owner_id:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.department_id:
        qs = qs.filter(department_id__in=department_subtree(filters.department_id))
    if filters.source:
        qs = qs.filter(source=filters.source)
    return qs


def _stages(pipeline: Pipeline) -> list[Stage]:
    return list(pipeline.stages.order_by("order", "id"))


# --- funnel -------------------------------------------------------------------------------------


@dataclass
class FunnelRow:
    stage: Stage
    entered: int = 0  # opportunities (of the cohort) that ever entered the stage
    entered_amount: Decimal = ZERO
    current: int = 0  # open opportunities in the stage now
    current_amount: Decimal = ZERO


def funnel(*, user: Any, filters: ReportFilters) -> list[FunnelRow]:
    """Count and amount per stage of a pipeline: the opportunities created in the period that
    entered each stage, and the open ones in each stage now (all creation dates).

    Two queries whatever the size: the cohort's history grouped per opportunity (one flag per
    stage), summed per stage; and the open opportunities grouped by stage."""
    pipeline = filters.pipeline or Pipeline.objects.get(is_default=True)
    filters = ReportFilters(**{**filters.__dict__, "pipeline": pipeline})
    stages = _stages(pipeline)
    rows = {s.pk: FunnelRow(stage=s) for s in stages}
    opps = scoped_opportunities(user, filters).filter(currency=filters.currency)
    cohort = opps.filter(created_at__gte=filters.start_at, created_at__lt=filters.end_at)
    if stages:
        per_opportunity = (
            cohort.values("pk", "amount")
            .annotate(
                **{
                    f"s{s.pk}": Max(
                        Case(When(stage_history__to_stage_id=s.pk, then=Value(1)), default=Value(0))
                    )
                    for s in stages
                }
            )
            .order_by()
        )
        totals = per_opportunity.aggregate(
            **{f"n{s.pk}": Sum(f"s{s.pk}") for s in stages},
            **{f"t{s.pk}": Sum("amount", filter=Q(**{f"s{s.pk}": 1})) for s in stages},
        )
        for s in stages:
            rows[s.pk].entered = totals[f"n{s.pk}"] or 0
            rows[s.pk].entered_amount = totals[f"t{s.pk}"] or ZERO
    for item in (
        opps.filter(status=StageKind.OPEN)
        .values("stage_id")
        .annotate(n=Count("pk"), total=Sum("amount"))
        .order_by()
    ):
        target = rows.get(item["stage_id"])
        if target is not None:
            target.current = item["n"]
            target.current_amount = item["total"] or ZERO
    return [rows[s.pk] for s in stages]


# --- stage conversion ---------------------------------------------------------------------------


@dataclass
class ConversionRow:
    stage: Stage
    entered: int
    progressed: int

    @property
    def rate(self) -> float | None:
        return round(self.progressed * 100 / self.entered, 1) if self.entered else None


def _later_stages(stages: list[Stage], stage: Stage) -> list[int]:
    """The stages that count as progress from `stage`: later open stages and won stages."""
    return [
        s.pk
        for s in stages
        if s.kind == StageKind.WON or (s.kind == StageKind.OPEN and (s.order, s.pk) > (stage.order, stage.pk))
    ]


def stage_conversion(*, user: Any, filters: ReportFilters, mode: str = "cohort") -> list[ConversionRow]:
    """Per open stage: entered, progressed (later entered a later open stage or a won stage), rate.

    One query: the history grouped per opportunity gives, for each open stage S, the first time
    it entered S (in the period, in activity mode) and the last time it entered a stage past S; it
    progressed from S when the latter is after the former. Summed per stage over the opportunities."""
    pipeline = filters.pipeline or Pipeline.objects.get(is_default=True)
    filters = ReportFilters(**{**filters.__dict__, "pipeline": pipeline})
    stages = _stages(pipeline)
    open_stages = [s for s in stages if s.kind == StageKind.OPEN]
    if not open_stages:
        return []
    opps = scoped_opportunities(user, filters)
    # no pipeline filter: the opportunities are the pipeline's, and only its stages are counted
    # (so the report reads the (opportunity, entered_at, to_stage) index alone)
    entries = StageHistory.objects.all()
    entered_in_period = Q()
    if mode == "cohort":
        opps = opps.filter(created_at__gte=filters.start_at, created_at__lt=filters.end_at)
    else:
        # an entry before the period neither counts nor can follow an entry in the period
        entries = entries.filter(entered_at__gte=filters.start_at)
        entered_in_period = Q(entered_at__lt=filters.end_at)
    per_opportunity = (
        entries.filter(opportunity__in=opps.values("pk"))
        .values("opportunity_id")
        .annotate(
            **{
                f"f{s.pk}": Min("entered_at", filter=Q(to_stage_id=s.pk) & entered_in_period)
                for s in open_stages
            },
            **{
                f"l{s.pk}": Max("entered_at", filter=Q(to_stage_id__in=_later_stages(stages, s)))
                for s in open_stages
            },
        )
        .order_by()
    )
    counts = per_opportunity.aggregate(
        **{f"e{s.pk}": Count(f"f{s.pk}") for s in open_stages},
        **{f"p{s.pk}": Count(f"f{s.pk}", filter=Q(**{f"l{s.pk}__gt": F(f"f{s.pk}")})) for s in open_stages},
    )
    return [
        ConversionRow(stage=s, entered=counts[f"e{s.pk}"] or 0, progressed=counts[f"p{s.pk}"] or 0)
        for s in open_stages
    ]


# --- performance ---------------------------------------------------------------------------------


@dataclass
class Performance:
    won: int
    lost: int
    won_amount: Decimal
    win_rate: float | None  # won / (won + lost) closed in the period, %
    average_deal: Decimal | None  # average won amount
    cycle_days: float | None  # average days from creation to won
    open_count: int
    velocity: Decimal | None  # open × win rate × average deal / cycle days: amount per day
    loss_reasons: list[dict[str, Any]]
    leads_created: int
    leads_converted: int
    leads_to_opportunity: int
    leads_to_won: int

    @property
    def lead_conversion(self) -> float | None:
        return round(self.leads_converted * 100 / self.leads_created, 1) if self.leads_created else None

    @property
    def lead_to_won(self) -> float | None:
        return round(self.leads_to_won * 100 / self.leads_created, 1) if self.leads_created else None


def performance(*, user: Any, filters: ReportFilters) -> Performance:
    opps = scoped_opportunities(user, filters).filter(currency=filters.currency)
    closed_in_period = Q(closed_at__gte=filters.start_at, closed_at__lt=filters.end_at)
    is_won = closed_in_period & Q(status=StageKind.WON)
    is_lost = closed_in_period & Q(status=StageKind.LOST)
    is_open = Q(status=StageKind.OPEN)
    # one pass over the opportunities closed in the period or open now
    stats = opps.filter(closed_in_period | is_open).aggregate(
        won=Count("pk", filter=is_won),
        total=Sum("amount", filter=is_won),
        avg=Avg("amount", filter=is_won),
        cycle=Avg(
            ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField()),
            filter=is_won,
        ),
        lost=Count("pk", filter=is_lost),
        open=Count("pk", filter=is_open),
    )
    n_won, n_lost = stats["won"], stats["lost"]
    win_rate = round(n_won * 100 / (n_won + n_lost), 1) if n_won + n_lost else None
    average = Decimal(stats["avg"]).quantize(Decimal("0.01")) if stats["avg"] is not None else None
    cycle = stats["cycle"]
    cycle_days = round(cycle.total_seconds() / 86400, 1) if cycle is not None else None
    open_count = stats["open"]
    velocity = None
    if win_rate is not None and average is not None and cycle_days:
        velocity = (
            Decimal(open_count) * Decimal(str(win_rate)) / 100 * average / Decimal(str(cycle_days))
        ).quantize(Decimal("0.01"))
    reasons = list(
        opps.filter(is_lost)
        .values("loss_reason")
        .annotate(n=Count("pk"), total=Sum("amount"))
        .order_by("-n", "loss_reason")
    )
    leads = Lead.objects.restrict(user, Action.VIEW).filter(
        created_at__gte=filters.start_at, created_at__lt=filters.end_at
    )
    if filters.owner_id:
        leads = leads.filter(owner_id=filters.owner_id)
    if filters.department_id:
        leads = leads.filter(department_id__in=department_subtree(filters.department_id))
    if filters.source:
        leads = leads.filter(source=filters.source)
    lead_stats = leads.aggregate(
        n=Count("pk"),
        converted=Count("pk", filter=Q(status=LeadStatus.CONVERTED)),
        to_opp=Count("pk", filter=Q(converted_opportunity__isnull=False)),
        # an index look-up per converted lead, not a join with every opportunity
        to_won=Count(
            "pk",
            filter=Q(converted_opportunity__isnull=False)
            & Q(
                Exists(
                    Opportunity.objects.filter(pk=OuterRef("converted_opportunity_id"), status=StageKind.WON)
                )
            ),
        ),
    )
    return Performance(
        won=n_won,
        lost=n_lost,
        won_amount=(stats["total"] or ZERO).quantize(Decimal("0.01")),
        win_rate=win_rate,
        average_deal=average,
        cycle_days=cycle_days,
        open_count=open_count,
        velocity=velocity,
        loss_reasons=reasons,
        leads_created=lead_stats["n"],
        leads_converted=lead_stats["converted"],
        leads_to_opportunity=lead_stats["to_opp"],
        leads_to_won=lead_stats["to_won"],
    )


# --- forecast ------------------------------------------------------------------------------------


@dataclass
class Forecast:
    closed: Decimal  # won in the period
    commit: Decimal  # closed + open "commit" expected in the period
    best_case: Decimal  # commit + open "best case"
    pipeline: Decimal  # every open amount expected in the period
    weighted: Decimal  # Σ amount × probability of the open ones
    historical: Decimal  # closed + Σ amount × the stage's historical win rate
    stage_win_rates: dict[int, float]


def stage_win_rates(*, user: Any, filters: ReportFilters) -> dict[int, float]:
    """For each stage: of the closed opportunities that entered it, the share that was won
    (history-based probability; all time, within the user's scope)."""
    closed = scoped_opportunities(user, filters).exclude(status=StageKind.OPEN)
    stages = Stage.objects.all()
    if filters.pipeline is not None:
        stages = stages.filter(pipeline=filters.pipeline)
    stage_ids = list(stages.values_list("pk", flat=True))
    if not stage_ids:
        return {}
    # one flag per stage and closed opportunity (its history read once), summed per stage
    per_opportunity = (
        closed.values("pk", "status")
        .annotate(
            **{
                f"s{pk}": Max(Case(When(stage_history__to_stage_id=pk, then=Value(1)), default=Value(0)))
                for pk in stage_ids
            }
        )
        .order_by()
    )
    totals = per_opportunity.aggregate(
        **{f"n{pk}": Sum(f"s{pk}") for pk in stage_ids},
        **{f"w{pk}": Sum(f"s{pk}", filter=Q(status=StageKind.WON)) for pk in stage_ids},
    )
    return {pk: (totals[f"w{pk}"] or 0) / totals[f"n{pk}"] for pk in stage_ids if totals[f"n{pk}"]}


def forecast(*, user: Any, filters: ReportFilters) -> Forecast:
    opps = scoped_opportunities(user, filters).filter(currency=filters.currency)
    closed = (
        opps.filter(
            status=StageKind.WON, closed_at__gte=filters.start_at, closed_at__lt=filters.end_at
        ).aggregate(t=Sum("amount"))["t"]
        or ZERO
    )
    expected = opps.filter(
        status=StageKind.OPEN, expected_close_date__gte=filters.start, expected_close_date__lte=filters.end
    )
    by_category: dict[str, Decimal] = defaultdict(lambda: ZERO)
    weighted = ZERO
    historical_open = ZERO
    rates = stage_win_rates(user=user, filters=filters)
    for category, amount, probability, stage_id in expected.values_list(
        "forecast_category", "amount", "probability", "stage_id"
    ):
        by_category[category] += amount
        weighted += amount * probability / 100
        historical_open += amount * Decimal(str(rates.get(stage_id, 0.0)))
    pipeline_total = sum(by_category.values(), ZERO)
    commit = closed + by_category[ForecastCategory.COMMIT]
    best = commit + by_category[ForecastCategory.BEST_CASE]
    cents = Decimal("0.01")
    return Forecast(
        closed=closed.quantize(cents),
        commit=commit.quantize(cents),
        best_case=best.quantize(cents),
        pipeline=pipeline_total.quantize(cents),
        weighted=weighted.quantize(cents),
        historical=(closed + historical_open).quantize(cents),
        stage_win_rates=rates,
    )


def _period_targets(filters: ReportFilters, owner_ids: list[int]) -> dict[int, Decimal]:
    """Each user's won-amount target for the report period: the target of the month, quarter or
    year the period is exactly; otherwise the sum of the monthly targets inside the period."""
    from ..choices import PeriodKind, TargetMetric
    from ..models import Target
    from ..services.targets import period_end_of, period_start_of

    exact = None
    for kind in (PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.YEAR):
        if (
            period_start_of(kind, filters.start) == filters.start
            and period_end_of(kind, filters.start) == filters.end
        ):
            exact = kind
    base = Target.objects.filter(
        user_id__in=owner_ids, metric=TargetMetric.WON_AMOUNT, currency=filters.currency
    )
    out: dict[int, Decimal] = {}
    if exact is not None:
        exact_targets = base.filter(period_kind=exact, period_start=filters.start)
        for user_id, amount in exact_targets.values_list("user_id", "amount"):
            out[user_id] = amount
    # users without a target of exactly the period: the sum of their monthly targets inside it
    monthly = base.filter(
        period_kind=PeriodKind.MONTH, period_start__gte=filters.start, period_start__lte=filters.end
    ).exclude(user_id__in=list(out))
    for user_id, amount in monthly.values_list("user_id", "amount"):
        out[user_id] = out.get(user_id, ZERO) + amount
    return out


def forecast_by_owner(*, user: Any, filters: ReportFilters) -> list[dict[str, Any]]:
    """The forecast per owner (within the viewer's scope), with each owner's target for the period."""
    from django.contrib.auth import get_user_model

    opps = scoped_opportunities(user, filters).filter(currency=filters.currency)
    rows: dict[int, dict[str, Any]] = {}

    def row(owner_id: int) -> dict[str, Any]:
        return rows.setdefault(
            owner_id,
            {
                "owner_id": owner_id,
                "closed": ZERO,
                "commit": ZERO,
                "best_case": ZERO,
                "pipeline": ZERO,
                "weighted": ZERO,
            },
        )

    won = (
        opps.filter(status=StageKind.WON, closed_at__gte=filters.start_at, closed_at__lt=filters.end_at)
        .exclude(owner_id=None)
        .values("owner_id")
        .annotate(t=Sum("amount"))
    )
    for item in won:
        row(item["owner_id"])["closed"] = item["t"] or ZERO
    expected = opps.filter(
        status=StageKind.OPEN, expected_close_date__gte=filters.start, expected_close_date__lte=filters.end
    ).exclude(owner_id=None)
    for owner_id, category, amount, probability in expected.values_list(
        "owner_id", "forecast_category", "amount", "probability"
    ):
        r = row(owner_id)
        r["pipeline"] += amount
        r["weighted"] += amount * probability / 100
        if category == ForecastCategory.COMMIT:
            r["commit"] += amount
        elif category == ForecastCategory.BEST_CASE:
            r["best_case"] += amount
    targets = _period_targets(filters, list(rows))
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=list(rows))}
    out = []
    for owner_id, r in rows.items():
        r["commit"] += r["closed"]
        r["best_case"] += r["commit"]
        for key in ("closed", "commit", "best_case", "pipeline", "weighted"):
            r[key] = r[key].quantize(Decimal("0.01"))
        r["owner"] = users.get(owner_id)
        r["target"] = targets.get(owner_id)
        r["attainment"] = round(float(r["closed"] * 100 / r["target"]), 1) if r.get("target") else None
        out.append(r)
    return sorted(out, key=lambda r: (-r["closed"], str(r["owner"])))
