"""Email-to-ticket from an MTA pipe (`manage.py ticket_mail_receive < message.eml`) and the beat entry."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kehu.service import tasks_mail
from kehu.service.choices import InboundStatus
from kehu.service.models import InboundEmail, Ticket

from .factories import QueueFactory
from .factories_mail import MailboxFactory, fixture

pytestmark = pytest.mark.django_db


def run(raw: bytes, *args: str) -> str:
    out = io.StringIO()
    call_command("ticket_mail_receive", *args, stdin=io.BytesIO(raw), stdout=out)
    return out.getvalue().strip()


def test_a_message_on_stdin_becomes_a_ticket_of_the_mailbox() -> None:
    mailbox = MailboxFactory.create(email="support@kehu.test", queue=QueueFactory())
    line = run(fixture("gbk_qp"), "--mailbox", "Support@Kehu.test")
    inbound = InboundEmail.objects.get()
    ticket = Ticket.objects.get()
    assert line == f"created #{inbound.pk} {ticket.number}"
    assert inbound.mailbox == mailbox
    assert ticket.subject == "打印机故障"
    assert ticket.queue_id == mailbox.queue_id


def test_mailbox_by_id_and_no_mailbox() -> None:
    mailbox = MailboxFactory.create()
    run(fixture("plain_utf8"), "--mailbox", str(mailbox.pk))
    run(fixture("gbk_qp"))
    assert [m.mailbox_id for m in InboundEmail.objects.order_by("id")] == [mailbox.pk, None]


def test_the_same_message_piped_twice_makes_one_ticket() -> None:
    first = run(fixture("plain_utf8"))
    second = run(fixture("plain_utf8"))
    assert first == second
    assert Ticket.objects.count() == 1


def test_garbage_on_stdin_is_quarantined_and_reported() -> None:
    line = run(fixture("garbage"))
    inbound = InboundEmail.objects.get()
    assert inbound.status == InboundStatus.QUARANTINED
    assert line.startswith(f"quarantined #{inbound.pk}: Not a readable e-mail message")


def test_an_unknown_mailbox_is_a_usage_error_and_stores_nothing() -> None:
    with pytest.raises(CommandError) as caught:
        run(fixture("plain_utf8"), "--mailbox", "nobody@nowhere.test")
    assert caught.value.returncode == 64
    assert InboundEmail.objects.count() == 0


def test_the_beat_schedule_polls_every_minute(settings: Any) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["service-mailboxes-poll"]
    assert entry == tasks_mail.BEAT_SCHEDULE["service-mailboxes-poll"]
    assert entry["schedule"] == 60.0
    assert tasks_mail.mailboxes_poll.name == entry["task"]


def test_the_beat_task_skips_a_mailbox_still_being_polled() -> None:
    from django.core.cache import cache

    mailbox = MailboxFactory.create(imap_host="127.0.0.1", imap_port=1)
    cache.add(f"kehu:service:mailbox-poll:{mailbox.pk}", 1, 60)
    try:
        assert tasks_mail.mailboxes_poll() == {str(mailbox.pk): {"skipped": "running"}}
    finally:
        cache.delete(f"kehu:service:mailbox-poll:{mailbox.pk}")
    summary = tasks_mail.mailboxes_poll()  # port 1: refused, recorded, not raised
    assert "error" in summary[str(mailbox.pk)] and summary[str(mailbox.pk)]["error"]
    mailbox.refresh_from_db()
    assert mailbox.last_error
