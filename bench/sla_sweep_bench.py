"""The SLA sweep (issue 8): `kehu.service.services.sla.sla_sweep` over N open tickets (100k by
default) whose SLA check has come, beside a bare-SQL reference in the same run. Target: ≤ 10 s.

    .venv/bin/python bench/sla_sweep_bench.py
    .venv/bin/python bench/sla_sweep_bench.py --database-url postgres://postgres@127.0.0.1:5432/kehu_bench_sla

The data (made once, kept while the ticket count matches): an office calendar (Mon–Fri 09:00–12:00
and 13:30–18:00, Asia/Shanghai, the default), 10 queues with a manager each and an escalation
queue, 50 agents, one policy (first response 1 h, resolution 8 h, warn at 80 %, on breach: notify
the manager and one more user, raise the priority to urgent, move to the escalation queue).
Every ticket's `sla_next_check` lies before the sweep's moment (a worst case: after an outage
every open ticket is looked at in one run): 85 % only need their next check recomputed (their
targets are days away), 10 % reach their warning (an event, a system line, a notification to the
assignee) and 5 % breach (an event, escalation, notifications — a summary per manager — a system
line, a timeline event and an operation-log row). The sweep runs at Wednesday 4 March 2026 11:00
(Shanghai); after each run the tickets are put back.

The reference: the sweep's floor in bare SQL through the same connection — read the same columns
of the same rows, and write every ticket's next check with one UPDATE.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import add_database_arguments, setup_django  # noqa: E402

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 3, 4, 11, 0, tzinfo=SH)
TAG = "bench-sla"


def log(message: str) -> None:
    print(message, flush=True)


def seed(n: int) -> None:
    from django.db import transaction

    from kehu.service.models import BusinessCalendar, Queue, SLAPolicy, Ticket, WorkingHours
    from kehu.service.tests.factories import status, ticket_type
    from kehu.users.models import User

    have = Ticket.objects.filter(requester_name=TAG).count()
    if have == n:
        log(f"Using the {have:,} tickets already in the database.")
        return
    log(f"Creating {n:,} tickets …")
    rng = random.Random(8)
    with transaction.atomic():
        Ticket.objects.filter(requester_name=TAG).delete()
        calendar = BusinessCalendar.objects.filter(is_default=True).first()
        if calendar is None:
            calendar = BusinessCalendar.objects.create(
                name="bench 上海", time_zone="Asia/Shanghai", is_default=True
            )
        if not WorkingHours.objects.filter(calendar=calendar).exists():
            WorkingHours.objects.bulk_create(
                WorkingHours(calendar=calendar, weekday=d, start=s, end=e)
                for d in range(5)
                for s, e in ((dt.time(9), dt.time(12)), (dt.time(13, 30), dt.time(18)))
            )
        users = []
        for i in range(60):
            user, _ = User.objects.get_or_create(username=f"bench-sla-{i}")
            users.append(user)
        agents, managers = users[:50], users[50:]
        queues = []
        for i in range(10):
            queue, _ = Queue.objects.get_or_create(
                name=f"bench 服务组 {i}", defaults={"manager": managers[i]}
            )
            queues.append(queue)
        escalation, _ = Queue.objects.get_or_create(name="bench 二线", defaults={"manager": managers[0]})
        SLAPolicy.objects.filter(name=TAG).delete()
        policy = SLAPolicy.objects.create(
            name=TAG,
            first_response_minutes=60,
            resolution_minutes=480,
            warn_percent=80,
            raise_priority_to=4,
            escalate_to_queue=escalation,
            notify_manager=True,
        )
        policy.notify_users.set([managers[9]])
        st, tp = status("in_progress"), ticket_type("request")
        rows = []
        for i in range(n):
            queue = queues[i % 10]
            roll = rng.random()
            if roll < 0.05:  # breached a few minutes ago
                first_due = NOW - dt.timedelta(minutes=rng.randint(1, 50))
            elif roll < 0.15:  # inside the warning window (12 minutes before the due time)
                first_due = NOW + dt.timedelta(minutes=rng.randint(1, 11))
            else:  # days away
                first_due = NOW + dt.timedelta(hours=rng.randint(30, 120))
            assignee = agents[i % 50]
            rows.append(
                Ticket(
                    number=f"BENCH-SLA-{i:07d}",
                    subject=f"bench 工单 {i}",
                    type=tp,
                    status=st,
                    state=st.state,
                    priority=2,
                    queue=queue,
                    assignee=assignee,
                    requester_name=TAG,
                    sla_policy=policy,
                    first_response_due=first_due,
                    resolution_due=first_due + dt.timedelta(days=3),
                    sla_next_check=NOW - dt.timedelta(minutes=1),
                )
            )
            if len(rows) >= 5000:
                Ticket.objects.bulk_create(rows)
                rows = []
        if rows:
            Ticket.objects.bulk_create(rows)


def snapshot() -> list[tuple]:
    """(id, queue, assignee) of every bench ticket as seeded (ticket i: queue i % 10, agent i % 50)."""
    from kehu.service.models import Queue, Ticket
    from kehu.users.models import User

    queues = dict(Queue.objects.filter(name__startswith="bench 服务组 ").values_list("name", "pk"))
    agents = dict(User.objects.filter(username__startswith="bench-sla-").values_list("username", "pk"))
    rows = []
    for pk, number in Ticket.objects.filter(requester_name=TAG).values_list("pk", "number"):
        i = int(number.rsplit("-", 1)[1])
        rows.append((pk, queues[f"bench 服务组 {i % 10}"], agents[f"bench-sla-{i % 50}"], None))
    return rows


def reset(saved: list[tuple]) -> None:
    """Put the tickets back as they were before the sweep."""
    from django.db import connection, transaction

    from kehu.audit.models import ObjectChange, TimelineEvent
    from kehu.notifications.models import Notification
    from kehu.service.models import SLAEvent, Ticket, TicketMessage

    with transaction.atomic():
        tickets = Ticket.objects.filter(requester_name=TAG)
        SLAEvent.objects.filter(ticket__in=tickets).delete()
        TicketMessage.objects.filter(ticket__in=tickets).delete()
        TimelineEvent.objects.filter(event="ticket.escalated").delete()
        ObjectChange.objects.filter(model="service.ticket").delete()
        Notification.objects.filter(kind__startswith="service.sla").delete()
        tickets.update(
            sla_next_check=NOW - dt.timedelta(minutes=1),
            priority=2,
            escalation_level=0,
            escalated_at=None,
            first_response_breached=False,
            resolution_breached=False,
        )
        moved = [(q, a, pk) for pk, q, a, _due in saved]
        with connection.cursor() as cursor:
            cursor.executemany(
                "UPDATE service_ticket SET queue_id = %s, assignee_id = %s WHERE id = %s", moved
            )


def vacuum() -> None:
    """PostgreSQL: reclaim the dead rows of the last reset (autovacuum may be off, as on the
    development server: without this each run updates a table with ~9 dead versions per row)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in ("service_ticket", "service_slaevent", "service_ticketmessage"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def bare(now: dt.datetime) -> tuple[float, int]:
    from django.db import connection, transaction

    from kehu.service.services.sla import SWEEP_FIELDS

    columns = ", ".join(f.replace("_id", "_id") for f in SWEEP_FIELDS)
    cutoff = connection.ops.adapt_datetimefield_value(now)
    later = connection.ops.adapt_datetimefield_value(now + dt.timedelta(hours=1))
    back = connection.ops.adapt_datetimefield_value(now - dt.timedelta(minutes=1))
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM service_ticket WHERE sla_next_check <= %s ORDER BY id", [cutoff]
        )
        count = len(cursor.fetchall())
        cursor.execute(
            "UPDATE service_ticket SET sla_next_check = %s WHERE sla_next_check <= %s", [later, cutoff]
        )
    took = time.perf_counter() - started
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE service_ticket SET sla_next_check = %s WHERE sla_next_check = %s", [back, later]
        )
    return took, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_database_arguments(parser)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    setup_django(args)
    from django.db import connection
    from django.urls import get_resolver

    from kehu.service.services.sla import sla_sweep

    get_resolver().url_patterns  # noqa: B018 (a worker imports the URLconf once, at its first sweep)
    seed(args.tickets)
    saved = snapshot()
    reset(saved)
    vacuum()
    log(f"{connection.vendor}, {len(saved):,} open tickets due for a check at {NOW.isoformat()}")
    sweeps, refs, cpus = [], [], []
    for run in range(args.repeat):
        took, count = bare(NOW)
        refs.append(took)
        vacuum()
        started, cpu = time.perf_counter(), time.process_time()
        result = sla_sweep(now=NOW)
        sweeps.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
        log(
            f"run {run + 1}: sweep {sweeps[-1]:.2f} s, CPU {cpus[-1]:.2f} s (checked {result.checked:,}, "
            f"warnings {result.warnings:,}, breaches {result.breaches:,}, "
            f"notifications {result.notifications:,}); bare SQL {took:.2f} s ({count:,} rows)"
        )
        again = sla_sweep(now=NOW)
        assert again.checked == 0, "a second sweep at the same moment found work"
        reset(saved)
        vacuum()
    log(
        f"sweep: best {min(sweeps):.2f} s, median {statistics.median(sweeps):.2f} s, "
        f"least CPU {min(cpus):.2f} s; "
        f"bare SQL: best {min(refs):.2f} s — ratio {min(sweeps) / min(refs):.1f}×"
    )


if __name__ == "__main__":
    main()
