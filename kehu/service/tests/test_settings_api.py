"""/api/v1/service/ticket-statuses/, ticket-types/, ticket-categories/, mailboxes/: CRUD through
the services, refusals with the error shape, permissions, and a write-only mailbox password."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from kehu.core.choices import Action
from kehu.service.models import Mailbox, TicketCategory, TicketStatus, TicketType
from kehu.users.tests.factories import grant

from .factories import status, ticket_type
from .factories_queues import make_mailbox, make_ticket

pytestmark = pytest.mark.django_db
BASE = "/api/v1/service/"


def api(user: Any = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_statuses(company: Any) -> None:
    client = api(company.admin)
    listed = client.get(f"{BASE}ticket-statuses/").json()["results"]
    assert {s["code"] for s in listed} == {"new", "assigned", "in_progress", "waiting", "resolved", "closed"}
    created = client.post(
        f"{BASE}ticket-statuses/",
        {"code": "triage", "name": "分诊", "state": "new", "next_statuses": [status("closed").pk]},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["next_statuses"] == [status("closed").pk]
    duplicate = client.post(
        f"{BASE}ticket-statuses/", {"code": "triage", "name": "x", "state": "new"}, format="json"
    )
    assert duplicate.status_code == 400 and "code" in duplicate.json()["fields"]
    off = client.patch(f"{BASE}ticket-statuses/{status('new').pk}/", {"is_initial": False}, format="json")
    assert off.status_code == 400 and "is_initial" in off.json()["fields"]
    make_ticket(status=status("waiting"))
    in_use = client.delete(f"{BASE}ticket-statuses/{status('waiting').pk}/")
    assert in_use.status_code == 409 and in_use.json()["code"] == "in_use"
    assert client.delete(f"{BASE}ticket-statuses/{created.json()['id']}/").status_code == 204
    assert TicketStatus.objects.count() == 6 and status("new").is_initial


def test_types_and_categories(company: Any) -> None:
    client = api(company.admin)
    bad = client.post(
        f"{BASE}ticket-types/",
        {"code": "install", "name": "安装", "kind": "request", "statuses": [status("in_progress").pk]},
        format="json",
    )
    assert bad.status_code == 400 and "statuses" in bad.json()["fields"]
    made = client.post(
        f"{BASE}ticket-types/",
        {
            "code": "install",
            "name": "安装",
            "kind": "request",
            "default_priority": 3,
            "statuses": [status("new").pk, status("closed").pk],
        },
        format="json",
    )
    assert made.status_code == 201, made.content
    assert sorted(made.json()["statuses"]) == sorted([status("new").pk, status("closed").pk])
    unknown = client.patch(f"{BASE}ticket-types/{made.json()['id']}/", {"fields": ["nope"]}, format="json")
    assert unknown.status_code == 400 and "fields" in unknown.json()["fields"]
    make_ticket(type=ticket_type("complaint"))
    assert client.delete(f"{BASE}ticket-types/{ticket_type('complaint').pk}/").status_code == 409
    assert TicketType.objects.count() == 7
    top = client.post(f"{BASE}ticket-categories/", {"name": "硬件"}, format="json").json()
    child = client.post(f"{BASE}ticket-categories/", {"name": "屏幕", "parent": top["id"]}, format="json")
    assert child.status_code == 201
    third = client.post(
        f"{BASE}ticket-categories/", {"name": "像素", "parent": child.json()["id"]}, format="json"
    )
    assert third.status_code == 400 and "parent" in third.json()["fields"]
    assert client.delete(f"{BASE}ticket-categories/{top['id']}/").status_code == 409
    assert TicketCategory.objects.filter(name__in=["硬件", "屏幕"]).count() == 2


def test_mailbox_password_is_write_only(company: Any) -> None:
    client = api(company.admin)
    created = client.post(
        f"{BASE}mailboxes/",
        {
            "name": "支持",
            "email": "support@example.com",
            "imap_host": "imap.example.com",
            "imap_username": "support",
            "imap_password": "app-pass",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert "imap_password" not in body and body["has_password"] is True
    pk = body["id"]
    client.patch(f"{BASE}mailboxes/{pk}/", {"imap_password": "", "imap_port": 1993}, format="json")
    mailbox = Mailbox.objects.get(pk=pk)
    assert mailbox.imap_password == "app-pass" and mailbox.imap_port == 1993
    read = client.get(f"{BASE}mailboxes/{pk}/").json()
    assert "imap_password" not in read and "app-pass" not in str(read)
    both = client.patch(f"{BASE}mailboxes/{pk}/", {"imap_starttls": True}, format="json")
    assert both.status_code == 400 and "imap_starttls" in both.json()["fields"]


def test_settings_permissions(company: Any) -> None:
    mailbox = make_mailbox()
    for path in ("ticket-statuses/", "ticket-types/", "ticket-categories/", "mailboxes/"):
        assert api().get(f"{BASE}{path}").status_code in (401, 403)
        assert api(company.nobody).get(f"{BASE}{path}").status_code == 403
    assert api(company.nobody).delete(f"{BASE}mailboxes/{mailbox.pk}/").status_code == 404
    grant(company.role_rep, "service.ticketstatus", Action.VIEW)
    grant(company.role_rep, "service.mailbox", Action.VIEW)
    rep1 = api(company.rep1)
    assert rep1.get(f"{BASE}ticket-statuses/").status_code == 200
    assert (
        rep1.patch(f"{BASE}ticket-statuses/{status('new').pk}/", {"name": "X"}, format="json").status_code
        == 403
    )
    assert (
        rep1.post(
            f"{BASE}ticket-statuses/", {"code": "x", "name": "x", "state": "new"}, format="json"
        ).status_code
        == 403
    )
    assert "imap_password" not in rep1.get(f"{BASE}mailboxes/{mailbox.pk}/").json()
    assert rep1.delete(f"{BASE}mailboxes/{mailbox.pk}/").status_code == 403
    assert status("new").name == "新建" and Mailbox.objects.count() == 1


def test_statuses_reorder(company: Any) -> None:
    ids = list(TicketStatus.objects.order_by("-position").values_list("pk", flat=True))
    response = api(company.admin).post(f"{BASE}ticket-statuses/reorder/", {"ids": ids}, format="json")
    assert response.status_code == 200 and [s["id"] for s in response.json()] == ids
    grant(company.role_rep, "service.ticketstatus", Action.VIEW)
    refused = api(company.rep1).post(f"{BASE}ticket-statuses/reorder/", {"ids": ids[::-1]}, format="json")
    assert refused.status_code == 403
    assert list(TicketStatus.objects.order_by("position").values_list("pk", flat=True)) == ids
