"""The ticket page: who sees it, what read-only readers miss, the reply box, the actions, files."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from kehu.customers.tests.factories import AccountFactory
from kehu.service.choices import MessageKind, TicketState
from kehu.service.models import Ticket, TicketMessage, TicketWatcher
from kehu.service.services import tickets as services
from kehu.service.tests.factories import TicketFactory, queue_with, status

pytestmark = pytest.mark.django_db


def _ticket(**kwargs: Any) -> Any:
    return TicketFactory(**kwargs)


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _url(ticket: Ticket, name: str = "service:ticket_detail", *args: Any) -> str:
    return reverse(name, args=[ticket.pk, *args])


@pytest.fixture
def page(tickets_granted: Any) -> Any:
    """rep1's ticket on an account rep3 owns, with a customer message, a reply, a note (with a
    private file), a system line and a public attachment."""
    company = tickets_granted
    account = AccountFactory(owner=company.rep3, name="华东客户")
    ticket = _ticket(
        subject="打印机坏了", assignee=company.rep1, account=account, requester_email="kh@example.cn"
    )
    services.ticket_add_customer_message(
        ticket=ticket,
        body="<p>打印机<b>卡纸</b><script>alert('x')</script></p>",
        from_name="张三",
        attachments=[services.NewAttachment(name="照片.png", content=PNG, content_type="image/png")],
    )
    services.ticket_reply(ticket=ticket, by=company.rep1, body="<p>已安排工程师上门</p>")
    services.ticket_add_note(
        ticket=ticket,
        by=company.rep1,
        body="<p>内部备注：客户很着急</p>",
        attachments=[services.NewAttachment(name="secret.pdf", content=PDF, content_type="application/pdf")],
    )
    TicketMessage.objects.create(
        ticket=ticket, kind=MessageKind.SYSTEM, body_text="merged:TK-2026-00099", created_at=ticket.created_at
    )
    company.ticket = ticket
    company.account = account
    return company


# --- who sees the page ------------------------------------------------------------------------


def test_anonymous_goes_to_login(page: Any) -> None:
    response = Client().get(_url(page.ticket))
    assert response.status_code == 302 and "login" in response["Location"]
    response = Client().get(reverse("service:ticket_add"))
    assert response.status_code == 302


def test_nobody_and_other_reps_get_404(page: Any) -> None:
    assert _client(page.nobody).get(_url(page.ticket)).status_code == 404
    assert _client(page.rep2).get(_url(page.ticket)).status_code == 404
    for name in ("service:ticket_assign", "service:ticket_merge", "service:ticket_split"):
        assert _client(page.rep2).get(_url(page.ticket, name)).status_code == 404
    response = _client(page.rep2).post(_url(page.ticket, "service:ticket_reply"), {"reply-body": "x"})
    assert response.status_code == 404


@pytest.mark.parametrize("who", ["rep1", "manager1", "director"])
def test_agents_in_scope_see_everything_and_the_actions(page: Any, who: str) -> None:
    response = _client(getattr(page, who)).get(_url(page.ticket))
    assert response.status_code == 200
    html = response.content.decode()
    assert "打印机坏了" in html and "已安排工程师上门" in html
    assert "内部备注：客户很着急" in html and 'data-message-kind="note"' in html
    assert "Ticket TK-2026-00099 was merged into this one." in html
    assert 'id="ticket-reply"' in html and "data-ticket-actions" in html
    assert "secret.pdf" in html and "照片.png" in html


def test_queue_member_works_the_queues_tickets(page: Any) -> None:
    queue = queue_with(page.rep2)
    Ticket.objects.filter(pk=page.ticket.pk).update(queue=queue)
    response = _client(page.rep2).get(_url(page.ticket))
    assert response.status_code == 200
    assert 'id="ticket-reply"' in response.content.decode()


def test_account_owner_reads_without_notes_and_without_actions(page: Any) -> None:
    response = _client(page.rep3).get(_url(page.ticket))
    assert response.status_code == 200
    html = response.content.decode()
    assert "已安排工程师上门" in html and "卡纸" in html
    assert "内部备注" not in html and "secret.pdf" not in html
    assert 'id="ticket-reply"' not in html and "data-ticket-actions" not in html
    assert "data-read-only" in html
    # the actions themselves refuse (seen but not changeable: 403)
    response = _client(page.rep3).post(_url(page.ticket, "service:ticket_reply"), {"reply-body": "<p>x</p>"})
    assert response.status_code == 403
    assert _client(page.rep3).get(_url(page.ticket, "service:ticket_assign")).status_code == 403


def test_viewer_of_all_reads_only(page: Any) -> None:
    html = _client(page.viewer_all).get(_url(page.ticket)).content.decode()
    assert "已安排工程师上门" in html and "内部备注" not in html and 'id="ticket-reply"' not in html


def test_tabs_render(page: Any) -> None:
    c = _client(page.rep1)
    services.ticket_move(ticket=page.ticket, by=page.rep1, status=status("in_progress"))
    other = _ticket(assignee=page.rep1, account=page.account, subject="另一张工单")
    for tab, expected in (
        ("details", "data-ticket-details"),
        ("status", "data-status-history"),
        ("related", other.number),
        ("history", ""),
    ):
        response = c.get(
            _url(page.ticket) + f"?tab={tab}", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="object-tab"
        )
        assert response.status_code == 200, tab
        assert expected in response.content.decode()
    html = c.get(_url(page.ticket) + "?tab=status").content.decode()
    assert "In progress" in html or "处理中" in html


def test_script_in_messages_is_never_rendered(page: Any) -> None:
    html = _client(page.rep1).get(_url(page.ticket)).content.decode()
    assert "alert('x')" not in html and "<script>alert" not in html


# --- attachments ------------------------------------------------------------------------------


def test_attachment_download_checks_scope(page: Any) -> None:
    photo = page.ticket.attachments.get(name="照片.png")
    secret = page.ticket.attachments.get(name="secret.pdf")
    response = _client(page.rep1).get(_url(page.ticket, "service:ticket_attachment", photo.pk))
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG  # type: ignore[attr-defined]
    assert (
        _client(page.rep1).get(_url(page.ticket, "service:ticket_attachment", secret.pk)).status_code == 200
    )
    # the account's rep downloads the customer's file, not the note's
    assert _client(page.rep3).get(_url(page.ticket, "service:ticket_attachment", photo.pk)).status_code == 200
    assert (
        _client(page.rep3).get(_url(page.ticket, "service:ticket_attachment", secret.pk)).status_code == 404
    )
    assert _client(page.rep2).get(_url(page.ticket, "service:ticket_attachment", photo.pk)).status_code == 404
    other = _ticket(assignee=page.rep1)
    assert _client(page.rep1).get(_url(other, "service:ticket_attachment", photo.pk)).status_code == 404


# --- the reply box ----------------------------------------------------------------------------


def test_htmx_reply_appends_the_message_and_a_fresh_box(page: Any) -> None:
    c = _client(page.rep1)
    response = c.post(
        _url(page.ticket, "service:ticket_reply"),
        {
            "reply-kind": "reply",
            "reply-body": "<p>请重启<script>alert(2)</script></p>",
            "reply-cc": "boss@example.cn",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "请重启" in html and "alert(2)" not in html
    assert 'data-message-kind="reply"' in html and 'hx-swap-oob="outerHTML"' in html
    reply = page.ticket.messages.filter(kind=MessageKind.REPLY).latest("id")
    assert reply.cc == "boss@example.cn"


def test_reply_with_a_status_and_a_file(page: Any) -> None:
    waiting = status("waiting")
    response = _client(page.rep1).post(
        _url(page.ticket, "service:ticket_reply"),
        {
            "reply-kind": "reply",
            "reply-body": "<p>请提供序列号</p>",
            "reply-status": waiting.pk,
            "reply-attachments": SimpleUploadedFile("说明.pdf", PDF, content_type="application/pdf"),
        },
    )
    assert response.status_code == 302
    page.ticket.refresh_from_db()
    assert page.ticket.state == TicketState.WAITING
    assert page.ticket.attachments.filter(name="说明.pdf", is_public=True).exists()


def test_note_through_the_reply_box(page: Any) -> None:
    response = _client(page.rep1).post(
        _url(page.ticket, "service:ticket_reply"),
        {"reply-kind": "note", "reply-body": "<p>再跟进</p>"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and 'data-message-kind="note"' in response.content.decode()
    assert page.ticket.messages.filter(kind=MessageKind.NOTE, body_text__contains="再跟进").exists()


def test_reply_errors_keep_the_text(page: Any) -> None:
    c = _client(page.rep1)
    before = TicketMessage.objects.count()
    response = c.post(
        _url(page.ticket, "service:ticket_reply"),
        {"reply-kind": "reply", "reply-body": "<p>我的长回复</p>", "reply-cc": "not-an-address"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#ticket-reply"
    html = response.content.decode()
    assert "我的长回复" in html and "is not an e-mail address" in html
    response = c.post(_url(page.ticket, "service:ticket_reply"), {"reply-kind": "reply", "reply-body": " "})
    assert response.status_code == 400 and "Write a message." in response.content.decode()
    closed = status("closed")
    response = c.post(
        _url(page.ticket, "service:ticket_reply"),
        {"reply-kind": "reply", "reply-body": "<p>x</p>", "reply-status": closed.pk + 1000},
        HTTP_HX_REQUEST="true",
    )
    assert "reply-status" in response.content.decode()
    assert TicketMessage.objects.count() == before


# --- actions ----------------------------------------------------------------------------------


def test_assign_to_me_and_by_form(page: Any) -> None:
    ticket = _ticket(assignee=page.rep2)
    c = _client(page.manager1)
    response = c.post(_url(ticket, "service:ticket_assign"), {"me": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    ticket.refresh_from_db()
    assert ticket.assignee == page.manager1
    response = c.post(_url(ticket, "service:ticket_assign"), {"assignee": page.rep2.pk})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee == page.rep2
    assert c.get(_url(ticket, "service:ticket_assign"), HTTP_HX_REQUEST="true").status_code == 200


def test_rep_may_not_assign_to_others(page: Any) -> None:
    response = _client(page.rep1).post(_url(page.ticket, "service:ticket_assign"), {"assignee": page.rep2.pk})
    assert response.status_code == 400
    page.ticket.refresh_from_db()
    assert page.ticket.assignee == page.rep1


def test_auto_assign_by_queue(page: Any) -> None:
    from kehu.service.choices import AssignmentMethod

    queue = queue_with(page.rep1, page.rep2, assignment=AssignmentMethod.ROUND_ROBIN)
    ticket = _ticket(queue=queue, assignee=page.rep2)
    response = _client(page.manager1).post(_url(ticket, "service:ticket_assign"), {"quick_auto": "1"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee == page.rep1


def test_move_only_to_allowed_statuses(page: Any) -> None:
    c = _client(page.rep1)
    page.ticket.refresh_from_db()
    allowed = services.allowed_next(page.ticket)
    html = c.get(_url(page.ticket)).content.decode()
    for s in allowed:
        assert f'data-status="{s.code}"' in html
    target = allowed[0]
    response = c.post(_url(page.ticket, "service:ticket_move"), {"status": target.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    page.ticket.refresh_from_db()
    assert page.ticket.status == target
    current = page.ticket.status
    response = c.post(_url(page.ticket, "service:ticket_move"), {"status": current.pk})
    assert response.status_code == 400


def test_resolve_and_reopen(page: Any) -> None:
    c = _client(page.rep1)
    assert c.post(_url(page.ticket, "service:ticket_resolve"), {"note": "好了"}).status_code == 302
    page.ticket.refresh_from_db()
    assert page.ticket.state == TicketState.RESOLVED
    assert 'data-action="reopen"' in c.get(_url(page.ticket)).content.decode()
    response = c.post(_url(page.ticket, "service:ticket_reopen"), {}, HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    page.ticket.refresh_from_db()
    assert page.ticket.is_open


def test_merge_into_a_ticket_of_the_same_account(page: Any) -> None:
    target = _ticket(assignee=page.rep1, account=page.account)
    elsewhere = _ticket(assignee=page.rep1, account=AccountFactory(owner=page.rep1))
    c = _client(page.rep1)
    picks = c.get(_url(page.ticket, "service:ticket_merge_targets")).json()["results"]
    assert [p["id"] for p in picks] == [target.pk]
    response = c.post(_url(page.ticket, "service:ticket_merge"), {"target": elsewhere.pk})
    assert response.status_code == 400
    response = c.post(
        _url(page.ticket, "service:ticket_merge"), {"target": target.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 204
    page.ticket.refresh_from_db()
    assert page.ticket.merged_into == target


def test_split_chosen_messages(page: Any) -> None:
    # (ticket_split re-checks the account through ticket_create: the agent must see the account)
    Ticket.objects.filter(pk=page.ticket.pk).update(account=AccountFactory(owner=page.rep1))
    c = _client(page.rep1)
    message = page.ticket.messages.filter(kind=MessageKind.CUSTOMER).first()
    assert c.get(_url(page.ticket, "service:ticket_split")).status_code == 200
    response = c.post(
        _url(page.ticket, "service:ticket_split"), {"messages": [message.pk], "subject": "第二个问题"}
    )
    assert response.status_code == 302
    new = Ticket.objects.get(split_from=page.ticket)
    assert new.subject == "第二个问题" and new.messages.filter(pk=message.pk).exists()
    response = c.post(_url(page.ticket, "service:ticket_split"), {"messages": []})
    assert response.status_code == 400


def test_escalate_from_the_page(page: Any) -> None:
    c = _client(page.rep1)
    response = c.post(_url(page.ticket, "service:ticket_escalate"), {"reason": ""})
    assert response.status_code == 400
    response = c.post(_url(page.ticket, "service:ticket_escalate"), {"reason": "客户投诉升级"})
    assert response.status_code == 302
    page.ticket.refresh_from_db()
    assert page.ticket.escalation_level == 1


def test_watch_and_unwatch(page: Any) -> None:
    c = _client(page.rep3)  # read-only readers may watch
    assert c.post(_url(page.ticket, "service:ticket_watch"), HTTP_HX_REQUEST="true").status_code == 204
    assert TicketWatcher.objects.filter(ticket=page.ticket, user=page.rep3).exists()
    assert c.post(_url(page.ticket, "service:ticket_watch"), {"stop": "1"}).status_code == 302
    assert not TicketWatcher.objects.filter(ticket=page.ticket, user=page.rep3).exists()
    assert _client(page.rep2).post(_url(page.ticket, "service:ticket_watch")).status_code == 404


# --- the other areas' pieces on the page ------------------------------------------------------


def test_canned_responses_and_articles_in_the_reply_box(page: Any) -> None:
    from kehu.service.tests.factories_knowledge import article
    from kehu.service.tests.factories_queues import CannedResponseFactory

    CannedResponseFactory(name="问候语")
    c = _client(page.admin)
    html = c.get(_url(page.ticket)).content.decode()
    assert "data-canned-picker" in html and "问候语" in html
    assert reverse("service:article_suggest") in html
    kb: Any = article(page.admin, publish=True)
    response = c.post(
        _url(page.ticket, "service:ticket_reply"),
        {
            "reply-kind": "reply",
            "reply-body": f'<p><a href="/kb/{kb.pk}/">{kb.title}</a></p>',
            "reply-articles": f"{kb.pk}",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    reply = page.ticket.messages.filter(kind=MessageKind.REPLY).latest("id")
    assert list(reply.articles.all()) == [kb]


def test_the_sender_suggestions_card_for_a_requester_without_contact(page: Any) -> None:
    from kehu.customers.tests.factories import ContactFactory

    ContactFactory(owner=page.rep1, name="客户联系人", email="kh@example.cn")
    html = _client(page.rep1).get(_url(page.ticket)).content.decode()
    assert "data-contact-suggestions" in html and "客户联系人" in html
    # read-only readers do not get it
    assert "data-contact-suggestions" not in _client(page.rep3).get(_url(page.ticket)).content.decode()


def test_csat_shown_when_answered(page: Any) -> None:
    from kehu.service.models import Survey, SurveyResponse

    survey = Survey.objects.get(kind="csat")  # seeded by migration 0003
    from django.utils import timezone

    SurveyResponse.objects.create(
        survey=survey,
        ticket=page.ticket,
        kind="csat",
        score=4,
        account=page.account,
        created_at=timezone.now(),
    )
    html = _client(page.rep1).get(_url(page.ticket)).content.decode()
    assert 'data-csat="4"' in html


def test_inline_images_of_an_email_show_in_the_body(page: Any) -> None:
    services.ticket_add_customer_message(
        ticket=page.ticket,
        body='<p>看图：<img src="cid:img1@mail.example.cn"></p>',
        from_name="张三",
        attachments=[
            services.NewAttachment(
                name="inline.png", content=PNG, content_type="image/png", content_id="img1@mail.example.cn"
            )
        ],
    )
    image = page.ticket.attachments.get(name="inline.png")
    html = _client(page.rep1).get(_url(page.ticket)).content.decode()
    assert f'src="{_url(page.ticket, "service:ticket_attachment", image.pk)}"' in html
    assert "cid:img1" not in html
