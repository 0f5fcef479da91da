"""Receivables aging (issue 7): `kehu.commerce.selectors.receivables.aging` over N instalments (100k
by default) and the payments that partly paid them, beside the same grouped query in bare SQL
through the same connection. Target: <= 1 s on PostgreSQL at 100k instalments.

    .venv/bin/python bench/receivables_bench.py --database-url postgres://postgres@127.0.0.1:5432/kehu_bench_receivables
    .venv/bin/python bench/receivables_bench.py --instalments 100000 --repeat 10

The data (made once, kept while the instalment count matches): 2,000 accounts owned by 40 reps in
8 departments, one contract and one payment plan per 10 instalments, due dates spread over the
last 400 days and the next 120, CNY with ~10 % USD (one USD rate), a third of the instalments
partly or fully paid (one payment row each). Measured: aging as an administrator (all rows) grouped
by account and by currency, as a department manager (one department's rows), and the drill-down of
one bucket (first page of 50); each beside the bare SQL of the same aggregate.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import add_database_arguments, setup_django  # noqa: E402

AS_OF = dt.date(2026, 6, 30)
TAG = "bench-receivables"


def log(message: str) -> None:
    print(message, flush=True)


def _seed(instalments: int) -> None:
    from django.db import transaction

    from kehu.catalog.models import Currency, ExchangeRate
    from kehu.commerce.models import Contract, Instalment, Payment, PaymentPlan
    from kehu.customers.models import Account
    from kehu.users.models import Department, User

    have = Instalment.objects.filter(note=TAG).count()
    if have == instalments:
        log(f"Using the {have:,} instalments already in the database.")
        return
    log(f"Creating {instalments:,} instalments …")
    rng = random.Random(7)
    with transaction.atomic():
        Payment.objects.filter(note=TAG).delete()
        Instalment.objects.filter(note=TAG).delete()
        PaymentPlan.objects.filter(contract__name=TAG).delete()
        Contract.objects.filter(name=TAG).delete()
        Currency.objects.update_or_create(code="CNY", defaults={"name": "人民币", "is_company": True})
        usd, _ = Currency.objects.update_or_create(code="USD", defaults={"name": "美元"})
        ExchangeRate.objects.update_or_create(
            currency=usd, valid_on=dt.date(2026, 1, 1), defaults={"rate": "7.1"}
        )
        root, _ = Department.objects.get_or_create(name="bench 应收", parent=None)
        departments = []
        for d in range(8):
            dept = Department.objects.filter(name=f"bench 应收 {d}").first()
            if dept is None:
                from kehu.users.services import department_create

                dept = department_create(name=f"bench 应收 {d}", parent=root, by=None)
            departments.append(dept)
        reps = []
        for r in range(40):
            user, _ = User.objects.get_or_create(
                username=f"bench-ar-{r}", defaults={"department": departments[r % 8]}
            )
            reps.append(user)
        accounts = list(Account.objects.filter(name__startswith="bench 应收客户")[:2000])
        if len(accounts) < 2000:
            Account.objects.bulk_create(
                [
                    Account(
                        name=f"bench 应收客户{i}",
                        owner=reps[i % 40],
                        department_id=reps[i % 40].department_id,
                    )
                    for i in range(len(accounts), 2000)
                ]
            )
            accounts = list(Account.objects.filter(name__startswith="bench 应收客户")[:2000])
        contracts_n = (instalments + 9) // 10
        contracts = Contract.objects.bulk_create(
            [
                Contract(
                    number=f"BENCH-AR-{i:07d}",
                    name=TAG,
                    account=accounts[i % len(accounts)],
                    owner_id=accounts[i % len(accounts)].owner_id,
                    department_id=accounts[i % len(accounts)].department_id,
                    currency="USD" if i % 10 == 0 else "CNY",
                    value=Decimal("100000"),
                )
                for i in range(contracts_n)
            ],
            batch_size=5000,
        )
        plans = PaymentPlan.objects.bulk_create(
            [
                PaymentPlan(
                    contract=c,
                    account_id=c.account_id,
                    owner_id=c.owner_id,
                    department_id=c.department_id,
                    currency=c.currency,
                    total=c.value,
                )
                for c in contracts
            ],
            batch_size=5000,
        )
        rows = []
        for n in range(instalments):
            plan = plans[n // 10]
            amount = Decimal(rng.randrange(1000, 2000000)) / 100
            roll = rng.random()
            received = (
                amount
                if roll < 0.15
                else (amount / 2).quantize(Decimal("0.01"))
                if roll < 0.33
                else Decimal(0)
            )
            rows.append(
                Instalment(
                    plan=plan,
                    account_id=plan.account_id,
                    owner_id=plan.owner_id,
                    department_id=plan.department_id,
                    sequence=n % 10 + 1,
                    due_on=AS_OF + dt.timedelta(days=rng.randrange(-400, 120)),
                    currency=plan.currency,
                    amount=amount,
                    received=received,
                    note=TAG,
                )
            )
        made = Instalment.objects.bulk_create(rows, batch_size=5000)
        Payment.objects.bulk_create(
            [
                Payment(
                    number=f"BENCH-HK-{i.pk}",
                    account_id=i.account_id,
                    plan_id=i.plan_id,
                    instalment_id=i.pk,
                    owner_id=i.owner_id,
                    department_id=i.department_id,
                    currency=i.currency,
                    amount=i.received,
                    applied=i.received,
                    received_on=AS_OF - dt.timedelta(days=1),
                    note=TAG,
                )
                for i in made
                if i.received > 0
            ],
            batch_size=5000,
        )
    log(f"… {instalments:,} instalments, {Payment.objects.filter(note=TAG).count():,} payments.")


def _timed(fn: Callable[[], Any], repeat: int, warmup: int = 2) -> tuple[float, float, float]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    return statistics.median(times), p95, times[-1]


BARE_SQL = """
SELECT {group} ,
  SUM(amount - received) FILTER (WHERE due_on > %s),
  SUM(amount - received) FILTER (WHERE due_on <= %s AND due_on >= %s),
  SUM(amount - received) FILTER (WHERE due_on <= %s AND due_on >= %s),
  SUM(amount - received) FILTER (WHERE due_on <= %s AND due_on >= %s),
  SUM(amount - received) FILTER (WHERE due_on < %s),
  COUNT(*)
FROM commerce_instalment {join}
WHERE amount > received {scope}
GROUP BY {group}
ORDER BY {group}
"""


def _bare(group_by_account: bool, department_id: int | None) -> Callable[[], Any]:
    from django.db import connection

    d = dt.timedelta
    params: list[Any] = [
        AS_OF,
        AS_OF,
        AS_OF - d(days=30),
        AS_OF - d(days=31),
        AS_OF - d(days=60),
        AS_OF - d(days=61),
        AS_OF - d(days=90),
        AS_OF - d(days=90),
    ]
    group = "account_id, currency" if group_by_account else "currency"
    join = ""
    scope = ""
    if department_id is not None:
        scope = "AND commerce_instalment.department_id = %s"
        params.append(department_id)
    sql = BARE_SQL.format(group=group, join=join, scope=scope)
    if connection.vendor != "postgresql":
        sql = sql.replace("FILTER (WHERE", "FILTER (WHERE")  # SQLite >= 3.30 has FILTER too

    def run() -> Any:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_database_arguments(parser)
    parser.add_argument("--instalments", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args(argv)
    setup_django(args)

    from django.db import connection

    from kehu.commerce.choices import AgingBucket
    from kehu.commerce.selectors.receivables import aging, bucket_instalments
    from kehu.core.choices import Scope
    from kehu.users.models import Department, Role, RolePermission, User

    _seed(args.instalments)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # what autovacuum does after a bulk load
            cursor.execute("ANALYZE commerce_instalment; ANALYZE customers_account; ANALYZE commerce_payment")
    admin, _ = User.objects.get_or_create(username="bench-ar-admin", defaults={"is_superuser": True})
    dept = Department.objects.get(name="bench 应收 3")
    manager, _ = User.objects.get_or_create(username="bench-ar-manager", defaults={"department": dept})
    role, _ = Role.objects.get_or_create(code="bench-ar-manager", defaults={"name": "bench AR manager"})
    RolePermission.objects.update_or_create(
        role=role, model="commerce.instalment", action="view", defaults={"scope": Scope.DEPARTMENT}
    )
    manager.roles.add(role)
    admin = User.objects.get(pk=admin.pk)
    manager = User.objects.get(pk=manager.pk)

    log(
        f"\nDatabase: {connection.vendor}; {args.instalments:,} instalments; as of {AS_OF}; "
        f"{args.repeat} timed calls each (median / p95 / max, ms)\n"
    )
    cases: list[tuple[str, Callable[[], Any], Callable[[], Any] | None]] = [
        ("aging, all, by account", lambda: aging(admin, as_of=AS_OF), _bare(True, None)),
        (
            "aging, all, overall (by currency)",
            lambda: aging(admin, as_of=AS_OF, group_by="none"),
            _bare(False, None),
        ),
        ("aging, one department, by account", lambda: aging(manager, as_of=AS_OF), _bare(True, dept.pk)),
        (
            "drill-down, 31–60 days, first 50",
            lambda: list(bucket_instalments(admin, as_of=AS_OF, bucket=AgingBucket.D31_60)[:50]),
            None,
        ),
    ]
    print(f"{'path':<40} {'Kehu':>24} {'bare SQL':>24}")
    for name, fn, bare in cases:
        k = _timed(fn, args.repeat)
        b = _timed(bare, args.repeat) if bare else None
        ks = f"{k[0]:7.1f} / {k[1]:7.1f} / {k[2]:7.1f}"
        bs = f"{b[0]:7.1f} / {b[1]:7.1f} / {b[2]:7.1f}" if b else "—"
        print(f"{name:<40} {ks:>24} {bs:>24}", flush=True)
    result = aging(admin, as_of=AS_OF)
    log(
        f"\nrows: {len(result.rows):,}; total outstanding {result.total:,.2f} {result.company_currency}; "
        f"missing rates: {result.missing_rates or 'none'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
