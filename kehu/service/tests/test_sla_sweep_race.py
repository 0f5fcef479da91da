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


def test_overlapping_sweeps_escalate_each_ticket_once(company: Any) -> None:
    _seed_defaults()
    office(company.admin)
    escalation = queue_with(manager=company.director)
    policy(
        first_response_minutes=30, resolution_minutes=None, escalate_to_queue=escalation, raise_priority_to=4
    )
    queue = queue_with(manager=company.manager1)
    for _ in range(300):
        ticket_at(at(2, 10), queue=queue)
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
