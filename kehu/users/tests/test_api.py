from __future__ import annotations

from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from rest_framework.test import APIClient

from kehu.users import services
from kehu.users.models import ApiToken, Department, Role, User
from kehu.users.tests.factories import grant

pytestmark = pytest.mark.django_db

ERROR_KEYS = {"code", "message", "fields"}


def _client(user: Any = None) -> APIClient:
    client = APIClient()
    if user is not None:
        _token, key = services.api_token_create(user=user, name="test")
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


# --- token login ----------------------------------------------------------------------------------


def test_token_login_returns_a_key_once(company: Any) -> None:
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "rep1", "password": "demo1234"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id",
        "name",
        "prefix",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "is_active",
        "key",
    }
    assert body["name"].startswith("API login ")
    token = ApiToken.objects.get(pk=body["id"])
    assert token.user == company.rep1
    assert body["key"].startswith(token.prefix)
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Token {body['key']}")
    assert me.get("/api/v1/users/me/").json()["username"] == "rep1"
    listed = me.get("/api/v1/users/tokens/").json()["results"]
    assert all("key" not in row for row in listed)


def test_token_login_by_email(company: Any) -> None:
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "rep2@example.com", "password": "demo1234"}, format="json"
    )
    assert response.status_code == 201
    assert ApiToken.objects.get(pk=response.json()["id"]).user == company.rep2


def test_token_login_errors(company: Any) -> None:
    client = APIClient()
    response = client.post("/api/v1/auth/token/", {"username": "rep1", "password": "wrong"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_credentials",
        "message": "The username and/or password you specified are not correct.",
        "fields": {},
    }
    response = client.post("/api/v1/auth/token/", {"username": "rep1"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == ERROR_KEYS
    assert response.json()["fields"] == {"password": ["This field is required."]}
    assert not ApiToken.objects.exists()


def test_token_login_refused_with_mfa(company: Any) -> None:
    TOTP.activate(company.rep1, generate_totp_secret())
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "rep1", "password": "demo1234"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "mfa_required"
    assert "personal API token" in response.json()["message"]
    assert not ApiToken.objects.exists()


# --- me and tokens --------------------------------------------------------------------------------


def test_me(company: Any) -> None:
    client = _client(company.rep1)
    body = client.get("/api/v1/users/me/").json()
    assert body["username"] == "rep1"
    assert body["department"] == {"id": company.north.pk, "name": "华北区"}
    assert body["roles"] == [{"id": company.role_rep.pk, "code": "rep", "name": "Rep"}]
    assert body["is_admin"] is False
    response = client.patch("/api/v1/users/me/", {"language": "zh-hans", "display_name": "李"}, format="json")
    assert response.status_code == 200
    assert response.json()["language"] == "zh-hans"
    rep = User.objects.get(pk=company.rep1.pk)
    assert (rep.language, rep.display_name) == ("zh-hans", "李")
    # Fields the user may not change themselves are read-only.
    client.patch("/api/v1/users/me/", {"email": "x@example.com", "username": "boss"}, format="json")
    rep = User.objects.get(pk=company.rep1.pk)
    assert (rep.username, rep.email) == ("rep1", "rep1@example.com")
    assert APIClient().get("/api/v1/users/me/").status_code == 401


def test_me_stale_version(company: Any) -> None:
    client = _client(company.rep1)
    assert client.patch("/api/v1/users/me/", {"phone": "1", "version": 1}, format="json").status_code == 200
    response = client.patch("/api/v1/users/me/", {"phone": "2", "version": 1}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "stale_object"


def test_own_tokens(company: Any) -> None:
    client = _client(company.rep1)
    response = client.post(
        "/api/v1/users/tokens/", {"name": "CI", "expires_at": "2999-01-01T00:00:00Z"}, format="json"
    )
    assert response.status_code == 201
    created = response.json()
    assert created["key"].startswith(created["prefix"])
    ids = [row["id"] for row in client.get("/api/v1/users/tokens/").json()["results"]]
    assert created["id"] in ids and len(ids) == 2
    revoked = client.post(f"/api/v1/users/tokens/{created['id']}/revoke/").json()
    assert revoked["is_active"] is False and revoked["revoked_at"]
    # Another user's token is not found.
    other, _key = services.api_token_create(user=company.rep2, name="theirs")
    assert client.get(f"/api/v1/users/tokens/{other.pk}/").status_code == 404
    assert client.post(f"/api/v1/users/tokens/{other.pk}/revoke/").status_code == 404
    assert ApiToken.objects.get(pk=other.pk).revoked_at is None
    response = client.post(
        "/api/v1/users/tokens/", {"name": "old", "expires_at": "2000-01-01T00:00:00Z"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_expiry"


def test_token_use_is_recorded(company: Any) -> None:
    token, key = services.api_token_create(user=company.rep1, name="x")
    assert token.last_used_at is None
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/users/me/").status_code == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


def test_revoked_token_is_refused(company: Any) -> None:
    token, key = services.api_token_create(user=company.rep1, name="x")
    services.api_token_revoke(token=token, by=company.rep1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get("/api/v1/users/me/")
    assert response.status_code == 401
    assert set(response.json()) == ERROR_KEYS


# --- administration: users ------------------------------------------------------------------------


def test_users_endpoint_permissions(company: Any) -> None:
    assert APIClient().get("/api/v1/users/").status_code == 401
    response = _client(company.nobody).get("/api/v1/users/")
    assert response.status_code == 403
    assert set(response.json()) == ERROR_KEYS
    grant(company.role_manager, "users.user", "view", scope="department")
    names = {u["username"] for u in _client(company.manager1).get("/api/v1/users/").json()["results"]}
    assert names == {"rep1", "rep2", "manager1", "nobody"}
    assert _client(company.manager1).get(f"/api/v1/users/{company.rep3.pk}/").status_code == 404
    response = _client(company.manager1).post("/api/v1/users/", {"username": "x"}, format="json")
    assert response.status_code == 403
    assert not User.objects.filter(username="x").exists()
    assert len(_client(company.admin).get("/api/v1/users/").json()["results"]) == 8


def test_users_filters(company: Any) -> None:
    client = _client(company.admin)
    names = {
        u["username"] for u in client.get(f"/api/v1/users/?department={company.sales.pk}").json()["results"]
    }
    assert names == {"director", "rep1", "rep2", "rep3", "manager1", "nobody"}
    names = {u["username"] for u in client.get("/api/v1/users/?q=rep").json()["results"]}
    assert names == {"rep1", "rep2", "rep3"}


def test_user_create_update_deactivate(company: Any) -> None:
    client = _client(company.admin)
    response = client.post(
        "/api/v1/users/",
        {
            "username": "wangfang",
            "email": "WangFang@example.com",
            "display_name": "王芳",
            "department_id": company.east.pk,
            "role_ids": [company.role_rep.pk],
            "password": "Kehu-Pass-2026",
            "language": "zh-hans",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["email"] == "wangfang@example.com"
    assert body["department"]["name"] == "华东区"
    assert "password" not in body
    user = User.objects.get(username="wangfang")
    assert user.check_password("Kehu-Pass-2026")
    response = client.patch(f"/api/v1/users/{user.pk}/", {"title": "Rep", "version": 1}, format="json")
    assert response.status_code == 200
    assert response.json()["version"] == 2
    response = client.patch(f"/api/v1/users/{user.pk}/", {"title": "Stale", "version": 1}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "stale_object"
    response = client.post(
        f"/api/v1/users/{user.pk}/set-password/", {"password": "Other-Pass-2026"}, format="json"
    )
    assert response.status_code == 204
    assert User.objects.get(pk=user.pk).check_password("Other-Pass-2026")
    response = client.post(f"/api/v1/users/{user.pk}/deactivate/")
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert client.delete(f"/api/v1/users/{user.pk}/").status_code == 405
    assert User.objects.filter(pk=user.pk).exists()


def test_user_create_conflicts(company: Any) -> None:
    response = _client(company.admin).post("/api/v1/users/", {"username": "rep1"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "username_taken"
    assert response.json()["fields"] == {"username": ["A user with this username already exists."]}


def test_user_view_only_cannot_deactivate(company: Any) -> None:
    grant(company.role_manager, "users.user", "view", scope="all")
    response = _client(company.manager1).post(f"/api/v1/users/{company.rep1.pk}/deactivate/")
    assert response.status_code == 404
    assert User.objects.get(pk=company.rep1.pk).is_active


# --- administration: departments and roles --------------------------------------------------------


def test_departments_crud(company: Any) -> None:
    client = _client(company.admin)
    rows = client.get("/api/v1/departments/").json()["results"]
    assert [r["name"] for r in rows] == ["总部", "销售部", "华北区", "华东区"]
    assert rows[2]["member_count"] == 4
    response = client.post(
        "/api/v1/departments/", {"name": "市场部", "parent_id": company.hq.pk}, format="json"
    )
    assert response.status_code == 201
    new_id = response.json()["id"]
    response = client.patch(
        f"/api/v1/departments/{company.east.pk}/", {"parent_id": company.hq.pk}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["parent"]["id"] == company.hq.pk
    assert response.json()["depth"] == 1
    response = client.patch(
        f"/api/v1/departments/{company.hq.pk}/", {"parent_id": company.north.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "department_cycle"
    response = client.delete(f"/api/v1/departments/{company.north.pk}/")
    assert response.status_code == 409
    assert response.json()["code"] == "department_has_members"
    assert client.delete(f"/api/v1/departments/{new_id}/").status_code == 204
    assert not Department.objects.filter(pk=new_id).exists()
    assert _client(company.nobody).get("/api/v1/departments/").status_code == 403


def test_roles_crud_with_nested_permissions(company: Any) -> None:
    client = _client(company.admin)
    response = client.post(
        "/api/v1/roles/",
        {
            "name": "Agent",
            "code": "agent",
            "permissions": [{"model": "users.user", "action": "view", "scope": "department"}],
            "field_permissions": [{"model": "users.user", "field": "phone", "mode": "masked"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["permissions"] == [{"model": "users.user", "action": "view", "scope": "department"}]
    assert body["field_permissions"] == [{"model": "users.user", "field": "phone", "mode": "masked"}]
    role_id = body["id"]
    response = client.patch(
        f"/api/v1/roles/{role_id}/",
        {"permissions": [{"model": "users.role", "action": "view", "scope": "all"}]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["permissions"] == [{"model": "users.role", "action": "view", "scope": "all"}]
    assert response.json()["field_permissions"] == [
        {"model": "users.user", "field": "phone", "mode": "masked"}
    ]
    response = client.patch(
        f"/api/v1/roles/{role_id}/",
        {"permissions": [{"model": "users.role", "action": "fly", "scope": "all"}]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_permissions"
    response = client.delete(f"/api/v1/roles/{company.role_rep.pk}/")
    assert response.status_code == 409
    assert response.json()["code"] == "role_in_use"
    assert client.delete(f"/api/v1/roles/{role_id}/").status_code == 204
    assert not Role.objects.filter(pk=role_id).exists()


def test_role_escalation_refused(company: Any) -> None:
    grant(company.role_manager, "users.role", "view", "add", "change", scope="all")
    client = _client(company.manager1)
    response = client.post(
        "/api/v1/roles/", {"name": "Root", "code": "root", "is_admin": True}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "admin_required"
    assert not Role.objects.filter(code="root").exists()


def test_schema_documents_the_users_endpoints(client: Any) -> None:
    schema = client.get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    for path in (
        "/api/v1/auth/token/",
        "/api/v1/users/me/",
        "/api/v1/users/tokens/",
        "/api/v1/users/",
        "/api/v1/departments/",
        "/api/v1/roles/",
        "/api/v1/users/{id}/set-password/",
    ):
        assert path in paths, path
    token = paths["/api/v1/auth/token/"]["post"]["responses"]
    assert set(token) >= {"201", "400", "403"}
    assert token["403"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
