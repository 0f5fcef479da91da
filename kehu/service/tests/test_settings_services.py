"""Ticket statuses (one initial, the flow), types (statuses used, custom fields), categories (two
levels) and mailboxes (write-only password): rules, refusals that change nothing, permissions."""

from __future__ import annotations

from typing import Any

import pytest

from kehu.core.errors import DomainError, PermissionDeniedError
from kehu.customfields.tests.factories import CustomFieldFactory
from kehu.service.models import Mailbox, TicketCategory, TicketStatus, TicketStatusHistory, TicketType
from kehu.service.services import settings as services

from .factories import status, ticket_type
from .factories_queues import make_mailbox, make_queue, make_ticket

pytestmark = pytest.mark.django_db


# --- statuses -----------------------------------------------------------------------------------


def test_making_a_status_initial_takes_the_flag_from_the_other(company: Any) -> None:
    triage = services.ticketstatus_create(
        by=company.admin,
        data={
            "code": "triage",
            "name": "分诊",
            "name_en": "Triage",
            "state": "new",
            "is_initial": True,
            "next_statuses": [status("assigned"), status("closed")],
        },
    )
    assert list(TicketStatus.objects.filter(is_initial=True)) == [triage]
    assert set(triage.next_statuses.all()) == {status("assigned"), status("closed")}
    # The only initial status stays initial until another one takes over.
    with pytest.raises(DomainError) as refused:
        services.ticketstatus_update(status=triage, by=company.admin, data={"is_initial": False})
    assert "is_initial" in refused.value.fields
    services.ticketstatus_update(status=status("new"), by=company.admin, data={"is_initial": True})
    assert list(TicketStatus.objects.filter(is_initial=True)) == [status("new")]


def test_status_refusals(company: Any) -> None:
    new = status("new")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"code": "new", "name": "x", "state": "new"}, "code"),
        ({"code": "x", "name": "", "state": "new"}, "name"),
        ({"code": "x", "name": "x", "state": "done"}, "state"),
        ({"code": "x", "name": "x", "state": "new", "colour": "#123456"}, "colour"),
        ({"code": "x", "name": "x", "state": "closed", "is_initial": True}, "is_initial"),
        ({"code": "x y", "name": "x", "state": "new"}, "code"),
    ]
    for data, field in cases:
        with pytest.raises(DomainError) as refused:
            services.ticketstatus_create(by=company.admin, data=data)
        assert field in refused.value.fields, data
    with pytest.raises(DomainError) as refused:
        services.ticketstatus_update(status=new, by=company.admin, data={"next_statuses": [new]})
    assert "next_statuses" in refused.value.fields
    with pytest.raises(DomainError) as refused:
        services.ticketstatus_update(status=new, by=company.admin, data={"is_active": False})
    assert "is_active" in refused.value.fields
    assert TicketStatus.objects.count() == 6 and status("new").is_initial
    with pytest.raises(PermissionDeniedError):
        services.ticketstatus_create(by=company.nobody, data={"code": "x", "name": "x", "state": "new"})


def test_a_status_in_use_or_initial_is_not_deleted(company: Any) -> None:
    with pytest.raises(DomainError) as refused:
        services.ticketstatus_delete(status=status("new"), by=company.admin)
    assert refused.value.code == services.INITIAL_STATUS
    ticket = make_ticket(status=status("waiting"))
    with pytest.raises(DomainError) as refused:
        services.ticketstatus_delete(status=status("waiting"), by=company.admin)
    assert refused.value.code == services.IN_USE and refused.value.status == 409
    # A status only in the history is in use too.
    TicketStatusHistory.objects.create(
        ticket=ticket,
        from_status=status("assigned"),
        to_status=status("waiting"),
        to_state="waiting",
        changed_at=ticket.created_at,
    )
    with pytest.raises(DomainError):
        services.ticketstatus_delete(status=status("assigned"), by=company.admin)
    services.ticketstatus_update(status=status("assigned"), by=company.admin, data={"is_active": False})
    services.ticketstatus_delete(status=status("in_progress"), by=company.admin)
    assert set(TicketStatus.objects.values_list("code", flat=True)) == {
        "new",
        "assigned",
        "waiting",
        "resolved",
        "closed",
    }
    assert not status("assigned").is_active


def test_reorder_sets_positions(company: Any) -> None:
    ids = list(TicketStatus.objects.order_by("-position").values_list("pk", flat=True))
    services.ticketstatus_reorder(ids=ids, by=company.admin)
    assert list(TicketStatus.objects.order_by("position").values_list("pk", flat=True)) == ids


def test_a_new_initial_status_must_be_in_every_own_status_set(company: Any) -> None:
    complaint = ticket_type("complaint")
    complaint.statuses.set([status("new"), status("in_progress"), status("closed")])
    with pytest.raises(DomainError) as refused:
        services.ticketstatus_update(status=status("assigned"), by=company.admin, data={"is_initial": True})
    assert "is_initial" in refused.value.fields and "Complaint" in str(refused.value.message)
    assert status("new").is_initial


# --- types --------------------------------------------------------------------------------------


def test_type_with_its_statuses_and_custom_fields(company: Any) -> None:
    CustomFieldFactory(model="service.ticket", name="serial_no")
    CustomFieldFactory(model="service.ticket", name="warranty")
    queue = make_queue()
    created = services.tickettype_create(
        by=company.admin,
        data={
            "code": "install",
            "name": "安装",
            "name_en": "Installation",
            "kind": "request",
            "default_priority": 3,
            "default_queue": queue,
            "statuses": [status("new"), status("in_progress"), status("resolved")],
            "fields": ["serial_no"],
            "required_fields": ["warranty"],
        },
    )
    assert created.fields == ["serial_no", "warranty"]  # a required field is shown
    assert created.required_fields == ["warranty"]
    assert created.default_queue == queue and created.statuses.count() == 3


def test_type_refusals(company: Any) -> None:
    CustomFieldFactory(model="service.ticket", name="serial_no")
    CustomFieldFactory(model="customers.account", name="industry")
    inactive = make_queue(is_active=False)
    base = {"code": "x", "name": "x", "kind": "request"}
    cases: list[tuple[dict[str, Any], str]] = [
        ({**base, "statuses": [status("in_progress")]}, "statuses"),
        ({**base, "after_sales_action": "return"}, "after_sales_action"),
        ({**base, "kind": "after_sales", "after_sales_action": "burn"}, "after_sales_action"),
        ({**base, "fields": ["industry"]}, "fields"),
        ({**base, "required_fields": ["nope"]}, "required_fields"),
        ({**base, "default_priority": 9}, "default_priority"),
        ({**base, "default_queue": inactive}, "default_queue"),
        ({**base, "code": "request"}, "code"),
        ({**base, "kind": "other"}, "kind"),
    ]
    for data, field in cases:
        with pytest.raises(DomainError) as refused:
            services.tickettype_create(by=company.admin, data=data)
        assert field in refused.value.fields, data
    assert TicketType.objects.count() == 6


def test_a_type_in_use_is_not_deleted(company: Any) -> None:
    make_ticket(type=ticket_type("complaint"))
    with pytest.raises(DomainError) as refused:
        services.tickettype_delete(ticket_type=ticket_type("complaint"), by=company.admin)
    assert refused.value.status == 409
    services.tickettype_update(
        ticket_type=ticket_type("complaint"), by=company.admin, data={"is_active": False}
    )
    services.tickettype_delete(ticket_type=ticket_type("inquiry"), by=company.admin)
    assert not TicketType.objects.filter(code="inquiry").exists()
    assert not ticket_type("complaint").is_active


# --- categories ---------------------------------------------------------------------------------


def test_categories_have_two_levels(company: Any) -> None:
    top = services.ticketcategory_create(by=company.admin, data={"name": "硬件", "name_en": "Hardware"})
    child = services.ticketcategory_create(by=company.admin, data={"name": "屏幕", "parent": top})
    assert str(child) == f"{top} / 屏幕"
    other = TicketCategory.objects.exclude(pk__in=[top.pk, child.pk]).first()
    for data, field in (
        ({"name": "像素", "parent": child}, "parent"),
        ({"name": "屏幕", "parent": top}, "name"),
        ({"name": ""}, "name"),
    ):
        with pytest.raises(DomainError) as refused:
            services.ticketcategory_create(by=company.admin, data=data)
        assert field in refused.value.fields
    with pytest.raises(DomainError) as refused:
        services.ticketcategory_update(category=top, by=company.admin, data={"parent": other})
    assert "parent" in refused.value.fields
    with pytest.raises(DomainError) as refused:
        services.ticketcategory_update(category=top, by=company.admin, data={"parent": top})
    assert "parent" in refused.value.fields
    with pytest.raises(DomainError):
        services.ticketcategory_delete(category=top, by=company.admin)  # has a subcategory
    make_ticket(category=child)
    with pytest.raises(DomainError):
        services.ticketcategory_delete(category=child, by=company.admin)  # has tickets
    services.ticketcategory_update(category=child, by=company.admin, data={"parent": other})
    services.ticketcategory_delete(category=top, by=company.admin)
    assert not TicketCategory.objects.filter(pk=top.pk).exists()


# --- mailboxes ----------------------------------------------------------------------------------


def test_mailbox_password_is_kept_when_left_empty(company: Any) -> None:
    mailbox = services.mailbox_create(
        by=company.admin,
        data={
            "name": "支持",
            "email": "Support@Example.com",
            "imap_host": "imap.example.com",
            "imap_username": "support",
            "imap_password": "app-pass-1",
        },
    )
    assert mailbox.email == "support@example.com" and mailbox.imap_password == "app-pass-1"
    services.mailbox_update(
        mailbox=mailbox,
        by=company.admin,
        data={"imap_password": "", "imap_port": 143, "imap_ssl": False, "imap_starttls": True},
    )
    mailbox.refresh_from_db()
    assert mailbox.imap_password == "app-pass-1" and mailbox.imap_port == 143
    services.mailbox_update(mailbox=mailbox, by=company.admin, data={"imap_password": "app-pass-2"})
    mailbox.refresh_from_db()
    assert mailbox.imap_password == "app-pass-2"
    services.mailbox_update(mailbox=mailbox, by=company.admin, data={"clear_password": True})
    mailbox.refresh_from_db()
    assert mailbox.imap_password == ""


def test_mailbox_refusals(company: Any) -> None:
    make_mailbox(name="A", email="a@example.com")
    base = {"name": "B", "email": "b@example.com", "imap_host": "h", "imap_username": "u"}
    for data, field in (
        ({**base, "email": "A@example.com"}, "email"),
        ({**base, "name": "A"}, "name"),
        ({**base, "imap_ssl": True, "imap_starttls": True}, "imap_starttls"),
        ({**base, "imap_port": 0}, "imap_port"),
        ({**base, "imap_host": ""}, "imap_host"),
        ({**base, "email": "nope"}, "email"),
    ):
        with pytest.raises(DomainError) as refused:
            services.mailbox_create(by=company.admin, data=data)
        assert field in refused.value.fields, data
    # An inactive mailbox may wait for its settings.
    services.mailbox_create(
        by=company.admin, data={"name": "C", "email": "c@example.com", "is_active": False}
    )
    with pytest.raises(PermissionDeniedError):
        services.mailbox_create(by=company.manager1, data=base)
    assert Mailbox.objects.count() == 2
