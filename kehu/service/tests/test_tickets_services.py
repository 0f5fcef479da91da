from __future__ import annotations

import datetime as dt
from typing import Any, cast

import pytest
from django.db import transaction
from django.utils import timezone

from kehu.core.errors import DomainError, PermissionDeniedError
from kehu.customers.tests.factories import AccountFactory, ContactFactory
from kehu.service.choices import AssignmentMethod, DeliveryStatus, MessageKind, TicketState
from kehu.service.models import (
    QueueMember,
    Ticket,
    TicketAttachment,
    TicketMessage,
    TicketStatusHistory,
    TicketWatcher,
)
from kehu.service.services import tickets as services
from kehu.service.services.common import ServiceError
from kehu.service.tests.factories import TicketFactory, queue_with, status, ticket_type

pytestmark = pytest.mark.django_db


def _ticket(**kwargs: Any) -> Ticket:
    return cast(Ticket, TicketFactory(**kwargs))


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _create(by: Any, **data: Any) -> Ticket:
    data.setdefault("subject", "打印机无法连接")
    data.setdefault("description", "<p>办公室的打印机<script>alert(1)</script>连不上网络</p>")
    return services.ticket_create(by=by, data=data)


def test_create_numbers_sanitises_and_starts_in_the_initial_status(tickets_granted: Any) -> None:
    company = tickets_granted
    year = timezone.localdate().year
    first = _create(None)
    second = _create(company.rep1)
    assert first.number == f"TK-{year}-00001"
    assert second.number == f"TK-{year}-00002"
    assert first.status.code == "new" and first.state == TicketState.NEW and first.assignee is None
    # a rep who could not work on an unassigned ticket handles the one they log
    assert second.assignee == company.rep1 and second.state == TicketState.ASSIGNED
    assert "<script>" not in first.description and "alert" not in first.description
    assert first.description_text.strip() == "办公室的打印机连不上网络"
    assert first.type.code == "request"  # the first active type
    history = list(TicketStatusHistory.objects.filter(ticket=first))
    assert [(h.from_status_id, h.to_status.code) for h in history] == [(None, "new")]
    # the description is the customer's first message; what an agent logs is a note
    assert list(first.messages.values_list("kind", flat=True)) == [MessageKind.CUSTOMER]
    assert list(second.messages.values_list("kind", flat=True)) == [MessageKind.NOTE]


def test_create_refuses_bad_input_with_field_errors_and_writes_nothing(tickets_granted: Any) -> None:
    company = tickets_granted
    with pytest.raises(ServiceError) as caught:
        services.ticket_create(by=company.rep1, data={"subject": "  ", "priority": 9, "channel": "fax"})
    assert set(caught.value.fields) == {"subject", "priority", "channel"}
    with pytest.raises(ServiceError) as caught:
        services.ticket_create(by=company.rep1, data={"subject": "退货", "type": ticket_type("return")})
    assert "order" in caught.value.fields
    assert Ticket.objects.count() == 0


def test_create_needs_the_add_permission(tickets_granted: Any) -> None:
    with pytest.raises(PermissionDeniedError):
        _create(tickets_granted.nobody)
    assert Ticket.objects.count() == 0


def test_a_contact_brings_its_account_and_must_belong_to_it(tickets_granted: Any) -> None:
    company = tickets_granted
    contact: Any = ContactFactory(owner=company.rep1)
    ticket = _create(company.rep1, contact=contact)
    assert ticket.account_id == contact.account_id
    other = AccountFactory(owner=company.rep1)
    with pytest.raises(ServiceError) as caught:
        _create(company.rep1, contact=contact, account=other)
    assert "contact" in caught.value.fields


def test_linked_records_the_user_cannot_see_are_refused(tickets_granted: Any) -> None:
    company = tickets_granted
    foreign = AccountFactory(owner=company.rep3)
    with pytest.raises(ServiceError) as caught:
        _create(company.rep1, account=foreign)
    assert "account" in caught.value.fields


def test_round_robin_takes_members_in_turn_and_skips_unavailable(tickets_granted: Any) -> None:
    company = tickets_granted
    queue = queue_with(company.rep1, company.rep2, company.rep3, assignment=AssignmentMethod.ROUND_ROBIN)
    QueueMember.objects.filter(queue=queue, user=company.rep2).update(is_available=False)
    got = [
        services.ticket_create(by=None, data={"subject": f"t{i}", "queue": queue}).assignee for i in range(4)
    ]
    assert got == [company.rep1, company.rep3, company.rep1, company.rep3]
    first = Ticket.objects.get(subject="t0")
    assert first.state == TicketState.ASSIGNED and first.department_id == company.rep1.department_id


def test_least_loaded_gives_the_member_with_fewest_open_tickets(tickets_granted: Any) -> None:
    company = tickets_granted
    queue = queue_with(company.rep1, company.rep2, assignment=AssignmentMethod.LEAST_LOADED)
    _ticket(assignee=company.rep1, queue=queue)
    _ticket(assignee=company.rep1, queue=queue)
    _ticket(assignee=company.rep2, queue=queue)
    _ticket(assignee=company.rep2, queue=queue, status=status("resolved"), state=TicketState.RESOLVED)
    ticket = services.ticket_create(by=None, data={"subject": "x", "queue": queue})
    assert ticket.assignee == company.rep2


def test_assignee_must_be_a_queue_member_and_assigning_others_needs_assign(tickets_granted: Any) -> None:
    company = tickets_granted
    queue = queue_with(company.rep1, company.rep2)
    ticket = services.ticket_create(by=company.rep1, data={"subject": "x", "queue": queue})
    with pytest.raises(ServiceError) as caught:
        services.ticket_assign(ticket=ticket, by=company.admin, assignee=company.rep3)
    assert "assignee" in caught.value.fields
    # rep1 (queue member) holds no "assign": may take the ticket, not give it to rep2
    services.ticket_assign(ticket=ticket, by=company.rep1, assignee=company.rep1)
    with pytest.raises(PermissionDeniedError):
        services.ticket_assign(ticket=ticket, by=company.rep1, assignee=company.rep2)
    ticket.refresh_from_db()
    assert ticket.assignee == company.rep1 and ticket.state == TicketState.ASSIGNED


def test_moves_follow_the_flow_and_record_history(tickets_granted: Any) -> None:
    company = tickets_granted
    ticket = _create(company.rep1)
    services.ticket_assign(ticket=ticket, by=company.rep1, assignee=company.rep1)
    with pytest.raises(ServiceError) as caught:
        services.ticket_move(ticket=ticket, by=company.rep1, status=status("new"))
    assert caught.value.code == ServiceError.BAD_TRANSITION
    services.ticket_move(ticket=ticket, by=company.rep1, status=status("resolved"), note="已更换网线")
    ticket.refresh_from_db()
    assert ticket.state == TicketState.RESOLVED and ticket.resolved_at is not None
    services.ticket_reopen(ticket=ticket, by=company.rep1)
    ticket.refresh_from_db()
    assert (
        ticket.state == TicketState.IN_PROGRESS and ticket.reopened_count == 1 and ticket.resolved_at is None
    )
    states = list(TicketStatusHistory.objects.filter(ticket=ticket).values_list("to_state", flat=True))
    assert states == ["new", "assigned", "resolved", "in_progress"]


def test_reply_answers_the_customer_and_moves_a_new_ticket_on(tickets_granted: Any) -> None:
    company = tickets_granted
    ticket = services.ticket_create(
        by=None,
        data={"subject": "发票抬头错误", "requester_email": "Li@Example.com", "description": "请重开"},
    )
    ticket.assignee = company.rep1
    ticket.save(update_fields=["assignee"])
    with transaction.atomic():
        message = services.ticket_reply(ticket=ticket, by=company.rep1, body="<p>已为您重开发票</p>")
    ticket.refresh_from_db()
    assert message.kind == MessageKind.REPLY and message.to == "li@example.com"
    assert message.delivery == DeliveryStatus.QUEUED
    assert ticket.first_responded_at == message.created_at
    assert ticket.state == TicketState.IN_PROGRESS
    with pytest.raises(ServiceError) as caught:
        services.ticket_reply(ticket=ticket, by=company.rep1, body="<p> </p>")
    assert "body" in caught.value.fields


def test_reply_may_set_waiting_and_the_customer_brings_it_back(tickets_granted: Any) -> None:
    company = tickets_granted
    ticket = services.ticket_create(by=company.rep1, data={"subject": "x"}, assignee=company.rep1)
    services.ticket_reply(ticket=ticket, by=company.rep1, body="请提供序列号", status=status("waiting"))
    ticket.refresh_from_db()
    assert ticket.state == TicketState.WAITING
    services.ticket_add_customer_message(ticket=ticket, body="序列号是 123", from_email="a@b.cn")
    ticket.refresh_from_db()
    assert ticket.state == TicketState.IN_PROGRESS and ticket.last_customer_message_at is not None


def test_a_customer_message_on_a_resolved_ticket_reopens_it(tickets_granted: Any) -> None:
    company = tickets_granted
    ticket = services.ticket_create(by=company.rep1, data={"subject": "x"}, assignee=company.rep1)
    services.ticket_resolve(ticket=ticket, by=company.rep1)
    services.ticket_add_customer_message(ticket=ticket, body="还是不行")
    ticket.refresh_from_db()
    assert ticket.state == TicketState.IN_PROGRESS and ticket.reopened_count == 1


def test_notes_are_internal_and_do_not_count_as_a_response(tickets_granted: Any) -> None:
    company = tickets_granted
    ticket = services.ticket_create(by=company.rep1, data={"subject": "x"}, assignee=company.rep1)
    note = services.ticket_add_note(
        ticket=ticket, by=company.rep1, body="客户很着急<img src=x onerror=alert(1)>"
    )
    ticket.refresh_from_db()
    assert note.kind == MessageKind.NOTE and not note.is_public and "onerror" not in note.body
    assert ticket.first_responded_at is None


def test_attachments_are_kept_and_refused_types_change_nothing(
    tickets_granted: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    company = tickets_granted
    ticket = services.ticket_create(by=company.rep1, data={"subject": "x"}, assignee=company.rep1)
    services.ticket_add_note(
        ticket=ticket, by=company.rep1, body="截图", attachments=[services.NewAttachment("shot.png", PNG)]
    )
    assert TicketAttachment.objects.get(ticket=ticket).is_public is False
    with pytest.raises(ServiceError) as caught:
        services.ticket_add_note(
            ticket=ticket, by=company.rep1, body="x", attachments=[services.NewAttachment("evil.exe", b"MZ")]
        )
    assert "attachments" in caught.value.fields
    assert TicketMessage.objects.filter(ticket=ticket, kind=MessageKind.NOTE).count() == 1


def test_queue_members_work_their_queue_and_account_owners_only_read(tickets_granted: Any) -> None:
    company = tickets_granted
    queue = queue_with(company.rep2)
    account = AccountFactory(owner=company.rep3)
    ticket = _ticket(queue=queue, account=account)
    assert Ticket.objects.restrict(company.rep2, "change").filter(pk=ticket.pk).exists()
    assert Ticket.objects.restrict(company.rep3, "view").filter(pk=ticket.pk).exists()
    assert not Ticket.objects.restrict(company.rep3, "change").filter(pk=ticket.pk).exists()
    assert not Ticket.objects.restrict(company.rep1, "view").filter(pk=ticket.pk).exists()
    with pytest.raises(PermissionDeniedError):
        services.ticket_add_note(ticket=ticket, by=company.rep3, body="x")


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("nobody", set()),
        ("rep1", {"own"}),
        ("manager1", {"own", "north"}),
        ("director", {"own", "north", "east"}),
        ("viewer_all", {"own", "north", "east", "unassigned"}),
    ],
)
def test_scopes_follow_the_assignee(tickets_granted: Any, user: str, expected: set[str]) -> None:
    company = tickets_granted
    made = {
        "own": _ticket(assignee=company.rep1),
        "north": _ticket(assignee=company.rep2),
        "east": _ticket(assignee=company.rep3),
        "unassigned": _ticket(),
    }
    seen = set(Ticket.objects.restrict(getattr(company, user), "view").values_list("pk", flat=True))
    assert {k for k, t in made.items() if t.pk in seen} == expected


def test_anonymous_sees_no_ticket(tickets_granted: Any) -> None:
    from django.contrib.auth.models import AnonymousUser

    _ticket()
    assert not Ticket.objects.restrict(AnonymousUser(), "view").exists()


def test_merge_moves_the_conversation_and_closes_the_duplicate(tickets_granted: Any) -> None:
    company = tickets_granted
    account = AccountFactory(owner=company.rep1)
    target = services.ticket_create(
        by=company.rep1, data={"subject": "a", "account": account}, assignee=company.rep1
    )
    source = services.ticket_create(
        by=company.rep1, data={"subject": "b", "account": account}, assignee=company.rep1
    )
    services.ticket_add_customer_message(ticket=source, body="重复的问题", message_id="m1@x")
    TicketWatcher.objects.create(ticket=source, user=company.rep2)
    services.ticket_merge(source=source, target=target, by=company.rep1)
    source.refresh_from_db()
    assert source.merged_into == target and source.state == TicketState.CLOSED
    assert target.messages.filter(message_id="m1@x").exists()
    assert target.watcher_links.filter(user=company.rep2).exists()
    system = target.messages.get(kind=MessageKind.SYSTEM)
    from kehu.service.selectors.tickets import system_line_text

    assert source.number in system_line_text(system)
    # mail to the merged ticket lands on the target
    services.ticket_add_customer_message(ticket=source, body="还有一个问题")
    assert target.messages.filter(body_text__contains="还有一个问题").exists()
    with pytest.raises(DomainError):
        services.ticket_reopen(ticket=source, by=company.rep1)
    with pytest.raises(ServiceError):
        services.ticket_merge(source=target, target=target, by=company.rep1)


def test_merge_refuses_tickets_of_different_accounts(tickets_granted: Any) -> None:
    company = tickets_granted
    one = services.ticket_create(
        by=company.rep1, data={"subject": "a", "account": AccountFactory(owner=company.rep1)}
    )
    two = services.ticket_create(
        by=company.rep1, data={"subject": "b", "account": AccountFactory(owner=company.rep1)}
    )
    with pytest.raises(ServiceError) as caught:
        services.ticket_merge(source=one, target=two, by=company.rep1)
    assert "target" in caught.value.fields


def test_split_moves_the_chosen_messages_to_a_new_ticket(tickets_granted: Any) -> None:
    company = tickets_granted
    ticket = services.ticket_create(by=company.rep1, data={"subject": "两个问题"}, assignee=company.rep1)
    keep = services.ticket_add_customer_message(ticket=ticket, body="问题一")
    move = services.ticket_add_customer_message(ticket=ticket, body="问题二：发票")
    new = services.ticket_split(ticket=ticket, by=company.rep1, messages=[move], subject="发票问题")
    assert new.split_from == ticket and new.subject == "发票问题" and new.assignee == company.rep1
    assert list(new.messages.exclude(kind=MessageKind.SYSTEM).values_list("pk", flat=True)) == [move.pk]
    assert ticket.messages.filter(pk=keep.pk).exists()


def test_customer_messages_notify_assignee_and_watchers_in_their_language(tickets_granted: Any) -> None:
    from kehu.notifications.models import Notification

    company = tickets_granted
    company.rep2.language = "en"
    company.rep2.save(update_fields=["language"])
    ticket = services.ticket_create(by=company.rep1, data={"subject": "x"}, assignee=company.rep1)
    services.ticket_watch(ticket=ticket, by=company.manager1, user=company.manager1)
    TicketWatcher.objects.create(ticket=ticket, user=company.rep2)
    services.ticket_add_customer_message(ticket=ticket, body="hi")
    titles = dict(
        Notification.objects.filter(kind=services.KIND_ACTIVITY).values_list("recipient__username", "title")
    )
    assert set(titles) == {"rep1", "rep2", "manager1"}
    assert titles["rep2"].startswith("New message from the customer")


def test_created_at_may_be_given_for_imports_and_demo(tickets_granted: Any) -> None:
    moment = timezone.now() - dt.timedelta(days=3)
    ticket = services.ticket_create(by=None, data={"subject": "x"}, now=moment)
    ticket.refresh_from_db()
    assert ticket.created_at == moment


def test_merge_refuses_tickets_of_different_customers(tickets_granted: Any) -> None:
    company = tickets_granted
    account = AccountFactory(owner=company.rep1)
    one = ContactFactory(owner=company.rep1, account=account, email="one@example.com")
    two = ContactFactory(owner=company.rep1, account=account, email="two@example.com")
    first = services.ticket_create(
        by=company.rep1, data={"subject": "a", "contact": one}, assignee=company.rep1
    )
    second = services.ticket_create(
        by=company.rep1, data={"subject": "b", "contact": two}, assignee=company.rep1
    )
    with pytest.raises(ServiceError) as caught:
        services.ticket_merge(source=second, target=first, by=company.rep1)
    assert "target" in caught.value.fields
    # the same person writing from the address on the contact is the same customer
    third = services.ticket_create(
        by=company.rep1, data={"subject": "c", "requester_email": "ONE@example.com"}, assignee=company.rep1
    )
    services.ticket_merge(source=third, target=first, by=company.rep1)
    third.refresh_from_db()
    assert third.merged_into == first


def test_unassigning_someone_else_needs_assign(tickets_granted: Any) -> None:
    company = tickets_granted
    queue = queue_with(company.rep1, company.rep2)
    ticket = services.ticket_create(by=None, data={"subject": "x", "queue": queue}, assignee=company.rep2)
    with pytest.raises(PermissionDeniedError):
        services.ticket_assign(ticket=ticket, by=company.rep1, assignee=None)
    ticket.refresh_from_db()
    assert ticket.assignee == company.rep2


def test_a_note_with_a_refused_move_is_not_kept(tickets_granted: Any) -> None:
    company = tickets_granted
    ticket = services.ticket_create(by=company.rep1, data={"subject": "x"}, assignee=company.rep1)
    with pytest.raises(ServiceError):
        services.ticket_add_note(ticket=ticket, by=company.rep1, body="备注", status=status("new"))
    assert not ticket.messages.filter(body_text__contains="备注").exists()
    services.ticket_add_note(ticket=ticket, by=company.rep1, body="已联系", status=status("in_progress"))
    ticket.refresh_from_db()
    assert ticket.state == TicketState.IN_PROGRESS


def test_split_needs_the_add_permission(tickets_granted: Any) -> None:
    from kehu.core.choices import Action, Scope
    from kehu.users.tests.factories import grant

    company = tickets_granted
    grant(company.role_all, "service.ticket", Action.CHANGE, scope=Scope.ALL)
    ticket = services.ticket_create(by=company.rep1, data={"subject": "x"}, assignee=company.rep1)
    move = services.ticket_add_customer_message(ticket=ticket, body="问题二")
    with pytest.raises(PermissionDeniedError):
        services.ticket_split(ticket=ticket, by=company.viewer_all, messages=[move])
