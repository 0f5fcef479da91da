"""One e-mail sent to two support mailboxes (CC), fetched by two pollers at once on PostgreSQL (real
transactions and connections): the copies differ in their bytes, so the digest does not match, but
they share the Message-ID; one ticket is created and the other copy is marked a duplicate of it."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from kehu.service.choices import InboundStatus
from kehu.service.models import InboundEmail, Ticket, TicketMessage
from kehu.service.services import mail as svc

from .factories import QueueFactory
from .factories_mail import MailboxFactory, build

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="parallel transactions need PostgreSQL"),
]

ROUNDS = 8


def _seed_defaults() -> None:
    """A transactional test starts from tables an earlier one flushed: put back the default
    statuses, types and the ticket number sequence that migration 0003 seeds."""
    from importlib import import_module

    from django.apps import apps

    import_module("kehu.service.migrations.0003_ticket_defaults").seed(apps, None)


def test_a_copy_in_each_of_two_mailboxes_processed_at_once_makes_one_ticket() -> None:
    _seed_defaults()
    boxes = [
        MailboxFactory.create(queue=QueueFactory(), email="support@kehu.test"),
        MailboxFactory.create(queue=QueueFactory(), email="sales@kehu.test"),
    ]
    copies = []
    for n in range(ROUNDS):
        message = build(
            to="support@kehu.test", message_id=f"cc-{n}@example.cn", headers={"Cc": "sales@kehu.test"}
        )
        copies.append([f"Delivered-To: {box.email}\r\n".encode() + message for box in boxes])
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def poller(which: int) -> None:
        try:
            for n in range(ROUNDS):
                start.wait()
                svc.inbound_email_receive(raw=copies[n][which], mailbox=boxes[which])
        except BaseException as exc:  # reported below: a failed thread must fail the test
            errors.append(exc)
            start.abort()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=poller, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert InboundEmail.objects.count() == 2 * ROUNDS
    assert Ticket.objects.count() == ROUNDS
    assert TicketMessage.objects.count() == ROUNDS
    for n in range(ROUNDS):
        rows = InboundEmail.objects.filter(message_id=f"cc-{n}@example.cn")
        assert sorted(rows.values_list("status", flat=True)) == sorted(
            [InboundStatus.CREATED, InboundStatus.THREADED]
        )
        assert rows.get(status=InboundStatus.THREADED).reason == svc.REASON_DUPLICATE
        assert len({row.ticket_id for row in rows}) == 1
