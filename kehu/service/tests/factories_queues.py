"""Test data of the queues and settings areas: canned responses and mailboxes, and typed
shortcuts to the shared factories."""

from __future__ import annotations

from typing import Any, cast

import factory

from kehu.service.models import CannedResponse, Mailbox, Queue, Ticket

from .factories import QueueFactory, TicketFactory


class CannedResponseFactory(factory.django.DjangoModelFactory):
    """`CannedResponseFactory(owner=u, is_shared=False)` personal; `queue=q` for a queue; shared
    without a queue: for everyone (the default)."""

    class Meta:
        model = CannedResponse

    name = factory.Sequence(lambda n: f"回复 {n}")
    body = "<p>您好 {{ contact.name }}，工单 {{ ticket.number }} 已收到。</p>"
    is_shared = True


class MailboxFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mailbox

    name = factory.Sequence(lambda n: f"support-{n}")
    email = factory.Sequence(lambda n: f"support{n}@example.com")
    imap_host = "imap.example.com"
    imap_username = factory.LazyAttribute(lambda o: o.email)
    imap_password = "s3cret-app-password"


def make_queue(**kwargs: Any) -> Queue:
    return cast(Queue, QueueFactory(**kwargs))


def make_ticket(**kwargs: Any) -> Ticket:
    return cast(Ticket, TicketFactory(**kwargs))


def make_canned(**kwargs: Any) -> CannedResponse:
    return cast(CannedResponse, CannedResponseFactory(**kwargs))


def make_mailbox(**kwargs: Any) -> Mailbox:
    return cast(Mailbox, MailboxFactory(**kwargs))
