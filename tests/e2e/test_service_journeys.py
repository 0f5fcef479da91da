"""The service journeys of issue 8 in a real browser, each step checked in the page and in the
database.

1. A customer writes to the support mailbox (a GBK-encoded Chinese e-mail through the real inbound
   path); the ticket lands in the mailbox's queue, assigned to its agent; the agent opens it from
   "My tickets", replies with a knowledge-base article inserted from the reply box, resolves it;
   the customer gets the CSAT invitation by e-mail, rates 4 stars through its link (a second
   answer is refused), and the account owner sees the rating on the account 360°'s
   "Satisfaction" card.
2. A ticket breaches its first-response target (30 minutes, 24×7: no business calendar); the SLA
   sweep (time travel through its `now`) escalates it and notifies the queue's manager, who
   follows the bell's notification to the ticket and sees the breached timer and the escalation
   line in the conversation.

Data: the demo organisation and roles (agents, the service manager), the service defaults of
migration 0003 (statuses, types, the CSAT survey, the ticket sequence) seeded again in the
transactional test database, everything else through the services.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from email.header import Header
from email.mime.text import MIMEText
from email.utils import formataddr, make_msgid
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from kehu.customers.services import account_create, contact_create
from kehu.service.choices import InboundStatus, MessageKind, TicketState
from kehu.service.models import SurveyInvitation, SurveyResponse, TicketMessage
from kehu.service.services.knowledge import article_create, article_publish
from kehu.service.services.mail import inbound_email_receive
from kehu.service.services.queues import queue_create
from kehu.service.services.settings import mailbox_create
from kehu.service.services.sla import BREACH_KIND, sla_policy_create, sla_sweep
from kehu.service.services.tickets import ticket_create
from kehu.users.models import User

from .conftest import login, screenshot, use_language

SUPPORT = "support@kehu.example"


@pytest.fixture
def org(transactional_db: Any) -> dict[str, User]:
    from kehu.demo.loader import load_demo

    load_demo(only=["org"])
    # A transactional test database starts without the data migrations' rows: the ticket statuses
    # and types, the CSAT survey and the ticket/article sequences are seeded again.
    importlib.import_module("kehu.service.migrations.0003_ticket_defaults").seed(apps, None)
    return {u.username: u for u in User.objects.all()}


def _gbk_mail(*, subject: str, body: str, sender: tuple[str, str]) -> bytes:
    """A message as a Chinese mail client sends it: GBK body (base64) and encoded headers."""
    msg = MIMEText(body, "plain", "gbk")
    msg["From"] = formataddr((str(Header(sender[0], "gbk")), sender[1]))
    msg["To"] = SUPPORT
    msg["Subject"] = Header(subject, "gbk").encode()
    msg["Date"] = timezone.now().strftime("%a, %d %b %Y %H:%M:%S +0000")
    msg["Message-ID"] = make_msgid(domain="fengda.example")
    return msg.as_bytes()


def test_mail_becomes_ticket_answered_with_article_resolved_and_rated(
    new_page: Any, org: dict[str, User]
) -> None:
    agent, manager, admin, rep = org["agent1"], org["svcmanager"], org["admin"], org["rep1"]
    queue = queue_create(
        by=manager,
        data={
            "name": "一线支持",
            "name_en": "First-line support",
            "assignment": "round_robin",
            "members": [agent],
        },
    )
    mailbox = mailbox_create(
        by=admin, data={"name": "客服邮箱", "email": SUPPORT, "queue": queue, "is_active": False}
    )
    account = account_create(by=rep, data={"name": "杭州丰达机械有限公司"})
    contact = contact_create(
        by=rep, data={"name": "张伟", "account": account, "email": "zhangwei@fengda.example"}
    )
    article = article_create(
        by=manager,
        data={
            "title": "打印机无法连接服务器的排查步骤",
            "summary": "检查网络、驱动和打印服务。",
            "body": "<p>请先检查打印机的网络连接，然后重新安装驱动。</p>",
            "visibility": "public",
            "keywords": "打印机 网络",
        },
    )
    article = article_publish(article=article, by=manager)
    assert article.status == "published"

    # The customer's e-mail arrives through the inbound path (an MTA pipe or the IMAP poller).
    raw = _gbk_mail(
        subject="打印机无法连接服务器",
        body="您好：\n办公室的打印机从昨天开始连不上服务器，提示网络错误。\n张伟",
        sender=("张伟", "zhangwei@fengda.example"),
    )
    inbound = inbound_email_receive(raw=raw, mailbox=mailbox)
    assert inbound.status == InboundStatus.CREATED, inbound.reason
    ticket = inbound.ticket
    assert ticket is not None
    assert (ticket.subject, ticket.queue_id, ticket.assignee_id) == (
        "打印机无法连接服务器",
        queue.pk,
        agent.pk,
    )
    assert (ticket.contact_id, ticket.account_id, ticket.channel) == (contact.pk, account.pk, "email")
    assert "连不上服务器" in ticket.description_text

    # The agent finds it under "My tickets" and opens it.
    page = new_page("en")
    login(page, "agent1")
    use_language(page, "en")  # the demo users prefer Chinese
    page.goto("/service/tickets/mine/")
    row = page.locator("table tbody tr", has_text=ticket.subject)
    expect(row).to_contain_text("杭州丰达机械有限公司")
    screenshot(page, "service-my-tickets-en")
    row.get_by_role("link", name=ticket.number).click()
    expect(page).to_have_url(re.compile(rf"/service/tickets/{ticket.pk}/"))
    expect(page.locator("#ticket-messages")).to_contain_text("连不上服务器")

    # A reply with the article inserted from the knowledge base.
    form = page.locator("#ticket-reply")
    form.locator(".kehu-rt-editor").click()
    form.locator(".kehu-rt-editor").type("张先生您好，请按下面这篇文章的步骤排查：")
    form.locator("[data-kb-toggle]").click()
    form.locator("[data-kb-search]").fill("打印机")
    suggestion = form.locator(f'[data-kb-results] [data-article-id="{article.pk}"]')
    expect(suggestion).to_be_visible()
    screenshot(page, "service-reply-insert-article-en")
    suggestion.click()
    expect(form.locator(".kehu-rt-editor a", has_text=article.title)).to_be_visible()
    mail.outbox.clear()
    form.locator('[data-action="send"]').click()
    expect(page.locator("#ticket-messages")).to_contain_text("请按下面这篇文章的步骤排查")
    # The public link in the body, and the article's badge on the message.
    messages = page.locator("#ticket-messages")
    expect(messages.locator(f'a[href$="/help/articles/{article.pk}/"]')).to_have_text(article.title)
    expect(messages.locator(f'a[href="/service/knowledge/{article.pk}/"]')).to_contain_text(article.title)
    reply = TicketMessage.objects.get(ticket=ticket, kind=MessageKind.REPLY)
    assert article.title in reply.body and reply.author_id == agent.pk
    assert list(ticket.article_links.values_list("article_id", flat=True)) == [article.pk]
    sent = [m for m in mail.outbox if ticket.number in m.subject]
    assert sent and sent[0].to == ["zhangwei@fengda.example"]
    screenshot(page, "service-ticket-replied-en")

    # Resolve: the CSAT invitation goes out after the commit.
    page.locator('[data-action="resolve"]').click()
    modal_form = page.locator("#kehu-modal form").first
    expect(modal_form).to_be_visible()
    modal_form.locator("[type=submit]").last.click()
    expect(page.locator("#kehu-modal form")).to_be_hidden()
    ticket.refresh_from_db()
    assert ticket.state == TicketState.RESOLVED
    page.reload()
    expect(page.locator('[data-action="reopen"]')).to_be_visible()
    screenshot(page, "service-ticket-resolved-en")
    invitation = SurveyInvitation.objects.get(ticket=ticket)
    assert (invitation.email, invitation.account_id, invitation.sent_at is not None) == (
        "zhangwei@fengda.example",
        account.pk,
        True,
    )
    [invite_mail] = [m for m in mail.outbox if m.to == ["zhangwei@fengda.example"] and m is not sent[0]]
    links = re.findall(r"https?://[^\s\"<>]+/help/survey/[^\s\"<>?]+/", str(invite_mail.body))
    assert links, invite_mail.body
    link = urlsplit(links[0]).path

    # The customer, not logged in, answers: 4 stars and a comment. The link was opened twice (two
    # tabs); the answer from the second tab is refused, and the link then says it was answered.
    customer = new_page("zh-hans")
    customer.goto(link)
    stale = customer.context.new_page()
    stale.goto(link)
    expect(customer.locator("#survey-answer")).to_contain_text(ticket.number)
    customer.locator('label[for="score-4"]').click()
    customer.fill("#id_comment", "回复很快，文章很有用。")
    screenshot(customer, "service-csat-answer-zh-hans")
    with customer.expect_navigation():
        customer.locator("#survey-answer [type=submit]").click()
    expect(customer.locator("body")).to_contain_text("你的答复已记录")
    screenshot(customer, "service-csat-thanks-zh-hans")
    answer = SurveyResponse.objects.get(invitation=invitation)
    assert (answer.score, answer.comment, answer.account_id) == (4, "回复很快，文章很有用。", account.pk)
    stale.locator('label[for="score-1"]').click()
    with stale.expect_navigation():
        stale.locator("#survey-answer [type=submit]").click()
    expect(stale.locator("body")).to_contain_text("本次答复未被记录")
    screenshot(stale, "service-csat-second-refused-zh-hans")
    stale.goto(link)
    expect(stale.locator("#survey-answer")).to_have_count(0)
    assert SurveyResponse.objects.filter(invitation=invitation).count() == 1

    # The account owner sees the rating on the account 360°.
    owner = new_page("en")
    login(owner, "rep1")
    use_language(owner, "en")
    owner.goto(f"/customers/accounts/{account.pk}/")
    card = owner.locator('[data-panel="satisfaction"]')
    expect(card).to_be_visible()
    expect(card.locator("[data-csat]")).to_contain_text("4.00")
    expect(card.locator(f'[data-answer="{answer.pk}"]')).to_contain_text("回复很快")
    expect(card.locator(f'[data-answer="{answer.pk}"]')).to_contain_text(ticket.number)
    screenshot(owner, "service-account-360-satisfaction-en")


def test_ticket_breaching_its_sla_is_escalated_to_the_queue_manager(
    new_page: Any, org: dict[str, User]
) -> None:
    from kehu.notifications.models import Notification

    agent, manager = org["agent1"], org["svcmanager"]
    queue = queue_create(
        by=manager,
        data={
            "name": "售后服务",
            "name_en": "After-sales",
            "assignment": "manual",
            "manager": manager,
            "members": [agent],
        },
    )
    # No business calendar anywhere: the timers count around the clock (24×7).
    policy = sla_policy_create(
        by=manager,
        data={
            "name": "标准响应",
            "name_en": "Standard",
            "first_response_minutes": 30,
            "notify_manager": True,
        },
    )
    # The customer called two hours ago; nobody has answered since.
    created = timezone.now() - dt.timedelta(hours=2)
    ticket = ticket_create(
        by=agent,
        data={
            "subject": "服务器电源故障报修",
            "queue": queue,
            "description": "<p>电源模块故障，无法开机。</p>",
        },
        assignee=agent,
        now=created,
    )
    ticket.refresh_from_db()
    assert ticket.sla_policy_id == policy.pk
    assert ticket.first_response_due == created + dt.timedelta(minutes=30)

    # Celery beat runs the sweep every minute: now the first response is 90 minutes overdue.
    result = sla_sweep(now=timezone.now())
    assert result.notifications >= 1
    ticket.refresh_from_db()
    assert ticket.escalation_level == 1 and ticket.first_response_breached
    notification = Notification.objects.filter(recipient=manager).latest("pk")
    assert ticket.number in notification.title
    assert not Notification.objects.filter(recipient=agent, kind=BREACH_KIND).exists()

    page = new_page("en")
    login(page, "svcmanager")
    use_language(page, "en")
    page.goto("/")
    expect(page.locator("#kehu-bell-badge")).not_to_have_attribute("data-unread", "0")
    page.click("#kehu-bell-toggle")
    item = page.locator(f'#kehu-bell-menu [data-notification="{notification.pk}"]')
    expect(item).to_contain_text(ticket.number)
    # (written at the sweep in the recipient's language: the demo's service manager prefers Chinese)
    assert manager.language == "zh-hans"
    expect(item).to_contain_text("已超时")
    screenshot(page, "service-sla-bell-en")
    item.locator("a").first.click()
    expect(page).to_have_url(re.compile(rf"/service/tickets/{ticket.pk}/"))
    notification.refresh_from_db()
    assert notification.read_at is not None
    expect(page.locator("#ticket-messages")).to_contain_text("SLA breached")
    timers = page.locator("[data-sla-timers]")
    expect(timers.locator('[data-timer="first_response"]')).to_have_attribute("data-state", "breached")
    expect(timers).to_contain_text("Escalation level 1")
    screenshot(page, "service-sla-escalated-ticket-en")
