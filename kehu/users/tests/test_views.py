"""The users screens: profile and tokens, and the administration of users, departments and roles,
each against anonymous / no permission / view only / administrator."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kehu.users.models import ApiToken, Department, Role, RolePermission, User
from kehu.users.tests.factories import DepartmentFactory, grant

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def _as(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


# --- permission matrix of the admin screens -------------------------------------------------------

SCREENS = [
    ("users:user_list", "users.user"),
    ("users:department_list", "users.department"),
    ("users:role_list", "users.role"),
]


@pytest.mark.parametrize(("url_name", "model"), SCREENS)
def test_admin_lists_by_permission(client: Client, company: Any, url_name: str, model: str) -> None:
    url = reverse(url_name)
    # anonymous: sent to sign in
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    # no permission
    assert _as(client, company.nobody).get(url).status_code == 403
    # view only: the list, without "new" buttons
    grant(company.role_rep, model, "view", scope="all")
    page = _as(client, company.rep1).get(url)
    assert page.status_code == 200
    assert 'create-button"' not in page.content.decode()
    # administrator: the list with the "new" button
    page = _as(client, company.admin).get(url)
    assert page.status_code == 200
    assert 'create-button"' in page.content.decode()


def test_sidebar_shows_the_admin_items_by_permission(client: Client, company: Any) -> None:
    page = _as(client, company.rep1).get("/").content.decode()
    assert 'data-menu="users:user_list"' not in page
    grant(company.role_rep, "users.user", "view", scope="own")
    page = _as(client, User.objects.get(pk=company.rep1.pk)).get("/").content.decode()
    assert 'data-menu="users:user_list"' in page
    assert 'data-menu="users:role_list"' not in page
    page = _as(client, company.admin).get("/").content.decode()
    for name in ("users:user_list", "users:department_list", "users:role_list"):
        assert f'data-menu="{name}"' in page


def test_view_only_cannot_open_write_screens(client: Client, company: Any) -> None:
    grant(company.role_rep, "users.user", "view", scope="all")
    grant(company.role_rep, "users.department", "view", scope="all")
    grant(company.role_rep, "users.role", "view", scope="all")
    _as(client, company.rep1)
    rep2 = company.rep2
    assert client.get(reverse("users:user_create")).status_code == 403
    assert client.get(reverse("users:user_edit", args=[rep2.pk])).status_code == 404
    assert client.post(reverse("users:user_deactivate", args=[rep2.pk])).status_code == 404
    assert client.get(reverse("users:department_create")).status_code == 403
    assert client.post(reverse("users:department_delete", args=[company.east.pk])).status_code == 404
    assert client.get(reverse("users:role_create")).status_code == 403
    assert client.post(reverse("users:role_detail", args=[company.role_all.pk]), {}).status_code == 403
    assert User.objects.get(pk=rep2.pk).is_active
    assert Department.objects.filter(pk=company.east.pk).exists()


def test_user_list_is_restricted_to_the_scope(client: Client, company: Any) -> None:
    grant(company.role_manager, "users.user", "view", scope="department")
    page = _as(client, company.manager1).get(reverse("users:user_list")).content.decode()
    for name in ("rep1", "rep2", "manager1", "nobody"):
        assert f'data-user="{name}"' in page
    for name in ("rep3", "director", "admin"):
        assert f'data-user="{name}"' not in page
    # Out of scope: 404, not 403.
    assert client.get(reverse("users:user_detail", args=[company.rep3.pk])).status_code == 404


def test_user_list_filters_and_pagination(client: Client, company: Any) -> None:
    _as(client, company.admin)
    page = client.get(reverse("users:user_list"), {"department": company.sales.pk}).content.decode()
    assert 'data-user="director"' in page and 'data-user="rep3"' in page  # sales and below
    assert 'data-user="viewer"' not in page
    page = client.get(reverse("users:user_list"), {"role": company.role_rep.pk}).content.decode()
    assert page.count("data-user=") == 3
    page = client.get(reverse("users:user_list"), {"q": "manag"}).content.decode()
    assert page.count("data-user=") == 1
    company.rep1.is_active = False
    company.rep1.save(update_fields=["is_active"])
    assert 'data-user="rep1"' not in client.get(reverse("users:user_list")).content.decode()
    assert (
        'data-user="rep1"' in client.get(reverse("users:user_list"), {"status": "inactive"}).content.decode()
    )
    User.objects.bulk_create([User(username=f"bulk{i:02d}") for i in range(30)])
    first = client.get(reverse("users:user_list"))
    assert first.context["page"].paginator.num_pages == 2
    assert (
        client.get(reverse("users:user_list"), {"page": 2}).content.decode().count("data-user=")
        == 38 - 25 - 1
    )


# --- user screens ---------------------------------------------------------------------------------


def test_admin_creates_a_user_in_the_modal(client: Client, company: Any) -> None:
    _as(client, company.admin)
    form = client.get(reverse("users:user_create"), headers=HX)
    assert form.status_code == 200
    assert 'hx-post="/settings/users/new/"' in form.content.decode()
    response = client.post(
        reverse("users:user_create"),
        {
            "username": "liuyang",
            "display_name": "刘洋",
            "email": "liuyang@example.com",
            "department": company.east.pk,
            "roles": [company.role_rep.pk],
            "language": "zh-hans",
            "password1": "Kehu-Pass-2026",
            "password2": "Kehu-Pass-2026",
        },
        headers=HX,
    )
    assert response.status_code == 204
    user = User.objects.get(username="liuyang")
    assert response["HX-Redirect"] == user.get_absolute_url()
    assert user.department == company.east
    assert list(user.roles.all()) == [company.role_rep]
    assert user.check_password("Kehu-Pass-2026")


def test_user_create_shows_service_errors_on_the_form(client: Client, company: Any) -> None:
    _as(client, company.admin)
    response = client.post(
        reverse("users:user_create"), {"username": "rep1", "password1": "x", "password2": "y"}, headers=HX
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "The two passwords do not match." in page
    response = client.post(reverse("users:user_create"), {"username": "REP1"}, headers=HX)
    assert "A user with this username already exists." in response.content.decode()
    assert User.objects.filter(username__iexact="rep1").count() == 1


def test_edit_user_with_stale_version(client: Client, company: Any) -> None:
    _as(client, company.admin)
    url = reverse("users:user_edit", args=[company.rep1.pk])
    data = {"username": "rep1", "display_name": "李明", "department": company.north.pk, "version": 1}
    assert client.post(url, data).status_code == 302
    assert User.objects.get(pk=company.rep1.pk).display_name == "李明"
    response = client.post(url, {**data, "display_name": "旧的"})
    assert response.status_code == 400
    assert "Someone else changed this user" in response.content.decode()
    assert User.objects.get(pk=company.rep1.pk).display_name == "李明"


def test_deactivate_and_password_reset(client: Client, company: Any) -> None:
    _as(client, company.admin)
    response = client.post(reverse("users:user_deactivate", args=[company.rep2.pk]), headers=HX)
    assert response.status_code == 204
    assert not User.objects.get(pk=company.rep2.pk).is_active
    response = client.post(
        reverse("users:user_password", args=[company.rep2.pk]),
        {"password1": "Reset-Pass-2026", "password2": "Reset-Pass-2026"},
    )
    assert response.status_code == 302
    assert User.objects.get(pk=company.rep2.pk).check_password("Reset-Pass-2026")
    # Deactivating oneself is refused with a toast.
    response = client.post(reverse("users:user_deactivate", args=[company.admin.pk]), headers=HX)
    assert response.status_code == 204
    assert "You cannot deactivate your own account." in response["HX-Trigger"]
    assert User.objects.get(pk=company.admin.pk).is_active


def test_manager_cannot_touch_an_administrator(client: Client, company: Any) -> None:
    grant(company.role_manager, "users.user", "view", "change", scope="all")
    _as(client, company.manager1)
    response = client.post(
        reverse("users:user_password", args=[company.admin.pk]),
        {"password1": "Taken-Over-2026", "password2": "Taken-Over-2026"},
    )
    assert response.status_code == 400
    assert "Only a system administrator" in response.content.decode()
    assert User.objects.get(pk=company.admin.pk).check_password("demo1234")


# --- departments ----------------------------------------------------------------------------------


def test_department_tree_page(client: Client, company: Any) -> None:
    page = _as(client, company.admin).get(reverse("users:department_list"))
    html = page.content.decode()
    order = [html.index(f'data-department="{name}"') for name in ("总部", "销售部", "华北区", "华东区")]
    assert order == sorted(order)
    rows = {d.name: d for d in page.context["departments"]}
    assert rows["华北区"].member_count == 4
    assert rows["销售部"].depth == 1


def test_department_create_move_rename_delete(client: Client, company: Any) -> None:
    _as(client, company.admin)
    response = client.post(
        reverse("users:department_create"), {"name": "客服部", "parent": company.hq.pk}, headers=HX
    )
    assert response.status_code == 204
    service = Department.objects.get(name="客服部")
    assert service.parent == company.hq
    response = client.post(reverse("users:department_move", args=[company.east.pk]), {"parent": service.pk})
    assert response.status_code == 302
    assert Department.objects.get(pk=company.east.pk).parent == service
    response = client.post(reverse("users:department_edit", args=[service.pk]), {"name": "客户服务部"})
    assert response.status_code == 302
    assert Department.objects.get(pk=service.pk).name == "客户服务部"
    # Refused with a clear error: it has a sub-department.
    response = client.post(reverse("users:department_delete", args=[service.pk]), headers=HX)
    assert response.status_code == 200
    assert "This department has sub-departments." in response.content.decode()
    empty: Any = DepartmentFactory(name="临时", parent=company.hq)
    response = client.post(reverse("users:department_delete", args=[empty.pk]), headers=HX)
    assert response.status_code == 204
    assert not Department.objects.filter(pk=empty.pk).exists()


def test_department_move_form_offers_no_cycle(client: Client, company: Any) -> None:
    page = _as(client, company.admin).get(reverse("users:department_move", args=[company.sales.pk]))
    choices = [str(label) for _value, label in page.context["form"].fields["parent"].choices]
    assert not any("华北区" in label for label in choices)
    assert any("总部" in label for label in choices)


# --- roles and the permission matrix --------------------------------------------------------------


def test_role_matrix_shows_registered_models_and_saves(client: Client, company: Any) -> None:
    _as(client, company.admin)
    url = reverse("users:role_detail", args=[company.role_rep.pk])
    page = client.get(url).content.decode()
    assert 'data-model="users.user"' in page
    assert 'name="perm:users.user:view"' in page
    assert 'name="field:users.user:phone"' in page
    response = client.post(
        url,
        {
            "perm:users.user:view": "department",
            "perm:users.department:view": "all",
            "field:users.user:phone": "masked",
            "require_mfa": "on",
        },
    )
    assert response.status_code == 302
    role = Role.objects.get(pk=company.role_rep.pk)
    assert role.require_mfa is True
    assert set(role.permissions.values_list("model", "action", "scope")) == {
        ("users.user", "view", "department"),
        ("users.department", "view", "all"),
    }
    assert list(role.field_permissions.values_list("field", "mode")) == [("phone", "masked")]
    page = client.get(url).content.decode()
    assert '<option value="department" selected>' in page


def test_role_matrix_refuses_unknown_scopes(client: Client, company: Any) -> None:
    _as(client, company.admin)
    url = reverse("users:role_detail", args=[company.role_rep.pk])
    response = client.post(url, {"perm:users.user:view": "galaxy"})
    assert response.status_code == 400
    assert not RolePermission.objects.filter(role=company.role_rep).exists()


def test_role_matrix_view_only(client: Client, company: Any) -> None:
    grant(company.role_rep, "users.role", "view", scope="all")
    _as(client, company.rep1)
    page = client.get(reverse("users:role_detail", args=[company.role_all.pk]))
    assert page.status_code == 200
    assert "<fieldset disabled>" in page.content.decode()
    assert 'id="role-access-save"' not in page.content.decode()


def test_non_admin_role_manager_cannot_make_admins(client: Client, company: Any) -> None:
    grant(company.role_manager, "users.role", "view", "change", scope="all")
    _as(client, company.manager1)
    url = reverse("users:role_detail", args=[company.role_rep.pk])
    assert client.post(url, {"is_admin": "on"}).status_code == 302
    assert Role.objects.get(pk=company.role_rep.pk).is_admin is False
    admin_role = Role.objects.get(is_admin=True)
    assert client.post(reverse("users:role_detail", args=[admin_role.pk]), {}).status_code == 403


def test_role_create_and_delete(client: Client, company: Any) -> None:
    _as(client, company.admin)
    response = client.post(reverse("users:role_create"), {"name": "客服", "code": "agent"}, headers=HX)
    assert response.status_code == 204
    role = Role.objects.get(code="agent")
    assert response["HX-Redirect"] == role.get_absolute_url()
    response = client.post(reverse("users:role_delete", args=[company.role_rep.pk]), headers=HX)
    assert "This role is assigned to 3 users." in response.content.decode()
    assert client.post(reverse("users:role_delete", args=[role.pk]), headers=HX).status_code == 204
    assert not Role.objects.filter(pk=role.pk).exists()


# --- profile and personal tokens ------------------------------------------------------------------


def test_profile_saves_settings(client: Client, company: Any) -> None:
    _as(client, company.rep1)
    assert client.get(reverse("users:profile")).status_code == 200
    response = client.post(
        reverse("users:profile"),
        {
            "display_name": "小李",
            "phone": "13900000000",
            "language": "en",
            "time_zone": "Asia/Tokyo",
            "version": 1,
        },
    )
    assert response.status_code == 302
    rep = User.objects.get(pk=company.rep1.pk)
    assert (rep.display_name, rep.phone, rep.language, rep.time_zone) == (
        "小李",
        "13900000000",
        "en",
        "Asia/Tokyo",
    )


def test_profile_token_lifecycle(client: Client, company: Any) -> None:
    _as(client, company.rep1)
    response = client.post(reverse("users:token_create"), {"name": "Reporting"}, headers=HX)
    assert response.status_code == 200
    html = response.content.decode()
    token = ApiToken.objects.get(user=company.rep1)
    key = response.context["new_key"]
    assert key.startswith(token.prefix)
    assert f'value="{key}"' in html and 'id="new-token"' in html
    # The key is never shown again.
    profile = client.get(reverse("users:profile")).content.decode()
    assert key not in profile
    assert token.prefix in profile
    response = client.post(reverse("users:token_revoke", args=[token.pk]), headers=HX)
    assert response.status_code == 200
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert "Revoked" in response.content.decode()


def test_token_form_errors_and_other_users_tokens(client: Client, company: Any) -> None:
    _as(client, company.rep1)
    response = client.post(
        reverse("users:token_create"), {"name": "", "expires_on": "2000-01-01"}, headers=HX
    )
    assert "Choose today or a later day." in response.content.decode()
    assert not ApiToken.objects.exists()
    from kehu.users import services

    other, _key = services.api_token_create(user=company.rep2, name="rep2's")
    assert client.post(reverse("users:token_revoke", args=[other.pk])).status_code == 404
    assert ApiToken.objects.get(pk=other.pk).revoked_at is None


@pytest.mark.parametrize(
    "url",
    ["/accounts/password/change/", "/accounts/2fa/", "/accounts/logout/", "/me/", "/settings/roles/new/"],
)
def test_signed_in_pages_use_the_kehu_shell(client: Client, company: Any, url: str) -> None:
    page = _as(client, company.admin).get(url)
    assert page.status_code == 200
    assert 'id="kehu-sidebar"' in page.content.decode()


@pytest.mark.parametrize("url", ["/accounts/login/", "/accounts/password/reset/"])
def test_entrance_pages_use_the_centered_card(client: Client, url: str) -> None:
    page = client.get(url).content.decode()
    assert "page-center" in page and 'class="card card-md"' in page
    assert 'id="kehu-sidebar"' not in page


def test_admin_unlocks_a_locked_out_user(client: Client, company: Any) -> None:
    from django.conf import settings

    from kehu.users.lockout import lockout_message

    anonymous = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        anonymous.post("/accounts/login/", {"login": "rep2", "password": "wrong"})
    assert (
        lockout_message()
        in anonymous.post("/accounts/login/", {"login": "rep2", "password": "demo1234"}).content.decode()
    )
    _as(client, company.admin)
    page = client.get(reverse("users:user_detail", args=[company.rep2.pk])).content.decode()
    assert 'id="user-locked"' in page and 'id="user-unlock"' in page
    assert client.post(reverse("users:user_unlock", args=[company.rep2.pk])).status_code == 302
    assert (
        'id="user-locked"'
        not in client.get(reverse("users:user_detail", args=[company.rep2.pk])).content.decode()
    )
    assert anonymous.post("/accounts/login/", {"login": "rep2", "password": "demo1234"}).status_code == 302
