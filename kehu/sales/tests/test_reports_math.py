"""Funnel, stage conversion (the seed's definition), performance and forecast against a fixture
computed by hand (numbers in the comments), and the data scope of every figure."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from kehu.core.choices import Action, Scope
from kehu.customers.tests.factories import AccountFactory
from kehu.users.tests.factories import grant

from ..choices import ForecastCategory, StageKind
from ..models import Opportunity, Pipeline, Stage, StageHistory
from ..selectors.reports import (
    ReportFilters,
    forecast,
    funnel,
    performance,
    stage_conversion,
    stage_win_rates,
)

pytestmark = pytest.mark.django_db

START = dt.date(2026, 1, 1)
END = dt.date(2026, 3, 31)


def at(day: int, hour: int = 9) -> dt.datetime:
    """Day `day` of 2026 (1 = 1 January)."""
    return timezone.make_aware(dt.datetime(2026, 1, 1, hour) + dt.timedelta(days=day - 1))


@pytest.fixture
def world(company: Any) -> Any:
    for role, scope in ((company.role_rep, Scope.OWN), (company.role_all, Scope.ALL)):
        grant(role, "sales.opportunity", Action.VIEW, scope=scope)
        grant(role, "sales.lead", Action.VIEW, scope=scope)
    pipeline = Pipeline.objects.create(name="测试流程", name_en="Test")
    stages = {}
    for name, order, kind, probability in (
        ("A", 10, StageKind.OPEN, 10),
        ("B", 20, StageKind.OPEN, 30),
        ("C", 30, StageKind.OPEN, 60),
        ("W", 90, StageKind.WON, 100),
        ("L", 100, StageKind.LOST, 0),
    ):
        stages[name] = Stage.objects.create(
            pipeline=pipeline, name=name, order=order, kind=kind, probability=probability
        )

    def opp(
        owner: Any,
        path: list[str],
        *,
        amount: str,
        created: int,
        category: str = ForecastCategory.PIPELINE,
        expected: dt.date | None = None,
        loss_reason: str = "",
    ) -> Opportunity:
        last = stages[path[-1]]
        moments = [at(created + i, 9 + i) for i in range(len(path))]
        o = Opportunity.objects.create(
            name="-".join(path),
            account=AccountFactory.create(owner=owner),
            owner=owner,
            department_id=owner.department_id,
            pipeline=pipeline,
            stage=last,
            status=last.kind,
            amount=Decimal(amount),
            probability=last.probability,
            forecast_category=category,
            expected_close_date=expected,
            closed_at=moments[-1] if last.kind != StageKind.OPEN else None,
            loss_reason=loss_reason,
        )
        Opportunity.objects.filter(pk=o.pk).update(created_at=moments[0])
        previous = None
        for name, moment in zip(path, moments, strict=True):
            StageHistory.objects.create(
                opportunity=o,
                pipeline=pipeline,
                from_stage=previous,
                to_stage=stages[name],
                entered_at=moment,
                amount=o.amount,
                owner=owner,
                department_id=owner.department_id,
            )
            previous = stages[name]
        return o

    rep1 = company.rep1
    opp(rep1, ["A", "B", "C", "W"], amount="100", created=10)  # o1
    opp(rep1, ["A", "B", "A", "B", "L"], amount="200", created=20, loss_reason="price")  # o2
    opp(rep1, ["A", "L"], amount="300", created=30, loss_reason="competitor")  # o3
    opp(
        rep1,
        ["A", "C", "B"],
        amount="400",
        created=40,
        category=ForecastCategory.COMMIT,
        expected=dt.date(2026, 3, 1),
    )  # o4
    opp(
        rep1,
        ["B", "C"],
        amount="500",
        created=50,
        category=ForecastCategory.BEST_CASE,
        expected=dt.date(2026, 3, 2),
    )  # o5
    opp(company.rep3, ["A", "B"], amount="600", created=60)  # o6: someone else's
    # created before the period: outside the cohort, inside "activity" when it moves in the period
    opp(rep1, ["A"], amount="700", created=-30)  # o7: entered A on 2 December 2025
    company.pipeline = pipeline
    company.stages = stages
    return company


def _filters(world: Any, **kwargs: Any) -> ReportFilters:
    return ReportFilters(start=START, end=END, pipeline=world.pipeline, currency="CNY", **kwargs)


def test_stage_conversion_follows_the_seed_definition(world: Any) -> None:
    rows = {r.stage.name: r for r in stage_conversion(user=world.rep1, filters=_filters(world))}
    assert set(rows) == {"A", "B", "C"}  # open stages only
    # A: o1 o2 o3 o4 entered; o1 (→B), o2 (→B, counted once), o4 (→C) went on; o3 only lost.
    assert (rows["A"].entered, rows["A"].progressed, rows["A"].rate) == (4, 3, 75.0)
    # B: o1 o2 o4 o5 entered; o1 (→C) and o5 (→C); o2 moved back and lost, o4 came back from C.
    assert (rows["B"].entered, rows["B"].progressed, rows["B"].rate) == (4, 2, 50.0)
    # C: o1 o4 o5 entered; only o1 went on (won); o4 went back to B.
    assert (rows["C"].entered, rows["C"].progressed, rows["C"].rate) == (3, 1, 33.3)


def test_conversion_scope_and_activity_mode(world: Any) -> None:
    everyone = {r.stage.name: r for r in stage_conversion(user=world.viewer_all, filters=_filters(world))}
    assert (everyone["A"].entered, everyone["A"].progressed) == (5, 4)  # o6 of rep3 counts
    nobody = stage_conversion(user=world.nobody, filters=_filters(world))
    assert all(r.entered == 0 and r.rate is None for r in nobody)
    # activity mode: entered the stage in the period (o7 entered A in December: out)
    activity = {
        r.stage.name: r for r in stage_conversion(user=world.rep1, filters=_filters(world), mode="activity")
    }
    assert activity["A"].entered == 4
    december = ReportFilters(start=dt.date(2025, 12, 1), end=dt.date(2025, 12, 31), pipeline=world.pipeline)
    assert {
        r.stage.name: r.entered for r in stage_conversion(user=world.rep1, filters=december, mode="activity")
    }["A"] == 1


def test_funnel_counts_and_amounts(world: Any) -> None:
    rows = {r.stage.name: r for r in funnel(user=world.rep1, filters=_filters(world))}
    assert {n: r.entered for n, r in rows.items()} == {"A": 4, "B": 4, "C": 3, "W": 1, "L": 2}
    assert rows["A"].entered_amount == Decimal("1000")  # o1..o4: 100 + 200 + 300 + 400
    assert rows["C"].entered_amount == Decimal("1000")  # o1 + o4 + o5
    # open now: o4 in B, o5 in C, o7 (created before the period) in A
    assert {n: (r.current, r.current_amount) for n, r in rows.items() if r.current} == {
        "A": (1, Decimal("700")),
        "B": (1, Decimal("400")),
        "C": (1, Decimal("500")),
    }


def test_performance_figures(world: Any) -> None:
    p = performance(user=world.rep1, filters=_filters(world))
    assert (p.won, p.lost, p.won_amount) == (1, 2, Decimal("100"))
    assert p.win_rate == 33.3
    assert p.average_deal == Decimal("100.00")
    # o1: created day 10 09:00, won day 13 12:00 → 3.125 days
    assert p.cycle_days == 3.1
    assert p.open_count == 3
    assert p.velocity == (Decimal(3) * Decimal("33.3") / 100 * Decimal("100.00") / Decimal("3.1")).quantize(
        Decimal("0.01")
    )
    assert [(r["loss_reason"], r["n"]) for r in p.loss_reasons] == [("competitor", 1), ("price", 1)]


def test_forecast_and_history_based_rates(world: Any) -> None:
    stages = world.stages
    rates = stage_win_rates(user=world.rep1, filters=_filters(world))
    # closed: o1 won, o2 and o3 lost
    assert rates[stages["A"].pk] == pytest.approx(1 / 3)
    assert rates[stages["B"].pk] == pytest.approx(1 / 2)
    assert rates[stages["C"].pk] == 1.0
    f = forecast(user=world.rep1, filters=_filters(world))
    assert f.closed == Decimal("100")
    assert f.commit == Decimal("500")  # 100 + o4
    assert f.best_case == Decimal("1000")  # + o5
    assert f.pipeline == Decimal("900")  # o4 + o5 expected in the period (o7 has no date)
    assert f.weighted == Decimal("420.00")  # 400 × 30 % + 500 × 60 %
    assert f.historical == Decimal("800.00")  # 100 + 400 × ½ (B) + 500 × 1 (C)


def _history(world: Any, owner: Any, moves: list[tuple[str, int]], *, created: int) -> Opportunity:
    """An opportunity of `owner` that entered the stages `moves` (name, day of 2026) in order."""
    stages = world.stages
    last = stages[moves[-1][0]]
    o = Opportunity.objects.create(
        name="-".join(name for name, _ in moves),
        account=AccountFactory.create(owner=owner),
        owner=owner,
        department_id=owner.department_id,
        pipeline=world.pipeline,
        stage=last,
        status=last.kind,
        amount=Decimal("50"),
        closed_at=at(moves[-1][1]) if last.kind != StageKind.OPEN else None,
    )
    Opportunity.objects.filter(pk=o.pk).update(created_at=at(created))
    previous = None
    for name, day in moves:
        StageHistory.objects.create(
            opportunity=o,
            pipeline=world.pipeline,
            from_stage=previous,
            to_stage=stages[name],
            entered_at=at(day),
            owner=owner,
            department_id=owner.department_id,
        )
        previous = stages[name]
    return o


def test_activity_mode_counts_progress_after_the_entry_in_the_period(world: Any) -> None:
    def activity() -> dict[str, tuple[int, int]]:
        rows = stage_conversion(user=world.rep1, filters=_filters(world), mode="activity")
        return {r.stage.name: (r.entered, r.progressed) for r in rows}

    before = activity()
    # went A → B in December, back to A in January (in the period), then lost: it entered A in
    # the period and did not go on from there (the move to B was before that entry)
    _history(world, world.rep1, [("A", -40), ("B", -20), ("A", 5), ("L", 6)], created=-40)
    after = activity()
    assert after["A"] == (before["A"][0] + 1, before["A"][1])
    assert after["B"] == before["B"]  # entered B before the period only
    # entered B in the period, won after the period: progress counts whenever it happened
    _history(world, world.rep1, [("A", -10), ("B", 80), ("W", 100)], created=-10)
    final = activity()
    assert final["B"] == (after["B"][0] + 1, after["B"][1] + 1)
    assert final["A"] == after["A"]  # its A entry was before the period


def test_funnel_counts_an_opportunity_once_per_stage_and_reads_other_currencies_apart(world: Any) -> None:
    before = {
        r.stage.name: (r.entered, r.entered_amount) for r in funnel(user=world.rep1, filters=_filters(world))
    }
    # A, B, A, B, C: A and B twice, counted once with the amount once
    _history(world, world.rep1, [("A", 70), ("B", 71), ("A", 72), ("B", 73), ("C", 74)], created=70)
    usd = _history(world, world.rep1, [("A", 75)], created=75)
    Opportunity.objects.filter(pk=usd.pk).update(currency="USD")
    after = {
        r.stage.name: (r.entered, r.entered_amount) for r in funnel(user=world.rep1, filters=_filters(world))
    }
    for name in ("A", "B", "C"):
        assert after[name] == (before[name][0] + 1, before[name][1] + Decimal("50"))
    assert after["W"] == before["W"] and after["L"] == before["L"]
    rows = {r.stage.name: r for r in stage_conversion(user=world.rep1, filters=_filters(world))}
    # cohort conversion has no currency filter: the USD one entered A and stayed
    assert (rows["A"].entered, rows["A"].progressed) == (6, 4)
    assert (rows["B"].entered, rows["B"].progressed) == (5, 3)


def test_history_based_rates_without_a_pipeline_filter(world: Any) -> None:
    filters = ReportFilters(start=START, end=END, currency="CNY")
    rates = stage_win_rates(user=world.rep1, filters=filters)
    stages = world.stages
    assert rates[stages["A"].pk] == pytest.approx(1 / 3)
    assert rates[stages["W"].pk] == 1.0
    assert rates[stages["L"].pk] == 0.0
