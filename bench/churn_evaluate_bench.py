"""Churn warning (issue 8): `kehu.service.services.churn.churn_evaluate` over N accounts (100k by
default) with the four rules active, beside the bare grouped queries in the same run.

    .venv/bin/python bench/churn_evaluate_bench.py
    .venv/bin/python bench/churn_evaluate_bench.py --accounts 100000 --database-url postgres://postgres@127.0.0.1:5432/kehu_bench_churn

The data (made once, kept while the account count matches): N accounts owned by 50 reps (who may
see their accounts and have tasks), one order per account (5 % of them older than 90 days), 2 %
of the accounts with 3 complaints in the last 30 days, and an NPS and a CSAT answer for 10 % of
the accounts (a tenth of them detractors / low ratings). Each run flags ≈ 8 % of the accounts
(a new flag: a follow-up task through the activities service, a notification and a timeline event
each), then the flags, tasks and notifications are removed for the next run.

Measured here (SQLite, 2 cores shared with a test run, 24 Nov 2026): the four signal queries 0.84 s;
the daily steady state (the rules find nothing new) 0.76 s; a first evaluation that flags 7,918
accounts 285 s, i.e. 36 ms per new flag, nearly all of it the follow-up task through
`activities.services.task_create` (permissions, validation, reminders, its audit row and
timeline event); the flags themselves are written in bulk.

The reference: the same four grouped queries alone (the signal reads), which is what the set-based
evaluation costs without the per-flag follow-up.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import add_database_arguments, setup_django  # noqa: E402

NOW = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)
TAG = "bench-churn"


def log(message: str) -> None:
    print(message, flush=True)


def seed(n: int) -> None:
    from django.db import transaction

    from kehu.commerce.models import Order, OrderStatus
    from kehu.customers.models import Account
    from kehu.service.choices import ChurnSignal
    from kehu.service.models import ChurnRule, Survey, SurveyResponse, Ticket, TicketStatus, TicketType
    from kehu.users.models import Department, Role, RolePermission, User

    have = Account.objects.filter(name__startswith=TAG).count()
    if have == n:
        log(f"Using the {have:,} accounts already in the database.")
        return
    log(f"Creating {n:,} accounts …")
    rng = random.Random(11)
    with transaction.atomic():
        dept = Department.objects.create(name=f"{TAG} 销售部")
        role = Role.objects.create(name=f"{TAG} rep", code=f"{TAG}-rep")
        for model, actions in (("customers.account", ("view",)), ("activities.task", ("view", "add"))):
            for action in actions:
                RolePermission.objects.create(role=role, model=model, action=action, scope="own")
        reps = []
        for i in range(50):
            user = User.objects.create(username=f"{TAG}-rep{i}", department=dept, is_active=True)
            user.roles.add(role)
            reps.append(user)
        rows = [Account(name=f"{TAG} 客户 {i:06d}", owner=reps[i % 50], department=dept) for i in range(n)]
        Account.objects.bulk_create(rows, batch_size=2000)
        ids = list(Account.objects.filter(name__startswith=TAG).values_list("pk", flat=True))
        open_status = OrderStatus.objects.filter(kind="open").first() or OrderStatus.objects.first()
        orders = []
        for i, pk in enumerate(ids):
            old = rng.random() < 0.05
            day = NOW.date() - dt.timedelta(days=rng.randint(120, 300) if old else rng.randint(1, 80))
            orders.append(
                Order(
                    number=f"{TAG}-{i:07d}",
                    account_id=pk,
                    status=open_status,
                    ordered_on=day,
                    owner=reps[i % 50],
                    department=dept,
                )
            )
        Order.objects.bulk_create(orders, batch_size=2000)
        complaint = TicketType.objects.get(code="complaint")
        new = TicketStatus.objects.get(code="new")
        tickets = []
        for pk in rng.sample(ids, n // 50):
            for k in range(3):
                tickets.append(
                    Ticket(
                        number=f"{TAG}-{pk}-{k}",
                        subject="投诉",
                        type=complaint,
                        status=new,
                        state="new",
                        account_id=pk,
                    )
                )
        Ticket.objects.bulk_create(tickets, batch_size=2000)
        Ticket.objects.filter(number__startswith=TAG).update(created_at=NOW - dt.timedelta(days=3))
        nps = Survey.objects.create(kind="nps", name=f"{TAG} NPS")
        csat = Survey.objects.get(kind="csat", send_on_resolve=True)
        answers = []
        for pk in rng.sample(ids, n // 10):
            bad = rng.random() < 0.1
            at = NOW - dt.timedelta(days=rng.randint(1, 25))
            answers.append(
                SurveyResponse(
                    survey=nps,
                    kind="nps",
                    account_id=pk,
                    score=rng.randint(0, 5) if bad else 9,
                    created_at=at,
                )
            )
            answers.append(
                SurveyResponse(survey=csat, kind="csat", account_id=pk, score=1 if bad else 5, created_at=at)
            )
        SurveyResponse.objects.bulk_create(answers, batch_size=2000)
        ChurnRule.objects.all().delete()
        for signal, threshold, window in (
            (ChurnSignal.NO_ORDER, 90, 30),
            (ChurnSignal.NPS_DETRACTOR, 6, 30),
            (ChurnSignal.COMPLAINTS, 2, 30),
            (ChurnSignal.LOW_CSAT, 2, 30),
        ):
            ChurnRule.objects.create(
                name=f"{TAG} {signal}", signal=signal, threshold=threshold, window_days=window
            )
    log("Seeded.")


def reset() -> None:
    from kehu.activities.models import Task
    from kehu.audit.models import TimelineEvent
    from kehu.notifications.models import Notification
    from kehu.service.models import AccountRisk

    Task.objects.filter(title__startswith="Churn warning").delete()
    Task.objects.filter(title__startswith="流失预警").delete()
    Notification.objects.filter(kind="service.account_at_risk").delete()
    TimelineEvent.objects.filter(event__startswith="account.at_risk").delete()
    AccountRisk.objects.all().delete()


def reference() -> float:
    from kehu.service.models import ChurnRule
    from kehu.service.services.churn import rule_signal

    start = time.perf_counter()
    for rule in ChurnRule.objects.filter(is_active=True):
        rule_signal(rule, now=NOW)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    add_database_arguments(parser)
    args = parser.parse_args()
    setup_django(args)
    from django.core import mail

    from kehu.service.services.churn import churn_evaluate

    mail.outbox = []
    seed(args.accounts)
    times, refs = [], []
    counts: dict[str, int] = {}
    for _ in range(args.repeat):
        reset()
        refs.append(reference())
        log(f"signal queries: {refs[-1]:.2f} s")
        start = time.perf_counter()
        counts = churn_evaluate(now=NOW)
        times.append(time.perf_counter() - start)
        log(f"churn_evaluate: {times[-1]:.2f} s ({counts})")
        start = time.perf_counter()
        again = churn_evaluate(now=NOW + dt.timedelta(hours=1))  # nothing new: the daily steady state
        rerun = time.perf_counter() - start
        assert again["flagged"] == 0, again
    log(f"accounts: {args.accounts:,}; flagged {counts['flagged']:,}, tasks {counts['tasks']:,}")
    each = ", ".join(f"{t:.2f}" for t in times)
    log(f"churn_evaluate (new flags):  median {statistics.median(times):.2f} s  ({each})")
    log(f"churn_evaluate (re-run):     {rerun:.2f} s")
    log(f"signal queries (reference):  median {statistics.median(refs):.2f} s")
    reset()


if __name__ == "__main__":
    main()
