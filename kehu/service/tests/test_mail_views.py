"""The received e-mail pages (quarantine), a mailbox's connection test, and the contact proposal
of a ticket from an unknown sender."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kehu.core.choices import Action, Scope
from kehu.customers.tests.factories import AccountFactory, ContactFactory
from kehu.service.choices import InboundStatus
from kehu.service.models import InboundEmail, Ticket
from kehu.service.selectors import mail as selectors
from kehu.service.services import mail as svc
from kehu.users.tests.factories import grant

from .factories import QueueFactory
from .factories_mail import MailboxFactory, build, fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def received(company: Any) -> dict[str, InboundEmail]:
    mailbox = MailboxFactory.create(email="support@kehu.test", queue=QueueFactory(), name="售后邮箱")
    return {
        "created": svc.inbound_email_receive(raw=fixture("gbk_qp"), mailbox=mailbox),
        "auto": svc.inbound_email_receive(raw=fixture("outlook_auto_reply"), mailbox=mailbox),
        "garbage": svc.inbound_email_receive(raw=fixture("garbage"), mailbox=mailbox),
    }


def client_for(user: Any) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


URLS = [
    ("get", "service:inbound_list", None),
    ("get", "service:inbound_detail", "garbage"),
    ("get", "service:inbound_raw", "garbage"),
    ("post", "service:inbound_release", "garbage"),
    ("post", "service:inbound_discard", "garbage"),
]


@pytest.mark.parametrize(("method", "name", "key"), URLS)
def test_anonymous_and_users_without_permission_get_nothing(
    company: Any, received: dict[str, InboundEmail], method: str, name: str, key: str | None
) -> None:
    url = reverse(name, args=[received[key].pk] if key else [])
    anonymous = getattr(client_for(None), method)(url)
    assert anonymous.status_code == 302
    assert "/login" in anonymous["Location"] or "accounts" in anonymous["Location"]
    for user in (company.nobody, company.rep1):
        assert getattr(client_for(user), method)(url).status_code == 403
    assert InboundEmail.objects.count() == 3
    assert InboundEmail.objects.get(pk=received["garbage"].pk).status == InboundStatus.QUARANTINED


def test_list_with_status_filter(company: Any, received: dict[str, InboundEmail]) -> None:
    c = client_for(company.admin)
    page = c.get(reverse("service:inbound_list")).content.decode()
    assert page.count("data-inbound=") == 3
    assert "打印机故障" in page
    assert received["created"].ticket is not None and received["created"].ticket.number in page
    quarantined = c.get(reverse("service:inbound_list"), {"status": "quarantined"}).content.decode()
    assert quarantined.count("data-inbound=") == 1
    assert f'data-inbound="{received["garbage"].pk}"' in quarantined
    assert "Not a readable e-mail message" in quarantined
    found = c.get(reverse("service:inbound_list"), {"q": "zhangsan"}).content.decode()
    assert found.count("data-inbound=") == 1
    assert c.get(reverse("service:inbound_list"), {"status": "nonsense", "page": "x"}).status_code == 200


def test_list_in_chinese(company: Any, received: dict[str, InboundEmail]) -> None:
    c = client_for(company.admin)
    c.cookies["django_language"] = "zh-hans"
    assert c.get(reverse("service:inbound_list"), HTTP_ACCEPT_LANGUAGE="zh-hans").status_code == 200


def test_detail_shows_headers_and_reason(company: Any, received: dict[str, InboundEmail]) -> None:
    c = client_for(company.admin)
    auto = c.get(reverse("service:inbound_detail", args=[received["auto"].pk])).content.decode()
    assert "Automatic reply: [TK-2026-00042] Printer broken" in auto
    assert "data-reason" in auto and "Automatic reply" in auto
    assert 'data-action="release"' in auto
    created = c.get(reverse("service:inbound_detail", args=[received["created"].pk])).content.decode()
    assert 'data-action="release"' not in created
    assert 'data-action="discard"' not in created
    assert "gbk-1@example.cn" in created


def test_raw_download(company: Any, received: dict[str, InboundEmail]) -> None:
    response = client_for(company.admin).get(reverse("service:inbound_raw", args=[received["created"].pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert b"".join(response.streaming_content) == fixture("gbk_qp")  # type: ignore[attr-defined]


def test_release_and_discard(company: Any, received: dict[str, InboundEmail]) -> None:
    c = client_for(company.admin)
    response = c.post(reverse("service:inbound_release", args=[received["auto"].pk]))
    assert response.status_code == 302
    auto = InboundEmail.objects.get(pk=received["auto"].pk)
    assert auto.status == InboundStatus.CREATED
    assert auto.released_by == company.admin
    again = c.post(reverse("service:inbound_release", args=[received["garbage"].pk]), HTTP_HX_REQUEST="true")
    assert again.status_code == 204
    assert InboundEmail.objects.get(pk=received["garbage"].pk).status == InboundStatus.QUARANTINED
    # a message that made a ticket is neither released nor discarded
    c.post(reverse("service:inbound_discard", args=[received["created"].pk]))
    assert InboundEmail.objects.filter(pk=received["created"].pk).exists()
    c.post(reverse("service:inbound_discard", args=[received["garbage"].pk]))
    assert not InboundEmail.objects.filter(pk=received["garbage"].pk).exists()
    assert c.get(reverse("service:inbound_detail", args=[received["garbage"].pk])).status_code == 404


def test_a_granted_viewer_sees_but_may_not_release(company: Any, received: dict[str, InboundEmail]) -> None:
    grant(company.role_rep, "service.inboundemail", Action.VIEW, scope=Scope.ALL)
    c = client_for(company.rep1)
    assert c.get(reverse("service:inbound_list")).status_code == 200
    page = c.get(reverse("service:inbound_detail", args=[received["garbage"].pk])).content.decode()
    assert 'data-action="release"' not in page
    assert c.post(reverse("service:inbound_release", args=[received["garbage"].pk])).status_code == 403
    assert InboundEmail.objects.get(pk=received["garbage"].pk).status == InboundStatus.QUARANTINED


def test_mailbox_connection_test_fragment(company: Any) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    mailbox = MailboxFactory.create(imap_host="127.0.0.1", imap_port=closed, imap_ssl=False)
    url = reverse("service:mailbox_test", args=[mailbox.pk])
    assert client_for(company.nobody).post(url).status_code == 403
    response = client_for(company.admin).post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-test-result="failed"' in body
    assert "ConnectionRefusedError" in body


# --- proposing a contact ------------------------------------------------------------------------


def test_contact_suggestions(company: Any) -> None:
    account = AccountFactory.create(owner=company.admin, name="华星电子")
    same = ContactFactory.create(owner=company.admin, account=account, email="li@huaxing.cn")
    colleague = ContactFactory.create(owner=company.admin, account=account, email="wang@huaxing.cn")
    ContactFactory.create(owner=company.admin, email="zhao@qq.com")
    ticket = svc.inbound_email_receive(raw=build(sender=("李雷", "li@huaxing.cn"))).ticket
    assert ticket is not None
    # one contact has the address: the ticket is linked already, nothing to propose
    assert ticket.contact_id == same.pk
    assert selectors.contact_suggestions(ticket=ticket, user=company.admin) is None

    unknown = svc.inbound_email_receive(raw=build(sender=("韩梅梅", "han@huaxing.cn"))).ticket
    assert unknown is not None and unknown.contact_id is None
    found = selectors.contact_suggestions(ticket=unknown, user=company.admin)
    assert found is not None
    assert found.exact == []
    assert {c.pk for c in found.same_domain} == {same.pk, colleague.pk}
    assert found.accounts == [account]
    # a public mail domain says nothing
    free = svc.inbound_email_receive(raw=build(sender=("x", "x@qq.com"))).ticket
    assert free is not None
    assert selectors.contact_suggestions(ticket=free, user=company.admin).is_empty  # type: ignore[union-attr]
    # out of scope contacts are not proposed
    assert selectors.contact_suggestions(ticket=unknown, user=company.nobody).is_empty  # type: ignore[union-attr]


def test_contact_suggestions_partial_and_link(company: Any) -> None:
    account = AccountFactory.create(owner=company.admin)
    colleague = ContactFactory.create(owner=company.admin, account=account, email="wang@huaxing.cn")
    ticket = svc.inbound_email_receive(raw=build(sender=("韩梅梅", "han@huaxing.cn"))).ticket
    assert ticket is not None
    c = client_for(company.admin)
    page = c.get(reverse("service:ticket_contact_suggestions", args=[ticket.pk])).content.decode()
    assert f'data-suggested-contact="{colleague.pk}"' in page
    assert "email=han%40huaxing.cn" in page
    assert client_for(company.nobody).post(
        reverse("service:ticket_contact_link", args=[ticket.pk]), {"contact": colleague.pk}
    ).status_code in (403, 404)
    c.post(reverse("service:ticket_contact_link", args=[ticket.pk]), {"contact": "nope"})
    assert Ticket.objects.get(pk=ticket.pk).contact_id is None
    c.post(reverse("service:ticket_contact_link", args=[ticket.pk]), {"contact": colleague.pk})
    ticket.refresh_from_db()
    assert ticket.contact_id == colleague.pk
    assert ticket.account_id == account.pk
    assert (
        "data-contact-suggestions"
        not in c.get(reverse("service:ticket_contact_suggestions", args=[ticket.pk])).content.decode()
    )


def test_a_failed_reply_is_sent_again(
    company: Any, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    from django.core import mail as django_mail
    from django.utils import timezone

    from kehu.service.choices import DeliveryStatus, MessageKind
    from kehu.service.models import TicketMessage

    settings.CELERY_TASK_ALWAYS_EAGER = True
    ticket = svc.inbound_email_receive(raw=fixture("gbk_qp")).ticket
    assert ticket is not None
    failed = TicketMessage.objects.create(
        ticket=ticket,
        kind=MessageKind.REPLY,
        body="<p>好的</p>",
        body_text="好的",
        delivery=DeliveryStatus.FAILED,
        delivery_error="SMTPServerDisconnected",
        created_at=timezone.now(),
    )
    url = reverse("service:ticket_message_resend", args=[failed.pk])
    assert client_for(company.nobody).post(url).status_code in (403, 404)
    assert TicketMessage.objects.get(pk=failed.pk).delivery == DeliveryStatus.FAILED
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(company.admin).post(url).status_code == 302
    assert TicketMessage.objects.get(pk=failed.pk).delivery == DeliveryStatus.SENT
    assert len(django_mail.outbox) == 1
    assert django_mail.outbox[0].to == ["zhangsan@example.cn"]
    assert (
        client_for(company.admin).post(reverse("service:ticket_message_resend", args=[999999])).status_code
        == 404
    )


def test_inline_images_point_at_their_attachments() -> None:
    from kehu.service.models import TicketAttachment

    ticket = svc.inbound_email_receive(raw=fixture("inline_image")).ticket
    assert ticket is not None
    attachments = list(TicketAttachment.objects.filter(ticket=ticket))
    html = ticket.description + '<img src="cid:unknown@x">'
    shown = selectors.resolve_inline_images(html, attachments, lambda a: f"/files/{a.pk}?x=1&y=2")
    assert f'src="/files/{attachments[0].pk}?x=1&amp;y=2"' in shown
    assert 'src="cid:unknown@x"' in shown
    assert selectors.resolve_inline_images("<p>x</p>", attachments, str) == "<p>x</p>"
