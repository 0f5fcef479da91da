"""/api/v1/service/queues/ (+ members) and /api/v1/service/canned-responses/ (+ render):
CRUD through the services, permissions (anonymous, no permission, view only, granted), errors."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from kehu.core.choices import Action
from kehu.service.models import CannedResponse, Queue, QueueMember
from kehu.users.tests.factories import grant

from .factories import queue_with, status
from .factories_queues import make_canned, make_ticket

pytestmark = pytest.mark.django_db
QUEUES = "/api/v1/service/queues/"
CANNED = "/api/v1/service/canned-responses/"


def api(user: Any = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_queue_crud_and_members(company: Any) -> None:
    client = api(company.admin)
    created = client.post(
        QUEUES,
        {
            "name": "一线",
            "assignment": "round_robin",
            "manager": company.manager1.pk,
            "members": [company.rep1.pk],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (
        body["members"] == [company.rep1.pk]
        and body["open_count"] == 0
        and body["assignment"] == "round_robin"
    )
    pk = body["id"]
    make_ticket(queue=Queue.objects.get(pk=pk))
    assert client.get(f"{QUEUES}{pk}/").json()["open_count"] == 1
    changed = client.patch(f"{QUEUES}{pk}/", {"assignment": "least_loaded"}, format="json")
    assert changed.status_code == 200 and changed.json()["assignment"] == "least_loaded"
    added = client.post(
        f"{QUEUES}{pk}/members/", {"user": company.rep2.pk, "is_available": False}, format="json"
    )
    assert added.status_code == 201 and added.json()["is_available"] is False
    assert [m["username"] for m in client.get(f"{QUEUES}{pk}/members/").json()] == ["rep1", "rep2"]
    leave = client.patch(f"{QUEUES}{pk}/members/{company.rep2.pk}/", {"is_available": True}, format="json")
    assert leave.status_code == 200 and leave.json()["is_available"] is True
    assert client.delete(f"{QUEUES}{pk}/members/{company.rep1.pk}/").status_code == 204
    assert client.delete(f"{QUEUES}{pk}/members/{company.rep1.pk}/").status_code == 404
    assert list(QueueMember.objects.values_list("user__username", flat=True)) == ["rep2"]
    # A queue with tickets: 409 with the error shape, nothing deleted.
    refused = client.delete(f"{QUEUES}{pk}/")
    assert refused.status_code == 409 and refused.json()["code"] == "queue_in_use"
    assert Queue.objects.filter(pk=pk).exists()


def test_queue_bad_input_is_a_field_error(company: Any) -> None:
    queue_with(name="一线")
    client = api(company.admin)
    response = client.post(QUEUES, {"name": "一线", "assignment": "manual"}, format="json")
    assert response.status_code == 400 and "name" in response.json()["fields"]
    response = client.post(QUEUES, {"name": "二线", "assignment": "random"}, format="json")
    assert response.status_code == 400
    assert Queue.objects.count() == 1


def test_queue_permissions(company: Any) -> None:
    queue = queue_with(company.rep1, company.rep2)
    assert api().get(QUEUES).status_code in (401, 403)
    assert api(company.nobody).get(QUEUES).status_code == 403
    assert api(company.nobody).get(f"{QUEUES}{queue.pk}/").status_code == 404
    assert api(company.nobody).post(QUEUES, {"name": "x"}, format="json").status_code == 403
    grant(company.role_rep, "service.queue", Action.VIEW)
    rep1 = api(company.rep1)
    assert [q["id"] for q in rep1.get(QUEUES).json()["results"]] == [queue.pk]
    assert rep1.patch(f"{QUEUES}{queue.pk}/", {"name": "y"}, format="json").status_code == 403
    assert rep1.delete(f"{QUEUES}{queue.pk}/").status_code == 403
    assert (
        rep1.post(f"{QUEUES}{queue.pk}/members/", {"user": company.rep3.pk}, format="json").status_code == 403
    )
    assert rep1.delete(f"{QUEUES}{queue.pk}/members/{company.rep2.pk}/").status_code == 403
    # Own availability: allowed with "view"; a colleague's: refused.
    own = rep1.patch(f"{QUEUES}{queue.pk}/members/{company.rep1.pk}/", {"is_available": False}, format="json")
    assert own.status_code == 200
    other = rep1.patch(
        f"{QUEUES}{queue.pk}/members/{company.rep2.pk}/", {"is_available": False}, format="json"
    )
    assert other.status_code == 403
    queue.refresh_from_db()
    assert queue.name != "y" and queue.memberships.count() == 2
    assert list(QueueMember.objects.filter(is_available=False).values_list("user__username", flat=True)) == [
        "rep1"
    ]


def test_canned_responses_api(company: Any) -> None:
    grant(company.role_rep, "service.cannedresponse", Action.VIEW, Action.ADD)
    grant(company.role_rep, "service.ticket", Action.VIEW, scope="own")
    rep1 = api(company.rep1)
    created = rep1.post(
        CANNED, {"name": "签名", "body": "<p>{{ agent.name }}</p>", "is_shared": False}, format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["owner"] == company.rep1.pk
    refused = rep1.post(CANNED, {"name": "全员", "body": "x"}, format="json")  # shared by default
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    everyone = make_canned(owner=company.admin, body="<p>{{ ticket.number }}</p>")
    theirs = make_canned(owner=company.rep2, is_shared=False)
    names = {r["name"] for r in rep1.get(CANNED).json()["results"]}
    assert names == {"签名", everyone.name}
    assert rep1.get(f"{CANNED}{theirs.pk}/").status_code == 404
    assert rep1.patch(f"{CANNED}{everyone.pk}/", {"name": "x"}, format="json").status_code == 403
    assert rep1.delete(f"{CANNED}{everyone.pk}/").status_code == 403
    ticket = make_ticket(assignee=company.rep1, number="TK-7")
    rendered = rep1.post(f"{CANNED}{everyone.pk}/render/", {"ticket": ticket.pk}, format="json")
    assert rendered.status_code == 200 and rendered.json() == {"id": everyone.pk, "html": "<p>TK-7</p>"}
    hidden = make_ticket(assignee=company.rep3)
    assert (
        rep1.post(f"{CANNED}{everyone.pk}/render/", {"ticket": hidden.pk}, format="json").status_code == 404
    )
    mine = created.json()["id"]
    assert rep1.delete(f"{CANNED}{mine}/").status_code == 204
    assert set(CannedResponse.objects.values_list("pk", flat=True)) == {everyone.pk, theirs.pk}
    everyone.refresh_from_db()
    assert everyone.usage_count == 1
    assert api(company.nobody).get(CANNED).status_code == 403


def test_queue_list_ticket_counts_only_open(company: Any) -> None:
    queue = queue_with()
    make_ticket(queue=queue, status=status("resolved"))
    make_ticket(queue=queue, status=status("waiting"))
    assert api(company.admin).get(f"{QUEUES}{queue.pk}/").json()["open_count"] == 1
