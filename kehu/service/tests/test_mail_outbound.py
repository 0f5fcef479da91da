"""Email-to-ticket, outbound: an agent's reply sent by SMTP to a real local server (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.core.files.base import ContentFile
from django.utils import timezone

from kehu.audit.models import TimelineEvent
from kehu.service.choices import DeliveryStatus, MessageKind
from kehu.service.mail import outbound
from kehu.service.models import Ticket, TicketAttachment, TicketMessage
from kehu.service.services import mail as svc
from kehu.service.services import tickets as ticket_services

from .factories import QueueFactory
from .factories_mail import PNG, MailboxFactory, build

pytestmark = pytest.mark.django_db


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage


@dataclass
class Sink:
    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"


@pytest.fixture
def smtp(settings: Any) -> Iterator[Sink]:
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "Kehu <noreply@kehu.test>"
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture
def mailbox() -> Any:
    return MailboxFactory.create(queue=QueueFactory(), name="客服中心", email="support@kehu.test")


def _ticket(mailbox: Any) -> Ticket:
    raw = build(
        subject="打印机故障",
        message_id="first@example.cn",
        references=["older@example.cn"],
    )
    ticket = svc.inbound_email_receive(raw=raw, mailbox=mailbox).ticket
    assert ticket is not None
    return ticket


def _reply(ticket: Ticket, by: Any, body: str = "<p>我们已经<b>重启</b>了打印机。</p>") -> TicketMessage:
    return ticket_services.ticket_reply(ticket=ticket, by=by, body=body)


def test_reply_is_sent_with_number_subject_and_threading_headers(
    smtp: Sink, mailbox: Any, tickets_granted: Any
) -> None:
    ticket = _ticket(mailbox)
    reply = _reply(ticket, None)
    assert reply.delivery == DeliveryStatus.QUEUED
    outbound.ticket_message_send(message_id=reply.pk)

    [got] = smtp.received
    assert got.rcpt_tos == ["zhangsan@example.cn"]
    msg = got.message
    assert msg["Subject"] == f"Re: [{ticket.number}] 打印机故障"
    assert msg["From"] == "客服中心 <support@kehu.test>"
    assert msg["Reply-To"] == "support@kehu.test"
    assert msg["To"] == "zhangsan@example.cn"
    assert msg["In-Reply-To"] == "<first@example.cn>"
    assert msg["References"] == "<older@example.cn> <first@example.cn>"
    assert msg["Auto-Submitted"] == "no"
    reply.refresh_from_db()
    assert msg["Message-ID"] == f"<{reply.message_id}>"
    assert reply.message_id.endswith("@kehu.test")
    assert reply.delivery == DeliveryStatus.SENT
    assert reply.sent_at is not None
    assert reply.in_reply_to == "first@example.cn"
    assert reply.references == "older@example.cn first@example.cn"
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and "我们已经重启了打印机。" in text.get_content()
    assert html is not None and "<b>重启</b>" in html.get_content()


def test_the_customers_answer_to_the_sent_reply_threads_back(smtp: Sink, mailbox: Any) -> None:
    ticket = _ticket(mailbox)
    reply = _reply(ticket, None)
    outbound.ticket_message_send(message_id=reply.pk)
    sent = smtp.received[0].message
    answer = build(
        subject=str(sent["Subject"]).replace(f"[{ticket.number}] ", ""),  # the number lost
        body="好了，谢谢。",
        in_reply_to=str(sent["Message-ID"]).strip("<>"),
    )
    inbound = svc.inbound_email_receive(raw=answer, mailbox=mailbox)
    assert inbound.ticket_id == ticket.pk


def test_sent_once_only(smtp: Sink, mailbox: Any) -> None:
    ticket = _ticket(mailbox)
    reply = _reply(ticket, None)
    outbound.ticket_message_send(message_id=reply.pk)
    outbound.ticket_message_send(message_id=reply.pk)
    assert len(smtp.received) == 1


def test_attachments_go_with_the_reply(smtp: Sink, mailbox: Any) -> None:
    ticket = _ticket(mailbox)
    reply = _reply(ticket, None)
    pdf = TicketAttachment(
        ticket=ticket, message=reply, name="说明.pdf", size=9, content_type="application/pdf"
    )
    pdf.file.save("a.pdf", ContentFile(b"%PDF-1.4\n"), save=True)
    image = TicketAttachment(
        ticket=ticket,
        message=reply,
        name="shot.png",
        size=len(PNG),
        content_type="image/png",
        content_id="img1@x",
    )
    image.file.save("shot.png", ContentFile(PNG), save=True)
    internal = TicketAttachment(ticket=ticket, message=reply, name="internal.pdf", is_public=False)
    internal.file.save("i.pdf", ContentFile(b"%PDF-1.4\n"), save=True)
    outbound.ticket_message_send(message_id=reply.pk)
    msg = smtp.received[0].message
    parts = {p.get_filename(): p for p in msg.iter_attachments()}
    assert set(parts) == {"说明.pdf", "shot.png"}
    assert parts["说明.pdf"].get_content() == b"%PDF-1.4\n"
    assert parts["shot.png"]["Content-ID"] == "<img1@x>"


def test_without_a_mailbox_the_default_sender_is_used(smtp: Sink) -> None:
    ticket = svc.inbound_email_receive(raw=build(message_id="m@example.cn")).ticket
    assert ticket is not None
    reply = _reply(ticket, None)
    outbound.ticket_message_send(message_id=reply.pk)
    msg = smtp.received[0].message
    assert msg["From"] == "Kehu <noreply@kehu.test>"
    assert msg["Reply-To"] is None


def test_an_smtp_failure_is_recorded_and_can_be_retried(
    smtp: Sink, mailbox: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ticket = _ticket(mailbox)
    reply = _reply(ticket, None)
    good_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # nobody listens
    outbound.ticket_message_send(message_id=reply.pk)
    reply.refresh_from_db()
    assert reply.delivery == DeliveryStatus.FAILED
    assert "ConnectionRefusedError" in reply.delivery_error
    assert TimelineEvent.objects.filter(event=outbound.EVENT_EMAIL_FAILED, object_id=ticket.pk).exists()
    assert smtp.received == []

    settings.EMAIL_PORT = good_port
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with django_capture_on_commit_callbacks(execute=True):
        outbound.ticket_message_resend(message=reply, by=None)
    reply.refresh_from_db()
    assert reply.delivery == DeliveryStatus.SENT
    assert reply.delivery_error == ""
    assert len(smtp.received) == 1
    with pytest.raises(svc.MailError):
        outbound.ticket_message_resend(message=reply, by=None)


def test_a_note_or_customer_message_is_never_sent(smtp: Sink, mailbox: Any) -> None:
    ticket = _ticket(mailbox)
    note = TicketMessage.objects.create(
        ticket=ticket,
        kind=MessageKind.NOTE,
        body="x",
        delivery=DeliveryStatus.QUEUED,
        created_at=timezone.now(),
    )
    outbound.ticket_message_send(message_id=note.pk)
    outbound.ticket_message_send(message_id=ticket.messages.get(kind=MessageKind.CUSTOMER).pk)
    outbound.ticket_message_send(message_id=999999)
    assert smtp.received == []


def test_reply_subject() -> None:
    ticket = Ticket(number="TK-2026-00001", subject="Re: 回复：打印机故障")
    assert outbound.reply_subject(ticket) == "Re: [TK-2026-00001] 打印机故障"
    assert (
        outbound.reply_subject(ticket, "[TK-2026-00001] 打印机", is_reply=False) == "[TK-2026-00001] 打印机"
    )
