"""Test data of the queues and settings areas: canned responses and mailboxes."""

from __future__ import annotations

import factory

from kehu.service.models import CannedResponse, Mailbox


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
