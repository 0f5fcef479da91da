"""The generic change recorder on real models (users, departments, roles)."""

from __future__ import annotations

from typing import Any, cast

import pytest

from kehu.audit import registry
from kehu.audit.models import ObjectChange
from kehu.core.context import acting_as
from kehu.users.models import ApiToken, Department, Role, RolePermission, User
from kehu.users.services import department_create
from kehu.users.tests import factories

pytestmark = pytest.mark.django_db


def RoleFactory(**kwargs: Any) -> Role:
    return cast(Role, factories.RoleFactory(**kwargs))


def UserFactory(**kwargs: Any) -> User:
    return cast(User, factories.UserFactory(**kwargs))


def changes_of(obj: Any) -> list[ObjectChange]:
    return list(ObjectChange.objects.filter(model=obj._meta.label_lower, object_id=obj.pk).order_by("id"))


def last_change(obj: Any) -> ObjectChange:
    return changes_of(obj)[-1]


def test_create_records_every_non_empty_value_and_the_acting_context() -> None:
    hq = department_create(name="总部", by=None)
    with acting_as(None, source="command", request_id="req-create-0001", ip="10.0.0.7"):
        north = department_create(name="华北区", parent=hq, by=None)
    [change] = changes_of(north)
    assert change.action == "create"
    assert change.changes == {
        "name": [None, "华北区"],
        "parent": [None, {"id": hq.pk, "repr": "总部"}],
        "order": [None, 0],
        "is_active": [None, True],
    }
    assert (change.request_id, change.ip, change.source) == ("req-create-0001", "10.0.0.7", "command")
    assert change.object_repr == "华北区"
    assert change.bulk is False


def test_update_records_only_changed_fields_with_before_and_after() -> None:
    hq = department_create(name="总部", by=None)
    sales = department_create(name="销售部", by=None)
    dept = department_create(name="华北区", parent=hq, by=None)
    actor = UserFactory(username="auditor", display_name="审计员")
    dept = Department.objects.get(pk=dept.pk)  # a fresh instance, no cached parent
    dept.name = "华北大区"
    dept.parent = sales
    dept.is_active = True  # unchanged
    with acting_as(actor.pk, source="web", request_id="req-update-0001"):
        dept.save()
    change = last_change(dept)
    assert change.action == "update"
    assert change.changes == {
        "name": ["华北区", "华北大区"],
        "parent": [{"id": hq.pk, "repr": "总部"}, {"id": sales.pk, "repr": "销售部"}],
    }
    assert change.user_id == actor.pk
    assert change.user_name == "审计员"


def test_an_update_that_changes_nothing_writes_nothing() -> None:
    role = RoleFactory(name="Rep", code="rep")
    before = ObjectChange.objects.count()
    role.save()
    Role.objects.get(pk=role.pk).save()
    role.description = ""  # same as stored
    role.save(update_fields=["description"])
    assert ObjectChange.objects.count() == before


def test_excluded_fields_are_never_recorded() -> None:
    user = UserFactory(username="rep9")
    before = ObjectChange.objects.count()
    user.set_password("another-secret")
    user.save()
    user.save(update_fields=["last_login"])
    assert ObjectChange.objects.count() == before
    assert "password" not in last_change(user).changes
    user.title = "销售代表"
    user.set_password("third-secret")
    user.save()
    assert last_change(user).changes == {"title": ["", "销售代表"]}


def test_values_written_as_strings_compare_equal_to_the_stored_ones() -> None:
    role = RoleFactory(name="Rep", code="rep")
    hq = department_create(name="总部", by=None)
    user = UserFactory(username="rep9", department=hq)
    count = ObjectChange.objects.count()
    user.department_id = str(hq.pk)
    user.save()
    role.require_mfa = False
    role.save()
    assert ObjectChange.objects.count() == count


def test_delete_records_the_values_the_row_had() -> None:
    hq = department_create(name="总部", by=None)
    dept = department_create(name="华东区", parent=hq, by=None)
    pk = dept.pk
    with acting_as(None, request_id="req-delete-0001"):
        dept.delete()
    change = ObjectChange.objects.filter(model="users.department", object_id=pk).latest("id")
    assert change.action == "delete"
    assert change.object_repr == "华东区"
    assert change.changes["name"] == ["华东区", None]
    assert change.changes["parent"] == [{"id": hq.pk, "repr": "总部"}, None]
    assert change.request_id == "req-delete-0001"


def test_a_user_deleting_themself_leaves_no_dangling_user_reference() -> None:
    user = UserFactory(username="leaver")
    pk = user.pk
    with acting_as(pk, request_id="req-self-delete"):
        user.delete()
    change = ObjectChange.objects.get(model="users.user", object_id=pk, action="delete")
    assert change.user_id is None
    assert change.user_name == "leaver"


def test_many_to_many_add_remove_and_set_are_recorded_on_the_user() -> None:
    rep, manager, admin = (RoleFactory(name=n, code=n.lower()) for n in ("Rep", "Manager", "Admin"))
    user = UserFactory(username="rep9")
    user = User.objects.get(pk=user.pk)
    with acting_as(None, request_id="req-m2m-add"):
        user.roles.add(rep, manager)
    change = last_change(user)
    assert change.action == "update"
    assert change.changes == {
        "roles": [[], [{"id": rep.pk, "repr": "Rep"}, {"id": manager.pk, "repr": "Manager"}]]
    }
    user = User.objects.get(pk=user.pk)
    with acting_as(None, request_id="req-m2m-set"):
        user.roles.set([manager, admin])  # a remove and an add: one entry
    change = last_change(user)
    assert change.request_id == "req-m2m-set"
    assert change.changes == {
        "roles": [
            [{"id": rep.pk, "repr": "Rep"}, {"id": manager.pk, "repr": "Manager"}],
            [{"id": manager.pk, "repr": "Manager"}, {"id": admin.pk, "repr": "Admin"}],
        ]
    }
    assert ObjectChange.objects.filter(request_id="req-m2m-set").count() == 1
    count = ObjectChange.objects.count()
    user.roles.remove(rep)  # not related: nothing changes
    user.roles.add(manager)  # already related: nothing changes
    assert ObjectChange.objects.count() == count
    with acting_as(None, request_id="req-m2m-clear"):
        User.objects.get(pk=user.pk).roles.clear()
    assert last_change(user).changes == {
        "roles": [[{"id": manager.pk, "repr": "Manager"}, {"id": admin.pk, "repr": "Admin"}], []]
    }


def test_saving_a_record_and_then_its_roles_is_one_entry() -> None:
    rep = RoleFactory(name="Rep", code="rep")
    user = UserFactory(username="rep9")
    user = User.objects.get(pk=user.pk)
    with acting_as(None, request_id="req-save-and-roles"):
        user.title = "经理"
        user.save()
        user.roles.set([rep])
    [change] = ObjectChange.objects.filter(request_id="req-save-and-roles")
    assert change.changes == {"title": ["", "经理"], "roles": [[], [{"id": rep.pk, "repr": "Rep"}]]}


def test_many_to_many_changes_from_the_other_side_land_on_each_user() -> None:
    role = RoleFactory(name="Rep", code="rep")
    other = RoleFactory(name="Other", code="other")
    u1, u2 = UserFactory(username="u1", roles=[other]), UserFactory(username="u2")
    with acting_as(None, request_id="req-reverse-add"):
        role.users.add(u1, u2)
    rows = {c.object_id: c for c in ObjectChange.objects.filter(request_id="req-reverse-add")}
    assert set(rows) == {u1.pk, u2.pk}
    assert rows[u1.pk].changes == {
        "roles": [
            [{"id": other.pk, "repr": "Other"}],
            [{"id": role.pk, "repr": "Rep"}, {"id": other.pk, "repr": "Other"}]
            if role.pk < other.pk
            else [{"id": other.pk, "repr": "Other"}, {"id": role.pk, "repr": "Rep"}],
        ]
    }
    assert rows[u2.pk].changes == {"roles": [[], [{"id": role.pk, "repr": "Rep"}]]}
    with acting_as(None, request_id="req-reverse-remove"):
        role.users.remove(u2, u2.pk + 1000)  # one related, one not
    [removed] = ObjectChange.objects.filter(request_id="req-reverse-remove")
    assert removed.object_id == u2.pk
    assert removed.changes == {"roles": [[{"id": role.pk, "repr": "Rep"}], []]}
    with acting_as(None, request_id="req-reverse-clear"):
        role.users.clear()
    [cleared] = ObjectChange.objects.filter(request_id="req-reverse-clear")
    assert cleared.object_id == u1.pk
    assert cleared.changes["roles"][1] == [{"id": other.pk, "repr": "Other"}]


def test_parent_ties_a_child_change_to_its_parent() -> None:
    role = RoleFactory(name="Rep", code="rep")
    perm = RolePermission.objects.create(role=role, model="users.user", action="view", scope="own")
    change = last_change(perm)
    assert (change.parent_model, change.parent_id) == ("users.role", role.pk)
    assert change.object_repr == str(perm)


def test_api_token_secret_fields_are_not_recorded() -> None:
    user = UserFactory(username="rep9")
    token = ApiToken.objects.create(user=user, name="CI", prefix="abcd1234", key_hash="f" * 64)
    change = last_change(token)
    assert change.changes == {
        "user": [None, {"id": user.pk, "repr": "rep9"}],
        "name": [None, "CI"],
        "prefix": [None, "abcd1234"],
    }
    assert (change.parent_model, change.parent_id) == ("users.user", user.pk)


def test_paused_and_raw_saves_are_not_recorded() -> None:
    count = ObjectChange.objects.count()
    with registry.paused():
        role = RoleFactory(name="Quiet", code="quiet")
        role.name = "Still quiet"
        role.save()
        role.delete()
    assert ObjectChange.objects.count() == count


def test_a_failed_write_leaves_no_log_row() -> None:
    from django.db import IntegrityError, transaction

    RoleFactory(name="Rep", code="rep")
    count = ObjectChange.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        Role.objects.create(name="Rep", code="rep")
    assert ObjectChange.objects.count() == count


def test_registry_snapshot_and_diff_for_bulk_services() -> None:
    role = RoleFactory(name="Rep", code="rep", description="")
    before = registry.snapshot(role)
    role.name = "Sales rep"
    role.description = "卖东西"
    assert registry.diff(role, before) == {"name": ["Rep", "Sales rep"], "description": ["", "卖东西"]}
    with pytest.raises(LookupError):
        registry.snapshot(ObjectChange())


def test_a_rolled_back_row_is_not_folded_into() -> None:
    from django.db import transaction

    rep = RoleFactory(name="Rep", code="rep")
    user = User.objects.get(pk=UserFactory(username="rep9").pk)
    with acting_as(None, request_id="req-rollback"):
        try:
            with transaction.atomic():
                user.title = "临时"
                user.save()
                raise RuntimeError("abort")
        except RuntimeError:
            pass
        user.roles.add(rep)
    [change] = ObjectChange.objects.filter(request_id="req-rollback")
    assert change.changes == {"roles": [[], [{"id": rep.pk, "repr": "Rep"}]]}


def test_a_change_undone_within_one_operation_leaves_no_entry() -> None:
    rep = RoleFactory(name="Rep", code="rep")
    user = User.objects.get(pk=UserFactory(username="rep9").pk)
    with acting_as(None, request_id="req-undone"):
        user.roles.add(rep)
        user.roles.remove(rep)
    assert not ObjectChange.objects.filter(request_id="req-undone").exists()


def test_department_move_is_recorded(company) -> None:
    from kehu.audit.models import ObjectChange
    from kehu.users import services

    services.department_move(department=company.east, parent=company.hq, by=company.admin)
    change = ObjectChange.objects.filter(
        model="users.department", object_id=company.east.pk, action="update"
    ).latest("time")
    assert change.changes["parent"][0]["id"] == company.sales.pk
    assert change.changes["parent"][1]["id"] == company.hq.pk
    assert "path" not in change.changes
