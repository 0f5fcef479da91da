"""The ticket FilterSet, the bulk actions, the export and the global search of tickets."""

from __future__ import annotations

import csv
import datetime as dt
import io
from types import SimpleNamespace
from typing import Any

import pytest
from django.http import QueryDict
from django.utils import timezone

from kehu.core import exports
from kehu.core.bulk import bulk_start
from kehu.core.choices import JobStatus
from kehu.customers.tests.factories import AccountFactory
from kehu.service.choices import TicketChannel, TicketPriority
from kehu.service.filtersets_tickets import TicketFilterSet
from kehu.service.hooks.ticket_lists import ticket_search
from kehu.service.models import Ticket, TicketCategory, TicketWatcher
from kehu.service.tests.factories import TicketFactory, queue_with, status, ticket_type
from kehu.tags.tests.factories import TagFactory

pytestmark = pytest.mark.django_db


def _filter(user: Any, query: str) -> set[str]:
    request = SimpleNamespace(user=user, GET=QueryDict(query))
    fs = TicketFilterSet(QueryDict(query), queryset=Ticket.objects.restrict(user, "view"), request=request)
    assert fs.is_valid(), fs.errors
    return set(fs.qs.values_list("subject", flat=True))


def test_filters(tickets_granted: Any) -> None:
    c = tickets_granted
    now = timezone.now()
    acc: Any = AccountFactory(name="华为技术", owner=c.rep1)
    parent = TicketCategory.objects.create(name="硬件")
    child = TicketCategory.objects.create(name="打印机", parent=parent)
    queue = queue_with(c.rep1)
    TicketFactory(
        subject="打印机卡纸",
        assignee=c.rep1,
        account=acc,
        category=child,
        priority=TicketPriority.URGENT,
        channel=TicketChannel.EMAIL,
        requester_email="li@example.com",
        resolution_breached=True,
        queue=queue,
    )
    TicketFactory(
        subject="快到期",
        assignee=c.rep2,
        status=status("in_progress"),
        sla_next_check=now + dt.timedelta(minutes=30),
        type=ticket_type("complaint"),
    )
    TicketFactory(
        subject="已解决",
        assignee=c.rep1,
        status=status("resolved"),
        resolved_at=now - dt.timedelta(days=3),
        created_at=now - dt.timedelta(days=10),
    )
    unassigned: Any = TicketFactory(subject="无人处理")
    TicketWatcher.objects.create(ticket=unassigned, user=c.viewer_all)
    v = c.viewer_all
    assert _filter(v, "open=true") == {"打印机卡纸", "快到期", "无人处理"}
    assert _filter(v, "open=false") == {"已解决"}
    assert _filter(v, "assignee=unassigned") == {"无人处理"}
    assert _filter(c.rep1, "assignee=me") == {"打印机卡纸", "已解决"}
    assert _filter(v, f"assignee={c.rep2.pk}&assignee=unassigned") == {"快到期", "无人处理"}
    assert _filter(v, "sla=breached") == {"打印机卡纸"}
    assert _filter(v, "sla=due_soon") == {"快到期"}
    assert _filter(v, f"category={parent.pk}") == {"打印机卡纸"}
    assert _filter(v, f"queue={queue.pk}") == {"打印机卡纸"}
    assert _filter(v, f"account={acc.pk}") == {"打印机卡纸"}
    assert _filter(v, f"priority={TicketPriority.URGENT}") == {"打印机卡纸"}
    assert _filter(v, "channel=email") == {"打印机卡纸"}
    assert _filter(v, f"type={ticket_type('complaint').pk}") == {"快到期"}
    assert _filter(v, f"status={status('resolved').pk}") == {"已解决"}
    assert _filter(v, "state=in_progress") == {"快到期"}
    assert _filter(v, "watched=true") == {"无人处理"}
    today = timezone.localdate()
    assert _filter(v, f"created_before={today - dt.timedelta(days=5)}") == {"已解决"}
    assert _filter(v, f"resolved_after={today - dt.timedelta(days=4)}") == {"已解决"}
    # quick search: words, e-mail, account name, the number or its tail
    assert _filter(v, "q=卡纸") == {"打印机卡纸"}
    assert _filter(v, "q=li@example") == {"打印机卡纸"}
    assert _filter(v, "q=华为") == {"打印机卡纸"}
    number = Ticket.objects.get(subject="快到期").number
    assert _filter(v, f"q={number}") == {"快到期"}
    assert _filter(v, f"q={number.lower()}") == {"快到期"}
    # the scope still applies
    assert _filter(c.rep2, "q=卡纸") == set()


def test_tags_filter(tickets_granted: Any) -> None:
    from kehu.tags.services import tags_add

    c = tickets_granted
    hot: Any = TagFactory(name="紧急客户")
    tagged: Any = TicketFactory(subject="tagged", assignee=c.rep1)
    TicketFactory(subject="plain", assignee=c.rep1)
    tags_add(model=Ticket, ids=[tagged.pk], tags=[hot], by=c.rep1)
    assert _filter(c.rep1, f"tags={hot.pk}") == {"tagged"}
    assert _filter(c.rep1, "tags=none") == {"plain"}


def test_invalid_filters_are_errors_not_crashes(tickets_granted: Any) -> None:
    c = tickets_granted
    for query in ("created_after=x", "priority=9", "sla=later", "queue=abc", "assignee=nobody"):
        fs = TicketFilterSet(
            QueryDict(query), queryset=Ticket.objects.all(), request=SimpleNamespace(user=c.rep1)
        )
        assert not fs.is_valid(), query


def test_bulk_assign_move_and_tags(tickets_granted: Any) -> None:
    c = tickets_granted
    mine: list[Any] = [TicketFactory(assignee=c.rep1, status=status("assigned")) for _ in range(2)]
    theirs: Any = TicketFactory(assignee=c.rep3)
    closed: Any = TicketFactory(assignee=c.rep1, status=status("closed"))
    ids = [t.pk for t in [*mine, theirs, closed]]
    outcome = bulk_start(
        user=c.rep1,
        model=Ticket,
        action_key="move_status",
        ids=ids,
        params={"status": str(status("waiting").pk)},
    )
    result = outcome.result
    assert result is not None
    assert (result.done, result.skipped, result.failed_count) == (2, 1, 1)
    assert result.failed[0]["id"] == closed.pk
    assert {t.state for t in Ticket.objects.filter(pk__in=[m.pk for m in mine])} == {"waiting"}
    assert Ticket.objects.get(pk=closed.pk).state == "closed"
    # reps may not assign to someone else: refused per row with the reason
    outcome = bulk_start(
        user=c.manager1,
        model=Ticket,
        action_key="assign",
        ids=[mine[0].pk, theirs.pk],
        params={"assignee": c.rep2.pk},
    )
    assert outcome.result is not None and (outcome.result.done, outcome.result.skipped) == (1, 1)
    assert Ticket.objects.get(pk=mine[0].pk).assignee == c.rep2
    outcome = bulk_start(
        user=c.rep1, model=Ticket, action_key="assign", ids=[mine[1].pk], params={"assignee": c.rep2.pk}
    )
    assert outcome.result is not None and outcome.result.failed_count == 1
    assert Ticket.objects.get(pk=mine[1].pk).assignee == c.rep1
    hot: Any = TagFactory(name="vip")
    outcome = bulk_start(user=c.rep1, model=Ticket, action_key="tags_add", ids=ids, params={"tags": [hot.pk]})
    assert outcome.result is not None and (outcome.result.done, outcome.result.skipped) == (2, 2)


def test_export_follows_scope_and_filters(
    tickets_granted: Any, django_capture_on_commit_callbacks: Any
) -> None:
    c = tickets_granted
    TicketFactory(subject="导出一", assignee=c.rep1)
    TicketFactory(subject="导出二", assignee=c.rep2, status=status("resolved"))
    TicketFactory(subject="别人的", assignee=c.rep3)
    with django_capture_on_commit_callbacks(execute=True):
        job = exports.export_start(
            user=c.manager1, exporter="service.ticket", params={"open": "true"}, fmt="csv"
        )
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    rows = list(csv.reader(io.StringIO(job.result_file.read().decode("utf-8-sig"))))
    subjects = [r[2] for r in rows[1:]]
    assert subjects == ["导出一"]


def test_global_search_finds_tickets_in_scope(tickets_granted: Any) -> None:
    from kehu.service.services import tickets as services

    c = tickets_granted
    mine = services.ticket_create(
        by=c.rep1, data={"subject": "投影仪无法开机", "requester_email": "zhang@example.com"}
    )
    services.ticket_create(by=c.rep3, data={"subject": "投影仪闪烁"})
    hits = ticket_search(c.rep1, "投影仪", 10)
    assert [h.pk for h in hits] == [mine.pk]
    hits = ticket_search(c.rep1, mine.number, 10)
    assert [h.pk for h in hits] == [mine.pk] and mine.number in hits[0].title
    assert ticket_search(c.rep1, "zhang@example.com", 10)[0].pk == mine.pk
    assert ticket_search(c.nobody, "投影仪", 10) == []
    assert len(ticket_search(c.viewer_all, "投影仪", 10)) == 2
