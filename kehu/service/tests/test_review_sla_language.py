"""SLA texts are written in their reader's language, not fixed in the site language when written:
the sweep's warning/breach lines and the manual escalation line on the ticket are system lines
(`code:argument`, rendered per reader by `system_line_text`), and each SLA notification (warning,
breach, summary, manual escalation) is written in its recipient's language. Lines written before
as plain text show as they were written."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone, translation

from kehu.core.choices import Action, Scope
from kehu.notifications.models import Notification
from kehu.service.choices import MessageKind, TicketPriority
from kehu.service.models import TicketMessage
from kehu.service.selectors.tickets import system_line_text
from kehu.service.services import sla
from kehu.users.tests.factories import grant

from .factories import office, queue_with
from .factories_sla import at, policy, ticket_at

pytestmark = pytest.mark.django_db


def _speak(user: Any, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])


def _lines(ticket: Any, language: str) -> list[str]:
    with translation.override(language):
        return [
            system_line_text(m)
            for m in TicketMessage.objects.filter(ticket=ticket, kind=MessageKind.SYSTEM).order_by("pk")
        ]


@pytest.fixture
def setup(company: Any) -> dict[str, Any]:
    cal = office(company.admin)
    escalation = queue_with(company.manager1, manager=company.director, name="二线")
    queue = queue_with(company.rep1, manager=company.manager1, name="一线")
    policy(
        calendar=cal,
        first_response_minutes=60,
        resolution_minutes=480,
        raise_priority_to=TicketPriority.URGENT,
        escalate_to_queue=escalation,
        notify_users=[company.viewer_all],
    )
    ticket = ticket_at(at(2, 10), queue=queue, assignee=company.rep1)
    return {"ticket": ticket, "escalation": escalation}


def test_sweep_lines_and_notifications_in_the_readers_language(setup: dict[str, Any], company: Any) -> None:
    ticket = setup["ticket"]
    _speak(company.rep1, "zh-hans")
    _speak(company.manager1, "zh-hans")
    _speak(company.viewer_all, "en")  # company.director: unset, the site's language (en in tests)
    sla.sla_sweep(now=at(2, 10, 50))  # the warning
    sla.sla_sweep(now=at(2, 11, 1))  # the breach: escalated to level 1
    assert list(
        TicketMessage.objects.filter(ticket=ticket, kind=MessageKind.SYSTEM)
        .order_by("pk")
        .values_list("body_text", flat=True)
    ) == ["sla_warning:first_response", "sla_breach:first_response:1"]
    assert _lines(ticket, "en") == [
        "SLA warning: First response is nearly due.",
        "SLA breached: First response is overdue; escalated to level 1.",
    ]
    assert _lines(ticket, "zh-hans") == [
        "SLA 预警：首次响应即将到期。",
        "SLA 超时：首次响应已超时；已升级到第 1 级。",
    ]

    titles = dict(Notification.objects.values_list("recipient_id", "title"))
    number = ticket.number
    assert titles[company.rep1.pk] == f"{number}：首次响应即将到期"  # the warning, to the assignee
    assert titles[company.manager1.pk].startswith(f"{number}：首次响应")  # the breach, in Chinese
    assert titles[company.viewer_all.pk] == f"{number}: First response overdue, escalated"
    assert titles[company.director.pk] == f"{number}: First response overdue, escalated"


def test_summaries_in_the_recipients_language(company: Any) -> None:
    cal = office(company.admin)
    _speak(company.manager1, "zh-hans")
    queue = queue_with(manager=company.manager1)
    policy(calendar=cal, first_response_minutes=30, resolution_minutes=None)
    for _ in range(sla.DIGEST_AFTER + 1):
        ticket_at(at(2, 10), queue=queue)
    sla.sla_sweep(now=at(2, 12))
    title = Notification.objects.get(recipient=company.manager1).title
    with translation.override("zh-hans"):
        expected = translation.gettext("%(count)d tickets breached their SLA and were escalated") % {
            "count": sla.DIGEST_AFTER + 1
        }
    assert title == expected and "tickets breached" not in title


def test_manual_escalation_line_and_notification(setup: dict[str, Any], company: Any) -> None:
    grant(company.role_manager, "service.ticket", Action.CHANGE, scope=Scope.DEPARTMENT_AND_BELOW)
    _speak(company.director, "zh-hans")
    ticket = setup["ticket"]
    sla.ticket_escalate(
        ticket=ticket, by=company.manager1, reason="客户投诉: 加急", to_queue=setup["escalation"]
    )
    line = TicketMessage.objects.get(ticket=ticket, kind=MessageKind.SYSTEM)
    assert line.body_text.startswith("escalated:") and line.author == company.manager1
    assert _lines(ticket, "en") == [f"Escalated to level 1 by {company.manager1}: 客户投诉: 加急"]
    (zh,) = _lines(ticket, "zh-hans")
    assert zh != _lines(ticket, "en")[0] and zh.endswith("客户投诉: 加急") and str(company.manager1) in zh
    title = Notification.objects.get(recipient=company.director, kind=sla.ESCALATED_KIND).title
    assert title != f"{ticket.number} was escalated" and title.startswith(ticket.number)


def test_lines_written_before_show_as_written(setup: dict[str, Any]) -> None:
    ticket = setup["ticket"]
    for text in (
        "SLA 预警：首次响应即将到期。",
        "Escalated to level 2 by Li: late",
        "SLA warning: x is nearly due.",
    ):
        TicketMessage.objects.create(
            ticket=ticket,
            kind=MessageKind.SYSTEM,
            body=f"<p>{text}</p>",
            body_text=text,
            created_at=timezone.now(),
        )
    assert (
        _lines(ticket, "en")
        == _lines(ticket, "zh-hans")
        == [
            "SLA 预警：首次响应即将到期。",
            "Escalated to level 2 by Li: late",
            "SLA warning: x is nearly due.",
        ]
    )
