"""Funnel and conversion reports (漏斗与转化) over more than 1,000,000 stage history rows: the
selectors the funnel page calls (funnel, stage conversion in cohort and activity mode) and the
performance figures (win rate, deal size, cycle, velocity, loss reasons, lead conversion), for a
one-year period, as the administrator (everything), the sales director (销售部 and the departments
below: a department subtree) and a region manager (their department),
beside the bare database counting distinct opportunities per stage over the same rows.

The data is generated here, once per dataset, in a pipeline of its own ("bench 1M history"):
250,000 opportunities with realistic stage paths (forward mostly, sometimes back, lost at any
open stage, won after the last one) and 100,000 leads, a quarter converted. Written with COPY
(`bench.datagen.insert_rows`) in one transaction."""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from bench.harness import Comparison, Context, Target, benchmark, measure

PIPELINE = "bench 1M history"
OPPORTUNITIES = 250_000
LEADS = 100_000
MIN_HISTORY = 1_000_000
PERIOD = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
CHUNK = 25_000
STAGES = [  # name, kind, probability
    ("初步接洽", "open", 10),
    ("需求确认", "open", 25),
    ("方案报价", "open", 50),
    ("商务谈判", "open", 70),
    ("合同审批", "open", 90),
    ("赢单", "won", 100),
    ("输单", "lost", 0),
]
SOURCES = ["website", "search", "referral", "inbound_call", "cold_call", "exhibition", "wechat"]
LOSS_REASONS = ["price", "competitor", "no_budget", "no_decision", "timing", "product_fit"]


def _path(rng: random.Random, n_open: int) -> list[int]:
    """Stage indexes an opportunity went through: mostly forward, sometimes back one stage or
    skipping one, lost at any open stage, won after the last; some still open."""
    i = 0 if rng.random() < 0.9 else 1
    path = [i]
    while True:
        r = rng.random()
        if r < 0.06:  # still open here
            return path
        if r < 0.20:  # lost
            return [*path, n_open + 1]
        if r < 0.32 and i > 0:  # back one stage
            i -= 1
        elif r < 0.38 and i < n_open - 2:  # skips a stage
            i += 2
        else:
            i += 1
        if i >= n_open:  # won after the last open stage
            return [*path, n_open]
        path.append(i)


def bench_pipeline(org: Any, seed: int, log: Callable[[str], None] = print) -> Any:
    """The pipeline with 250,000 opportunities and ≥ 1,000,000 history rows (made once)."""
    from django.db import transaction

    from bench.datagen import analyze, insert_rows, reset_sequences, skip_fk_triggers, spread_datetime
    from kehu.customers.models import Account
    from kehu.sales.models import Lead, Opportunity, Pipeline, Stage, StageHistory

    pipeline = Pipeline.objects.filter(name=PIPELINE).first()
    if pipeline is not None:
        return pipeline
    t0 = time.perf_counter()
    rng = random.Random(seed + 77)
    owners = [(u.pk, u.department_id) for u in org.reps] + [(u.pk, u.department_id) for u in org.managers]
    accounts = list(Account.objects.order_by("pk").values_list("pk", flat=True)[:20_000])
    with transaction.atomic():
        skip_fk_triggers()
        pipeline = Pipeline.objects.create(name=PIPELINE, name_en=PIPELINE, order=98)
        stages = [
            Stage.objects.create(pipeline=pipeline, name=name, order=(i + 1) * 10, kind=kind, probability=p)
            for i, (name, kind, p) in enumerate(STAGES)
        ]
        n_open = sum(1 for s in stages if s.kind == "open")
        next_opp = (Opportunity.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        opp_ids: list[tuple[int, dt.datetime, int, int]] = []
        history = 0
        done = 0
        while done < OPPORTUNITIES:
            batch_o: list[dict[str, Any]] = []
            batch_h: list[dict[str, Any]] = []
            for _ in range(min(CHUNK, OPPORTUNITIES - done)):
                pk = next_opp + done
                done += 1
                owner_id, dept_id = rng.choice(owners)
                created = spread_datetime(rng, years=3.0)
                path = _path(rng, n_open)
                moments = [created]
                for _step in path[1:]:
                    moments.append(moments[-1] + dt.timedelta(hours=rng.randint(12, 24 * 40)))
                amount = Decimal(rng.randrange(1, 2000) * 500)
                last = stages[path[-1]]
                closed = moments[-1] if last.kind != "open" else None
                batch_o.append(
                    {
                        "id": pk,
                        "name": f"漏斗商机{pk:07d}",
                        "account_id": accounts[pk % len(accounts)],
                        "amount": amount,
                        "currency": "CNY" if rng.random() < 0.95 else "USD",
                        "pipeline_id": pipeline.pk,
                        "stage_id": last.pk,
                        "status": last.kind,
                        "probability": last.probability,
                        "forecast_category": "closed" if last.kind == "won" else "pipeline",
                        "source": rng.choice(SOURCES),
                        "loss_reason": rng.choice(LOSS_REASONS) if last.kind == "lost" else "",
                        "expected_close_date": (moments[-1] + dt.timedelta(days=30)).date(),
                        "stage_entered_at": moments[-1],
                        "closed_at": closed,
                        "position": float(pk),
                        "custom": {},
                        "owner_id": owner_id,
                        "department_id": dept_id,
                        "created_by_id": owner_id,
                        "created_at": created,
                        "updated_at": moments[-1],
                        "version": 1,
                    }
                )
                opp_ids.append((pk, created, owner_id, dept_id))
                previous = None
                for k, (index, moment) in enumerate(zip(path, moments, strict=True)):
                    stage = stages[index]
                    batch_h.append(
                        {
                            "opportunity_id": pk,
                            "pipeline_id": pipeline.pk,
                            "from_stage_id": previous,
                            "to_stage_id": stage.pk,
                            "entered_at": moment,
                            "left_at": moments[k + 1] if k + 1 < len(moments) else None,
                            "by_id": owner_id,
                            "amount": amount,
                            "currency": "CNY",
                            "probability": stage.probability,
                            "owner_id": owner_id,
                            "department_id": dept_id,
                        }
                    )
                    previous = stage.pk
            insert_rows(Opportunity, batch_o)
            insert_rows(StageHistory, batch_h)
            history += len(batch_h)
        log(f"  funnel: {OPPORTUNITIES:,} opportunities, {history:,} stage history rows")
        assert history >= MIN_HISTORY, history
        # leads: a quarter converted, to one of the opportunities created a little later
        next_lead = (Lead.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        leads: list[dict[str, Any]] = []
        for n in range(LEADS):
            opp_id, created, owner_id, dept_id = opp_ids[rng.randrange(len(opp_ids))]
            converted = rng.random() < 0.25
            lead_created = created - dt.timedelta(days=rng.randint(1, 30))
            leads.append(
                {
                    "id": next_lead + n,
                    "name": f"漏斗线索{n:06d}",
                    "source": rng.choice(SOURCES),
                    "status": "converted" if converted else rng.choice(["new", "contacting", "unqualified"]),
                    "converted_at": created if converted else None,
                    "converted_opportunity_id": opp_id if converted else None,
                    "custom": {},
                    "owner_id": owner_id,
                    "department_id": dept_id,
                    "created_by_id": owner_id,
                    "created_at": lead_created,
                    "updated_at": lead_created,
                    "version": 1,
                }
            )
        insert_rows(Lead, leads)
        reset_sequences(Opportunity, Lead)
    analyze()
    log(f"  funnel data generated in {time.perf_counter() - t0:.1f} s")
    return pipeline


def _bare(pipeline_id: int) -> Callable[[int], int]:
    """The database alone: distinct opportunities per stage over the pipeline's history rows."""
    from django.db import connection

    from kehu.sales.models import StageHistory

    table = connection.ops.quote_name(StageHistory._meta.db_table)
    sql = (
        f"SELECT to_stage_id, COUNT(DISTINCT opportunity_id) FROM {table} "
        "WHERE pipeline_id = %s GROUP BY to_stage_id"
    )

    def run(_: int) -> int:
        with connection.cursor() as cur:
            cur.execute(sql, [pipeline_id])
            return len(cur.fetchall())

    return run


def _db_time(fn: Callable[[], Any]) -> tuple[int, float | None]:
    """Queries one call makes, and (PostgreSQL) the sum of their EXPLAIN ANALYZE execution times
    in ms: the database's own share, which the machine's load inflates less than wall time."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()
    if connection.vendor != "postgresql":
        return len(captured.captured_queries), None
    total = 0.0
    with connection.cursor() as cur:
        for q in captured.captured_queries:
            sql = q["sql"]
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cur.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
            plan = cur.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            total += plan[0]["Execution Time"]
    return len(captured.captured_queries), total


def _paths(user: Any, filters: Any, page_target: Target) -> list[tuple[str, Callable[[], Any], list[Target]]]:
    """The measured calls: what the funnel page calls, then each selector alone."""
    from kehu.sales.selectors.reports import funnel, performance, stage_conversion

    def page() -> Any:
        return funnel(user=user, filters=filters), stage_conversion(user=user, filters=filters)

    def funnel_only() -> Any:
        return funnel(user=user, filters=filters)

    def cohort() -> Any:
        return stage_conversion(user=user, filters=filters)

    def activity() -> Any:
        return stage_conversion(user=user, filters=filters, mode="activity")

    def figures() -> Any:
        return performance(user=user, filters=filters)

    return [
        ("page: funnel + conversion", page, [page_target]),
        ("funnel()", funnel_only, []),
        ("conversion (cohort)", cohort, []),
        ("conversion (activity)", activity, []),
        ("performance()", figures, []),
    ]


def _timed(fn: Callable[[], Any]) -> Callable[[int], Any]:
    return lambda _: fn()


@benchmark(
    "funnel.reports",
    "funnel and conversion reports over ≥ 1,000,000 stage history rows (one-year period)",
    requires=("sales.StageHistory",),
)
def reports(ctx: Context) -> Iterable[Comparison]:
    from kehu.sales.selectors.reports import ReportFilters

    org = ctx.extra["org"]
    pipeline = bench_pipeline(org, ctx.seed)
    filters = ReportFilters(start=PERIOD[0], end=PERIOD[1], pipeline=pipeline, currency="CNY")
    reference = measure(
        "bare SQL: count(distinct) per stage",
        _bare(pipeline.pk),
        repeat=ctx.repeat,
        warmup=ctx.warmup,
    )
    page_target = Target("funnel page ≤ 1 s (PostgreSQL)", lambda c: c.subject.p50 <= 1.0)

    for who in ("admin", "director", "manager"):
        user = ctx.users[who]
        paths = _paths(user, filters, page_target)
        for label, fn, targets in paths:
            queries, db_ms = _db_time(fn)
            cpu0 = time.process_time()
            stats = measure(label, _timed(fn), repeat=ctx.repeat, warmup=ctx.warmup)
            cpu_ms = (time.process_time() - cpu0) * 1000 / max(1, ctx.repeat + ctx.warmup)
            db_txt = "" if db_ms is None else f", EXPLAIN ANALYZE Σ {db_ms:.0f} ms"
            yield Comparison(
                f"{who}: {label} ({queries} queries)",
                stats,
                [reference],
                note=f"Python CPU {cpu_ms:.0f} ms per call{db_txt}",
                targets=targets if ctx.vendor == "postgresql" else [],
            )
