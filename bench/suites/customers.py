"""Accounts: the list page, restrict(), the detail page and the API list, each beside references
measured in the same run on the same rows (a bare Django view, a bare ORM filter, raw SQL)."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable
from typing import Any

from bench.harness import Comparison, Context, Target, benchmark, measure

ACCOUNT = "customers.Account"
LINK_RE = re.compile(r"/customers/accounts/(\d+)/")


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


def _raw(sql: str, params: list[Any]) -> Callable[[int], int]:
    from django.db import connection

    def run(_: int) -> int:
        with connection.cursor() as cur:
            cur.execute(sql, params)
            return len(cur.fetchall())

    return run


def _table() -> str:
    from django.db import connection

    from kehu.customers.models import Account

    return connection.ops.quote_name(Account._meta.db_table)


def _p95_under(ms: float) -> Callable[[Comparison], bool]:
    return lambda c: c.subject.p95 * 1000 < ms


def _within(factor: float) -> Callable[[Comparison], bool]:
    return lambda c: c.ratio(c.references[0], 95) <= factor


ON_POSTGRES = Target(
    "list page p95 < 300 ms (the target is for 1M accounts on PostgreSQL)",
    _p95_under(300),
    applies=lambda ctx: ctx.vendor == "postgresql",
)


@benchmark(
    "accounts.list",
    "accounts list page for a rep vs a bare Django view vs raw SQL",
    requires=(ACCOUNT, "url:customers:account_list"),
)
def account_list(ctx: Context) -> Iterable[Comparison]:
    from django.urls import reverse

    rep = ctx.users["rep"]
    client = _client(rep)
    url = reverse("customers:account_list")
    page = _get(client, url).content.decode()
    rows = len(set(LINK_RE.findall(page)))
    kehu = measure(
        "Kehu page (restrict, template)", lambda i: _get(client, url), repeat=ctx.repeat, warmup=ctx.warmup
    )
    kehu.rows = rows
    bare_url = reverse("bench_bare_account_list") + f"?limit={rows}"
    bare = measure("bare Django view", lambda i: _get(client, bare_url), repeat=ctx.repeat, warmup=ctx.warmup)
    bare.rows = rows
    sql = f"SELECT * FROM {_table()} WHERE owner_id = %s ORDER BY id DESC LIMIT %s"
    raw = measure("raw SQL (same page)", _raw(sql, [rep.pk, rows]), repeat=ctx.repeat, warmup=ctx.warmup)
    yield Comparison(
        f"accounts list, rep ({_owned(rep):,} own)",
        kehu,
        [bare, raw],
        note="Django test client: full middleware, session and user lookup on every request",
        targets=[ON_POSTGRES],
    )


def _owned(user: Any) -> int:
    from kehu.customers.models import Account

    return Account.objects.filter(owner=user).count()


@benchmark("accounts.restrict", "restrict() for a manager and a rep vs the bare filter", requires=(ACCOUNT,))
def account_restrict(ctx: Context) -> Iterable[Comparison]:
    from kehu.customers.models import Account
    from kehu.users.models import Department

    manager, rep = ctx.users["manager"], ctx.users["rep"]
    dept = manager.department
    subtree = list(Department.objects.filter(path__startswith=dept.path).values_list("pk", flat=True))
    yield from _restrict_case(
        ctx,
        f"restrict(manager, {dept.name} and below)",
        manager,
        lambda: Account.objects.filter(department_id__in=subtree),
    )
    yield from _restrict_case(ctx, "restrict(rep, own)", rep, lambda: Account.objects.filter(owner_id=rep.pk))
    yield _grants_cost(ctx, manager)


def _restrict_case(ctx: Context, label: str, user: Any, bare_qs: Callable[[], Any]) -> Iterable[Comparison]:
    """The query restrict() builds against the filter it stands for. The user's grants are cached
    on the user object (as within one request); their loading is measured by `_grants_cost`."""
    from kehu.customers.models import Account

    target = Target("restrict() within 2× of the bare filter (p95)", _within(2.0))
    page_size = 50

    def s_page(_: int) -> int:
        return len(list(Account.objects.restrict(user, "view").order_by("-id")[:page_size]))

    def b_page(_: int) -> int:
        return len(list(bare_qs().order_by("-id")[:page_size]))

    def s_count(_: int) -> int:
        return int(Account.objects.restrict(user, "view").count())

    def b_count(_: int) -> int:
        return int(bare_qs().count())

    m = ctx.repeat, ctx.warmup
    yield Comparison(
        f"{label}: newest {page_size}",
        measure(f"restrict() page of {page_size}", s_page, repeat=m[0], warmup=m[1]),
        [measure(f"bare filter() page of {page_size}", b_page, repeat=m[0], warmup=m[1])],
        targets=[target],
    )
    yield Comparison(
        f"{label}: count",
        measure("restrict().count()", s_count, repeat=m[0], warmup=m[1]),
        [measure("bare filter().count()", b_count, repeat=m[0], warmup=m[1])],
        targets=[target],
    )


def _grants_cost(ctx: Context, user: Any) -> Comparison:
    """What every request adds once: loading the user's grants (roles, admin flag) for restrict()."""
    from django.db import connection

    from kehu.core.permissions import scope_q
    from kehu.customers.models import Account
    from kehu.users.backends import clear_cache

    def load(_: int) -> None:
        clear_cache(user)
        scope_q(user, Account, "view")

    def one_query(_: int) -> None:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchall()

    return Comparison(
        "loading a user's grants (once per request)",
        measure("scope_q() with an empty cache", load, repeat=ctx.repeat, warmup=ctx.warmup),
        [measure("one trivial query (SELECT 1)", one_query, repeat=ctx.repeat, warmup=ctx.warmup)],
    )


@benchmark(
    "accounts.detail",
    "account detail page vs a bare Django view vs raw SQL",
    requires=(ACCOUNT, "url:customers:account_list"),
)
def account_detail(ctx: Context) -> Iterable[Comparison]:
    from django.db import connection
    from django.urls import reverse

    from kehu.customers.models import Account

    rep = ctx.users["rep"]
    ids = list(Account.objects.filter(owner=rep).values_list("pk", flat=True)[:2000])
    random.Random(ctx.seed).shuffle(ids)
    ids = ids[:100] or [0]
    client = _client(rep)

    def kehu(i: int) -> int:
        _get(client, reverse("customers:account_detail", args=[ids[i % len(ids)]]))
        return 1

    def bare(i: int) -> int:
        _get(client, reverse("bench_bare_account_detail", args=[ids[i % len(ids)]]))
        return 1

    sql = f"SELECT * FROM {_table()} WHERE id = %s"

    def raw(i: int) -> int:
        with connection.cursor() as cur:
            cur.execute(sql, [ids[i % len(ids)]])
            return len(cur.fetchall())

    yield Comparison(
        "account detail, rep (own account)",
        measure("Kehu page (tabs, history, template)", kehu, repeat=ctx.repeat, warmup=ctx.warmup),
        [
            measure("bare Django view", bare, repeat=ctx.repeat, warmup=ctx.warmup),
            measure("raw SQL (the row)", raw, repeat=ctx.repeat, warmup=ctx.warmup),
        ],
    )


@benchmark(
    "accounts.api",
    "API list (keyset pages) for a rep vs raw SQL",
    requires=(ACCOUNT, "path:/api/v1/customers/accounts/"),
)
def account_api(ctx: Context) -> Iterable[Comparison]:
    rep = ctx.users["rep"]
    client = _client(rep)
    url = "/api/v1/customers/accounts/"
    first = _get(client, url).json()
    rows = len(first["results"])
    kehu = measure("API page 1", lambda i: _get(client, url), repeat=ctx.repeat, warmup=ctx.warmup)
    kehu.rows = rows
    sql = f"SELECT * FROM {_table()} WHERE owner_id = %s ORDER BY id DESC LIMIT %s"
    raw = measure("raw SQL (same page)", _raw(sql, [rep.pk, rows + 1]), repeat=ctx.repeat, warmup=ctx.warmup)
    raw.rows = rows
    yield Comparison("API accounts, rep: first page", kehu, [raw])

    # A deep page: follow the cursor 10 pages down, then time that page.
    nxt: str | None = first.get("next")
    last_id = min(r["id"] for r in first["results"]) if first["results"] else 0
    for _ in range(9):
        if not nxt:
            break
        page = _get(client, nxt).json()
        if page["results"]:
            last_id = min(r["id"] for r in page["results"])
        nxt = page.get("next")
    if not nxt:
        return
    deep_url = nxt
    kehu_deep = measure(
        "API page 11 (cursor)", lambda i: _get(client, deep_url), repeat=ctx.repeat, warmup=ctx.warmup
    )
    kehu_deep.rows = rows
    sql_deep = f"SELECT * FROM {_table()} WHERE owner_id = %s AND id < %s ORDER BY id DESC LIMIT %s"
    raw_deep = measure(
        "raw SQL (same page, id < last)",
        _raw(sql_deep, [rep.pk, last_id, rows + 1]),
        repeat=ctx.repeat,
        warmup=ctx.warmup,
    )
    raw_deep.rows = rows
    yield Comparison("API accounts, rep: page 11 (keyset)", kehu_deep, [raw_deep])
