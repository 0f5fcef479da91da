"""In-process profile of the account, lead and opportunity lists (issues 4, 5): CPU time per
request of the Kehu paths and the bare references through the Django test client (full
middleware, session, user), the queries of one request, and optionally a cProfile of the Kehu
paths. CPU time (not wall-clock) so a busy machine inflates it less. See docs/benchmarks.md.

    .venv/bin/python bench/profile_list.py --accounts 3000 --contacts-per-account 6 \\
        --database-url sqlite:////tmp/kehu_bench_small.sqlite3 [--queries] [--profile 40]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
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
FULL = False


def _paths(lists: str, scope: str) -> list[tuple[str, str]]:
    from bench.lists_data import list_paths

    return [
        (f"{name}: {label}", url)
        for name in lists.split(",")
        for label, url, _kind, _ref in list_paths(name, scope, PAGE)
    ]


def main(argv: list[str] | None = None) -> int:
    from bench import datagen

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=3000)
    parser.add_argument("--contacts-per-account", type=int, default=6)
    parser.add_argument("--seed", type=int, default=datagen.DEFAULT_SEED)
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--queries", action="store_true", help="print the SQL of one request per path")
    parser.add_argument("--profile", type=int, default=0, help="print the top N functions (cumulative)")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--only", default="", help="run only the paths whose label contains this")
    parser.add_argument("--who", default="rep,admin")
    parser.add_argument(
        "--lists", default="accounts,leads,opportunities", help="accounts, leads, opportunities"
    )
    parser.add_argument(
        "--no-migrate", action="store_true", help="use the database as it is (other apps' migrations in flux)"
    )
    parser.add_argument("--full-sql", action="store_true", help="with --queries: the whole statements")
    add_database_arguments(parser)
    args = parser.parse_args(argv)
    global FULL
    FULL = args.full_sql

    if args.no_migrate:
        import os

        import django

        os.environ["DATABASE_URL"] = args.database_url
        os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
        django.setup()
    else:
        setup_django(args)
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    org = datagen.ensure_dataset(
        accounts=args.accounts, contacts_per_account=args.contacts_per_account, seed=args.seed
    )
    from bench.lists_data import ensure_lists

    ensure_lists(org, accounts=args.accounts, seed=args.seed)
    settings.ALLOWED_HOSTS = ["*"]
    users = {"rep": (org.rep, "own"), "admin": (org.admin, "all")}
    for who in args.who.split(","):
        user, scope = users[who]
        client = Client()
        client.force_login(user)
        for label, url in _paths(args.lists, scope):
            if args.only and args.only.lower() not in label.lower():
                continue
            for _ in range(args.warmup):
                r = client.get(url)
                assert r.status_code == 200, (url, r.status_code)
            captured: list[str] = []

            def record(
                execute: Any, sql: str, params: Any, many: bool, context: Any, captured: list[str] = captured
            ) -> Any:
                t0 = time.perf_counter()
                try:
                    return execute(sql, params, many, context)
                finally:
                    captured.append(f"{(time.perf_counter() - t0) * 1000:6.2f}  {sql if FULL else sql[:220]}")

            with connection.execute_wrapper(record):
                client.get(url)
            times = []
            for _ in range(args.repeat):
                t0 = time.process_time()
                client.get(url)
                times.append((time.process_time() - t0) * 1000)
            times.sort()
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            print(
                f"{who}: {label:38} CPU p50 {statistics.median(times):6.2f} ms  p95 {p95:6.2f} ms  "
                f"queries {len(captured)}",
                flush=True,
            )
            if args.queries:
                for q in captured:
                    print(f"    {q}")
            if args.profile and "bare" not in label:
                prof = cProfile.Profile(time.process_time)  # CPU, not waits on a busy database
                prof.enable()
                for _ in range(20):
                    client.get(url)
                prof.disable()
                out = io.StringIO()
                stats = pstats.Stats(prof, stream=out)
                stats.sort_stats(args.sort).print_stats(args.profile)
                print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
