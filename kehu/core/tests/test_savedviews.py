"""Saved list views: personal and shared visibility, defaults, applying a view to the list, the
views menu and the API (the account list is the example list)."""

from __future__ import annotations

import pytest

from kehu.core import savedviews
from kehu.core.choices import Action, Scope
from kehu.core.errors import DomainError, PermissionDeniedError
from kehu.core.models import SavedView
from kehu.customers.tests.factories import AccountFactory
from kehu.users.tests.factories import grant

pytestmark = pytest.mark.django_db

TABLE = "customers.account"
LIST = "/customers/accounts/"
API = "/api/v1/core/saved-views/"


@pytest.fixture
def sales(company):
    for role, scope in ((company.role_rep, Scope.OWN), (company.role_manager, Scope.DEPARTMENT)):
        grant(role, "customers.account", Action.VIEW, Action.CHANGE, scope=scope)
    return company


def listed(response) -> set[int]:
    import re

    return {int(pk) for pk in re.findall(r'<tr data-pk="(\d+)"', response.content.decode())}


def test_personal_views_are_private_and_shared_views_visible_to_list_users(sales) -> None:
    mine = savedviews.savedview_create(by=sales.rep1, table=TABLE, name="VIP", query="level=vip")
    shared = savedviews.savedview_create(by=sales.admin, table=TABLE, name="Everyone", shared=True)
    assert set(savedviews.savedviews_visible(user=sales.rep1, table=TABLE)) == {mine, shared}
    assert set(savedviews.savedviews_visible(user=sales.rep2, table=TABLE)) == {shared}
    # Without the permission to see the list, not even shared views of it.
    assert list(savedviews.savedviews_visible(user=sales.nobody, table=TABLE)) == []
    assert list(savedviews.savedviews_visible(user=sales.nobody)) == []


def test_only_admins_or_granted_roles_share_views(sales) -> None:
    with pytest.raises(PermissionDeniedError):
        savedviews.savedview_create(by=sales.rep1, table=TABLE, name="x", shared=True)
    grant(sales.role_rep, "core.savedview", Action.ADD)
    rep1 = type(sales.rep1).objects.get(pk=sales.rep1.pk)
    view = savedviews.savedview_create(by=rep1, table=TABLE, name="x", shared=True)
    assert view.shared


def test_bad_input_is_a_domain_error(sales) -> None:
    with pytest.raises(DomainError) as exc:
        savedviews.savedview_create(by=sales.rep1, table=TABLE, name="  ")
    assert "name" in exc.value.fields
    with pytest.raises(DomainError):
        savedviews.savedview_create(by=sales.rep1, table="nope.nothing", name="x")
    with pytest.raises(DomainError) as exc:
        savedviews.savedview_create(by=sales.rep1, table=TABLE, name="x", per_page=9999)
    assert "per_page" in exc.value.fields


def test_query_is_cleaned_and_unknown_columns_dropped(sales) -> None:
    view = savedviews.savedview_create(
        by=sales.rep1,
        table=TABLE,
        name="x",
        query="level=vip&page=3&bogus=1&sort=-name&view=4&q=",
        columns=["name", "nope", "phone"],
    )
    assert view.query == "level=vip&sort=-name"
    assert view.columns == ["name", "phone"]


def test_someone_elses_view_cannot_be_changed(sales) -> None:
    view = savedviews.savedview_create(by=sales.rep1, table=TABLE, name="mine")
    with pytest.raises(PermissionDeniedError):
        savedviews.savedview_update(by=sales.rep2, view=view, name="stolen")
    with pytest.raises(PermissionDeniedError):
        savedviews.savedview_delete(by=sales.rep2, view=view)
    view.refresh_from_db()
    assert view.name == "mine"


def test_view_applies_filters_sort_and_columns(sales, client) -> None:
    vip = AccountFactory.create(owner=sales.rep1, name="甲 VIP", level="vip")
    AccountFactory.create(owner=sales.rep1, name="乙 normal", level="")
    view = savedviews.savedview_create(
        by=sales.rep1, table=TABLE, name="VIPs", query="q=VIP&sort=name", columns=["name", "owner"]
    )
    client.force_login(sales.rep1)
    response = client.get(f"{LIST}?view={view.pk}")
    assert response.status_code == 200
    assert listed(response) == {vip.pk}
    html = response.content.decode()
    assert 'data-columns="name,owner"' in html
    assert "VIPs" in html


def test_default_view_opens_the_bare_list_and_view_0_shows_all(sales, client) -> None:
    vip = AccountFactory.create(owner=sales.rep1, name="VIP one")
    other = AccountFactory.create(owner=sales.rep1, name="other")
    view = savedviews.savedview_create(by=sales.rep1, table=TABLE, name="V", query="q=VIP", make_default=True)
    client.force_login(sales.rep1)
    assert listed(client.get(LIST)) == {vip.pk}
    assert listed(client.get(f"{LIST}?view=0")) == {vip.pk, other.pk}
    # Another user's default is their own business.
    client.force_login(sales.rep2)
    assert client.get(LIST).status_code == 200
    savedviews.savedview_delete(by=sales.rep1, view=view)
    assert savedviews.default_view(user=sales.rep1, table=TABLE) is None


def test_filters_of_a_view_survive_field_changes(sales, client) -> None:
    """A parameter the list no longer knows, or a value it now refuses, is dropped, not a 500 or
    an empty list."""
    a = AccountFactory.create(owner=sales.rep1, name="Alpha")
    view = SavedView.objects.create(
        table=TABLE,
        owner=sales.rep1,
        name="old",
        query="q=Alpha&custom__gone=1&kind=nonsense&created_after=xx",
    )
    client.force_login(sales.rep1)
    response = client.get(f"{LIST}?view={view.pk}")
    assert response.status_code == 200
    assert listed(response) == {a.pk}


def test_another_users_personal_view_is_ignored_on_the_list(sales, client) -> None:
    AccountFactory.create(owner=sales.rep2, name="x")
    view = savedviews.savedview_create(by=sales.rep1, table=TABLE, name="secret", query="q=zzz")
    client.force_login(sales.rep2)
    response = client.get(f"{LIST}?view={view.pk}")
    assert response.status_code == 200
    assert "secret" not in response.content.decode()
    assert len(listed(response)) == 1


def test_save_view_dialog_and_post(sales, client) -> None:
    client.force_login(sales.rep1)
    url = f"/lists/{TABLE}/views/add/"
    response = client.get(url, {"query": "q=abc", "columns": "name,phone"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'name="query" value="q=abc"' in response.content.decode()
    response = client.post(
        url,
        {
            "name": "Mine",
            "query": "q=abc&page=2",
            "columns": "name,phone",
            "per_page": "50",
            "make_default": "on",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204
    view = SavedView.objects.get(owner=sales.rep1)
    assert (view.name, view.query, view.columns, view.per_page, view.shared) == (
        "Mine",
        "q=abc",
        ["name", "phone"],
        50,
        False,
    )
    assert savedviews.default_view(user=sales.rep1, table=TABLE) == view
    # A rep cannot share (the checkbox is disabled and a posted value is ignored).
    client.post(url, {"name": "Shared?", "shared": "on"}, HTTP_HX_REQUEST="true")
    assert not SavedView.objects.get(name="Shared?").shared
    # Empty name: the dialog again with the error.
    response = client.post(url, {"name": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "invalid-feedback" in response.content.decode()


def test_edit_delete_and_default_views(sales, client) -> None:
    view = savedviews.savedview_create(by=sales.rep1, table=TABLE, name="Old", query="q=a")
    client.force_login(sales.rep2)
    assert client.get(f"/lists/views/{view.pk}/edit/").status_code == 404
    assert client.post(f"/lists/views/{view.pk}/delete/").status_code == 404
    assert client.post(f"/lists/views/{view.pk}/default/").status_code == 404
    client.force_login(sales.rep1)
    response = client.post(
        f"/lists/views/{view.pk}/edit/",
        {"name": "New", "replace": "on", "query": "q=b", "columns": "name"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204
    view.refresh_from_db()
    assert (view.name, view.query, view.columns) == ("New", "q=b", ["name"])
    assert client.post(f"/lists/views/{view.pk}/default/", HTTP_HX_REQUEST="true").status_code == 204
    assert savedviews.default_view_id(user=sales.rep1, table=TABLE) == view.pk
    client.post(f"/lists/views/{view.pk}/default/", {"clear": "1"}, HTTP_HX_REQUEST="true")
    assert savedviews.default_view_id(user=sales.rep1, table=TABLE) is None
    assert client.post(f"/lists/views/{view.pk}/delete/", HTTP_HX_REQUEST="true").status_code == 204
    assert not SavedView.objects.exists()


def test_views_menu_on_the_list(sales, client) -> None:
    savedviews.savedview_create(by=sales.rep1, table=TABLE, name="Mine A")
    savedviews.savedview_create(by=sales.admin, table=TABLE, name="Team B", shared=True)
    client.force_login(sales.rep1)
    html = client.get(LIST).content.decode()
    assert 'id="kehu-views-menu"' in html
    assert "Mine A" in html and "Team B" in html
    assert 'data-action="save-view"' in html


# --- API ------------------------------------------------------------------------------------


def test_api_crud_and_visibility(sales, client) -> None:
    client.force_login(sales.rep1)
    response = client.post(
        API,
        {"table": TABLE, "name": "API view", "query": "q=x&page=2", "columns": ["name"], "is_default": True},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["query"], body["is_default"], body["mine"], body["shared"]) == ("q=x", True, True, False)
    pk = body["id"]
    shared = savedviews.savedview_create(by=sales.admin, table=TABLE, name="Shared", shared=True)
    listed_ids = {v["id"] for v in _items(client.get(API).json())}
    assert listed_ids == {pk, shared.pk}
    assert {v["id"] for v in _items(client.get(API, {"table": "other.table"}).json())} == set()
    response = client.patch(f"{API}{pk}/", {"name": "Renamed"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["name"] == "Renamed"
    # A shared view of someone else: visible, not changeable.
    assert client.get(f"{API}{shared.pk}/").status_code == 200
    assert (
        client.patch(f"{API}{shared.pk}/", {"name": "x"}, content_type="application/json").status_code == 403
    )
    assert client.delete(f"{API}{shared.pk}/").status_code == 403
    # Another user's personal view: 404.
    client.force_login(sales.rep2)
    assert client.get(f"{API}{pk}/").status_code == 404
    assert client.patch(f"{API}{pk}/", {"name": "x"}, content_type="application/json").status_code == 404
    assert client.delete(f"{API}{pk}/").status_code == 404
    client.force_login(sales.rep1)
    assert client.delete(f"{API}{pk}/").status_code == 204


def _items(body):
    return body["results"] if isinstance(body, dict) else body


def test_api_bad_input_and_anonymous(sales, client) -> None:
    assert client.get(API).status_code in (401, 403)
    client.force_login(sales.rep1)
    response = client.post(API, {"table": "nope", "name": "x"}, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"]
    response = client.post(
        API, {"table": TABLE, "name": "x", "shared": True}, content_type="application/json"
    )
    assert response.status_code == 400
    response = client.post(API, {"table": TABLE, "name": "x", "per_page": 0}, content_type="application/json")
    assert response.status_code == 400


def test_column_chooser_stores_into_the_open_view(sales, client) -> None:
    view = savedviews.savedview_create(by=sales.rep1, table=TABLE, name="V", columns=["name"])
    shared = savedviews.savedview_create(by=sales.admin, table=TABLE, name="S", shared=True)
    client.force_login(sales.rep1)
    data = {"table": TABLE, "columns": ["name", "phone"], "per_page": "50"}
    client.post("/tables/config/", {**data, "view": view.pk}, HTTP_HX_REQUEST="true")
    view.refresh_from_db()
    assert (view.columns, view.per_page) == (["name", "phone"], 50)
    # Someone else's shared view is not changed: the choice is the user's own preference.
    client.post("/tables/config/", {**data, "view": shared.pk}, HTTP_HX_REQUEST="true")
    shared.refresh_from_db()
    assert shared.columns == []
    from kehu.core.models import UserPreference

    assert UserPreference.objects.get(user=sales.rep1, key=f"table:{TABLE}").value["columns"] == [
        "name",
        "phone",
    ]


def test_quick_search_falls_back_to_search_fields(sales, rf) -> None:
    from kehu.core.generic import ObjectListView
    from kehu.customers.models import Account
    from kehu.customers.tables import AccountTable

    class PlainList(ObjectListView):
        model = Account
        table_class = AccountTable
        search_fields = ("name", "short_name")

    hit = AccountFactory.create(owner=sales.rep1, name="Findme Ltd")
    AccountFactory.create(owner=sales.rep1, name="Other")
    request = rf.get(LIST, {"q": "findme"})
    request.user = sales.rep1
    view = PlainList()
    view.setup(request)
    assert view.quick_search
    queryset, _filterset = view.filter_queryset(view.get_queryset())
    assert list(queryset.values_list("pk", flat=True)) == [hit.pk]
    assert not type(
        "NoSearch", (ObjectListView,), {"model": Account, "table_class": AccountTable}
    )().quick_search


def test_column_chooser_shows_the_pages_columns_page_size_and_view(sales, client) -> None:
    import re

    view = savedviews.savedview_create(
        by=sales.rep1, table=TABLE, name="我的<视图>", columns=["name", "phone"], per_page=50
    )
    client.force_login(sales.rep1)

    def chooser(url: str) -> str:
        body = client.get(url).content.decode()
        start = body.index('id="kehu-column-chooser"')
        return body[start : body.index("</form>", start)]

    plain = chooser(f"{LIST}?view=0&per_page=100")
    assert f'name="table" value="{TABLE}"' in plain
    assert re.search(r'name="csrfmiddlewaretoken" value="\w+"', plain)
    assert '<option value="100" selected>100</option>' in plain and '<option value="25">25</option>' in plain
    assert 'name="view"' not in plain and "ti-bookmark" not in plain
    assert 'name="next" value="/customers/accounts/?view=0&amp;per_page=100"' in plain
    assert 'value="phone" checked' in plain
    opened = chooser(f"{LIST}?view={view.pk}")
    assert f'<input type="hidden" name="view" value="{view.pk}">' in opened
    assert "我的&lt;视图&gt;" in opened and "<视图>" not in opened
    assert '<option value="50" selected>50</option>' in opened
    assert 'value="phone" checked' in opened and 'value="industry" checked' not in opened


def test_column_chooser_shows_a_renamed_custom_field(sales, client) -> None:
    from kehu.customfields import services as cf_services

    field = cf_services.custom_field_create(
        model=TABLE,
        name="region_code",
        data={"label": "区域代码", "label_en": "Region code", "type": "text"},
        by=sales.admin,
    )
    client.force_login(sales.rep1)
    assert 'value="custom.region_code"' in client.get(LIST).content.decode()
    assert "Region code" in client.get(LIST).content.decode()
    cf_services.custom_field_update(field=field, data={"label_en": "Sales region code"}, by=sales.admin)
    body = client.get(LIST).content.decode()
    assert "Sales region code" in body and ">Region code<" not in body
