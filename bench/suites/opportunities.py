"""The opportunity kanban (商机看板) of a pipeline with 10,000 open opportunities: the first render
(totals of every column, the first cards of each) and a column's next page (loaded on scroll),
beside the bare database doing the same grouped count and first page.

The opportunities are generated here, once per dataset, in a pipeline of their own ("bench 10k"),
spread over its open stages and the dataset's first accounts."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from bench.harness import Comparison, Context, Target, benchmark, measure

PIPELINE = "bench 10k"
OPEN = 10_000


def _client(user: Any) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def _get(client: Any, url: str) -> Any:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}; the benchmark needs 200")
    return response


def bench_pipeline(owner: Any, seed: int) -> Any:
    """The pipeline with 10,000 open opportunities (made once per dataset)."""
    from django.utils import timezone

    from kehu.audit import registry
    from kehu.customers.models import Account
    from kehu.sales.models import Opportunity, Pipeline, Stage, StageHistory

    pipeline = Pipeline.objects.filter(name=PIPELINE).first()
    if pipeline is not None and Opportunity.objects.filter(pipeline=pipeline).count() >= OPEN:
        _analyze(Opportunity)
        return pipeline
    rng = random.Random(seed)
    with registry.paused():
        if pipeline is None:
            pipeline = Pipeline.objects.create(name=PIPELINE, name_en=PIPELINE, order=99)
            for order, (name, kind, p) in enumerate(
                [
                    ("线索确认", "open", 10),
                    ("需求分析", "open", 30),
                    ("方案报价", "open", 50),
                    ("商务谈判", "open", 70),
                    ("赢单", "won", 100),
                    ("输单", "lost", 0),
                ]
            ):
                Stage.objects.create(pipeline=pipeline, name=name, order=order * 10, kind=kind, probability=p)
        stages = list(pipeline.stages.filter(kind="open").order_by("order"))
        accounts = list(Account.objects.order_by("pk").values_list("pk", flat=True)[:2000])
        now = timezone.now()
        rows = []
        for i in range(OPEN):
            stage = stages[i % len(stages)]
            rows.append(
                Opportunity(
                    name=f"看板商机{i:05d}",
                    account_id=accounts[i % len(accounts)],
                    amount=Decimal(rng.randrange(1, 500) * 1000),
                    currency="CNY" if i % 10 else "USD",
                    pipeline=pipeline,
                    stage=stage,
                    status="open",
                    probability=stage.probability,
                    owner=owner,
                    department_id=owner.department_id,
                    created_by=owner,
                    stage_entered_at=now - dt.timedelta(days=rng.randint(0, 60)),
                    position=float(i),
                )
            )
        Opportunity.objects.bulk_create(rows, batch_size=1000)
        StageHistory.objects.bulk_create(
            [
                StageHistory(
                    opportunity_id=pk,
                    pipeline=pipeline,
                    to_stage_id=stage_id,
                    entered_at=entered,
                    amount=amount,
                    probability=probability,
                    owner=owner,
                    department_id=owner.department_id,
                )
                for pk, stage_id, entered, amount, probability in Opportunity.objects.filter(
                    pipeline=pipeline
                ).values_list("pk", "stage_id", "stage_entered_at", "amount", "probability")
            ],
            batch_size=1000,
        )
    _analyze(Opportunity)
    return pipeline


def _analyze(model: Any) -> None:
    """Fresh planner statistics after the bulk insert (a server without autovacuum, or one that
    has not run yet, plans the board's queries for an empty table)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _bare(pipeline_id: int, stage_ids: list[int]) -> Any:
    """The database alone: the grouped totals and each column's first 20 cards."""
    from django.db import connection

    from kehu.sales.models import Opportunity

    table = connection.ops.quote_name(Opportunity._meta.db_table)
    totals = (
        f"SELECT stage_id, currency, COUNT(*), SUM(amount) FROM {table} "
        "WHERE pipeline_id = %s GROUP BY stage_id, currency"
    )
    page = f"SELECT id, name, amount FROM {table} WHERE stage_id = %s ORDER BY position, id DESC LIMIT 21"

    def run(_: int) -> int:
        with connection.cursor() as cur:
            cur.execute(totals, [pipeline_id])
            n = len(cur.fetchall())
            for stage_id in stage_ids:
                cur.execute(page, [stage_id])
                n += len(cur.fetchall())
        return n

    return run


def _getter(client: Any, url: str) -> Any:
    return lambda i: _get(client, url)


def _count_queries(client: Any, url: str) -> int:
    from django.db import connection

    seen: list[str] = []

    def count(execute: Any, sql: str, *args: Any) -> Any:
        seen.append(sql)
        return execute(sql, *args)

    with connection.execute_wrapper(count):
        _get(client, url)
    return len(seen)


@benchmark(
    "opportunities.kanban",
    "opportunity kanban of a pipeline with 10,000 open deals: first render and a column's next page",
    requires=("sales.Opportunity", "url:sales:opportunity_kanban"),
)
def kanban(ctx: Context) -> Iterable[Comparison]:
    from django.urls import reverse

    admin = ctx.users["admin"]
    pipeline = bench_pipeline(admin, ctx.seed)
    stage_ids = list(pipeline.stages.order_by("order").values_list("pk", flat=True))
    client = _client(admin)
    board = reverse("sales:opportunity_kanban") + f"?pipeline={pipeline.pk}"
    more = f"{board}&stage_col={stage_ids[1]}&offset=20"
    target = Target("first render p95 ≤ 300 ms (server time)", lambda c: c.subject.p95 * 1000 <= 300)
    reference = measure(
        "bare SQL: grouped totals + 20 cards per column",
        _bare(pipeline.pk, stage_ids),
        repeat=ctx.repeat,
        warmup=ctx.warmup,
    )
    for label, url, targets in (("first render", board, [target]), ("column, next 20 cards", more, [])):
        queries = _count_queries(client, url)
        stats = measure(f"kanban {label}", _getter(client, url), repeat=ctx.repeat, warmup=ctx.warmup)
        yield Comparison(
            f"kanban (10k open): {label} ({queries} queries)",
            stats,
            [reference],
            note="Django test client as an administrator: full middleware, session, template",
            targets=targets,
        )
