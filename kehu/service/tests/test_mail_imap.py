"""Email-to-ticket, IMAP polling against a real local Dovecot server (skipped without Dovecot)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kehu.service import tasks_mail
from kehu.service.choices import InboundStatus
from kehu.service.mail import imap
from kehu.service.models import InboundEmail, Mailbox, Ticket
from kehu.service.services import mail as svc

from .factories import QueueFactory
from .factories_mail import MailboxFactory, build, fixture
from .imap_server import ImapServer, imap_server  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(imap_server: ImapServer) -> str:  # noqa: F811
    return imap_server.add_user()


def _mailbox(server: ImapServer, user: str, **values: Any) -> Mailbox:
    defaults: dict[str, Any] = {
        "queue": QueueFactory(),
        "email": user,
        "imap_host": "127.0.0.1",
        "imap_port": server.port,
        "imap_ssl": False,
        "imap_username": user,
        "imap_password": "secret",
    }
    defaults.update(values)
    return MailboxFactory.create(**defaults)


def _folder(server: ImapServer, user: str, folder: str) -> tuple[int, int]:
    conn = server.client(user)
    try:
        conn.select(imap.quote_folder(folder))
        return imap.message_count(conn)
    finally:
        conn.logout()


def test_poll_turns_new_mail_into_tickets_and_marks_it_seen(imap_server: ImapServer, account: str) -> None:  # noqa: F811
    mailbox = _mailbox(imap_server, account)
    imap_server.deliver(account, fixture("gbk_qp"))
    imap_server.deliver(account, fixture("plain_utf8"))
    imap_server.deliver(account, fixture("outlook_auto_reply"))

    result = svc.mailbox_poll(mailbox=mailbox)

    assert result.error == ""
    assert result.fetched == 3
    assert result.statuses == {InboundStatus.CREATED: 2, InboundStatus.AUTO_REPLY: 1}
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["Printer broken", "打印机故障"]
    assert set(Ticket.objects.values_list("queue_id", flat=True)) == {mailbox.queue_id}
    assert _folder(imap_server, account, "INBOX") == (3, 0)  # kept, all \Seen
    mailbox.refresh_from_db()
    assert mailbox.last_polled_at is not None
    assert mailbox.last_error == ""

    again = svc.mailbox_poll(mailbox=mailbox)
    assert again.fetched == 0
    assert InboundEmail.objects.count() == 3


def test_poll_moves_processed_mail_to_a_chinese_folder(imap_server: ImapServer, account: str) -> None:  # noqa: F811
    mailbox = _mailbox(imap_server, account, processed_folder="已处理")
    imap_server.deliver(account, fixture("plain_utf8"))
    imap_server.deliver(account, fixture("garbage"))

    result = svc.mailbox_poll(mailbox=mailbox)

    assert result.statuses == {InboundStatus.CREATED: 1, InboundStatus.QUARANTINED: 1}
    assert _folder(imap_server, account, "INBOX") == (0, 0)
    assert _folder(imap_server, account, "已处理") == (2, 0)
    assert svc.mailbox_poll(mailbox=mailbox).fetched == 0


def test_a_reply_polled_later_threads_into_its_ticket(imap_server: ImapServer, account: str) -> None:  # noqa: F811
    mailbox = _mailbox(imap_server, account)
    imap_server.deliver(account, build(message_id="q1@example.cn"))
    svc.mailbox_poll(mailbox=mailbox)
    ticket = Ticket.objects.get()
    imap_server.deliver(account, build(subject=f"Re: [{ticket.number}] 打印机故障", body="还在等。"))
    svc.mailbox_poll(mailbox=mailbox)
    assert Ticket.objects.count() == 1
    assert ticket.messages.count() == 2


def test_a_wrong_password_is_kept_as_the_mailbox_error_and_cleared_later(
    imap_server: ImapServer,  # noqa: F811
    account: str,
) -> None:
    mailbox = _mailbox(imap_server, account, imap_password="wrong")
    imap_server.deliver(account, fixture("plain_utf8"))
    result = svc.mailbox_poll(mailbox=mailbox)  # never raises
    assert result.fetched == 0
    mailbox.refresh_from_db()
    assert "LOGIN" in mailbox.last_error or "AUTHENTICATIONFAILED" in mailbox.last_error
    assert mailbox.last_polled_at is not None
    assert Ticket.objects.count() == 0

    mailbox.imap_password = "secret"
    mailbox.save()
    assert svc.mailbox_poll(mailbox=mailbox).fetched == 1
    mailbox.refresh_from_db()
    assert mailbox.last_error == ""


def test_an_unreachable_server_and_a_missing_folder_are_errors_not_crashes(
    imap_server: ImapServer,  # noqa: F811
    account: str,
) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    down = _mailbox(imap_server, account, imap_port=closed)
    assert "ConnectionRefusedError" in svc.mailbox_poll(mailbox=down).error
    other = imap_server.add_user()
    missing = _mailbox(imap_server, other, imap_folder="不存在")
    assert "SELECT" in svc.mailbox_poll(mailbox=missing).error


def test_ssl_and_starttls(imap_server: ImapServer, account: str, settings: Any) -> None:  # noqa: F811
    if not imap_server.cafile:
        pytest.skip("openssl is not installed: no certificate for the TLS tests")
    settings.KEHU_MAIL_CA_FILE = imap_server.cafile
    imap_server.deliver(account, fixture("plain_utf8"))
    tls = _mailbox(imap_server, account, imap_port=imap_server.ssl_port, imap_ssl=True)
    check = svc.mailbox_test_connection(mailbox=tls)
    assert (check.ok, check.total, check.unseen) == (True, 1, 1)
    starttls = _mailbox(imap_server, imap_server.add_user(), imap_starttls=True)
    assert svc.mailbox_test_connection(mailbox=starttls).ok
    settings.KEHU_MAIL_CA_FILE = None  # a self-signed certificate is refused by default
    refused = svc.mailbox_test_connection(mailbox=tls)
    assert not refused.ok
    assert "CERTIFICATE_VERIFY_FAILED" in refused.error


def test_connection_check(imap_server: ImapServer, account: str) -> None:  # noqa: F811
    imap_server.deliver(account, fixture("plain_utf8"))
    good = svc.mailbox_test_connection(mailbox=_mailbox(imap_server, account))
    assert (good.ok, good.total, good.unseen, good.error) == (True, 1, 1, "")
    bad = svc.mailbox_test_connection(
        mailbox=_mailbox(imap_server, imap_server.add_user(), imap_password="x")
    )
    assert not bad.ok
    assert bad.error


def test_beat_task_polls_active_mailboxes_only(imap_server: ImapServer, account: str) -> None:  # noqa: F811
    active = _mailbox(imap_server, account)
    other = imap_server.add_user()
    inactive = _mailbox(imap_server, other, is_active=False)
    MailboxFactory.create(imap_host="")  # pipe-only mailbox: nothing to poll
    imap_server.deliver(account, fixture("plain_utf8"))
    imap_server.deliver(other, fixture("gbk_qp"))

    summary = tasks_mail.mailboxes_poll()

    assert summary == {str(active.pk): {"fetched": 1, "error": ""}}
    assert InboundEmail.objects.filter(mailbox=inactive).count() == 0


def test_poll_mailboxes_command(imap_server: ImapServer, account: str) -> None:  # noqa: F811
    mailbox = _mailbox(imap_server, account)
    imap_server.deliver(account, fixture("plain_utf8"))
    out = io.StringIO()
    call_command("poll_mailboxes", "--mailbox", mailbox.email, stdout=out)
    assert out.getvalue().strip() == f"{mailbox.email}: 1 fetched (created 1)"
    with pytest.raises(CommandError):
        call_command("poll_mailboxes", "--mailbox", "nobody@nowhere.test")


def test_folder_names_are_modified_utf7() -> None:
    assert imap.utf7_encode("INBOX") == "INBOX"
    assert imap.utf7_encode("已处理") == "&XfJZBHQG-"
    assert imap.utf7_encode("A&B") == "A&-B"
    assert imap.quote_folder('a "b"') == '"a \\"b\\""'
