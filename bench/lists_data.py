"""Leads and opportunities for the list benchmarks (bench/throughput.py, bench/profile_list.py):
the generated dataset (bench/datagen.py) has accounts and contacts only. Added once per dataset
with COPY, owned by the dataset's reps (round robin, in their departments), and recorded in a
table of its own (`bench_meta_lists`): a key in `bench_meta` would make `datagen.ensure_dataset`
see parameters it did not ask for and regenerate everything. `datagen.wipe()` drops it with the
rest, so a regenerated dataset gets its leads and opportunities again.

Sizes: one lead per account (200,000 at full size) and one opportunity per four accounts (50,000).

Tickets (issue 8, `ensure_tickets`): N tickets (500,000 for the issue) written in batches with
`bulk_create`, recorded in the same table under keys of their own, then `VACUUM ANALYZE
service_ticket` (autovacuum may be off on the benchmark server). Also runnable alone:

    .venv/bin/python bench/lists_data.py --tickets 500000 --accounts 200000 --contacts-per-account 6 \\
        --database-url postgres://postgres@127.0.0.1:5432/kehu_bench_200k
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
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


def _meta_write(values: dict[str, str]) -> None:
    """Replace these keys (only: the leads' and the tickets' keys live side by side)."""
    from django.db import connection

    with connection.cursor() as cur:
        _meta(cur)
        for k, v in values.items():
            cur.execute(f"DELETE FROM {META_TABLE} WHERE key = %s", [k])
            cur.execute(f"INSERT INTO {META_TABLE} (key, value) VALUES (%s, %s)", [k, v])


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
        have = _meta(cur)
        if {k: have.get(k) for k in want} == want:
            return {"leads": accounts, "opportunities": int(want["opportunities"])}
    log(f"Generating {accounts:,} leads and {int(want['opportunities']):,} opportunities …")
    t0 = time.perf_counter()
    with registry.paused(), transaction.atomic():
        datagen.skip_fk_triggers()
        Opportunity.objects.filter(pipeline__name=PIPELINE).delete()
        Lead.objects.filter(name__startswith="基准线索").delete()
        _make_leads(org, accounts, seed)
        _make_opportunities(org, int(want["opportunities"]), seed)
        _meta_write(want)
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


# --- tickets (issue 8) -----------------------------------------------------------------------

TICKET_TAG = "bench-tickets"  # the generated tickets' requester_name
TICKET_VERSION = "1"
TICKET_BATCH = 10_000
DEFAULT_TICKETS = 500_000


def wanted_tickets(*, tickets: int, seed: int) -> dict[str, str]:
    return {"tickets.version": TICKET_VERSION, "tickets.count": str(tickets), "tickets.seed": str(seed)}


def ensure_ticket_grants(org: Any) -> None:
    """The measured rep must be allowed to see tickets (the dataset's roles carry the demo grants)."""
    from kehu.core.permissions import can
    from kehu.service.models import Ticket

    if not can(org.rep, Ticket, "view"):
        raise SystemExit("The rep has no ticket permission: load the demo roles' service grants first.")


def ensure_tickets(org: Any, *, tickets: int, seed: int, log: Callable[[str], None] = print) -> int:
    """Generate `tickets` tickets unless this dataset has them already (idempotent: recorded in
    `bench_meta_lists`), then `VACUUM ANALYZE service_ticket`. Returns the number of tickets."""
    from django.db import connection

    ensure_ticket_grants(org)
    want = wanted_tickets(tickets=tickets, seed=seed)
    with connection.cursor() as cur:
        have = _meta(cur)
    if {k: have.get(k) for k in want} == want:
        return tickets
    t0 = time.perf_counter()
    make_tickets(org, tickets, seed, log=log)
    _meta_write(want)
    log(f"  {tickets:,} tickets in {time.perf_counter() - t0:.1f} s")
    return tickets


def make_tickets(org: Any, n: int, rng_seed: int, *, log: Callable[[str], None] = print) -> None:
    """N tickets with `bulk_create` (no services: numbering, SLA and history are not what a list
    reads), spread over the reps (95 %) and unassigned (5 %), the default statuses and types, 60 %
    on an account, over three years; any earlier generated tickets are deleted first. Reused as
    they are when the database holds exactly N generated tickets (the in-process benchmark's
    databases from before the meta keys)."""
    from django.db import connection, transaction

    from kehu.customers.models import Account
    from kehu.service.choices import TicketChannel, TicketPriority
    from kehu.service.models import Ticket, TicketStatus, TicketType

    have = Ticket.objects.filter(requester_name=TICKET_TAG).count()
    if have == n:
        log(f"Using the {have:,} tickets already in the database.")
        return
    log(f"Creating {n:,} tickets …")
    Ticket.objects.filter(requester_name=TICKET_TAG).delete()
    rng = random.Random(rng_seed)
    statuses = list(TicketStatus.objects.filter(is_active=True))
    weights = [
        {"new": 8, "assigned": 10, "in_progress": 12, "waiting": 6, "resolved": 24, "closed": 40}.get(
            s.code, 5
        )
        for s in statuses
    ]
    types = list(TicketType.objects.filter(is_active=True))
    # the rep's accounts first: their tickets come through the account scope extension too
    accounts = list(Account.objects.order_by("id").values_list("id", "owner_id")[:50_000])
    reps = [(u.pk, u.department_id) for u in org.reps]
    now = dt.datetime.now(dt.UTC)
    channels = list(TicketChannel.values)
    priorities = list(TicketPriority.values)
    t0 = time.perf_counter()
    made = 0
    while made < n:
        rows = []
        for i in range(made, min(n, made + TICKET_BATCH)):
            status = rng.choices(statuses, weights)[0]
            assignee, department = reps[i % len(reps)] if rng.random() < 0.95 else (None, None)
            account = rng.choice(accounts)[0] if accounts and rng.random() < 0.6 else None
            created = now - dt.timedelta(minutes=rng.randint(0, 3 * 365 * 24 * 60))
            due = (
                created + dt.timedelta(hours=rng.randint(1, 72))
                if status.state not in ("resolved", "closed")
                else None
            )
            rows.append(
                Ticket(
                    number=f"TK-B-{i + 1:07d}",
                    subject=f"工单 {i + 1} 打印机无法连接网络",
                    type=rng.choice(types),
                    status=status,
                    state=status.state,
                    priority=rng.choice(priorities),
                    channel=rng.choice(channels),
                    account_id=account,
                    requester_name=TICKET_TAG,
                    assignee_id=assignee,
                    department_id=department,
                    sla_next_check=due,
                    resolution_due=due,
                    resolution_breached=rng.random() < 0.05,
                    created_at=created,
                    updated_at=created,
                )
            )
        with transaction.atomic():
            Ticket.objects.bulk_create(rows, batch_size=2_000)
        made += len(rows)
        log(f"  {made:,} tickets ({made / (time.perf_counter() - t0):,.0f}/s)")
    # Statistics and the visibility map (index-only scans): autovacuum may be off.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE service_ticket" if connection.vendor == "postgresql" else "ANALYZE")


# The lists measured, each as its Kehu paths and their bare references (bench/bare.py).
LISTS = {
    "accounts": ("/api/v1/customers/accounts/", "/customers/accounts/", "/bench/bare/accounts"),
    "leads": ("/api/v1/sales/leads/", "/sales/leads/", "/bench/bare/leads"),
    "opportunities": ("/api/v1/sales/opportunities/", "/sales/opportunities/", "/bench/bare/opportunities"),
    # the default view of the list page (not "my tickets"); the API pages by keyset
    "tickets": ("/api/v1/service/tickets/", "/service/tickets/", "/bench/bare/tickets"),
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


def main(argv: list[str] | None = None) -> int:
    """Generate (or reuse) the dataset, its leads and opportunities and, with `--tickets N`, N tickets."""
    root = Path(__file__).resolve().parent.parent
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from bench import datagen
    from bench.run import add_database_arguments, setup_django

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=datagen.DEFAULT_ACCOUNTS)
    parser.add_argument("--contacts-per-account", type=int, default=datagen.DEFAULT_CONTACTS_PER_ACCOUNT)
    parser.add_argument("--seed", type=int, default=datagen.DEFAULT_SEED)
    parser.add_argument("--tickets", type=int, default=0, help="tickets to generate (default none)")
    add_database_arguments(parser)
    args = parser.parse_args(argv)
    setup_django(args)
    org = datagen.ensure_dataset(
        accounts=args.accounts, contacts_per_account=args.contacts_per_account, seed=args.seed
    )
    made = ensure_lists(org, accounts=args.accounts, seed=args.seed)
    if args.tickets:
        made["tickets"] = ensure_tickets(org, tickets=args.tickets, seed=args.seed)
    print(", ".join(f"{v:,} {k}" for k, v in made.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
