"""Global search: server time of `kehu.core.search.search` (every provider: accounts and contacts)
for a rep (own scope), a manager (department) and an administrator, by query kind: a Chinese
name, its pinyin, the last 4 digits of a phone number and an e-mail address. Queries are drawn
from the generated rows (half from the user's own records, half from anyone's), so the restricted
join is exercised both ways: a match that is yours and matches that belong to other people."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Any

from bench.harness import Comparison, Context, Target, benchmark, measure

CONTACT = "customers.Contact"
SAMPLES = 40


def _p95_under(ms: float) -> Callable[[Comparison], bool]:
    return lambda c: c.subject.p95 * 1000 < ms


TARGET = Target(
    "global search p95 ≤ 50 ms (PostgreSQL; 1M contacts / 200k accounts)",
    _p95_under(50),
    applies=lambda ctx: ctx.vendor == "postgresql",
)


def _samples(ctx: Context, user: Any) -> dict[str, list[str]]:
    from pypinyin import lazy_pinyin

    from kehu.customers.models import Contact

    rng = random.Random(ctx.seed)
    top = Contact.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    rows: list[tuple[str, str, str]] = []
    own = list(Contact.objects.filter(owner=user).values_list("name", "mobile", "email")[: SAMPLES // 2])
    rows += own
    while len(rows) < SAMPLES and top:
        lo = rng.randint(1, top)
        rows += list(Contact.objects.filter(pk__gte=lo).values_list("name", "mobile", "email")[:1])
    rng.shuffle(rows)
    return {
        "name": [r[0] for r in rows if r[0]],
        "pinyin": ["".join(lazy_pinyin(r[0])) for r in rows if r[0]],
        "phone (last 4)": [r[1][-4:] for r in rows if len(r[1]) >= 4],
        "e-mail": [r[2] for r in rows if r[2]],
    }


@benchmark(
    "search.global",
    "global search (accounts + contacts) by query kind, rep / manager / admin",
    requires=(CONTACT, "url:core:search"),
)
def global_search(ctx: Context) -> Iterable[Comparison]:
    from django.db import connection

    from kehu.core import search
    from kehu.customers.models import Contact

    users = [("rep", ctx.users["rep"]), ("manager", ctx.users["manager"]), ("admin", ctx.users["admin"])]
    for role, user in users:
        samples = _samples(ctx, user)
        for kind, queries in samples.items():
            if not queries:
                continue

            def run(i: int, user: Any = user, queries: list[str] = queries) -> int:
                groups = search.search(user, queries[i % len(queries)], limit=5)
                return sum(len(g.hits) for g in groups)

            subject = measure(f"search() {kind}", run, repeat=ctx.repeat, warmup=ctx.warmup)
            refs = []
            if kind == "name":
                table = connection.ops.quote_name(Contact._meta.db_table)
                sql = f"SELECT id FROM {table} WHERE owner_id = %s AND name = %s LIMIT 5"

                def exact(i: int, user: Any = user, queries: list[str] = queries, sql: str = sql) -> int:
                    with connection.cursor() as cur:
                        cur.execute(sql, [user.pk, queries[i % len(queries)]])
                        return len(cur.fetchall())

                refs.append(
                    measure("raw SQL: exact name, own rows", exact, repeat=ctx.repeat, warmup=ctx.warmup)
                )
            yield Comparison(
                f"global search, {role}, {kind}",
                subject,
                refs,
                note="both providers (accounts, contacts), 5 hits each, rows loaded and masked",
                targets=[TARGET],
            )
