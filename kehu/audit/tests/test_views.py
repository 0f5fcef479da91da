from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kehu.audit import services
from kehu.audit.models import ObjectChange
from kehu.audit.pagination import decode_cursor
from kehu.core.context import acting_as
from kehu.users.models import FieldPermission, RolePermission, User
from kehu.users.tests.factories import grant

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def found(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    assert match is not None, pattern
    return match.group(1)


def history_url(obj: Any) -> str:
    return reverse("audit:object_history", args=[obj._meta.label_lower, obj.pk])


# --- request context ---------------------------------------------------------------------------


@pytest.mark.urls("kehu.audit.tests.urls")
def test_a_request_id_header_user_and_ip_reach_the_log(company: Any) -> None:
    client = client_for(company.admin)
    response = client.post(
        "/test-audit/departments/", {"name": "客服部"}, HTTP_X_REQUEST_ID="req-from-client-0001"
    )
    assert response.status_code == 200
    assert response["X-Request-ID"] == "req-from-client-0001"
    change = ObjectChange.objects.get(model="users.department", object_id=response.json()["id"])
    assert (change.action, change.request_id, change.source) == ("create", "req-from-client-0001", "web")
    assert (change.user_id, change.user_name, change.ip) == (company.admin.pk, "admin", "127.0.0.1")


@pytest.mark.urls("kehu.audit.tests.urls")
def test_requests_without_an_id_get_one_and_api_paths_are_marked_api(company: Any) -> None:
    response = client_for(company.admin).post("/api/test-audit/departments/", {"name": "市场部"})
    change = ObjectChange.objects.get(model="users.department", object_id=response.json()["id"])
    assert change.source == "api"
    assert re.fullmatch(r"[0-9a-f]{32}", change.request_id)
    assert change.request_id == response["X-Request-ID"]


# --- History tab -------------------------------------------------------------------------------


def test_history_tab_snippet_lazy_loads_the_partial(company: Any) -> None:
    from django.template import Context, Template

    html = Template('{% include "audit/_history_tab.html" with object=obj %}').render(
        Context({"obj": company.rep2})
    )
    assert f'hx-get="{history_url(company.rep2)}"' in html
    assert 'hx-trigger="intersect once"' in html
    not_audited = Template('{% include "audit/_history_tab.html" with object=obj %}').render(
        Context({"obj": ObjectChange.objects.first()})
    )
    assert "hx-get" not in not_audited


def test_history_lists_changes_newest_first_with_labels_and_values(company: Any) -> None:
    rep2 = User.objects.get(pk=company.rep2.pk)
    with acting_as(company.manager1.pk, request_id="req-hist-1"):
        rep2.title = "销售代表"
        rep2.save()
    with acting_as(company.admin.pk, request_id="req-hist-2"):
        rep2.department = company.east
        rep2.save()
    response = client_for(company.admin).get(history_url(rep2))
    assert response.status_code == 200
    html = response.content.decode()
    entries = re.findall(r'data-action="(\w+)"', html)
    assert entries == ["update", "update", "create"]
    assert html.index("华北区") < html.index("华东区") or "华东区" in html
    assert "Job title" in html and "销售代表" in html
    assert "Department" in html
    assert html.index('data-field="department"') < html.index('data-field="title"')  # newest first


def test_history_shows_child_changes_on_the_parent(company: Any) -> None:
    RolePermission.objects.create(role=company.role_rep, model="users.user", action="view", scope="own")
    html = client_for(company.admin).get(history_url(company.role_rep)).content.decode()
    assert "Role permission" in html
    assert "Rep: view users.user (own)" in html


def test_history_is_404_outside_the_viewers_scope(company: Any) -> None:
    grant(company.role_rep, "users.user", "view", scope="own")
    client = client_for(company.rep1)
    assert client.get(history_url(company.rep1)).status_code == 200
    assert client.get(history_url(company.rep2)).status_code == 404
    assert client_for(company.nobody).get(history_url(company.rep1)).status_code == 404
    assert client.get("/audit/history/users.nosuchmodel/1/").status_code == 404
    assert client.get("/audit/history/garbage/1/").status_code == 404
    assert client.get("/audit/history/audit.objectchange/1/").status_code == 404  # not audited
    assert client.get(history_url(company.rep1).replace(str(company.rep1.pk), "99999999")).status_code == 404


def test_history_requires_login(company: Any) -> None:
    response = Client().get(history_url(company.rep1))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_history_hides_and_masks_values_like_the_record_does(company: Any) -> None:
    grant(company.role_rep, "users.user", "view", scope="department")
    FieldPermission.objects.create(role=company.role_rep, model="users.user", field="phone", mode="masked")
    FieldPermission.objects.create(role=company.role_rep, model="users.user", field="email", mode="hidden")
    rep2 = User.objects.get(pk=company.rep2.pk)
    with acting_as(company.admin.pk, request_id="req-mask-1"):
        rep2.phone = "13812345678"
        rep2.email = "secret.person@example.com"
        rep2.title = "经理"
        rep2.save()
    with acting_as(company.admin.pk, request_id="req-mask-2"):
        rep2.email = "another.secret@example.com"  # only a hidden field: the entry is left out
        rep2.save()
    html = client_for(company.rep1).get(history_url(rep2)).content.decode()
    assert "13812345678" not in html
    assert "138****5678" in html
    assert "secret" not in html and 'data-field="email"' not in html
    assert "rep2@example.com" not in html  # the creation's value is hidden too
    assert "经理" in html
    assert re.findall(r'data-action="(\w+)"', html) == ["update", "create"]
    admin_html = client_for(company.admin).get(history_url(rep2)).content.decode()
    assert "13812345678" in admin_html and "another.secret@example.com" in admin_html


def test_history_load_more_pages_by_cursor(company: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from kehu.audit import views

    monkeypatch.setattr(views, "HISTORY_PAGE_SIZE", 2)
    rep2 = User.objects.get(pk=company.rep2.pk)
    for i in range(4):
        rep2.title = f"title-{i}"
        rep2.save()
    client = client_for(company.admin)
    first = client.get(history_url(rep2)).content.decode()
    assert re.findall(r'data-field="title".*?<td class="audit-after[^>]*>([^<]+)', first, re.S) == [
        "title-3",
        "title-2",
    ]
    cursor = found(r'\?cursor=([^"]+)"', first)
    second = client.get(history_url(rep2) + "?cursor=" + cursor).content.decode()
    assert 'class="audit-history"' not in second  # appended items only
    assert re.findall(r'<td class="audit-after[^>]*>([^<]+)', second)[:2] == ["title-1", "title-0"]
    cursor = found(r'\?cursor=([^"]+)"', second)
    third = client.get(history_url(rep2) + "?cursor=" + cursor).content.decode()
    assert re.findall(r'data-action="(\w+)"', third) == ["create"]
    assert "Load more" not in third
    garbage = client.get(history_url(rep2) + "?cursor=%%%not-a-cursor")
    assert garbage.status_code == 200  # a bad cursor is the first page


# --- operation log -----------------------------------------------------------------------------


LOG = "/audit/log/"


def test_operation_log_access(company: Any) -> None:
    anonymous = Client().get(LOG)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert client_for(company.nobody).get(LOG).status_code == 403
    assert client_for(company.rep1).get(LOG).status_code == 403
    assert client_for(company.admin).get(LOG).status_code == 200
    grant(company.role_all, "audit.objectchange", "view", scope="all")
    assert client_for(company.viewer_all).get(LOG).status_code == 200


def test_operation_log_menu_item_only_for_permitted_users(company: Any) -> None:
    admin_home = client_for(company.admin).get("/").content.decode()
    rep_home = client_for(company.rep1).get("/").content.decode()
    assert 'data-menu="audit:operation_log"' in admin_home
    assert 'data-menu="audit:operation_log"' not in rep_home


def _ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-change-id="(\d+)"', html)]


def test_operation_log_filters(company: Any) -> None:
    with acting_as(company.manager1.pk, request_id="req-filter-1"):
        rep1 = User.objects.get(pk=company.rep1.pk)
        rep1.title = "代表"
        rep1.save()
    title_change = ObjectChange.objects.get(request_id="req-filter-1")
    old = services.object_change_record(obj=company.role_rep, action="reveal", changes={"revealed": ["name"]})
    ObjectChange.objects.filter(pk=old.pk).update(time=timezone.now() - dt.timedelta(days=40))
    client = client_for(company.admin)

    def ids(**params: Any) -> list[int]:
        response = client.get(LOG, params)
        assert response.status_code == 200
        return _ids(response.content.decode())

    assert ids(user=company.manager1.pk) == [title_change.pk]
    assert ids(request_id="req-filter-1") == [title_change.pk]
    assert ids(action="reveal") == [old.pk]
    assert ids(model="users.role", action="reveal") == [old.pk]
    assert set(ids(model="users.user", object_id=company.rep1.pk)) == {
        title_change.pk,
        ObjectChange.objects.get(model="users.user", object_id=company.rep1.pk, action="create").pk,
    }
    today = timezone.localdate()
    assert old.pk not in ids(date_from=(today - dt.timedelta(days=7)).isoformat())
    assert ids(date_to=(today - dt.timedelta(days=30)).isoformat()) == [old.pk]
    assert ids(action="delete") == []
    # Invalid filter values are reported, not a server error.
    response = client.get(
        LOG, {"date_from": "not-a-date", "object_id": "99999999999999999999999", "user": "x"}
    )
    assert response.status_code == 200


def test_operation_log_sorting_and_keyset_paging(company: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from kehu.audit import views

    monkeypatch.setattr(views, "LOG_PAGE_SIZE", 5)
    all_ids = list(ObjectChange.objects.order_by("-time", "-id").values_list("pk", flat=True))
    assert len(all_ids) > 10
    client = client_for(company.admin)
    first = client.get(LOG).content.decode()
    assert _ids(first) == all_ids[:5]
    next_cursor = found(r'rel="next" href="\?cursor=([^"]+)"', first)
    second = client.get(LOG + "?cursor=" + next_cursor).content.decode()
    assert _ids(second) == all_ids[5:10]
    prev_cursor = found(r'rel="prev" href="\?cursor=([^"]+)"', second)
    decoded = decode_cursor(prev_cursor)
    assert decoded is not None and decoded[0] == "p"
    assert _ids(client.get(LOG + "?cursor=" + prev_cursor).content.decode()) == all_ids[:5]
    oldest_first = client.get(LOG, {"sort": "time"}).content.decode()
    assert _ids(oldest_first) == list(reversed(all_ids))[:5]


def test_operation_log_htmx_filter_returns_only_the_results(company: Any) -> None:
    response = client_for(company.admin).get(
        LOG, {"action": "create"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="audit-log-results"
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="card" id="audit-log-results"')
    assert "<html" not in html


def test_operation_log_scope_own_shows_only_my_changes(company: Any) -> None:
    grant(company.role_rep, "audit.objectchange", "view", scope="own")
    with acting_as(company.rep1.pk, request_id="req-own-1"):
        services.object_change_record(obj=company.role_rep, action="reveal")
    with acting_as(company.rep2.pk, request_id="req-own-2"):
        services.object_change_record(obj=company.role_rep, action="reveal")
    html = client_for(company.rep1).get(LOG).content.decode()
    assert _ids(html) == [ObjectChange.objects.get(request_id="req-own-1").pk]


def test_operation_log_masks_values_for_a_viewer_with_field_permissions(company: Any) -> None:
    grant(company.role_rep, "audit.objectchange", "view", scope="all")
    FieldPermission.objects.create(role=company.role_rep, model="users.user", field="phone", mode="masked")
    rep2 = User.objects.get(pk=company.rep2.pk)
    rep2.phone = "13912345678"
    rep2.save()
    html = client_for(company.rep1).get(LOG, {"model": "users.user"}).content.decode()
    assert "139****5678" in html and "13912345678" not in html


def test_operation_log_export_button_only_with_export_permission(company: Any) -> None:
    assert "core:export_start" not in reverse("core:export_start")  # sanity: the URL exists
    admin_html = client_for(company.admin).get(LOG).content.decode()
    assert 'data-exporter="audit.objectchange"' in admin_html
    grant(company.role_all, "audit.objectchange", "view", scope="all")
    viewer_html = client_for(company.viewer_all).get(LOG).content.decode()
    assert 'data-exporter="audit.objectchange"' not in viewer_html


def _queries(client: Client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_operation_log_and_history_queries_do_not_grow_with_rows(company: Any) -> None:
    grant(company.role_all, "audit.objectchange", "view", scope="all")
    grant(company.role_all, "users.user", "view", scope="all")
    FieldPermission.objects.create(role=company.role_all, model="users.user", field="phone", mode="masked")
    client = client_for(company.viewer_all)
    rep2 = User.objects.get(pk=company.rep2.pk)
    rep2.title = "a"
    rep2.save()
    client.get(LOG)  # warm: configuration read once per process (kehu.core.confcache)
    client.get(history_url(rep2))
    log_before = _queries(client, LOG)
    history_before = _queries(client, history_url(rep2))
    for i in range(15):
        rep2.title = f"title-{i}"
        rep2.phone = f"1381234{i:04d}"
        rep2.save()
        services.object_change_record(obj=company.role_rep, action="reveal", changes={"revealed": ["name"]})
    assert _queries(client, LOG) == log_before
    assert _queries(client, history_url(rep2)) == history_before
