"""SLA timers: policy matching, due times on business time, pauses, reopening, replies, the
sweep (warnings, breaches, escalation actions, idempotency) with time travel, manual escalation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kehu.audit.models import TimelineEvent
from kehu.core.businesstime import business_seconds
from kehu.notifications.models import Notification
from kehu.service.choices import MessageKind, SLAEventKind, TicketPriority
from kehu.service.models import SLAEvent, SLAPolicy, Ticket, TicketMessage
from kehu.service.services import sla
from kehu.service.services.common import ServiceError

from .factories import office, queue_with, ticket_type
from .factories_sla import at, move, policy, ticket_at

pytestmark = pytest.mark.django_db


def name_of(ticket: Ticket) -> str | None:
    return ticket.sla_policy.name if ticket.sla_policy is not None else None


# --- matching ---------------------------------------------------------------------------------

CONDITION: Any = st.one_of(st.none(), st.just([]), st.lists(st.integers(1, 4), min_size=1, max_size=3))


@given(priorities=CONDITION, queues=CONDITION, priority=st.integers(1, 4), queue=st.integers(1, 4))
def test_matching_empty_means_any(priorities: Any, queues: Any, priority: int, queue: int) -> None:
    conditions = {k: v for k, v in (("priorities", priorities), ("queues", queues)) if v is not None}
    p = SLAPolicy(name="x", conditions=conditions)
    expected = (not priorities or priority in priorities) and (not queues or queue in queues)
    assert (
        sla.policy_matches(
            p, priority=priority, type_id=1, account_level=None, account_id=None, queue_id=queue
        )
        is expected
    )


def test_matching_levels_and_accounts_need_a_value() -> None:
    p = SLAPolicy(name="vip", conditions={"account_levels": ["VIP"], "accounts": []})
    assert sla.policy_matches(p, priority=2, type_id=1, account_level="VIP", account_id=3, queue_id=None)
    assert not sla.policy_matches(p, priority=2, type_id=1, account_level="", account_id=None, queue_id=None)
    assert not sla.policy_matches(p, priority=2, type_id=1, account_level="普通", account_id=3, queue_id=None)


def test_first_active_policy_by_position(company: Any) -> None:
    complaint = ticket_type("complaint")
    policy(name="urgent", position=1, conditions={"priorities": [4]}, first_response_minutes=15)
    policy(name="complaints", position=2, conditions={"types": [complaint.pk]}, first_response_minutes=30)
    policy(name="inactive", position=0, is_active=False)
    policy(name="all", position=9, first_response_minutes=240)
    urgent_complaint = ticket_at(at(2, 10), priority=TicketPriority.URGENT, type=complaint)
    complaint_ticket = ticket_at(at(2, 10), type=complaint)
    plain = ticket_at(at(2, 10))
    assert name_of(urgent_complaint) == "urgent"
    assert name_of(complaint_ticket) == "complaints"
    assert name_of(plain) == "all"


def test_account_level_condition(company: Any) -> None:
    from kehu.customers.tests.factories import AccountFactory

    vip = AccountFactory(owner=company.rep1, level="VIP")
    other = AccountFactory(owner=company.rep1, level="")
    policy(name="vip", position=1, conditions={"account_levels": ["VIP"]}, first_response_minutes=10)
    assert name_of(ticket_at(at(2, 10), account=vip)) == "vip"
    assert ticket_at(at(2, 10), account=other).sla_policy is None


# --- due times on the office calendar ---------------------------------------------------------


@pytest.fixture
def cal(company: Any) -> Any:
    return office(company.admin)


def test_apply_counts_business_time(cal: Any) -> None:
    policy(calendar=cal, first_response_minutes=60, resolution_minutes=480, next_response_minutes=120)
    ticket = ticket_at(at(2, 10))  # Monday 10:00
    assert ticket.first_response_due == at(2, 11)
    # 10:00–12:00 and 13:30–18:00 on Monday (6.5 h), then 1.5 h on Tuesday.
    assert ticket.resolution_due == at(3, 10, 30)
    assert ticket.next_response_due is None
    # Warning at 80 % of the first response: 12 minutes before it is due.
    assert ticket.sla_next_check == at(2, 10, 48)


def test_no_policy_no_timers(company: Any) -> None:
    ticket = ticket_at(at(2, 10))
    assert ticket.sla_policy is None and ticket.first_response_due is None and ticket.sla_next_check is None


def test_calendar_falls_back_to_queue_then_default(company: Any) -> None:
    queue_cal = office(company.admin, name="夜班", time_zone="UTC")
    queue = queue_with(calendar=queue_cal)
    policy(first_response_minutes=60)
    ticket = ticket_at(at(2, 10), queue=queue)  # 02:00 UTC: the UTC office opens at 09:00 UTC
    assert ticket.first_response_due == dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)


def test_pause_and_resume_moves_due_by_waited_business_time(cal: Any) -> None:
    policy(calendar=cal, first_response_minutes=60, resolution_minutes=480)
    ticket = ticket_at(at(2, 10))
    move(ticket, "waiting", at(2, 10, 30))
    assert ticket.sla_paused_at == at(2, 10, 30) and ticket.sla_next_check is None
    move(ticket, "in_progress", at(3, 9, 15))  # waited 1.5 h of Monday and 15 min of Tuesday
    assert ticket.sla_paused_at is None
    assert ticket.first_response_due == at(3, 9, 45)  # 30 minutes were left
    assert ticket.resolution_due == at(4, 9, 15)  # 7.5 h were left at the pause


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    pause_after=st.integers(0, 5 * 24 * 60),
    wait=st.integers(0, 7 * 24 * 60),
    target=st.integers(1, 3000),
)
def test_resume_property(cal: Any, pause_after: int, wait: int, target: int) -> None:
    """The remaining business time at the pause is what remains at the resume; the due time never
    comes earlier than without the pause."""
    p = SLAPolicy.objects.filter(name="prop").first() or policy(name="prop", calendar=cal)
    SLAPolicy.objects.filter(pk=p.pk).update(resolution_minutes=target, first_response_minutes=None)
    p.refresh_from_db()
    work = sla.calendar_for(Ticket(), p)
    created = at(2, 8, 7)
    ticket = Ticket(created_at=created, state="new", priority=2, sla_policy=p)
    ticket.resolution_due = sla._add(work, created, target * 60)
    paused, resumed = (
        created + dt.timedelta(minutes=pause_after),
        created + dt.timedelta(minutes=pause_after + wait),
    )
    before = ticket.resolution_due
    sla.sla_on_state_change(ticket=ticket, old_state="new", new_state="waiting", now=paused)
    sla.sla_on_state_change(ticket=ticket, old_state="waiting", new_state="in_progress", now=resumed)
    after = ticket.resolution_due
    assert after >= before
    if before > paused:
        assert business_seconds(work, resumed, after) == business_seconds(work, paused, before)
        # moved by exactly the business time waited
        assert business_seconds(work, before, after) == business_seconds(work, paused, resumed)
    else:
        assert after == before  # already breached at the pause: stays where it was


def test_reopen_resumes_resolution_with_what_was_left(cal: Any) -> None:
    policy(calendar=cal, first_response_minutes=None, resolution_minutes=120)
    ticket = ticket_at(at(2, 10))  # resolution due 12:00 Monday
    move(ticket, "resolved", at(2, 11))  # 60 minutes left
    assert ticket.sla_next_check is None and not ticket.resolution_breached
    move(ticket, "in_progress", at(4, 15))  # reopened Wednesday 15:00
    assert ticket.resolution_due == at(4, 16)
    assert ticket.sla_next_check is not None


def test_reopen_after_a_late_resolution_stays_breached(cal: Any) -> None:
    policy(calendar=cal, first_response_minutes=None, resolution_minutes=60)
    ticket = ticket_at(at(2, 10))
    move(ticket, "resolved", at(2, 14))  # due 11:00
    assert ticket.resolution_breached
    move(ticket, "in_progress", at(3, 9))
    assert ticket.resolution_due == at(2, 11) and ticket.resolution_breached
    assert ticket.sla_next_check is None


def test_reapply_keeps_counting_from_creation_without_waiting(cal: Any) -> None:
    policy(name="normal", position=2, calendar=cal, first_response_minutes=None, resolution_minutes=240)
    policy(
        name="urgent",
        position=1,
        calendar=cal,
        conditions={"priorities": [4]},
        first_response_minutes=None,
        resolution_minutes=120,
    )
    ticket = ticket_at(at(2, 9))
    move(ticket, "waiting", at(2, 9, 30))
    move(ticket, "in_progress", at(2, 10, 30))  # waited an hour
    ticket.priority = TicketPriority.URGENT
    sla.sla_apply(ticket=ticket, now=at(2, 10, 45))
    assert name_of(ticket) == "urgent"
    assert ticket.resolution_due == at(2, 12)  # 09:00 + 2 h + the hour waited


def test_replies_and_customer_messages(cal: Any) -> None:
    policy(calendar=cal, first_response_minutes=60, next_response_minutes=30, resolution_minutes=None)
    ticket = ticket_at(at(2, 10))
    fields = sla.sla_on_agent_reply(ticket=ticket, now=at(2, 11, 30))
    assert "first_responded_at" in fields
    assert ticket.first_responded_at == at(2, 11, 30) and ticket.first_response_breached
    assert ticket.sla_next_check is None
    sla.sla_on_customer_message(ticket=ticket, now=at(2, 17, 50))
    assert ticket.next_response_due == at(3, 9, 20)
    sla.sla_on_customer_message(ticket=ticket, now=at(3, 9))  # a second message keeps the timer
    assert ticket.next_response_due == at(3, 9, 20)
    sla.sla_on_agent_reply(ticket=ticket, now=at(3, 9, 10))
    assert ticket.next_response_due is None and not ticket.next_response_breached


# --- the sweep --------------------------------------------------------------------------------


@pytest.fixture
def setup(company: Any, cal: Any) -> dict[str, Any]:
    escalation = queue_with(company.manager1, manager=company.director, name="二线")
    queue = queue_with(company.rep1, manager=company.manager1, name="一线")
    p = policy(
        calendar=cal,
        first_response_minutes=60,
        resolution_minutes=480,
        raise_priority_to=TicketPriority.URGENT,
        escalate_to_queue=escalation,
        notify_users=[company.viewer_all],
    )
    ticket = ticket_at(at(2, 10), queue=queue, assignee=company.rep1)
    return {"ticket": ticket, "queue": queue, "escalation": escalation, "policy": p}


def test_sweep_warns_once(setup: dict[str, Any], company: Any) -> None:
    ticket = setup["ticket"]
    assert sla.sla_sweep(now=at(2, 10, 40)).checked == 0  # nothing due before 10:48
    result = sla.sla_sweep(now=at(2, 10, 50))
    assert (result.checked, result.warnings, result.breaches) == (1, 1, 0)
    again = sla.sla_sweep(now=at(2, 10, 50))
    assert again.checked == 0
    events = SLAEvent.objects.filter(ticket=ticket)
    assert [(e.metric, e.kind, e.due_at) for e in events] == [("first_response", "warning", at(2, 11))]
    assert list(Notification.objects.values_list("recipient_id", "kind")) == [
        (company.rep1.pk, sla.WARNING_KIND)
    ]
    ticket.refresh_from_db()
    assert ticket.sla_next_check == at(2, 11)


def test_sweep_tells_about_committed_batches_when_a_later_one_fails(
    setup: dict[str, Any], company: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch that fails does not lose the notices of the batches committed before it."""
    second = ticket_at(at(2, 10), queue=setup["queue"], assignee=company.rep2)
    real, calls = sla._sweep_batch, []

    def failing_second(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(sla, "_sweep_batch", failing_second)
    with pytest.raises(RuntimeError):
        sla.sla_sweep(now=at(2, 10, 50), batch_size=1)
    warned = set(Notification.objects.filter(kind=sla.WARNING_KIND).values_list("recipient_id", flat=True))
    assert warned == {setup["ticket"].assignee_id}
    assert SLAEvent.objects.filter(ticket=second).count() == 0


def test_sweep_breach_escalates_once_with_time_travel(setup: dict[str, Any], company: Any) -> None:
    ticket = setup["ticket"]
    sla.sla_sweep(now=at(2, 10, 50))
    result = sla.sla_sweep(now=at(2, 11, 1))
    assert result.breaches == 1
    assert sla.sla_sweep(now=at(2, 11, 2)).checked == 0
    ticket.refresh_from_db()
    assert ticket.first_response_breached
    assert ticket.priority == TicketPriority.URGENT
    assert ticket.queue == setup["escalation"] and ticket.assignee is None and ticket.department is None
    assert ticket.escalation_level == 1 and ticket.escalated_at == at(2, 11, 1)
    breach = SLAEvent.objects.get(ticket=ticket, kind=SLAEventKind.BREACH)
    assert breach.metric == "first_response" and breach.queue == setup["queue"]
    notified = set(Notification.objects.filter(kind=sla.BREACH_KIND).values_list("recipient_id", flat=True))
    assert notified == {company.manager1.pk, company.director.pk, company.viewer_all.pk}
    assert TimelineEvent.objects.filter(event=sla.ESCALATED_EVENT, object_id=ticket.pk).count() == 1
    assert (
        TicketMessage.objects.filter(ticket=ticket, kind=MessageKind.SYSTEM).count() == 2
    )  # warning, breach
    # The resolution still runs: next look at its warning (Monday 17:54).
    assert ticket.sla_next_check == at(2, 17, 54)
    # Days later the resolution breaches too: a second escalation.
    sla.sla_sweep(now=at(3, 11))
    ticket.refresh_from_db()
    assert ticket.resolution_breached and ticket.escalation_level == 2 and ticket.sla_next_check is None
    # (the sweep came after the resolution's warning moment and its due time: a breach only)
    assert SLAEvent.objects.filter(ticket=ticket).count() == 3


def test_paused_tickets_are_not_swept(setup: dict[str, Any]) -> None:
    ticket = setup["ticket"]
    move(ticket, "waiting", at(2, 10, 30))
    assert sla.sla_sweep(now=at(5, 12)).checked == 0
    assert not SLAEvent.objects.exists()


def test_breached_while_waiting_breaches_after_resume(setup: dict[str, Any]) -> None:
    ticket = setup["ticket"]
    Ticket.objects.filter(pk=ticket.pk).update(sla_next_check=at(2, 9))  # a stale check is harmless
    assert sla.sla_sweep(now=at(2, 10, 1)).breaches == 0
    ticket.refresh_from_db()
    assert ticket.sla_next_check == at(2, 10, 48)


def test_many_events_for_one_manager_become_a_summary(company: Any, cal: Any) -> None:
    queue = queue_with(manager=company.manager1)
    policy(calendar=cal, first_response_minutes=30, resolution_minutes=None)
    for _ in range(sla.DIGEST_AFTER + 2):
        ticket_at(at(2, 10), queue=queue)
    result = sla.sla_sweep(now=at(2, 12))
    assert result.breaches == sla.DIGEST_AFTER + 2
    assert Notification.objects.filter(recipient=company.manager1).count() == 1


# --- manual escalation ------------------------------------------------------------------------


def _may_change_tickets(company: Any) -> None:
    from kehu.core.choices import Action, Scope
    from kehu.users.tests.factories import grant

    grant(company.role_manager, "service.ticket", Action.CHANGE, scope=Scope.DEPARTMENT_AND_BELOW)


def test_ticket_escalate(setup: dict[str, Any], company: Any) -> None:
    _may_change_tickets(company)
    ticket = setup["ticket"]
    sla.ticket_escalate(
        ticket=ticket, by=company.manager1, reason="客户投诉升级", to_queue=setup["escalation"]
    )
    assert ticket.escalation_level == 1 and ticket.queue == setup["escalation"] and ticket.assignee is None
    assert TicketMessage.objects.get(ticket=ticket, kind=MessageKind.SYSTEM).author == company.manager1
    event = TimelineEvent.objects.get(event=sla.ESCALATED_EVENT)
    assert event.data["note"] == "客户投诉升级" and event.actor == company.manager1
    assert Notification.objects.filter(recipient=company.director, kind=sla.ESCALATED_KIND).count() == 1


def test_ticket_escalate_refuses_bad_input(setup: dict[str, Any], company: Any) -> None:
    _may_change_tickets(company)
    ticket = setup["ticket"]
    with pytest.raises(ServiceError) as caught:
        sla.ticket_escalate(ticket=ticket, by=company.manager1, reason="  ")
    assert "reason" in caught.value.fields
    move(ticket, "resolved", at(2, 11))
    with pytest.raises(ServiceError):
        sla.ticket_escalate(ticket=ticket, by=company.manager1, reason="x")
    ticket.refresh_from_db()
    assert (
        ticket.escalation_level == 0 and not TimelineEvent.objects.filter(event=sla.ESCALATED_EVENT).exists()
    )


# --- through the ticket services (time travel with their `now`) --------------------------------


def test_through_the_ticket_services(cal: Any, company: Any) -> None:
    from kehu.service.services import tickets

    from .factories import status

    policy(calendar=cal, first_response_minutes=60, next_response_minutes=30, resolution_minutes=480)
    ticket = tickets.ticket_create(
        by=company.admin, data={"subject": "打印机故障", "type": ticket_type("request")}, now=at(2, 10)
    )
    assert ticket.first_response_due == at(2, 11) and ticket.resolution_due == at(3, 10, 30)
    tickets.ticket_reply(ticket=ticket, by=company.admin, body="<p>收到</p>", now=at(2, 11, 30))
    ticket.refresh_from_db()
    assert ticket.first_responded_at == at(2, 11, 30) and ticket.first_response_breached
    ticket = tickets.ticket_move(ticket=ticket, by=company.admin, status=status("waiting"), now=at(2, 14))
    assert ticket.sla_paused_at == at(2, 14) and ticket.sla_next_check is None
    tickets.ticket_add_customer_message(ticket=ticket, body="<p>还是不行</p>", now=at(3, 9, 30))
    ticket.refresh_from_db()
    # Waited 4 h of Monday and 30 min of Tuesday: resolution moves by 4.5 business hours.
    assert ticket.state == "in_progress" and ticket.sla_paused_at is None
    assert ticket.resolution_due == at(3, 16, 30)  # (was 10:30)
    assert ticket.next_response_due == at(3, 10)


def test_ticket_escalate_needs_change_permission_on_the_ticket(setup: dict[str, Any], company: Any) -> None:
    from kehu.core.errors import PermissionDeniedError

    _may_change_tickets(company)
    ticket = setup["ticket"]
    for user in (company.nobody, company.viewer_all, company.rep3):
        with pytest.raises(PermissionDeniedError):
            sla.ticket_escalate(ticket=ticket, by=user, reason="越权升级")
    ticket.refresh_from_db()
    assert ticket.escalation_level == 0
    assert not TimelineEvent.objects.filter(event=sla.ESCALATED_EVENT).exists()
