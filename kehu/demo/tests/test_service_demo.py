"""The demo company's service desk (stage "service"), at the tests' scale (conftest: 2 %)."""

from __future__ import annotations

import pytest
from django.db.models import Count

from kehu.audit.models import TimelineEvent
from kehu.demo.loader import load_demo
from kehu.demo.service import MIN_TICKETS
from kehu.service.choices import TicketState
from kehu.service.models import (
    Article,
    BusinessCalendar,
    ChurnRule,
    Queue,
    SLAPolicy,
    SurveyResponse,
    Ticket,
    TicketMessage,
    TicketStatusHistory,
)
from kehu.users.models import User

pytestmark = pytest.mark.django_db

STAGES = {"org", "customers", "service"}


def test_the_service_desk_is_set_up_and_tickets_have_histories() -> None:
    load_demo(only=STAGES)
    calendar = BusinessCalendar.objects.get(is_default=True)
    assert calendar.days.filter(kind="holiday").exists() and calendar.days.filter(kind="makeup").exists()
    assert set(Queue.objects.values_list("name", flat=True)) == {"一线支持", "售后服务", "投诉处理"}
    assert Queue.objects.get(name="一线支持").members.filter(username="agent1").exists()
    assert SLAPolicy.objects.count() == 4
    tickets = Ticket.objects.all()
    # the planned tickets and the duplicates merged into two of them
    assert tickets.count() == MIN_TICKETS + tickets.filter(merged_into__isnull=False).count()
    planned = tickets.filter(merged_into__isnull=True)  # the duplicates came in later
    numbers = list(planned.order_by("created_at", "pk").values_list("number", flat=True))
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)  # numbers follow creation
    # every ticket has a conversation, a status history from "new" and its creation on the timeline
    assert not planned.annotate(n=Count("messages")).filter(n=0).exists()  # merged ones gave theirs away
    firsts = TicketStatusHistory.objects.filter(from_status__isnull=True).values_list("ticket_id", flat=True)
    assert set(firsts) == set(tickets.values_list("pk", flat=True))
    created = TimelineEvent.objects.filter(event="ticket.created").values_list("object_id", flat=True)
    assert set(created) == set(tickets.values_list("pk", flat=True))
    done = tickets.filter(state__in=(TicketState.RESOLVED, TicketState.CLOSED))
    assert done.exists() and not done.filter(resolved_at__isnull=True).exists()
    # answered tickets answered after they were created
    for ticket in tickets.filter(first_responded_at__isnull=False)[:50]:
        assert ticket.first_responded_at > ticket.created_at
    assert TicketMessage.objects.filter(kind="reply").exists()
    merged = Ticket.objects.filter(merged_into__isnull=False)
    assert merged.exists() and not merged.exclude(state=TicketState.CLOSED).exists()
    assert Article.objects.filter(status="published", visibility="public").exists()
    # satisfaction: CSAT answers on resolved tickets, NPS answers; churn rules evaluated
    csat = SurveyResponse.objects.filter(kind="csat")
    assert csat.exists() and not csat.filter(ticket__resolved_at__isnull=True).exists()
    assert SurveyResponse.objects.filter(kind="nps").exists()
    assert ChurnRule.objects.count() == 4
    agent = User.objects.get(username="agent1")
    assert agent.has_usable_password()


def test_loading_again_adds_nothing() -> None:
    load_demo(only=STAGES)
    before = (
        Ticket.objects.count(),
        TicketMessage.objects.count(),
        Queue.objects.count(),
        SLAPolicy.objects.count(),
    )
    load_demo(only=STAGES, refresh=True)
    after = (
        Ticket.objects.count(),
        TicketMessage.objects.count(),
        Queue.objects.count(),
        SLAPolicy.objects.count(),
    )
    assert after == before
