"""The ticket list (issue 8) with 500k tickets: the HTML list page and the JSON API list, each beside
its bare reference measured in the same run on the same rows (a session-authenticated Django view
returning the same 25 newest tickets as a `JsonResponse` of `.values()` and as a minimal template
table), as a rep (own tickets and the tickets of their accounts) and as the administrator (all).

    .venv/bin/python bench/ticket_list_bench.py          # SQLite: var/bench/tickets_bench.sqlite3
    .venv/bin/python bench/ticket_list_bench.py --tickets 500000 \\
        --database-url postgres://postgres@127.0.0.1:5432/kehu_bench_tickets

Requests go through Django's test client in this process (`bench.settings`: DEBUG off, the whole
middleware stack, a session, the view, the template or serializer; no socket): the server time is
the wall time of each request, one at a time (p50/p95), and the throughput is requests per second
of those sequential requests (one core). The bars are the account list's (issue 4): server time
p95 <= 30 ms (JSON) and <= 50 ms (HTML), throughput >= 40 % (JSON) and >= 50 % (HTML) of the bare
references.

The data: the accounts dataset of `bench/datagen.py` (its organisation, roles and grants), then
N tickets written in batches with `bulk_create` (no services: numbering, SLA and history are not
what a list reads), spread over the reps (95 %) and unassigned (5 %), the default statuses and
types, 60 % on an account, over three years.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import add_database_arguments, setup_django  # noqa: E402

TAG = "bench-tickets"
PAGE = 25
BATCH = 10_000
COLUMNS: tuple[str, ...] = ("id", "number", "subject", "status_id", "priority", "sla_next_check")
COLUMNS += ("account_id", "queue_id", "assignee_id", "created_at")


def log(message: str) -> None:
    print(message, flush=True)


# --- bare references (served from this module's URLconf) ------------------------------------


def _bare_rows(request: Any) -> Any:
    from kehu.service.models import Ticket

    qs = Ticket.objects.order_by("-id")
    if request.GET.get("scope") != "all":
        qs = qs.filter(assignee_id=request.user.pk)
    return qs


def bare_json(request: Any) -> Any:
    from django.http import JsonResponse

    return JsonResponse({"results": list(_bare_rows(request).values()[:PAGE])})


def bare_html(request: Any) -> Any:
    from django.http import HttpResponse

    from bench.bare import _TABLE

    rows = list(_bare_rows(request).values_list(*COLUMNS)[:PAGE])
    return HttpResponse(_TABLE.render({"columns": COLUMNS, "rows": rows}, request))


def _urlpatterns() -> list[Any]:
    from django.contrib.auth.decorators import login_required
    from django.urls import path

    from bench.urls import urlpatterns as bench_urls

    return [
        path("bench/bare/tickets.json", login_required(bare_json)),
        path("bench/bare/tickets.html", login_required(bare_html)),
        *bench_urls,
    ]


def __getattr__(name: str) -> Any:  # the URLconf's `urlpatterns`, built once Django is set up
    if name == "urlpatterns":
        return _urlpatterns()
    raise AttributeError(name)


# --- data ------------------------------------------------------------------------------------


def seed(org: Any, n: int, rng_seed: int) -> None:
    from django.db import connection, transaction

    from kehu.customers.models import Account
    from kehu.service.choices import TicketChannel, TicketPriority
    from kehu.service.models import Ticket, TicketStatus, TicketType

    have = Ticket.objects.filter(requester_name=TAG).count()
    if have == n:
        log(f"Using the {have:,} tickets already in the database.")
        return
    log(f"Creating {n:,} tickets …")
    Ticket.objects.filter(requester_name=TAG).delete()
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
        for i in range(made, min(n, made + BATCH)):
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
                    requester_name=TAG,
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
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE service_ticket")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def ensure_grants(org: Any) -> None:
    from kehu.core.permissions import can
    from kehu.service.models import Ticket

    if not can(org.rep, Ticket, "view"):
        raise SystemExit("The rep has no ticket permission: load the demo roles' service grants first.")


# --- measuring -------------------------------------------------------------------------------


def measure(client: Any, url: str, repeat: int, warmup: int) -> tuple[list[float], float]:
    for _ in range(warmup):
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} answered {response.status_code}")
    times = []
    t0 = time.perf_counter()
    for _ in range(repeat):
        s = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - s) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    total = time.perf_counter() - t0
    return times, repeat / total


def pct(xs: list[float], p: float) -> float:
    ys = sorted(xs)
    return ys[min(len(ys) - 1, max(0, round(p / 100 * (len(ys) - 1))))]


def main(argv: list[str] | None = None) -> int:
    from bench import datagen

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=500_000)
    parser.add_argument("--accounts", type=int, default=datagen.DEFAULT_ACCOUNTS)
    parser.add_argument("--contacts-per-account", type=int, default=datagen.DEFAULT_CONTACTS_PER_ACCOUNT)
    parser.add_argument("--seed", type=int, default=datagen.DEFAULT_SEED)
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--json", type=Path)
    add_database_arguments(parser)
    parser.set_defaults(database_url=f"sqlite:///{ROOT / 'var' / 'bench' / 'tickets_bench.sqlite3'}")
    args = parser.parse_args(argv)
    setup_django(args)
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    org = datagen.ensure_dataset(
        accounts=args.accounts, contacts_per_account=args.contacts_per_account, seed=args.seed, log=log
    )
    ensure_grants(org)
    seed(org, args.tickets, args.seed)
    from kehu.service.models import Ticket

    total = Ticket.objects.count()
    rows: list[dict[str, Any]] = []
    ok = True
    with override_settings(ROOT_URLCONF="bench.ticket_list_bench", ALLOWED_HOSTS=["*"]):
        for who, user, scope in (("rep", org.rep, "own"), ("admin", org.admin, "all")):
            client = Client()
            client.force_login(user)
            seen = Ticket.objects.restrict(user, "view").count()
            suffix = "?scope=all" if scope == "all" else ""
            paths = [
                ("json", "Kehu API (JSON)", f"/api/v1/service/tickets/?page_size={PAGE}", False),
                ("json", "bare JSON view", f"/bench/bare/tickets.json{suffix}", True),
                ("html", "Kehu list page (HTML)", f"/service/tickets/?per_page={PAGE}", False),
                ("html", "bare template view", f"/bench/bare/tickets.html{suffix}", True),
            ]
            measured = {}
            for kind, label, url, reference in paths:
                times, rps = measure(client, url, args.repeat, args.warmup)
                measured[(kind, reference)] = (label, times, rps)
            for kind, p95_target, share_target in (("json", 30.0, 0.40), ("html", 50.0, 0.50)):
                label, times, rps = measured[(kind, False)]
                blabel, btimes, brps = measured[(kind, True)]
                share = rps / brps if brps else 0.0
                met = pct(times, 95) <= p95_target and share >= share_target
                ok &= met
                rows.append(
                    {
                        "user": who,
                        "visible": seen,
                        "path": label,
                        "p50": statistics.median(times),
                        "p95": pct(times, 95),
                        "rps": rps,
                        "share": share,
                        "target": f"p95 <= {p95_target:.0f} ms, >= {share_target:.0%}",
                        "met": met,
                        "bare": {
                            "path": blabel,
                            "p50": statistics.median(btimes),
                            "p95": pct(btimes, 95),
                            "rps": brps,
                        },
                    }
                )
    log(f"\nTicket list — {connection.vendor}, {total:,} tickets, in-process, {args.repeat} requests\n")
    log(f"{'user / path':44} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>8} {'of bare':>8}  target")
    for r in rows:
        log(
            f"{r['user'] + ' (' + format(r['visible'], ',') + '): ' + r['path']:44} "
            f"{r['p50']:8.1f} {r['p95']:8.1f} "
            f"{r['rps']:8.1f} {r['share']:8.0%}  {r['target']}: {'met' if r['met'] else 'MISSED'}"
        )
        b = r["bare"]
        log(f"{r['user'] + ': ' + b['path']:44} {b['p50']:8.1f} {b['p95']:8.1f} {b['rps']:8.1f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps({"vendor": connection.vendor, "tickets": total, "rows": rows}, indent=2)
        )
    del settings
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
