"""Two SLA sweeps at once on PostgreSQL (real transactions, SKIP LOCKED): every breach is written
and escalated exactly once."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from kehu.service.models import SLAEvent, Ticket
from kehu.service.services import sla

from .factories import office, queue_with
from .factories_sla import at, policy, ticket_at

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="SKIP LOCKED needs PostgreSQL"),
]


def _seed_defaults() -> None:
    """A transactional test starts from tables an earlier one flushed: put back the default
    statuses and types that migration 0003 seeds."""
    from importlib import import_module

    from django.apps import apps

    import_module("kehu.service.migrations.0003_ticket_defaults").seed(apps, None)


def _breaching_setup(company: Any, count: int) -> tuple[Any, Any]:
    _seed_defaults()
    office(company.admin)
    escalation = queue_with(manager=company.director)
    policy(
        first_response_minutes=30, resolution_minutes=None, escalate_to_queue=escalation, raise_priority_to=4
    )
    queue = queue_with(manager=company.manager1)
    tickets = [ticket_at(at(2, 10), queue=queue) for _ in range(count)]
    return escalation, tickets


def test_overlapping_sweeps_escalate_each_ticket_once(company: Any) -> None:
    escalation, _tickets = _breaching_setup(company, 300)
    start = threading.Barrier(2)
    results: list[Any] = []

    def run() -> None:
        try:
            start.wait()
            results.append(sla.sla_sweep(now=at(2, 12), batch_size=50))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.breaches for r in results) == 300
    assert SLAEvent.objects.filter(kind="breach").count() == 300
    assert set(Ticket.objects.values_list("escalation_level", flat=True)) == {1}
    assert not Ticket.objects.exclude(queue=escalation).exists()


def test_forked_sweep_does_both_halves_once(company: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """From PARALLEL_MIN due tickets a forked child sweeps half: every ticket escalated once,
    the counts of both halves added up, the notifications sent once by the parent."""
    from kehu.notifications.models import Notification

    escalation, _tickets = _breaching_setup(company, 120)
    monkeypatch.setattr(sla, "PARALLEL_MIN", 10)
    forks: list[int] = []
    real_fork = sla.run_split

    def counting(*args: Any, **kwargs: Any) -> Any:
        forks.append(1)
        return real_fork(*args, **kwargs)

    monkeypatch.setattr(sla, "run_split", counting)
    result = sla.sla_sweep(now=at(2, 12), batch_size=25)
    assert forks == [1]
    assert (result.checked, result.breaches) == (120, 120)
    assert SLAEvent.objects.filter(kind="breach").count() == 120
    assert set(Ticket.objects.values_list("escalation_level", flat=True)) == {1}
    assert not Ticket.objects.exclude(queue=escalation).exists()
    # (120 breaches for the escalation queue's manager: past DIGEST_AFTER, one summary)
    assert Notification.objects.filter(recipient=company.director, kind=sla.BREACH_KIND).count() == 1
    assert result.notifications == Notification.objects.filter(kind=sla.BREACH_KIND).count()
    assert sla.sla_sweep(now=at(2, 12)).checked == 0


def test_forked_sweep_redoes_a_failed_childs_half(company: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    _breaching_setup(company, 40)
    monkeypatch.setattr(sla, "PARALLEL_MIN", 10)
    parent = os.getpid()
    real = sla._sweep_ids

    def failing_in_child(*args: Any, **kwargs: Any) -> Any:
        if os.getpid() != parent:
            raise RuntimeError("the child dies")
        return real(*args, **kwargs)

    monkeypatch.setattr(sla, "_sweep_ids", failing_in_child)
    result = sla.sla_sweep(now=at(2, 12), batch_size=10)
    assert (result.checked, result.breaches) == (40, 40)
    assert SLAEvent.objects.filter(kind="breach").count() == 40


def test_sweep_escalation_moves_the_version(company: Any) -> None:
    """An edit form opened before the sweep escalated the ticket cannot put the old priority and
    queue back: the escalation moved the version."""
    from kehu.core.errors import StaleObjectError
    from kehu.service.services.tickets import ticket_update

    escalation, (ticket,) = _breaching_setup(company, 1)
    opened = Ticket.objects.get(pk=ticket.pk).version
    sla.sla_sweep(now=at(2, 12))
    after = Ticket.objects.get(pk=ticket.pk)
    assert after.version == opened + 1
    assert (after.priority, after.queue_id) == (4, escalation.pk)
    with pytest.raises(StaleObjectError):
        ticket_update(ticket=after, by=company.admin, data={"priority": 2}, version=opened)
    assert Ticket.objects.get(pk=ticket.pk).priority == 4
