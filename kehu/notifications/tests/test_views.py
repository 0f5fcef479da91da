"""The bell, the notification list, opening and marking read."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kehu.notifications import services
from kehu.notifications.models import Notification

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_bell_shows_the_unread_count_on_every_page(client, company) -> None:
    services.notify(recipients=[company.rep1], title="one")
    services.notify(recipients=[company.rep1], title="two")
    services.notify(recipients=[company.rep2], title="not mine")
    client.force_login(company.rep1)
    html = client.get(reverse("notifications:list")).content.decode()
    assert 'id="kehu-bell"' in html
    assert 'data-unread="2"' in html
    assert 'hx-trigger="every 30s, kehu:notifications from:body"' in html


def test_badge_is_one_count_query(client, company, django_assert_max_num_queries) -> None:
    for i in range(120):
        services.notify(recipients=[company.rep1], title=f"n{i}")
    client.force_login(company.rep1)
    client.get(reverse("notifications:badge"))  # warm the session
    with django_assert_max_num_queries(4):  # session, user, the MFA middleware's check, COUNT
        response = client.get(reverse("notifications:badge"), **HTMX)
    html = response.content.decode()
    assert 'data-unread="120"' in html and "99+" in html


def test_badge_stops_polling_when_signed_out(client) -> None:
    assert client.get(reverse("notifications:badge"), **HTMX).status_code == 286


def test_dropdown_lists_the_latest_items(client, company) -> None:
    for i in range(10):
        services.notify(recipients=[company.rep1], title=f"item {i}")
    services.notify(recipients=[company.rep2], title="other user's")
    client.force_login(company.rep1)
    response = client.get(reverse("notifications:dropdown"), **HTMX)
    items = response.context["items"]
    assert [n.title for n in items] == [f"item {i}" for i in range(9, 1, -1)]
    assert "other user's" not in response.content.decode()


def test_opening_marks_read_and_follows_internal_links_only(client, company) -> None:
    [inside] = services.notify(recipients=[company.rep1], title="a", url="/jobs/1/")
    [outside] = services.notify(recipients=[company.rep1], title="b", url="https://evil.example/")
    [theirs] = services.notify(recipients=[company.rep2], title="c", url="/jobs/2/")
    client.force_login(company.rep1)
    response = client.get(reverse("notifications:open", args=[inside.pk]))
    assert response["Location"] == "/jobs/1/"
    assert Notification.objects.get(pk=inside.pk).read_at is not None
    response = client.get(reverse("notifications:open", args=[outside.pk]))
    assert response["Location"] == reverse("notifications:list")
    assert client.get(reverse("notifications:open", args=[theirs.pk])).status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_mark_read_and_mark_all_read(client, company) -> None:
    a, b = services.notify(recipients=[company.rep1], title="a") + services.notify(
        recipients=[company.rep1], title="b"
    )
    [theirs] = services.notify(recipients=[company.rep2], title="c")
    client.force_login(company.rep1)
    response = client.post(reverse("notifications:mark_read", args=[a.pk]), **HTMX)
    assert response.status_code == 200
    assert 'data-read="1"' in response.content.decode()
    assert "kehu:notifications" in response["HX-Trigger"]
    assert client.post(reverse("notifications:mark_read", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("notifications:mark_read", args=[b.pk])).status_code == 405

    response = client.post(reverse("notifications:mark_all_read"), {"from": "bell"}, **HTMX)
    assert response.status_code == 200 and response.context["unread"] == 0
    assert Notification.objects.filter(recipient=company.rep1, read_at__isnull=True).count() == 0
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert client.post(reverse("notifications:mark_all_read"))["Location"] == reverse("notifications:list")


def test_list_page_filters_unread(client, company) -> None:
    a, _b = services.notify(recipients=[company.rep1], title="first") + services.notify(
        recipients=[company.rep1], title="second"
    )
    services.notification_mark_read(user=company.rep1, ids=[a.pk])
    client.force_login(company.rep1)
    response = client.get(reverse("notifications:list"))
    assert [n.title for n in response.context["page"].object_list] == ["second", "first"]
    response = client.get(reverse("notifications:list") + "?unread=1")
    assert [n.title for n in response.context["page"].object_list] == ["second"]


def test_pages_need_login(client) -> None:
    for name in ("notifications:list", "notifications:dropdown"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
