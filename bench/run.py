"""`make bench`: generate (or reuse) the benchmark dataset and run every benchmark, printing each
result beside a reference measured in the same run. See docs/benchmarks.md.

    make bench                                           # 20k accounts on SQLite (var/bench/)
    make bench BENCH_ARGS="--accounts 1000000 --database-url postgres://postgres@127.0.0.1:5432/kehu_bench"
    .venv/bin/python bench/run.py --list                 # the benchmarks there are
    .venv/bin/python bench/run.py --only accounts.list --repeat 200

The benchmark database is dedicated: the run empties it when the dataset's parameters change, so
its name must contain "bench" (refused otherwise).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import pkgutil
import platform
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script
    sys.path.insert(0, str(ROOT))

DEFAULT_SQLITE = ROOT / "var" / "bench" / "bench.sqlite3"


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{DEFAULT_SQLITE}"),
        help="the dedicated benchmark database (name must contain 'bench'); default: SQLite file "
        "var/bench/bench.sqlite3, or $BENCH_DATABASE_URL. PostgreSQL example: "
        "postgres://postgres@127.0.0.1:5432/kehu_bench (created if missing)",
    )


def _database_name(url: str) -> str:
    parts = urlsplit(url)
    return Path(parts.path).name if parts.scheme.startswith("sqlite") else parts.path.lstrip("/")


def _ensure_postgres_database(url: str) -> None:
    """Create the PostgreSQL benchmark database when it does not exist yet."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(
        (parts.scheme.replace("postgresql", "postgres"), parts.netloc, "/postgres", "", "")
    )
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"Created PostgreSQL database {name}.")


def setup_django(args: argparse.Namespace) -> None:
    """Point Django at the benchmark database and settings, create and migrate the database."""
    url: str = args.database_url
    name = _database_name(url)
    if "bench" not in name:
        raise SystemExit(
            f"Refusing to use database {name!r}: the benchmark empties its database, so its name "
            "must contain 'bench' (e.g. var/bench/bench.sqlite3 or .../kehu_bench)."
        )
    if url.startswith("sqlite"):
        Path(urlsplit(url).path).parent.mkdir(parents=True, exist_ok=True)
    elif url.startswith(("postgres", "pgsql")):
        _ensure_postgres_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def load_suites() -> None:
    from bench import suites

    for mod in pkgutil.iter_modules(suites.__path__):
        importlib.import_module(f"bench.suites.{mod.name}")


def _available(requires: tuple[str, ...]) -> bool:
    """Each requirement is an app label ("core"), a model ("customers.Account"), a URL name
    ("url:customers:account_list") or a path ("path:/api/v1/customers/accounts/")."""
    from django.apps import apps
    from django.urls import NoReverseMatch, Resolver404, resolve, reverse

    for req in requires:
        try:
            if req.startswith("url:"):
                reverse(req[4:])
            elif req.startswith("path:"):
                resolve(req[5:])
            elif "." in req:
                apps.get_model(req)
            else:
                apps.get_app_config(req)
        except (LookupError, NoReverseMatch, Resolver404):
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    from bench import datagen, harness

    parser = argparse.ArgumentParser(description="Run the Kehu benchmarks (docs/benchmarks.md).")
    parser.add_argument(
        "--accounts", type=int, default=datagen.DEFAULT_ACCOUNTS, help="dataset size (default 20000)"
    )
    parser.add_argument("--contacts-per-account", type=int, default=datagen.DEFAULT_CONTACTS_PER_ACCOUNT)
    parser.add_argument("--seed", type=int, default=datagen.DEFAULT_SEED)
    parser.add_argument("--regenerate", action="store_true", help="generate the dataset even if it matches")
    parser.add_argument("--repeat", type=int, default=100, help="timed calls per measured path (default 100)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed calls first (default 10)")
    parser.add_argument(
        "--only", action="append", default=[], help="run benchmarks whose key starts with this"
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    add_database_arguments(parser)
    args = parser.parse_args(argv)

    setup_django(args)
    load_suites()
    if args.list:
        for key, b in sorted(harness.REGISTRY.items()):
            print(f"{key:32} {b.title}")
        return 0

    from django.db import connection

    org = datagen.ensure_dataset(
        accounts=args.accounts,
        contacts_per_account=args.contacts_per_account,
        seed=args.seed,
        regenerate=args.regenerate,
    )
    ctx = harness.Context(
        vendor=connection.vendor,
        accounts=args.accounts,
        repeat=args.repeat,
        warmup=args.warmup,
        seed=args.seed,
        users={"rep": org.rep, "manager": org.manager, "director": org.director, "admin": org.admin},
        extra={"org": org},
    )
    selected = [
        b
        for key, b in sorted(harness.REGISTRY.items())
        if not args.only or any(key.startswith(o) for o in args.only)
    ]
    results: list[harness.Comparison] = []
    skipped: list[str] = []
    started = time.perf_counter()
    for b in selected:
        if not _available(b.requires):
            skipped.append(f"{b.key} (needs {', '.join(b.requires)})")
            continue
        print(f"… {b.key}: {b.title}", flush=True)
        results.extend(b.fn(ctx))
    print()
    print(
        f"Kehu benchmarks: {connection.vendor} ({_database_name(args.database_url)}), "
        f"{args.accounts:,} accounts, {args.repeat} timed calls per path after {args.warmup} warm-up calls, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} at the end"
    )
    print(harness.format_report(results, ctx))
    if skipped:
        print("\nNot run (their models do not exist yet): " + "; ".join(skipped))
    print(f"\nBenchmarks took {time.perf_counter() - started:.1f} s.")
    if args.json:
        payload: dict[str, Any] = {
            "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "vendor": connection.vendor,
            "database": _database_name(args.database_url),
            "accounts": args.accounts,
            "repeat": args.repeat,
            "results": [r.as_dict(ctx) for r in results],
            "skipped": skipped,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=2))
        print(f"Results written to {args.json}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
