"""Email-to-ticket, inbound: `inbound_email_receive` with .eml fixtures and built messages."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from kehu.customers.models import ContactEmail
from kehu.customers.tests.factories import ContactFactory
from kehu.service.choices import InboundStatus, MessageKind, TicketChannel, TicketState
from kehu.service.models import InboundEmail, Ticket, TicketAttachment, TicketMessage
from kehu.service.services import mail as svc
from kehu.service.services import tickets as ticket_services

from .factories import QueueFactory, status
from .factories_mail import PNG, MailboxFactory, build, fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailbox() -> Any:
    return MailboxFactory.create(queue=QueueFactory(), email="support@kehu.test")


def receive(raw: bytes, mailbox: Any = None) -> InboundEmail:
    return svc.inbound_email_receive(raw=raw, mailbox=mailbox)


# --- new tickets ------------------------------------------------------------------------------


def test_new_mail_creates_a_ticket_in_the_mailbox_queue(mailbox: Any) -> None:
    inbound = receive(fixture("plain_utf8"), mailbox)
    assert inbound.status == InboundStatus.CREATED
    assert inbound.reason == ""
    assert inbound.message_id == "plain-1@example.com"
    assert inbound.from_email == "alice@example.com"
    assert inbound.subject == "Printer broken"
    assert inbound.processed_at is not None
    assert inbound.raw.read() == fixture("plain_utf8")
    assert inbound.size == len(fixture("plain_utf8"))
    ticket = inbound.ticket
    assert ticket is not None
    assert ticket.number.startswith("TK-")
    assert ticket.subject == "Printer broken"
    assert ticket.channel == TicketChannel.EMAIL
    assert ticket.queue_id == mailbox.queue_id
    assert ticket.contact_id is None
    assert ticket.requester_name == "Alice Example"
    assert ticket.requester_email == "alice@example.com"
    assert "the printer in room 3 is broken. Café ☕" in ticket.description_text
    [message] = ticket.messages.all()
    assert message.kind == MessageKind.CUSTOMER
    assert message.message_id == "plain-1@example.com"
    assert message.from_email == "alice@example.com"
    assert message.to == "support@kehu.test, bob@kehu.test"
    assert message.cc == "carol@kehu.test"
    assert message.channel == TicketChannel.EMAIL


@pytest.mark.parametrize(
    ("name", "subject", "text"),
    [
        ("gbk_qp", "打印机故障", "您好，打印机坏了。"),
        ("gb2312_declared_gb18030", None, None),
        ("big5", None, None),
        ("raw_8bit_gbk_header", None, None),
    ],
)
def test_chinese_encodings_decode_into_the_ticket(mailbox: Any, name: str, subject: Any, text: Any) -> None:
    from kehu.service.mail import parse_message

    parsed = parse_message(fixture(name))
    inbound = receive(fixture(name), mailbox)
    assert inbound.status == InboundStatus.CREATED
    ticket = inbound.ticket
    assert ticket is not None
    assert ticket.subject == (parsed.subject or "(no subject)")
    assert inbound.subject == parsed.subject
    assert parsed.text.strip().splitlines()[0] in ticket.description_text
    if subject is not None:
        assert ticket.subject == subject
        assert text in ticket.description_text
    assert "\ufffd" not in ticket.subject + ticket.description_text


def test_html_mail_is_sanitised(mailbox: Any) -> None:
    raw = build(
        subject="HTML",
        html='<p onclick="steal()">Hello <b>there</b></p><script>alert(1)</script>'
        '<a href="javascript:alert(1)">x</a>',
    )
    ticket = receive(raw, mailbox).ticket
    assert ticket is not None
    assert "<b>there</b>" in ticket.description
    assert "script" not in ticket.description
    assert "onclick" not in ticket.description
    assert "javascript:" not in ticket.description


def test_known_sender_becomes_the_ticket_contact(mailbox: Any) -> None:
    contact = ContactFactory.create(email="zhangsan@example.cn")
    inbound = receive(fixture("gbk_qp"), mailbox)
    ticket = inbound.ticket
    assert ticket is not None
    assert ticket.contact_id == contact.pk
    assert ticket.account_id == contact.account_id


def test_sender_found_by_any_of_the_contacts_addresses(mailbox: Any) -> None:
    contact = ContactFactory.create(email="other@example.cn")
    ContactEmail.objects.create(contact=contact, email="zhangsan@example.cn")
    ticket = receive(fixture("gbk_qp"), mailbox).ticket
    assert ticket is not None
    assert ticket.contact_id == contact.pk


def test_an_address_shared_by_two_contacts_is_only_proposed(mailbox: Any) -> None:
    ContactFactory.create(email="zhangsan@example.cn")
    ContactFactory.create(email="zhangsan@example.cn")
    ticket = receive(fixture("gbk_qp"), mailbox).ticket
    assert ticket is not None
    assert ticket.contact_id is None
    assert ticket.requester_email == "zhangsan@example.cn"


def test_mail_without_a_mailbox_creates_a_ticket_without_a_queue() -> None:
    inbound = receive(fixture("plain_utf8"))
    assert inbound.status == InboundStatus.CREATED
    assert inbound.ticket is not None and inbound.ticket.queue_id is None


# --- duplicates -----------------------------------------------------------------------------


def test_the_same_bytes_twice_return_the_first_row(mailbox: Any) -> None:
    first = receive(fixture("plain_utf8"), mailbox)
    again = receive(fixture("plain_utf8"), mailbox)
    assert again.pk == first.pk
    assert InboundEmail.objects.count() == 1
    assert Ticket.objects.count() == 1


def test_the_same_message_id_with_other_transport_headers_adds_nothing(mailbox: Any) -> None:
    raw = fixture("plain_utf8")
    first = receive(raw, mailbox)
    again = receive(b"Received: from relay2.example.com\r\n" + raw, mailbox)
    assert again.pk != first.pk
    assert again.status == InboundStatus.THREADED
    assert again.reason == svc.REASON_DUPLICATE
    assert again.ticket_id == first.ticket_id
    assert Ticket.objects.count() == 1
    assert TicketMessage.objects.count() == 1


# --- threading ------------------------------------------------------------------------------


def _ticket_from_mail(mailbox: Any) -> Ticket:
    ticket = receive(build(message_id="first@example.cn"), mailbox).ticket
    assert ticket is not None
    return ticket


def test_reply_threads_by_ticket_number_in_the_subject(mailbox: Any) -> None:
    ticket = _ticket_from_mail(mailbox)
    raw = build(subject=f"回复：[{ticket.number}] 打印机故障", body="还是不行。", message_id="r1@example.cn")
    inbound = receive(raw, mailbox)
    assert inbound.status == InboundStatus.THREADED
    assert inbound.ticket_id == ticket.pk
    assert Ticket.objects.count() == 1
    last = ticket.messages.order_by("-id").first()
    assert last is not None
    assert last.kind == MessageKind.CUSTOMER
    assert last.body_text == "还是不行。"
    assert last.message_id == "r1@example.cn"


def test_reply_threads_by_references_to_an_agent_reply(mailbox: Any, company: Any) -> None:
    ticket = _ticket_from_mail(mailbox)
    TicketMessage.objects.create(
        ticket=ticket,
        kind=MessageKind.REPLY,
        body="<p>已处理</p>",
        message_id="reply-1@kehu.test",
        created_at=timezone.now(),
    )
    raw = build(
        subject="Re: 打印机故障",
        body="Thanks!\n\nOn Tue, 24 Nov 2026 Support wrote:\n> 已处理\n",
        in_reply_to="reply-1@kehu.test",
        references=["first@example.cn", "reply-1@kehu.test"],
    )
    inbound = receive(raw, mailbox)
    assert inbound.status == InboundStatus.THREADED
    assert inbound.ticket_id == ticket.pk
    last = ticket.messages.order_by("-id").first()
    assert last is not None
    assert last.body_text == "Thanks!"  # the quoted history is cut
    assert last.in_reply_to == "reply-1@kehu.test"
    assert last.references == "first@example.cn reply-1@kehu.test"


def test_reply_threads_by_references_to_the_customers_first_message(mailbox: Any) -> None:
    ticket = _ticket_from_mail(mailbox)
    raw = build(subject="Re: 打印机故障", body="补充一下。", references=["first@example.cn"])
    assert receive(raw, mailbox).ticket_id == ticket.pk


def test_chinese_reply_fixture_cuts_the_original_message(mailbox: Any) -> None:
    ticket = _ticket_from_mail(mailbox)
    TicketMessage.objects.create(
        ticket=ticket,
        kind=MessageKind.REPLY,
        body="x",
        message_id="ack-1@kehu.test",
        created_at=timezone.now(),
    )
    inbound = receive(fixture("reply_zh"), mailbox)
    assert inbound.ticket_id == ticket.pk
    last = ticket.messages.order_by("-id").first()
    assert last is not None
    assert last.body_text == "问题已经解决，谢谢！"


def test_reply_to_a_merged_ticket_goes_to_the_ticket_it_was_merged_into(mailbox: Any) -> None:
    old = _ticket_from_mail(mailbox)
    target = receive(build(message_id="second@example.cn", subject="另一个"), mailbox).ticket
    assert target is not None
    Ticket.objects.filter(pk=old.pk).update(merged_into=target)
    inbound = receive(build(subject=f"Re: [{old.number}] 打印机故障", body="在吗？"), mailbox)
    assert inbound.ticket_id == target.pk
    assert target.messages.filter(body_text="在吗？").exists()
    assert not old.messages.filter(body_text="在吗？").exists()


def test_customer_reply_reopens_a_resolved_ticket(mailbox: Any) -> None:
    ticket = _ticket_from_mail(mailbox)
    resolved = status("resolved")
    Ticket.objects.filter(pk=ticket.pk).update(status=resolved, state=resolved.state)
    receive(build(subject=f"[{ticket.number}] 打印机故障", body="又坏了。"), mailbox)
    ticket.refresh_from_db()
    assert ticket.state == TicketState.IN_PROGRESS


def test_unknown_ticket_number_creates_a_new_ticket(mailbox: Any) -> None:
    inbound = receive(build(subject="Re: [TK-1999-99999] 旧问题"), mailbox)
    assert inbound.status == InboundStatus.CREATED


# --- ignored and quarantined ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected", "reason"),
    [
        ("outlook_auto_reply", InboundStatus.AUTO_REPLY, "auto_reply: "),
        ("gmail_vacation", InboundStatus.AUTO_REPLY, "auto_reply: "),
        ("dsn_bounce", InboundStatus.BOUNCE, "bounce: "),
    ],
)
def test_auto_replies_and_bounces_make_no_ticket(mailbox: Any, name: str, expected: str, reason: str) -> None:
    inbound = receive(fixture(name), mailbox)
    assert inbound.status == expected
    assert inbound.reason.startswith(reason)
    assert inbound.ticket_id is None
    assert Ticket.objects.count() == 0


def test_garbage_is_quarantined_with_a_reason(mailbox: Any) -> None:
    inbound = receive(fixture("garbage"), mailbox)
    assert inbound.status == InboundStatus.QUARANTINED
    assert inbound.reason.startswith("malformed: ")
    assert inbound.is_quarantined
    assert Ticket.objects.count() == 0
    assert svc.reason_text(inbound.reason).startswith("Not a readable e-mail message")


@pytest.mark.parametrize("raw", [b"", b"\x00\x01\x02\xff" * 50, b"\r\n\r\n\r\n"])
def test_empty_and_binary_input_is_quarantined(mailbox: Any, raw: bytes) -> None:
    inbound = receive(raw, mailbox)
    assert inbound.status == InboundStatus.QUARANTINED
    assert Ticket.objects.count() == 0


def test_broken_and_truncated_mime_still_make_tickets(mailbox: Any) -> None:
    for name in ("broken_mime", "truncated_base64"):
        inbound = receive(fixture(name), mailbox)
        assert inbound.status == InboundStatus.CREATED, (name, inbound.reason)


def test_mail_from_our_own_address_is_quarantined_as_a_loop(mailbox: Any) -> None:
    inbound = receive(build(sender=("Support", "support@kehu.test")), mailbox)
    assert inbound.status == InboundStatus.QUARANTINED
    assert inbound.reason == svc.REASON_OWN_ADDRESS


def test_mail_without_sender_is_quarantined(mailbox: Any) -> None:
    raw = b"To: support@kehu.test\r\nSubject: no sender\r\nMessage-ID: <ns@x>\r\n\r\nbody\r\n"
    inbound = receive(raw, mailbox)
    assert inbound.status == InboundStatus.QUARANTINED
    assert inbound.reason == svc.REASON_NO_SENDER


def test_an_unexpected_error_quarantines_and_leaves_nothing_behind(
    mailbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(**kwargs: Any) -> Any:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(ticket_services, "ticket_create", boom)
    inbound = receive(fixture("plain_utf8"), mailbox)
    assert inbound.status == InboundStatus.QUARANTINED
    assert inbound.reason == "internal_error: RuntimeError: database on fire"
    assert Ticket.objects.count() == 0
    inbound.refresh_from_db()
    assert inbound.status == InboundStatus.QUARANTINED


# --- attachments ----------------------------------------------------------------------------


def test_attachments_are_kept_on_the_message(mailbox: Any) -> None:
    inbound = receive(fixture("attachment_rfc2231"), mailbox)
    assert inbound.status == InboundStatus.CREATED, inbound.reason
    ticket = inbound.ticket
    assert ticket is not None
    [attachment] = ticket.attachments.all()
    assert attachment.name == "合同草案.pdf"
    assert attachment.message is not None and attachment.message.kind == MessageKind.CUSTOMER
    assert attachment.file.read().startswith(b"%PDF")


def test_inline_images_keep_their_content_id(mailbox: Any) -> None:
    ticket = receive(fixture("inline_image"), mailbox).ticket
    assert ticket is not None
    [image] = ticket.attachments.all()
    assert image.content_id == "shot1@example.com"
    assert image.name == "shot.png"
    assert 'src="cid:shot1@example.com"' in ticket.description


def test_oversized_and_refused_attachments_are_dropped_with_a_note(mailbox: Any, settings: Any) -> None:
    settings.KEHU_ATTACHMENT_MAX_BYTES = 1000
    raw = build(
        subject="附件",
        body="见附件。",
        attachments=[
            ("big.pdf", b"%PDF-1.4\n" + b"x" * 5000, "application/pdf"),
            ("virus.exe", b"MZ\x90\x00", "application/octet-stream"),
            ("fake.png", b"%PDF-1.4 not a png", "image/png"),
            ("ok.png", PNG, "image/png"),
        ],
    )
    inbound = receive(raw, mailbox)
    assert inbound.status == InboundStatus.CREATED, inbound.reason
    ticket = inbound.ticket
    assert ticket is not None
    assert [a.name for a in ticket.attachments.all()] == ["ok.png"]
    message = ticket.messages.get()
    assert "Attachment big.pdf was not kept: The file is too big" in message.body_text
    assert "Attachment virus.exe was not kept" in message.body_text
    assert "Attachment fake.png was not kept" in message.body_text
    assert "见附件。" in message.body_text


def test_a_reply_with_only_a_refused_attachment_still_threads(mailbox: Any) -> None:
    ticket = _ticket_from_mail(mailbox)
    raw = build(
        subject=f"[{ticket.number}]", body="", attachments=[("a.exe", b"MZ", "application/x-msdownload")]
    )
    inbound = receive(raw, mailbox)
    assert inbound.status == InboundStatus.THREADED, inbound.reason
    assert TicketAttachment.objects.count() == 0


# --- quarantine actions ---------------------------------------------------------------------


def test_release_processes_an_auto_reply_as_a_customer_message(mailbox: Any, company: Any) -> None:
    inbound = receive(fixture("outlook_auto_reply"), mailbox)
    released = svc.inbound_email_release(inbound=inbound, by=company.admin)
    assert released.status == InboundStatus.CREATED
    assert released.released_by == company.admin
    assert released.ticket is not None


def test_release_of_garbage_quarantines_it_again(mailbox: Any, company: Any) -> None:
    inbound = receive(fixture("garbage"), mailbox)
    again = svc.inbound_email_release(inbound=inbound, by=company.admin)
    assert again.status == InboundStatus.QUARANTINED
    assert again.reason.startswith("malformed")


def test_a_ticket_mail_cannot_be_released_or_discarded(mailbox: Any, company: Any) -> None:
    inbound = receive(fixture("plain_utf8"), mailbox)
    with pytest.raises(svc.MailError):
        svc.inbound_email_release(inbound=inbound, by=company.admin)
    with pytest.raises(svc.MailError):
        svc.inbound_email_discard(inbound=inbound, by=company.admin)
    assert InboundEmail.objects.get(pk=inbound.pk).status == InboundStatus.CREATED


def test_discard_deletes_the_row_and_its_raw_file(
    mailbox: Any, company: Any, django_capture_on_commit_callbacks: Any
) -> None:
    inbound = receive(fixture("garbage"), mailbox)
    storage, path = inbound.raw.storage, inbound.raw.name
    assert storage.exists(path)
    with django_capture_on_commit_callbacks(execute=True):
        svc.inbound_email_discard(inbound=inbound, by=company.admin)
    assert not InboundEmail.objects.filter(pk=inbound.pk).exists()
    assert not storage.exists(path)


# --- threading by number: only known senders -----------------------------------------------


def test_a_stranger_quoting_a_ticket_number_gets_a_new_ticket(mailbox: Any) -> None:
    ticket = _ticket_from_mail(mailbox)
    raw = build(
        subject=f"Re: [{ticket.number}] 打印机故障",
        body="我来插一句。",
        sender=("Mallory", "mallory@evil.test"),
    )
    inbound = receive(raw, mailbox)
    assert inbound.status == InboundStatus.CREATED
    assert inbound.ticket_id != ticket.pk
    assert not ticket.messages.filter(body_text__contains="我来插一句").exists()


def test_number_threads_for_any_address_of_the_tickets_contact(mailbox: Any) -> None:
    contact = ContactFactory.create(email="boss@example.cn")
    ContactEmail.objects.create(contact=contact, email="boss.home@example.cn")
    ticket = receive(build(sender=("老板", "boss@example.cn")), mailbox).ticket
    assert ticket is not None and ticket.contact_id == contact.pk
    raw = build(subject=f"[{ticket.number}]", body="家里发的。", sender=("老板", "Boss.Home@example.cn"))
    assert receive(raw, mailbox).ticket_id == ticket.pk


def test_number_threads_for_a_cc_of_an_earlier_customer_message(mailbox: Any) -> None:
    first = build(message_id="cc-first@example.cn", headers={"Cc": "colleague@example.cn"})
    ticket = receive(first, mailbox).ticket
    assert ticket is not None
    raw = build(subject=f"Re: [{ticket.number}]", body="同事补充。", sender=("同事", "colleague@example.cn"))
    assert receive(raw, mailbox).ticket_id == ticket.pk


def test_a_stranger_still_threads_by_references(mailbox: Any) -> None:
    ticket = _ticket_from_mail(mailbox)
    raw = build(subject="Re: 打印机故障", references=["first@example.cn"], sender=("X", "x@other.test"))
    assert receive(raw, mailbox).ticket_id == ticket.pk
