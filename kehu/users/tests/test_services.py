from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
from django.utils import timezone

from kehu.core.context import acting_as
from kehu.core.errors import (
    ConflictError,
    DomainError,
    OutOfScopeError,
    PermissionDeniedError,
    StaleObjectError,
)
from kehu.core.permissions import can, field_modes
from kehu.users import services
from kehu.users.api.authentication import ApiTokenAuthentication, hash_key
from kehu.users.models import ApiToken, Department, FieldPermission, Role, RolePermission, User
from kehu.users.tests.factories import UserFactory, grant

pytestmark = pytest.mark.django_db


def _authenticate(key: str) -> Any:
    """The token authentication outside a request: it sets the actor context, so keep that local."""
    with acting_as(None, source="test"):
        return ApiTokenAuthentication().authenticate_credentials(key)


def _department(name: str, parent: Department | None) -> Department:
    return services.department_create(name=name, parent=parent, by=None)


# --- users ----------------------------------------------------------------------------------------


def test_user_create_sets_everything(company: Any) -> None:
    user = services.user_create(
        username="zhangwei",
        password="Kehu-Secret-2026",
        email="ZhangWei@Example.COM",
        display_name="张伟",
        department=company.east,
        roles=[company.role_rep],
        language="zh-hans",
        time_zone="Asia/Shanghai",
        phone="13800138000",
        by=company.admin,
    )
    user.refresh_from_db()
    assert user.email == "zhangwei@example.com"
    assert user.check_password("Kehu-Secret-2026")
    assert user.department == company.east
    assert list(user.roles.all()) == [company.role_rep]
    assert (user.language, user.time_zone, user.display_name) == ("zh-hans", "Asia/Shanghai", "张伟")
    assert user.version == 1


def test_user_create_without_password_cannot_sign_in(company: Any) -> None:
    user = services.user_create(username="nopw", password=None, by=company.admin)
    assert not user.has_usable_password()


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"username": "REP1"}, "username_taken", "username"),
        ({"username": "new", "email": "rep1@example.com"}, "email_taken", "email"),
        ({"username": "new", "password": "123"}, "weak_password", "password"),
        ({"username": "bad name!"}, "invalid_username", "username"),
        ({"username": "new", "language": "fr"}, "invalid_language", "language"),
        ({"username": "new", "time_zone": "Mars/Olympus"}, "invalid_time_zone", "time_zone"),
    ],
)
def test_user_create_refuses_bad_input(company: Any, kwargs: dict[str, Any], code: str, field: str) -> None:
    kwargs.setdefault("password", None)
    with pytest.raises(DomainError) as exc:
        services.user_create(by=company.admin, **kwargs)
    assert exc.value.code == code
    assert field in exc.value.fields
    assert not User.objects.filter(username="new").exists()


def test_user_update_optimistic_lock(company: Any) -> None:
    rep = company.rep1
    services.user_update(user=rep, by=company.admin, version=1, display_name="第一次")
    assert User.objects.get(pk=rep.pk).version == 2
    with pytest.raises(StaleObjectError) as exc:
        services.user_update(user=rep, by=company.admin, version=1, display_name="过期的编辑")
    assert exc.value.code == "stale_object"
    assert exc.value.status == 409
    assert User.objects.get(pk=rep.pk).display_name == "第一次"


def test_user_update_roles_and_department(company: Any) -> None:
    updated = services.user_update(
        user=company.rep1, by=company.admin, roles=[company.role_manager], department=company.east
    )
    assert list(updated.roles.all()) == [company.role_manager]
    assert updated.department == company.east


def test_user_update_changes_email_and_forgets_allauth_addresses(company: Any) -> None:
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=company.rep1, email="rep1@example.com", primary=True, verified=True)
    services.user_update(user=company.rep1, by=company.admin, email="New@Example.com")
    assert User.objects.get(pk=company.rep1.pk).email == "new@example.com"
    assert not EmailAddress.objects.filter(user=company.rep1).exists()


def test_user_update_rejects_unknown_fields(company: Any) -> None:
    with pytest.raises(TypeError):
        services.user_update(user=company.rep1, by=company.admin, is_superuser=True)


def test_only_admins_grant_the_admin_role(company: Any) -> None:
    grant(company.role_manager, "users.user", "view", "change", scope="all")
    admin_role = Role.objects.get(is_admin=True)
    with pytest.raises(PermissionDeniedError) as exc:
        services.user_update(user=company.rep1, by=company.manager1, roles=[admin_role])
    assert exc.value.code == "admin_required"
    assert not company.rep1.roles.filter(is_admin=True).exists()
    with pytest.raises(PermissionDeniedError):
        services.user_set_password(user=company.admin, password="Another-Pass-77", by=company.manager1)


def test_scope_recheck_refuses_moving_a_user_out_of_reach(company: Any) -> None:
    grant(company.role_manager, "users.user", "view", "change", scope="department")
    with pytest.raises(OutOfScopeError):
        services.user_update(user=company.rep1, by=company.manager1, department=company.east)
    assert User.objects.get(pk=company.rep1.pk).department == company.north
    # Within reach it works.
    services.user_update(user=company.rep1, by=company.manager1, title="Senior rep")
    assert User.objects.get(pk=company.rep1.pk).title == "Senior rep"


def test_user_set_password(company: Any) -> None:
    services.user_set_password(user=company.rep1, password="Brand-New-Pass-9", by=company.admin)
    assert User.objects.get(pk=company.rep1.pk).check_password("Brand-New-Pass-9")
    with pytest.raises(DomainError) as exc:
        services.user_set_password(user=company.rep1, password="short", by=company.admin)
    assert exc.value.code == "weak_password"


def test_user_deactivate_keeps_the_user_and_revokes_tokens(company: Any) -> None:
    token, _key = services.api_token_create(user=company.rep1, name="script")
    services.user_deactivate(user=company.rep1, by=company.admin)
    rep = User.objects.get(pk=company.rep1.pk)
    assert rep.is_active is False
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    services.user_activate(user=rep, by=company.admin)
    assert User.objects.get(pk=rep.pk).is_active is True


def test_user_cannot_deactivate_self_and_last_admin_stays(company: Any) -> None:
    with pytest.raises(DomainError) as exc:
        services.user_deactivate(user=company.admin, by=company.admin)
    assert exc.value.code == "cannot_deactivate_self"
    with pytest.raises(DomainError) as exc:
        services.user_update(user=company.admin, by=company.admin, roles=[])
    assert exc.value.code == "last_admin"
    assert company.admin.roles.filter(is_admin=True).exists()


def test_user_update_profile_and_language(company: Any) -> None:
    services.user_update_profile(
        user=company.rep1,
        display_name="小李",
        phone="138",
        language="en",
        time_zone="Europe/Berlin",
        version=1,
    )
    rep = User.objects.get(pk=company.rep1.pk)
    assert (rep.display_name, rep.language, rep.time_zone) == ("小李", "en", "Europe/Berlin")
    services.user_set_language(user=rep, language="zh-hans")
    assert User.objects.get(pk=rep.pk).language == "zh-hans"


# --- departments ----------------------------------------------------------------------------------


def test_department_tree_paths(company: Any) -> None:
    assert company.hq.path == "0001."
    assert company.sales.path == "0001.0001."
    assert (company.north.path, company.east.path) == ("0001.0001.0001.", "0001.0001.0002.")
    assert company.east.depth == 2


def test_department_move_rewrites_the_subtree(company: Any) -> None:
    service = _department("客服部", company.hq)
    team = _department("一组", company.north)
    services.department_move(department=company.north, parent=service, by=company.admin)
    north = Department.objects.get(pk=company.north.pk)
    team.refresh_from_db()
    assert north.parent == service
    assert north.path.startswith(service.path)
    assert north.depth == service.depth + 1
    assert team.path.startswith(north.path)
    assert team.depth == north.depth + 1


def test_department_move_refuses_cycles(company: Any) -> None:
    with pytest.raises(DomainError) as exc:
        services.department_move(department=company.sales, parent=company.north, by=company.admin)
    assert exc.value.code == "department_cycle"
    assert Department.objects.get(pk=company.sales.pk).parent == company.hq


def test_department_rename_and_duplicate_names(company: Any) -> None:
    services.department_rename(department=company.north, name="华北大区", by=company.admin)
    assert Department.objects.get(pk=company.north.pk).name == "华北大区"
    with pytest.raises(ConflictError) as exc:
        services.department_rename(department=company.north, name="华东区", by=company.admin)
    assert exc.value.code == "department_name_taken"
    with pytest.raises(ConflictError):
        services.department_create(name="华东区", parent=company.sales, by=company.admin)
    # The same name elsewhere in the tree is fine.
    assert services.department_create(name="华东区", parent=company.hq, by=company.admin).depth == 1


def test_department_delete_rules(company: Any) -> None:
    with pytest.raises(ConflictError) as exc:
        services.department_delete(department=company.sales, by=company.admin)
    assert exc.value.code == "department_has_children"
    with pytest.raises(ConflictError) as exc:
        services.department_delete(department=company.east, by=company.admin)
    assert exc.value.code == "department_has_members"
    assert "has 1 member." in str(exc.value.message)
    empty = _department("市场部", company.hq)
    services.department_delete(department=empty, by=company.admin)
    assert not Department.objects.filter(pk=empty.pk).exists()


def test_department_change_moves_and_renames(company: Any) -> None:
    changed = services.department_change(
        department=company.east, by=company.admin, name="华东大区", parent=company.hq, manager=company.rep3
    )
    assert (changed.name, changed.parent, changed.manager, changed.depth) == (
        "华东大区",
        company.hq,
        company.rep3,
        1,
    )


# --- roles ----------------------------------------------------------------------------------------


def test_role_create_update_delete(company: Any) -> None:
    role = services.role_create(name="Support", code="support", require_mfa=True, by=company.admin)
    services.role_update(role=role, name="Service desk", by=company.admin)
    role.refresh_from_db()
    assert (role.name, role.code, role.require_mfa) == ("Service desk", "support", True)
    with pytest.raises(ConflictError) as exc:
        services.role_create(name="service DESK", code="other", by=company.admin)
    assert exc.value.code == "role_taken"
    services.role_delete(role=role, by=company.admin)
    assert not Role.objects.filter(pk=role.pk).exists()


def test_role_delete_refused_while_assigned(company: Any) -> None:
    with pytest.raises(ConflictError) as exc:
        services.role_delete(role=company.role_rep, by=company.admin)
    assert exc.value.code == "role_in_use"
    assert "3 users" in str(exc.value.message)
    assert Role.objects.filter(pk=company.role_rep.pk).exists()


def test_non_admin_cannot_create_admin_role(company: Any) -> None:
    with pytest.raises(PermissionDeniedError):
        services.role_create(name="Root", code="root", is_admin=True, by=company.manager1)
    assert not Role.objects.filter(code="root").exists()


def test_role_set_permissions_replaces_and_clears_cache(company: Any) -> None:
    rep = company.rep1
    assert not can(rep, User, "view")
    services.role_set_permissions(
        role=company.role_rep,
        grants=[("users.user", "view", "own"), ("users.department", "view", "all")],
        by=rep,
    )
    # `by` is the acting user: their cached grants are cleared.
    assert can(rep, User, "view")
    services.role_set_permissions(
        role=company.role_rep, grants=[("users.user", "view", "department")], by=rep
    )
    rows = set(RolePermission.objects.filter(role=company.role_rep).values_list("model", "action", "scope"))
    assert rows == {("users.user", "view", "department")}


@pytest.mark.parametrize(
    "grant_row",
    [("nope.model", "view", "all"), ("users.user", "fly", "all"), ("users.user", "view", "galaxy")],
)
def test_role_set_permissions_validates(company: Any, grant_row: tuple[str, str, str]) -> None:
    with pytest.raises(DomainError) as exc:
        services.role_set_permissions(role=company.role_rep, grants=[grant_row], by=company.admin)
    assert exc.value.code == "invalid_permissions"
    assert not RolePermission.objects.filter(role=company.role_rep).exists()


def test_role_set_field_permissions(company: Any) -> None:
    services.role_set_field_permissions(
        role=company.role_rep, field_permissions=[("users.user", "phone", "masked")], by=company.admin
    )
    assert field_modes(User.objects.get(pk=company.rep1.pk), User) == {"phone": "masked"}
    with pytest.raises(DomainError) as exc:
        services.role_set_field_permissions(
            role=company.role_rep, field_permissions=[("users.user", "password", "hidden")], by=company.admin
        )
    assert exc.value.code == "invalid_field_permissions"
    assert list(FieldPermission.objects.filter(role=company.role_rep).values_list("field", flat=True)) == [
        "phone"
    ]


def test_role_save_access_is_one_transaction(company: Any) -> None:
    with pytest.raises(DomainError):
        services.role_save_access(
            role=company.role_rep,
            grants=[("users.user", "view", "all")],
            field_permissions=[("users.user", "nonexistent", "hidden")],
            require_mfa=True,
            is_admin=False,
            by=company.admin,
        )
    role = Role.objects.get(pk=company.role_rep.pk)
    assert role.require_mfa is False
    assert not role.permissions.exists()


def test_field_providers_extend_restrictable_fields(company: Any) -> None:
    from kehu.users import selectors

    def provider(label: str) -> list[tuple[str, str]]:
        return [("custom.vip_level", "VIP level")] if label == "users.user" else []

    selectors.field_providers.append(provider)
    try:
        services.role_set_field_permissions(
            role=company.role_rep, field_permissions=[("users.user", "custom.vip_level", "hidden")], by=None
        )
    finally:
        selectors.field_providers.remove(provider)
    assert FieldPermission.objects.get(role=company.role_rep).field == "custom.vip_level"


# --- API tokens -----------------------------------------------------------------------------------


def test_api_token_create_stores_only_a_hash(company: Any) -> None:
    token, key = services.api_token_create(user=company.rep1, name="Reporting script")
    assert key.startswith(token.prefix + "_")
    assert token.prefix.startswith("kh_") and len(token.prefix) == 11
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest() == hash_key(key)
    assert key not in {token.key_hash, token.prefix, token.name}
    stored = ApiToken.objects.get(pk=token.pk)
    assert key not in str(stored.__dict__.values())
    user, found = _authenticate(key)
    assert (user, found) == (company.rep1, token)


def test_api_token_expiry(company: Any) -> None:
    with pytest.raises(DomainError) as exc:
        services.api_token_create(
            user=company.rep1, name="old", expires_at=timezone.now() - dt.timedelta(minutes=1)
        )
    assert exc.value.code == "invalid_expiry"
    token, key = services.api_token_create(
        user=company.rep1, name="short", expires_at=timezone.now() + dt.timedelta(hours=1)
    )
    assert token.is_active
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    from rest_framework.exceptions import AuthenticationFailed

    with pytest.raises(AuthenticationFailed):
        _authenticate(key)


def test_api_token_revoke(company: Any) -> None:
    token, key = services.api_token_create(user=company.rep1, name="one")
    with pytest.raises(PermissionDeniedError):
        services.api_token_revoke(token=token, by=company.rep2)
    services.api_token_revoke(token=token, by=company.rep1)
    first = ApiToken.objects.get(pk=token.pk).revoked_at
    assert first is not None
    services.api_token_revoke(token=token, by=company.rep1)  # harmless twice
    assert ApiToken.objects.get(pk=token.pk).revoked_at == first
    from rest_framework.exceptions import AuthenticationFailed

    with pytest.raises(AuthenticationFailed):
        _authenticate(key)


def test_api_token_needs_a_name_and_active_user(company: Any) -> None:
    with pytest.raises(DomainError):
        services.api_token_create(user=company.rep1, name="  ")
    inactive: Any = UserFactory(username="gone", is_active=False)
    with pytest.raises(DomainError) as exc:
        services.api_token_create(user=inactive, name="x")
    assert exc.value.code == "user_inactive"
