"""Pool claims over real HTTP (issue 5): gunicorn with sync workers, 16 concurrent clients (one rep
each, its own API token and connection), each claiming different leads of one lead pool (公海)
through ``POST /api/v1/sales/pools/{id}/claim/`` one at a time. Reports the end-to-end latency
(client-side, p50/p95/max), the server time (`Server-Timing`), throughput and errors. See
docs/benchmarks.md ("Issue 5: pool claims"). In the same run, on the other half of each client's
leads, the bare reference (bench/bare.py `pool_claim`: the token and the claim of one lead in plain
Django and SQL, without Kehu's permissions, rules, operation log or timeline), and the ratio of the
two throughputs (`--no-bare` leaves it out).

    .venv/bin/python bench/pool_claims.py --database-url postgres://postgres@127.0.0.1:5432/kehu_bench_pools

The pool has every rule switched on (daily claims, records owned, protection, cooling-off), so each
claim runs every check and takes every lock. Before each run the claimed leads go back to the pool
and the day's claim counters are cleared, so runs are repeatable. Target: p95 <= 100 ms, 0 errors.
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import json
import os
import pstats
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import add_database_arguments, setup_django  # noqa: E402
from bench.throughput import _free_port, _start_gunicorn  # noqa: E402

POOL_NAME = "bench 公海 (pool claims)"
ROLE_CODE = "bench-pool-claims"


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    if not xs:
        return float("nan")
    return xs[min(len(xs) - 1, max(0, round(p / 100 * (len(xs) - 1))))]


def prepare(*, clients: int, leads: int, log: Any = print) -> tuple[int, list[Any], list[list[int]]]:
    """The pool, its `leads` in-pool leads (created once, bulk), the reps with a role that lets them
    see leads; everything claimed by an earlier run goes back. Returns (pool id, reps, each rep's
    lead ids)."""
    from django.db import transaction
    from django.utils import timezone

    from bench import datagen
    from kehu.core.choices import Action, Scope
    from kehu.sales.models import Lead, Pool, PoolClaimCounter, PoolHistory, PoolItem
    from kehu.users.models import Department, Role, RolePermission

    org = datagen.load_org()
    reps = org.reps[:clients]
    if len(reps) < clients:
        raise SystemExit(f"the dataset has {len(org.reps)} reps; {clients} clients need as many")
    role, _ = Role.objects.get_or_create(code=ROLE_CODE, defaults={"name": "bench pool claims"})
    for action in (Action.VIEW, Action.CHANGE):
        RolePermission.objects.update_or_create(
            role=role, model="sales.lead", action=action, defaults={"scope": Scope.OWN}
        )
    for rep in reps:
        rep.roles.add(role)
    root = Department.objects.filter(name="销售部").order_by("path").first() or org.reps[0].department
    pool, _created = Pool.objects.get_or_create(
        name=POOL_NAME,
        defaults={
            "kind": "lead",
            "max_claims_per_day": 100_000,
            "max_owned": 100_000,
            "protection_days": 7,
            "cooling_off_days": 3,
            "recycle_no_follow_up_days": 30,
            "recycle_not_converted_days": 90,
            "recycle_warning_days": 3,
        },
    )
    pool.member_departments.add(root)
    now = timezone.now()
    with transaction.atomic():
        # Back to the pool: what earlier runs claimed, and no history that would cool anyone off.
        claimed = list(PoolItem.objects.filter(pool=pool, in_pool=False).values_list("lead_id", flat=True))
        if claimed:
            Lead.objects.filter(pk__in=claimed).update(owner=None, department=None, owned_since=None)
            PoolItem.objects.filter(pool=pool, in_pool=False).update(
                in_pool=True, claimed_at=None, claimed_by=None, protected_until=None, warned_at=None
            )
        PoolHistory.objects.filter(pool=pool).exclude(action="enter").delete()
        PoolClaimCounter.objects.filter(pool=pool).delete()
        have = PoolItem.objects.filter(pool=pool).count()
        if have < leads:
            log(f"Creating {leads - have:,} leads in the pool …")
            batch = 5000
            for start in range(have, leads, batch):
                n = min(batch, leads - start)
                rows = Lead.objects.bulk_create(
                    [
                        Lead(name=f"公海线索{start + i}", company=f"公海公司{start + i}", source="web")
                        for i in range(n)
                    ]
                )
                PoolItem.objects.bulk_create(
                    [PoolItem(pool=pool, lead=lead, in_pool=True, entered_at=now) for lead in rows]
                )
    ids = list(
        PoolItem.objects.filter(pool=pool, in_pool=True).order_by("lead_id").values_list("lead_id", flat=True)
    )
    per = len(ids) // clients
    return pool.pk, reps, [ids[i * per : (i + 1) * per] for i in range(clients)]


def _client(
    port: int,
    url: str,
    token: str,
    ids: list[int],
    barrier: threading.Barrier,
    out: dict[str, list[float]],
    errors: list[str],
    lock: threading.Lock,
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    timing = re.compile(r"dur=([0-9.]+)")
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json", "Host": "localhost"}
    latencies: list[float] = []
    server: list[float] = []
    barrier.wait()
    for pk in ids:
        t0 = time.perf_counter()
        try:
            conn.request("POST", url, body=json.dumps({"ids": [pk]}), headers=headers)
            resp = conn.getresponse()
            body = resp.read()
        except OSError as exc:  # a timeout or a dropped connection is an error, not a dead client
            latencies.append((time.perf_counter() - t0) * 1000)
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            continue
        latencies.append((time.perf_counter() - t0) * 1000)
        if resp.status != 200:
            with lock:
                errors.append(f"{resp.status} {body[:200]!r}")
        m = timing.search(resp.getheader("Server-Timing") or "")
        if m:
            server.append(float(m.group(1)))
    conn.close()
    with lock:
        out["latency"].extend(latencies)
        out["server"].extend(server)


_WRK_SCRIPT = r"""
-- one wrk thread per client: its own token and its own leads, one claim per request
local threads = {}
local counter = 1
local tokens = %(tokens)s
local idlists = %(ids)s
function setup(thread)
  thread:set("client", counter)
  table.insert(threads, thread)
  counter = counter + 1
end
function init(args)
  token = tokens[client]
  ids = idlists[client]
  i = 0
  errors = 0
  sample = ""
end
function request()
  i = i + 1
  local pk = ids[i]
  if pk == nil then pk = 0 end
  return wrk.format("POST", "%(url)s", {
    ["Authorization"] = "Token " .. token,
    ["Content-Type"] = "application/json",
    ["Host"] = "localhost",
  }, '{"ids": [' .. pk .. ']}')
end
function response(status, headers, body)
  if status ~= 200 then
    errors = errors + 1
    if sample == "" then sample = status .. " " .. string.sub(body, 1, 200) end
  end
end
function done(summary, latency, requests)
  local errs = 0
  local first = ""
  for _, t in ipairs(threads) do
    errs = errs + t:get("errors")
    if first == "" then first = t:get("sample") end
  end
  io.write(string.format("WRKRESULT %%f %%f %%f %%d %%d %%f\n", latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency.max / 1000, summary.requests, errs,
    summary.duration / 1000000))
  if first ~= "" then io.write("WRKERROR " .. first .. "\n") end
end
"""


def _python_claims(port: int, url: str, tokens: list[str], id_lists: list[list[int]]) -> dict[str, Any]:
    """One Python thread per client (its own token, leads and keep-alive connection)."""
    out: dict[str, list[float]] = {"latency": [], "server": []}
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(tokens))
    threads = [
        threading.Thread(target=_client, args=(port, url, tokens[i], ids, barrier, out, errors, lock))
        for i, ids in enumerate(id_lists)
    ]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    lat, srv = out["latency"], out["server"]
    return {
        "p50": _pct(lat, 50),
        "p95": _pct(lat, 95),
        "max": max(lat or [0.0]),
        "server_p50": _pct(srv, 50),
        "server_p95": _pct(srv, 95),
        "requests": len(lat),
        "errors": len(errors),
        "seconds": elapsed,
        "per_second": len(lat) / elapsed if elapsed else 0.0,
        "sample_error": errors[0] if errors else "",
    }


def _wrk_claims(
    port: int, url: str, tokens: list[str], id_lists: list[list[int]], duration: int
) -> dict[str, Any]:
    """The claims sent by `wrk` (C, one thread and connection per client) instead of Python
    threads: the client then costs next to nothing of the two cores it shares with the server.
    Latency is wrk's: from writing a request to reading its whole answer."""
    import subprocess
    import tempfile

    def lua_list(values: list[Any]) -> str:
        return "{" + ",".join(json.dumps(v) for v in values) + "}"

    script = _WRK_SCRIPT % {
        "tokens": lua_list(tokens),
        "ids": "{" + ",".join(lua_list(ids) for ids in id_lists) + "}",
        "url": url,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
        path = f.name
    n = len(tokens)
    out = subprocess.run(
        [
            "wrk",
            f"-t{n}",
            f"-c{n}",
            f"-d{duration}s",
            "--timeout",
            "30s",
            "-s",
            path,
            f"http://127.0.0.1:{port}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    ).stdout
    os.unlink(path)
    line = next((x for x in out.splitlines() if x.startswith("WRKRESULT ")), "")
    if not line:
        raise SystemExit(f"wrk gave no result:\n{out}")
    p50, p95, worst, requests, errors, seconds = line.split()[1:]
    sample = next((x[9:] for x in out.splitlines() if x.startswith("WRKERROR ")), "")
    return {
        "p50": float(p50),
        "p95": float(p95),
        "max": float(worst),
        "requests": int(requests),
        "errors": int(errors),
        "seconds": float(seconds),
        "per_second": int(requests) / float(seconds) if float(seconds) else 0.0,
        "sample_error": sample,
    }


def _in_process(pool_id: int, token: str, ids: list[int], args: Any, *, bare: bool = False) -> int:
    """Claims one at a time through the whole Django stack in this process: CPU ms and statements
    per claim (the first `--warmup` claims not counted). `bare`: through the bare reference view
    (bench/bare.py `pool_claim`) instead of Kehu's API."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    settings.ALLOWED_HOSTS = ["*"]
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    url = _url(pool_id, bare=bare)
    statements: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(sql)
        return execute(sql, params, many, context)

    cpu: list[float] = []
    queries: list[int] = []
    profiler = cProfile.Profile() if args.profile and not bare else None
    with connection.execute_wrapper(count):
        for i, pk in enumerate(ids[: args.warmup + args.in_process]):
            statements.clear()
            if profiler is not None and i == args.warmup:
                profiler.enable()
            t0 = time.process_time()
            response = client.post(url, json.dumps({"ids": [pk]}), content_type="application/json")
            spent = (time.process_time() - t0) * 1000
            if response.status_code != 200:
                print(f"claim of {pk}: {response.status_code} {response.content[:200]!r}")
                return 1
            if i >= args.warmup:
                cpu.append(spent)
                queries.append(len(statements))
    if args.show_sql:
        for sql in statements:
            print("   ", sql[:220])
    if profiler is not None:
        profiler.disable()
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.profile)
    print(
        f"\nIn process, {connection.vendor}, {'bare reference' if bare else 'Kehu'}: {len(cpu)} claims "
        f"(one lead each): CPU per claim "
        f"p50 {_pct(cpu, 50):.1f} ms, p95 {_pct(cpu, 95):.1f} ms; SQL statements per claim "
        f"{min(queries)}–{max(queries)} (BEGIN/COMMIT not counted)"
    )
    return 0


def _url(pool_id: int, *, bare: bool = False) -> str:
    return f"/bench/bare/pools/{pool_id}/claim/" if bare else f"/api/v1/sales/pools/{pool_id}/claim/"


def _halves(id_lists: list[list[int]], bare: bool) -> list[list[int]]:
    """Kehu claims the first half of each client's leads, the bare reference the second half."""
    return [ids[len(ids) // 2 :] if bare else ids[: len(ids) // 2] for ids in id_lists]


def main(argv: list[str] | None = None) -> int:
    from bench import datagen

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=2000, help="dataset size (the org; default 2,000)")
    parser.add_argument("--leads", type=int, default=50_000, help="leads in the pool (default 50,000)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--claims", type=int, default=100, help="claims per client (default 100)")
    parser.add_argument("--warmup", type=int, default=5, help="claims per client before measuring")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (default 4)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    parser.add_argument(
        "--in-process",
        type=int,
        default=0,
        metavar="N",
        help="instead of the HTTP run: N claims one after another in this process (Django's test "
        "client, one rep), reporting the CPU time and the SQL statements per claim (a loaded "
        "machine inflates wall-clock times, not these)",
    )
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="with --in-process: the top N functions"
    )
    parser.add_argument("--sort", default="cumulative", help="with --profile: pstats sort key")
    parser.add_argument("--show-sql", action="store_true", help="with --in-process: the last claim's SQL")
    parser.add_argument(
        "--client",
        choices=("python", "wrk"),
        default="python",
        help="python: a thread per client with http.client (claims counted); wrk: wrk's threads "
        "(a Lua script, --duration seconds; the client takes almost no CPU from the server)",
    )
    parser.add_argument("--duration", type=int, default=10, help="with --client wrk: seconds")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measured rounds; Kehu and the bare reference take turns (ABBA…), each round on new leads",
    )
    parser.add_argument(
        "--no-bare",
        action="store_true",
        help="without the bare reference (bench/bare.py `pool_claim`: the same claim in plain "
        "Django and SQL, run after Kehu's on the other half of each client's leads)",
    )
    add_database_arguments(parser)
    args = parser.parse_args(argv)

    setup_django(args)
    from django.db import connection

    from kehu.users.services import api_token_create

    datagen.ensure_dataset(accounts=args.accounts, contacts_per_account=1, seed=datagen.DEFAULT_SEED)
    pool_id, reps, id_lists = prepare(clients=args.clients, leads=args.leads)
    need = args.claims * max(1, args.rounds) + args.warmup
    paths = [("Kehu", False)] if args.no_bare else [("Kehu", False), ("bare", True)]
    if any(len(ids) // len(paths) < need for ids in id_lists):
        raise SystemExit(
            f"not enough leads in the pool: raise --leads to {need * args.clients * len(paths):,} or more"
        )
    if args.in_process:
        token = api_token_create(user=reps[0], name="bench pool claims")[1]
        for _label, bare in paths:
            ids = _halves(id_lists, bare)[0] if len(paths) > 1 else id_lists[0]
            if _in_process(pool_id, token, ids, args, bare=bare):
                return 1
        return 0
    tokens = [api_token_create(user=rep, name="bench pool claims")[1] for rep in reps]
    vendor = connection.vendor
    connection.close()

    env = dict(os.environ, DJANGO_SETTINGS_MODULE="bench.settings")
    port = _free_port()
    proc = _start_gunicorn(port, args.workers, env)
    rounds = max(1, args.rounds)
    results: dict[str, list[dict[str, Any]]] = {label: [] for label, _bare in paths}
    try:
        # the workers answer (not only the master's socket) before the clock starts
        for _ in range(args.workers * 2):
            ready = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            ready.request("GET", "/accounts/login/", headers={"Host": "localhost"})
            ready.getresponse().read()
            ready.close()
        for _label, bare in paths:  # warm-up on each client's first leads
            lists = _halves(id_lists, bare) if len(paths) > 1 else id_lists
            warm = [ids[: args.warmup] for ids in lists]
            if args.client == "wrk":
                _wrk_claims(port, _url(pool_id, bare=bare), tokens, warm, 2)
            else:
                _python_claims(port, _url(pool_id, bare=bare), tokens, warm)
        for turn in range(rounds):
            # Kehu and the bare reference take turns (ABBA…): the same background load for both
            for label, bare in paths if turn % 2 == 0 else paths[::-1]:
                lists = _halves(id_lists, bare) if len(paths) > 1 else id_lists
                part = [
                    ids[args.warmup :][turn * (len(ids) - args.warmup) // rounds :][
                        : (len(ids) - args.warmup) // rounds
                    ]
                    for ids in lists
                ]
                url = _url(pool_id, bare=bare)
                if args.client == "wrk":
                    results[label].append(_wrk_claims(port, url, tokens, part, args.duration))
                else:
                    results[label].append(
                        _python_claims(port, url, tokens, [ids[: args.claims] for ids in part])
                    )
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    kehu_rounds = results["Kehu"]
    kehu = kehu_rounds[0]
    met = all(r["p95"] <= 100.0 and not r["errors"] for r in kehu_rounds)
    how = (
        f"{args.clients} clients for {args.duration} s (wrk)"
        if args.client == "wrk"
        else f"{args.clients} clients × {args.claims} claims (Python threads)"
    )
    print(
        f"\nPool claims over HTTP — {vendor}, {args.leads:,} leads in the pool, {how}, one lead per "
        f"claim, gunicorn {args.workers} sync workers, {rounds} round(s); load average "
        f"{os.getloadavg()[0]:.1f}\n"
    )
    print(
        f"{'path':10} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'server p50/p95':>15} "
        f"{'claims':>7} {'claims/s':>9} {'errors':>7}"
    )
    for turn in range(rounds):
        for label, runs in results.items():
            r = runs[turn]
            server = f"{r['server_p50']:.1f}/{r['server_p95']:.1f}" if "server_p50" in r else "–"
            name = label if rounds == 1 else f"{label} r{turn + 1}"
            print(
                f"{name:10} {r['p50']:8.1f} {r['p95']:8.1f} {r['max']:8.1f} {server:>15} "
                f"{r['requests']:7d} {r['per_second']:9.1f} {r['errors']:7d}"
            )
            if r.get("sample_error"):
                print("  ", r["sample_error"])
    rate = {
        label: sum(r["requests"] for r in runs) / (sum(r["seconds"] for r in runs) or 1)
        for label, runs in results.items()
    }
    if rate.get("bare"):
        share = rate["Kehu"] / rate["bare"]
        print(
            f"\nclaims/s over all rounds: Kehu {rate['Kehu']:.1f}, bare {rate['bare']:.1f}: Kehu's "
            f"throughput is {share:.0%} of the bare reference's ({1 / share:.1f}× slower)"
        )
    print(f"target p95 <= 100 ms, 0 errors: {'met' if met else 'MISSED'}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "client": args.client,
                    "vendor": vendor,
                    "leads": args.leads,
                    "clients": args.clients,
                    "workers": args.workers,
                    **kehu,
                    "rounds": rounds,
                    "paths": results,
                },
                indent=2,
            )
        )
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
