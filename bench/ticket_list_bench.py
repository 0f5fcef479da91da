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
N tickets written in batches with `bulk_create` by `bench.lists_data.make_tickets` (no services:
numbering, SLA and history are not what a list reads), spread over the reps (95 %) and unassigned
(5 %), the default statuses and types, 60 % on an account, over three years. The same tickets and
bare references over real HTTP (gunicorn + wrk): `bench/throughput.py --lists tickets`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import add_database_arguments, setup_django  # noqa: E402

PAGE = 25


def log(message: str) -> None:
    print(message, flush=True)


# The bare references are `bench.bare.ticket_list_json` / `ticket_list_html` (bench/urls.py), the
# data `bench.lists_data.make_tickets` (shared with bench/throughput.py --lists tickets).


def seed(org: Any, n: int, rng_seed: int) -> None:
    from bench.lists_data import ensure_tickets

    ensure_tickets(org, tickets=n, seed=rng_seed, log=log)


def ensure_grants(org: Any) -> None:
    from bench.lists_data import ensure_ticket_grants

    ensure_ticket_grants(org)


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
    with override_settings(ALLOWED_HOSTS=["*"]):
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
