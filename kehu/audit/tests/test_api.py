from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from kehu.audit import services
from kehu.audit.models import ObjectChange
from kehu.core.context import acting_as
from kehu.users.models import FieldPermission, User
from kehu.users.tests.factories import grant

pytestmark = pytest.mark.django_db

CHANGES = "/api/v1/audit/changes/"
TIMELINE = "/api/v1/audit/timeline/"


def api(user: Any = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_changes_access(company: Any) -> None:
    assert api().get(CHANGES).status_code in (401, 403)
    response = api(company.rep1).get(CHANGES)
    assert response.status_code == 403
    assert set(response.json()) == {"code", "message", "fields"}
    assert api(company.admin).get(CHANGES).status_code == 200
    grant(company.role_all, "audit.objectchange", "view", scope="all")
    assert api(company.viewer_all).get(CHANGES).status_code == 200


def test_changes_list_filters_and_keyset_pagination(company: Any) -> None:
    with acting_as(company.admin.pk, request_id="req-api-0001"):
        rep1 = User.objects.get(pk=company.rep1.pk)
        rep1.title = "代表"
        rep1.save()
    client = api(company.admin)
    body = client.get(CHANGES, {"request_id": "req-api-0001"}).json()
    assert [r["changes"] for r in body["results"]] == [{"title": ["", "代表"]}]
    row = body["results"][0]
    assert (row["model"], row["object_id"], row["action"], row["user"], row["user_name"]) == (
        "users.user",
        company.rep1.pk,
        "update",
        company.admin.pk,
        "admin",
    )
    assert "count" not in body
    total = ObjectChange.objects.count()
    seen: list[int] = []
    url: str | None = CHANGES + "?page_size=7"
    while url:
        page = client.get(url).json()
        seen += [r["id"] for r in page["results"]]
        url = page["next"]
    assert len(seen) == total == len(set(seen))
    assert seen == list(ObjectChange.objects.order_by("-time", "-id").values_list("pk", flat=True))
    assert [
        r["action"]
        for r in client.get(CHANGES, {"action": "create", "model": "users.role"}).json()["results"]
    ] == ["create"] * 6
    detail = client.get(f"{CHANGES}{row['id']}/")
    assert detail.status_code == 200 and detail.json()["id"] == row["id"]


@pytest.mark.parametrize(
    "params",
    [
        {"object_id": "99999999999999999999999"},
        {"object_id": "-1"},
        {"date_from": "yesterday"},
        {"action": "login"},
        {"model": "nope.nope"},
        {"user": "abc"},
    ],
)
def test_changes_invalid_filters_answer_400(company: Any, params: dict[str, str]) -> None:
    response = api(company.admin).get(CHANGES, params)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_changes_scope_and_masking_for_a_non_admin(company: Any) -> None:
    grant(company.role_rep, "audit.objectchange", "view", scope="own")
    FieldPermission.objects.create(role=company.role_rep, model="users.user", field="phone", mode="masked")
    FieldPermission.objects.create(role=company.role_rep, model="users.user", field="email", mode="hidden")
    with acting_as(company.rep1.pk, request_id="req-api-mask"):
        rep1 = User.objects.get(pk=company.rep1.pk)
        rep1.phone = "13812345678"
        rep1.email = "new@example.com"
        rep1.save()
    with acting_as(company.rep2.pk, request_id="req-api-other"):
        services.object_change_record(obj=company.role_rep, action="reveal")
    results = api(company.rep1).get(CHANGES).json()["results"]
    assert [r["request_id"] for r in results] == ["req-api-mask"]
    assert results[0]["changes"] == {"phone": ["", "138****5678"]}
    other = ObjectChange.objects.get(request_id="req-api-other")
    assert api(company.rep1).get(f"{CHANGES}{other.pk}/").status_code == 404


def test_timeline(company: Any) -> None:
    grant(company.role_rep, "users.user", "view", scope="own")
    services.timeline_record(
        event="user.promoted", obj=company.rep1, by=company.admin, data={"old": "", "new": "代表"}
    )
    services.timeline_record(event="user.promoted", obj=company.rep2, by=company.admin)
    client = api(company.rep1)
    body = client.get(TIMELINE, {"model": "users.user", "object_id": company.rep1.pk}).json()
    assert [(e["event"], e["object_id"], e["actor_name"], e["data"]) for e in body["results"]] == [
        ("user.promoted", company.rep1.pk, "admin", {"old": "", "new": "代表"})
    ]
    assert body["results"][0]["event_label"] == "user.promoted"
    assert client.get(TIMELINE, {"model": "users.user", "object_id": company.rep2.pk}).status_code == 404
    assert client.get(TIMELINE, {"model": "nope.nope", "object_id": "1"}).status_code == 404
    assert client.get(TIMELINE, {"model": "garbage", "object_id": "1"}).status_code == 404
    assert client.get(TIMELINE, {"model": "audit.objectchange", "object_id": "1"}).status_code == 404
    missing = client.get(TIMELINE)
    assert missing.status_code == 400
    assert set(missing.json()["fields"]) == {"model", "object_id"}
    assert client.get(TIMELINE, {"model": "users.user", "object_id": "1e99"}).status_code == 400
    assert api().get(TIMELINE, {"model": "users.user", "object_id": company.rep1.pk}).status_code in (
        401,
        403,
    )
    assert (
        api(company.nobody).get(TIMELINE, {"model": "users.user", "object_id": company.rep1.pk}).status_code
        == 404
    )


def test_timeline_event_labels_come_from_the_event_registry(company: Any) -> None:
    from kehu.audit import events

    events.register_event("test.labelled", "A labelled event", icon="star")
    services.timeline_record(event="test.labelled", obj=company.rep1, by=None)
    body = api(company.admin).get(TIMELINE, {"model": "users.user", "object_id": company.rep1.pk}).json()
    assert body["results"][0]["event_label"] == "A labelled event"
