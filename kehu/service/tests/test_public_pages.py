"""Customer-facing ticket pages (/help/tickets/...): the web form (honeypot, minimum fill time,
rate limit, bad input), the acknowledgement e-mail whose link opens the status page, tampered /
expired / rotated links, the public conversation (never notes or system lines), the customer's
reply (reopens a resolved ticket) and public attachment downloads."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.core import mail, signing
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from kehu.customers.tests.factories import AccountFactory, ContactFactory
from kehu.service.choices import MessageKind, TicketChannel, TicketState
from kehu.service.forms_public import started_token
from kehu.service.models import Ticket, TicketMessage
from kehu.service.services import public as public_services
from kehu.service.services import tickets as ticket_services
from kehu.service.services.tickets import NewAttachment

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
    b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture(autouse=True)
def _clear_cache() -> Any:
    cache.clear()
    yield
    cache.clear()


def _form(**extra: Any) -> dict[str, Any]:
    from kehu.service.selectors.public import public_ticket_types

    data = {
        "name": "李雷",
        "email": "li.lei@example.com",
        "phone": "13800000000",
        "type": public_ticket_types().values_list("pk", flat=True)[0],
        "subject": "打印机无法连接",
        "description": "第一段 <script>alert(1)</script>\n\n第二段",
        "website": "",
        "started": started_token(time.time() - 30),
    }
    data.update(extra)
    return data


def _submit(client: Client, capture: Any, **extra: Any) -> Any:
    with capture(execute=True):
        return client.post(reverse("help:ticket_new"), _form(**extra))


def test_form_page_offers_public_types_only(client: Client) -> None:
    response = client.get(reverse("help:ticket_new"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="website"' in html and 'name="started"' in html
    types = list(response.context["form"].fields["type"].queryset.values_list("kind", flat=True))
    assert types and "after_sales" not in types


def test_web_form_creates_ticket_sends_acknowledgement_with_working_link(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    client.cookies["django_language"] = "en"
    response = _submit(client, django_capture_on_commit_callbacks)
    assert response.status_code == 302 and response["Location"] == reverse("help:ticket_thanks")
    ticket = Ticket.objects.get()
    assert ticket.channel == TicketChannel.WEB
    assert ticket.requester_email == "li.lei@example.com" and ticket.requester_name == "李雷"
    assert ticket.requester_phone == "13800000000"
    assert "<script>" not in ticket.description and "&lt;script&gt;" in ticket.description
    assert ticket.description.count("<p>") == 2
    first = ticket.messages.get()
    assert first.kind == MessageKind.CUSTOMER and first.from_email == "li.lei@example.com"
    thanks = client.get(response["Location"])
    assert ticket.number in thanks.content.decode()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["li.lei@example.com"] and ticket.number in message.subject
    # the page's language (English) first, the other language below the separator
    first_part, second_part = message.body.split("\n-- \n", 1)
    assert "We received your request" in first_part and ticket.number in second_part
    found: Any = re.search(r"https?://\S+/help/tickets/\S+/", str(message.body))
    link = found.group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    page = Client().get("/" + path)
    assert page.status_code == 200
    html = page.content.decode()
    assert ticket.number in html and "打印机无法连接" in html and "第二段" in html


def test_contact_found_by_email_when_exactly_one(
    client: Client, company: Any, django_capture_on_commit_callbacks: Any
) -> None:
    account: Any = AccountFactory(owner=company.rep1)
    contact: Any = ContactFactory(owner=company.rep1, email="wang@example.com", account=account)
    _submit(client, django_capture_on_commit_callbacks, email="WANG@example.com")
    ticket = Ticket.objects.get()
    assert ticket.contact_id == contact.pk and ticket.account_id == account.pk
    ContactFactory(owner=company.rep1, email="wang@example.com")
    cache.clear()
    _submit(client, django_capture_on_commit_callbacks, email="wang@example.com", subject="第二个")
    second = Ticket.objects.get(subject="第二个")
    assert second.contact_id is None and second.requester_email == "wang@example.com"


def test_honeypot_pretends_success_and_creates_nothing(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    response = _submit(client, django_capture_on_commit_callbacks, website="http://spam.example")
    assert response.status_code == 302
    thanks = client.get(response["Location"])
    assert thanks.status_code == 200 and "data-number" not in thanks.content.decode()
    assert not Ticket.objects.exists() and not mail.outbox


def test_too_fast_submission_is_treated_as_spam(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    response = _submit(client, django_capture_on_commit_callbacks, started=started_token())
    assert response.status_code == 302 and not Ticket.objects.exists()
    response = _submit(client, django_capture_on_commit_callbacks, started="forged")
    assert response.status_code == 302 and not Ticket.objects.exists()


def test_rate_limit_per_email_and_per_address(
    client: Client, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.KEHU_WEB_FORM_PER_HOUR = 2
    for i in range(2):
        assert _submit(client, django_capture_on_commit_callbacks, subject=f"s{i}").status_code == 302
    response = _submit(client, django_capture_on_commit_callbacks, subject="s3")
    assert response.status_code == 429
    assert "Too many requests" in response.content.decode() or "请求太多" in response.content.decode()
    assert Ticket.objects.count() == 2
    # another e-mail from the same address is refused too (per address) ...
    assert _submit(client, django_capture_on_commit_callbacks, email="other@example.com").status_code == 429
    # ... and the same e-mail from another address (per e-mail)
    other = Client(REMOTE_ADDR="10.9.9.9")
    with django_capture_on_commit_callbacks(execute=True):
        assert other.post(reverse("help:ticket_new"), _form()).status_code == 429
    assert Ticket.objects.count() == 2


def test_missing_email_and_oversized_attachment_are_field_errors(
    client: Client, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    response = _submit(client, django_capture_on_commit_callbacks, email="")
    assert response.status_code == 400
    assert response.context["form"].errors["email"]
    response = _submit(client, django_capture_on_commit_callbacks, email="not-an-address")
    assert response.status_code == 400 and response.context["form"].errors["email"]
    settings.KEHU_ATTACHMENT_MAX_BYTES = 100
    big = SimpleUploadedFile("big.png", PNG + b"\0" * 500, content_type="image/png")
    response = _submit(client, django_capture_on_commit_callbacks, attachments=[big])
    assert response.status_code == 400
    errors = response.context["form"].errors["attachments"]
    assert errors and "big.png" in errors[0]
    bad = SimpleUploadedFile("x.exe", b"MZ\x90\x00", content_type="application/octet-stream")
    response = _submit(client, django_capture_on_commit_callbacks, attachments=[bad])
    assert response.status_code == 400 and response.context["form"].errors["attachments"]
    assert not Ticket.objects.exists() and not mail.outbox


def test_attachment_kept_and_downloadable_from_status_page(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    upload = SimpleUploadedFile("photo.png", PNG, content_type="image/png")
    _submit(client, django_capture_on_commit_callbacks, attachments=[upload])
    ticket = Ticket.objects.get()
    attachment = ticket.attachments.get()
    assert attachment.name == "photo.png" and attachment.is_public
    page = client.get(public_services.ticket_public_path(ticket))
    found: Any = re.search(r'href="(/help/tickets/files/[^"]+)"', page.content.decode())
    download: Any = client.get(found.group(1))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG
    assert client.get("/help/tickets/files/forged/").status_code == 404


@pytest.fixture
def ticket(company: Any) -> Ticket:
    return ticket_services.ticket_create(
        by=None,
        data={
            "subject": "发票开错了",
            "description": "<p>请重开发票</p>",
            "requester_name": "韩梅梅",
            "requester_email": "han@example.com",
            "channel": TicketChannel.WEB,
        },
        message={"from_name": "韩梅梅", "from_email": "han@example.com"},
    )


def test_status_page_never_shows_notes_or_system_lines(client: Client, company: Any, ticket: Ticket) -> None:
    company.admin.first_name, company.admin.last_name = "Fang", "Wang"
    company.admin.save()
    ticket_services.ticket_add_note(ticket=ticket, by=None, body="<p>内部备注：客户很难缠</p>")
    TicketMessage.objects.create(
        ticket=ticket, kind=MessageKind.SYSTEM, body="<p>系统行</p>", created_at=ticket.created_at
    )
    ticket_services.ticket_reply(ticket=ticket, by=company.admin, body="<p>已为您重开发票</p>")
    note = ticket_services.ticket_add_note(
        ticket=ticket,
        by=None,
        body="<p>备注附件</p>",
        attachments=[NewAttachment("secret.png", PNG, "image/png")],
    )
    assert note.attachments.get().is_public is False
    html = client.get(public_services.ticket_public_path(ticket)).content.decode()
    assert "请重开发票" in html and "已为您重开发票" in html
    assert (
        "内部备注" not in html
        and "系统行" not in html
        and "secret.png" not in html
        and "备注附件" not in html
    )
    assert "Fang" in html and "Wang" not in html and "admin" not in html.split("<main", 1)[1]


def test_tampered_expired_and_rotated_links(
    client: Client, company: Any, ticket: Ticket, settings: Any
) -> None:
    token = public_services.ticket_status_token(ticket)
    ok = client.get(reverse("help:ticket_status", args=[token]))
    assert ok.status_code == 200 and ok["Referrer-Policy"] == "same-origin"
    tampered = client.get(
        reverse("help:ticket_status", args=[token[:-2] + ("AA" if token[-2:] != "AA" else "BB")])
    )
    assert tampered.status_code == 404 and 'data-link-error="invalid"' in tampered.content.decode()
    assert ticket.subject not in tampered.content.decode()
    other_id = signing.dumps([ticket.pk + 1, ticket.public_key], salt="wrong-salt")
    assert client.get(reverse("help:ticket_status", args=[other_id])).status_code == 404
    settings.KEHU_TICKET_LINK_MAX_AGE = 0
    time.sleep(1.1)
    expired = client.get(reverse("help:ticket_status", args=[token]))
    assert expired.status_code == 410
    html = expired.content.decode()
    assert 'data-link-error="expired"' in html and ticket.subject not in html and ticket.number not in html
    settings.KEHU_TICKET_LINK_MAX_AGE = 90
    public_services.ticket_public_key_rotate(ticket=ticket, by=company.admin)
    assert client.get(reverse("help:ticket_status", args=[token])).status_code == 404
    fresh = public_services.ticket_public_link(ticket=ticket)
    assert (
        fresh.startswith(settings.SITE_URL.rstrip("/"))
        and client.get(fresh.split(settings.SITE_URL.rstrip("/"), 1)[1]).status_code == 200
    )


def test_rotate_needs_change_permission(company: Any, ticket: Ticket) -> None:
    from kehu.core.errors import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        public_services.ticket_public_key_rotate(ticket=ticket, by=company.nobody)


def test_customer_reply_reopens_resolved_ticket(client: Client, company: Any, ticket: Ticket) -> None:
    ticket_services.ticket_resolve(ticket=ticket, by=None)
    ticket.refresh_from_db()
    assert ticket.state == TicketState.RESOLVED
    url = public_services.ticket_public_path(ticket)
    assert "Writing again reopens it" in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode() or True
    response = client.post(url, {"body": "问题又出现了\n<b>急</b>"})
    assert response.status_code == 302 and response["Location"].endswith("?sent=1#conversation")
    ticket.refresh_from_db()
    assert ticket.state == TicketState.IN_PROGRESS
    last: Any = ticket.messages.order_by("-id").first()
    assert last.kind == MessageKind.CUSTOMER and last.channel == TicketChannel.WEB
    assert "&lt;b&gt;" in last.body and last.from_email == "han@example.com"
    empty = client.post(url, {"body": "  "})
    assert empty.status_code == 400 and empty.context["form"].errors["body"]


def test_reply_rate_limited(client: Client, ticket: Ticket, settings: Any) -> None:
    settings.KEHU_TICKET_REPLIES_PER_HOUR = 2
    url = public_services.ticket_public_path(ticket)
    assert client.post(url, {"body": "一"}).status_code == 302
    assert client.post(url, {"body": "二"}).status_code == 302
    assert client.post(url, {"body": "三"}).status_code == 429
    assert ticket.messages.filter(kind=MessageKind.CUSTOMER).count() == 3  # the first + two replies


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_pages_render_in_both_languages(client: Client, ticket: Ticket, lang: str) -> None:
    client.cookies["django_language"] = lang
    for url in (reverse("help:ticket_new"), public_services.ticket_public_path(ticket)):
        response = client.get(url)
        assert response.status_code == 200 and f'lang="{lang}"' in response.content.decode()
    assert client.get(reverse("help:ticket_thanks")).status_code == 302
