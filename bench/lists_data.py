"""Leads and opportunities for the list benchmarks (bench/throughput.py, bench/profile_list.py):
the generated dataset (bench/datagen.py) has accounts and contacts only. Added once per dataset
with COPY, owned by the dataset's reps (round robin, in their departments), and recorded in a
table of its own (`bench_meta_lists`): a key in `bench_meta` would make `datagen.ensure_dataset`
see parameters it did not ask for and regenerate everything. `datagen.wipe()` drops it with the
rest, so a regenerated dataset gets its leads and opportunities again.

Sizes: one lead per account (200,000 at full size) and one opportunity per four accounts (50,000).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

META_TABLE = "bench_meta_lists"
VERSION = "1"
PIPELINE = "bench lists"
LEAD_STATUSES = ["new", "new", "contacting", "contacting", "qualified", "unqualified"]
SOURCES = ["website", "referral", "exhibition", "advertising", "cold_call", ""]


def _meta(cur: Any) -> dict[str, str]:
    cur.execute(
        f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key varchar(100) PRIMARY KEY, value text NOT NULL)"
    )
    cur.execute(f"SELECT key, value FROM {META_TABLE}")
    return dict(cur.fetchall())


def wanted(*, leads: int, opportunities: int, seed: int) -> dict[str, str]:
    return {"version": VERSION, "leads": str(leads), "opportunities": str(opportunities), "seed": str(seed)}


def ensure_lists(org: Any, *, accounts: int, seed: int, log: Callable[[str], None] = print) -> dict[str, int]:
    """Generate the leads and opportunities unless this dataset has them already (idempotent)."""
    from django.db import connection, transaction

    from bench import datagen
    from kehu.audit import registry
    from kehu.sales.models import Lead, Opportunity

    want = wanted(leads=accounts, opportunities=max(1, accounts // 4), seed=seed)
    with connection.cursor() as cur:
        if _meta(cur) == want:
            return {"leads": accounts, "opportunities": int(want["opportunities"])}
    log(f"Generating {accounts:,} leads and {int(want['opportunities']):,} opportunities …")
    t0 = time.perf_counter()
    with registry.paused(), transaction.atomic():
        datagen.skip_fk_triggers()
        Opportunity.objects.filter(pipeline__name=PIPELINE).delete()
        Lead.objects.filter(name__startswith="基准线索").delete()
        _make_leads(org, accounts, seed)
        _make_opportunities(org, int(want["opportunities"]), seed)
        with connection.cursor() as cur:
            _meta(cur)
            cur.execute(f"DELETE FROM {META_TABLE}")
            for k, v in want.items():
                cur.execute(f"INSERT INTO {META_TABLE} (key, value) VALUES (%s, %s)", [k, v])
    datagen.analyze()
    log(f"  leads and opportunities in {time.perf_counter() - t0:.1f} s")
    return {"leads": accounts, "opportunities": int(want["opportunities"])}


def _make_leads(org: Any, n: int, seed: int) -> None:
    from bench import datagen
    from kehu.sales.models import Lead

    rng = random.Random(seed + 101)
    reps = org.reps
    rows: list[dict[str, Any]] = []
    for i in range(n):
        rep = reps[i % len(reps)]
        created = datagen.spread_datetime(rng)
        rows.append(
            {
                "name": f"基准线索{i:06d}",
                "company": f"线索公司{rng.randrange(n):06d}有限公司",
                "title": rng.choice(["经理", "总监", "采购", ""]),
                "mobile": f"+86139{rng.randrange(10**8):08d}",
                "email": f"lead{i}@example.com" if i % 3 else "",
                "source": rng.choice(SOURCES),
                "status": rng.choice(LEAD_STATUSES),
                "owner_id": rep.pk,
                "department_id": rep.department_id,
                "created_by_id": rep.pk,
                "owned_since": created,
                "last_activity_at": created + timedelta(days=rng.randint(0, 30)) if i % 2 else None,
                "created_at": created,
                "updated_at": created,
                "version": 1,
            }
        )
        if len(rows) >= datagen.BATCH:
            datagen.insert_rows(Lead, rows)
            rows = []
    datagen.insert_rows(Lead, rows)


def _make_opportunities(org: Any, n: int, seed: int) -> None:
    from bench import datagen
    from kehu.customers.models import Account
    from kehu.sales.models import Opportunity, Pipeline, Stage

    rng = random.Random(seed + 202)
    pipeline = Pipeline.objects.filter(name=PIPELINE).first()
    if pipeline is None:
        pipeline = Pipeline.objects.create(name=PIPELINE, name_en=PIPELINE, order=98)
        for order, (name, kind, p) in enumerate(
            [
                ("初步接洽", "open", 10),
                ("方案报价", "open", 40),
                ("商务谈判", "open", 70),
                ("赢单", "won", 100),
                ("输单", "lost", 0),
            ]
        ):
            Stage.objects.create(pipeline=pipeline, name=name, order=order * 10, kind=kind, probability=p)
    stages = list(pipeline.stages.order_by("order").values_list("pk", "kind", "probability"))
    reps = org.reps
    # Each rep's opportunities are on accounts the rep owns (as in real books of business).
    owned: dict[int, list[int]] = {r.pk: [] for r in reps}
    for pk, owner_id in Account.objects.filter(owner_id__in=list(owned)).values_list("pk", "owner_id"):
        if len(owned[owner_id]) < 500:
            owned[owner_id].append(pk)
    any_accounts = [pk for pks in owned.values() for pk in pks] or list(
        Account.objects.values_list("pk", flat=True)[:1000]
    )
    rows: list[dict[str, Any]] = []
    for i in range(n):
        rep = reps[i % len(reps)]
        stage_id, kind, probability = stages[rng.randrange(len(stages))]
        created = datagen.spread_datetime(rng)
        accounts = owned.get(rep.pk) or any_accounts
        rows.append(
            {
                "name": f"基准商机{i:06d}",
                "account_id": accounts[i % len(accounts)],
                "amount": Decimal(rng.randrange(1, 2000) * 1000),
                "currency": "CNY",
                "expected_close_date": (created + timedelta(days=rng.randint(10, 180))).date(),
                "pipeline_id": pipeline.pk,
                "stage_id": stage_id,
                "status": kind,
                "probability": probability,
                "source": rng.choice(SOURCES),
                "owner_id": rep.pk,
                "department_id": rep.department_id,
                "created_by_id": rep.pk,
                "stage_entered_at": created,
                "closed_at": created + timedelta(days=30) if kind != "open" else None,
                "position": float(i),
                "created_at": created,
                "updated_at": created,
                "version": 1,
            }
        )
        if len(rows) >= datagen.BATCH:
            datagen.insert_rows(Opportunity, rows)
            rows = []
    datagen.insert_rows(Opportunity, rows)


# The lists measured, each as its Kehu paths and their bare references (bench/bare.py).
LISTS = {
    "accounts": ("/api/v1/customers/accounts/", "/customers/accounts/", "/bench/bare/accounts"),
    "leads": ("/api/v1/sales/leads/", "/sales/leads/", "/bench/bare/leads"),
    "opportunities": ("/api/v1/sales/opportunities/", "/sales/opportunities/", "/bench/bare/opportunities"),
}


def list_paths(name: str, scope: str, page: int = 25) -> list[tuple[str, str, str, bool]]:
    """(label, url, kind, is reference) of one list: JSON API, bare JSON, HTML page, bare HTML."""
    api, html, bare = LISTS[name]
    return [
        ("Kehu API (JSON)", f"{api}?page_size={page}", "json", False),
        ("bare JSON view", f"{bare}.json?limit={page}&scope={scope}", "json", True),
        ("Kehu list page (HTML)", f"{html}?per_page={page}", "html", False),
        ("bare template view", f"{bare}.html?limit={page}&scope={scope}", "html", True),
    ]
