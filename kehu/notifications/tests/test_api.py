"""/api/v1/notifications/: list, read, read-all, unread-count."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from kehu.notifications import services
from kehu.notifications.models import Notification

pytestmark = pytest.mark.django_db


def api(user: Any = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_list_is_mine_newest_first_and_filters_unread(company) -> None:
    [a] = services.notify(recipients=[company.rep1], title="a", url="/x/")
    [b] = services.notify(recipients=[company.rep1], title="b")
    services.notify(recipients=[company.rep2], title="c")
    services.notification_mark_read(user=company.rep1, ids=[a.pk])
    body = api(company.rep1).get("/api/v1/notifications/").json()
    assert [n["title"] for n in body["results"]] == ["b", "a"]
    assert body["results"][1]["is_read"] is True and body["results"][1]["url"] == "/x/"
    body = api(company.rep1).get("/api/v1/notifications/?unread=true").json()
    assert [n["id"] for n in body["results"]] == [b.pk]
    assert api(company.admin).get("/api/v1/notifications/").json()["results"] == []


def test_read_one_and_read_all_and_count(company) -> None:
    a, b = services.notify(recipients=[company.rep1], title="a") + services.notify(
        recipients=[company.rep1], title="b"
    )
    [theirs] = services.notify(recipients=[company.rep2], title="c")
    client = api(company.rep1)
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 2}
    response = client.post(f"/api/v1/notifications/{a.pk}/read/")
    assert response.status_code == 200 and response.json()["is_read"] is True
    assert client.post(f"/api/v1/notifications/{theirs.pk}/read/").status_code == 404
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 1}
    assert client.post("/api/v1/notifications/read-all/").json() == {"marked": 1}
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 0}
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert client.get(f"/api/v1/notifications/{b.pk}/").json()["is_read"] is True


def test_anonymous_is_refused(company) -> None:
    assert api().get("/api/v1/notifications/unread-count/").status_code in (401, 403)
    assert api().post("/api/v1/notifications/read-all/").status_code in (401, 403)
