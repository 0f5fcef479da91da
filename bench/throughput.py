"""Account, lead, opportunity and ticket lists over real HTTP: gunicorn with sync workers, requests one
at a time (server time p50/p95 from the `Server-Timing` header) and throughput under `wrk`, each
Kehu path beside its bare reference view measured in the same run on the same rows. See docs/benchmarks.md.

    .venv/bin/python bench/throughput.py --accounts 200000 --contacts-per-account 6 \\
        --database-url postgres://postgres@127.0.0.1:5432/kehu_bench_200k
    .venv/bin/python bench/throughput.py --accounts 200000 --contacts-per-account 6 \\
        --lists tickets --tickets 500000 \\
        --database-url postgres://postgres@127.0.0.1:5432/kehu_bench_200k   # issue 8

Needs `wrk` (Debian package `wrk`). Targets (issues 4, 5; 8 for the tickets), for each list: as a
rep (own scope) and as the admin, server time p95 <= 30 ms (JSON) and <= 50 ms (HTML), and wrk
throughput >= 40 % (JSON) and >= 50 % (HTML) of the bare references.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import add_database_arguments, setup_django  # noqa: E402

PAGE = 25


@dataclass
class Path_:
    label: str
    url: str
    kind: str  # "json" | "html"
    reference: bool = False
    server_ms: list[float] = field(default_factory=list)
    rps: float = 0.0
    errors: int = 0

    def pct(self, p: float) -> float:
        xs = sorted(self.server_ms)
        if not xs:
            return float("nan")
        k = min(len(xs) - 1, max(0, round(p / 100 * (len(xs) - 1))))
        return xs[k]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _session_cookie(user: Any) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _start_gunicorn(port: int, workers: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    proc = subprocess.Popen(
        [
            gunicorn,
            "config.wsgi:application",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("gunicorn did not start")


def _sequential(port: int, path: Path_, cookie: str, repeat: int, warmup: int) -> None:
    # Generous: on a loaded machine the workers may still be booting (importing Django) at first.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=180)
    timing = re.compile(r"dur=([0-9.]+)")
    for i in range(warmup + repeat):
        conn.request("GET", path.url, headers={"Cookie": cookie, "Host": "localhost"})
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            raise SystemExit(f"GET {path.url} answered {resp.status}; the benchmark needs 200")
        if i >= warmup:
            m = timing.search(resp.getheader("Server-Timing") or "")
            if m:
                path.server_ms.append(float(m.group(1)))
    conn.close()


def _wrk(port: int, path: Path_, cookie: str, connections: int, duration: int) -> None:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{duration}s",
            "-H",
            f"Cookie: {cookie}",
            f"http://127.0.0.1:{port}{path.url}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    m = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    path.rps = float(m.group(1)) if m else 0.0
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errs = re.search(r"Socket errors:.*?timeout (\d+)", out)
    path.errors = (int(bad.group(1)) if bad else 0) + (int(errs.group(1)) if errs else 0)


def main(argv: list[str] | None = None) -> int:
    from bench import datagen

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=datagen.DEFAULT_ACCOUNTS)
    parser.add_argument("--contacts-per-account", type=int, default=datagen.DEFAULT_CONTACTS_PER_ACCOUNT)
    parser.add_argument("--seed", type=int, default=datagen.DEFAULT_SEED)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per path (default 10)")
    parser.add_argument("--repeat", type=int, default=200, help="sequential requests per path")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument(
        "--lists",
        default="accounts,leads,opportunities",
        help="accounts, leads, opportunities, tickets (default: all but tickets)",
    )
    parser.add_argument(
        "--tickets",
        type=int,
        default=None,
        help="tickets generated (once per dataset) when --lists includes tickets (default 500,000)",
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    add_database_arguments(parser)
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")

    setup_django(args)
    from django.db import connection

    org = datagen.ensure_dataset(
        accounts=args.accounts,
        contacts_per_account=args.contacts_per_account,
        seed=args.seed,
        regenerate=args.regenerate,
    )
    from bench.lists_data import DEFAULT_TICKETS, LISTS, ensure_lists, ensure_tickets, list_paths
    from kehu.customers.models import Account, Contact
    from kehu.sales.models import Lead, Opportunity
    from kehu.service.models import Ticket

    lists = [name.strip() for name in args.lists.split(",") if name.strip()]
    if unknown := [name for name in lists if name not in LISTS]:
        raise SystemExit(f"Unknown list(s) {', '.join(unknown)}: choose from {', '.join(LISTS)}")
    ensure_lists(org, accounts=args.accounts, seed=args.seed)
    if "tickets" in lists:
        ensure_tickets(org, tickets=DEFAULT_TICKETS if args.tickets is None else args.tickets, seed=args.seed)
    sizes = {
        "accounts": Account.objects.count(),
        "contacts": Contact.objects.count(),
        "leads": Lead.objects.count(),
        "opportunities": Opportunity.objects.count(),
        "tickets": Ticket.objects.count(),
    }
    # the rows each user's Kehu list reaches (restrict()), shown beside the results
    in_scope = {"admin": sizes["tickets"], "rep": Ticket.objects.restrict(org.rep, "view").count()}
    vendor = connection.vendor
    connection.close()

    env = dict(os.environ, DJANGO_SETTINGS_MODULE="bench.settings")
    port = _free_port()
    results: dict[str, list[Path_]] = {}
    proc = _start_gunicorn(port, args.workers, env)
    try:
        for who, user, scope in (("rep", org.rep, "own"), ("admin", org.admin, "all")):
            cookie = _session_cookie(user)
            for name in lists:
                paths = [
                    Path_(label, url, kind, reference)
                    for label, url, kind, reference in list_paths(name, scope, PAGE)
                ]
                for p in paths:
                    _sequential(port, p, cookie, args.repeat, args.warmup)
                for p in paths:
                    _wrk(port, p, cookie, args.connections, args.duration)
                results[f"{name} / {who}"] = paths
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    ok = True
    print(
        f"\nLists over HTTP — {vendor}, {sizes['accounts']:,} accounts, "
        f"{sizes['contacts']:,} contacts, {sizes['leads']:,} leads, "
        f"{sizes['opportunities']:,} opportunities, {sizes['tickets']:,} tickets "
        f"(rep's scope {in_scope['rep']:,}), "
        f"gunicorn {args.workers} sync workers, wrk {args.connections} connections × {args.duration}s\n"
    )
    print(f"{'user / path':52} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>9} {'of bare':>8}  target")
    for who, paths in results.items():
        for kind, p95_target, share_target in (("json", 30.0, 0.40), ("html", 50.0, 0.50)):
            kehu = next(p for p in paths if p.kind == kind and not p.reference)
            bare = next(p for p in paths if p.kind == kind and p.reference)
            share = kehu.rps / bare.rps if bare.rps else 0.0
            met = kehu.pct(95) <= p95_target and share >= share_target and not kehu.errors
            ok &= met
            print(
                f"{who + ': ' + kehu.label:52} {kehu.pct(50):8.2f} {kehu.pct(95):8.2f} {kehu.rps:9.1f} "
                f"{share:8.0%}  p95 <= {p95_target:.0f} ms, >= {share_target:.0%}: "
                f"{'met' if met else 'MISSED'}"
            )
            print(f"{who + ': ' + bare.label:52} {bare.pct(50):8.2f} {bare.pct(95):8.2f} {bare.rps:9.1f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "vendor": vendor,
            **sizes,
            "workers": args.workers,
            "connections": args.connections,
            "rep_tickets_in_scope": in_scope["rep"],
            "results": {
                who: [asdict(p) | {"p50": p.pct(50), "p95": p.pct(95), "server_ms": None} for p in paths]
                for who, paths in results.items()
            },
        }
        args.json.write_text(json.dumps(payload, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
