from __future__ import annotations

import dataclasses
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from kehu.core.choices import Scope
from kehu.customers.models import Account, Contact
from kehu.demo import data
from kehu.demo.loader import grant_actions, load_demo
from kehu.demo.models import DemoStage
from kehu.users.models import Department, Role, RolePermission, User

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        "departments": Department.objects.count(),
        "roles": Role.objects.count(),
        "permissions": RolePermission.objects.count(),
        "users": User.objects.count(),
        "stages": DemoStage.objects.count(),
        "accounts": Account.objects.count(),
        "contacts": Contact.objects.count(),
    }


def run(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_refuses_when_debug_is_off_without_force() -> None:
    with pytest.raises(CommandError, match="DEBUG is off"):
        run()
    assert set(counts().values()) == {0}


def test_runs_without_force_when_debug_is_on(settings: Any) -> None:
    settings.DEBUG = True
    out = run("--only", "org")
    assert "Demo data loaded (org)" in out
    assert User.objects.filter(username__in=[u.username for u in data.USERS]).count() == len(data.USERS)


def test_idempotent_second_run_creates_nothing() -> None:
    first = run("--force")
    assert f"{len(data.USERS)} users" in first
    after_first = counts()
    second = run("--force")
    assert "nothing to do" in second
    assert counts() == after_first
    third = run("--force", "--refresh")
    assert "nothing new" in third
    assert counts() == after_first


def test_department_tree_and_managers() -> None:
    run("--force", "--only", "org")
    tree = {d.name: d for d in Department.objects.all()}
    assert set(tree) == {"总部", "销售部", "华北区", "华东区", "客服部", "市场部"}
    assert tree["总部"].parent is None
    assert tree["销售部"].parent == tree["总部"]
    assert tree["华北区"].parent == tree["销售部"]
    assert tree["华东区"].parent == tree["销售部"]
    assert tree["客服部"].parent == tree["总部"]
    assert tree["市场部"].parent == tree["总部"]
    assert tree["华北区"].path.startswith(tree["销售部"].path)
    assert tree["华北区"].manager == User.objects.get(username="manager1")
    assert tree["华东区"].manager == User.objects.get(username="manager2")
    assert tree["销售部"].manager == User.objects.get(username="director")


def test_users_have_departments_roles_and_chinese_profile() -> None:
    run("--force", "--only", "org")
    rep1 = User.objects.get(username="rep1")
    assert rep1.display_name == "王芳"
    assert rep1.last_name == "王"
    assert rep1.first_name == "芳"
    assert rep1.email == "rep1@demo.kehu.local"
    assert rep1.language == "zh-hans"
    assert rep1.time_zone == "Asia/Shanghai"
    assert rep1.department is not None and rep1.department.name == "华北区"
    assert list(rep1.roles.values_list("code", flat=True)) == ["rep"]
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert list(admin.roles.values_list("code", flat=True)) == ["admin"]
    assert Role.objects.get(code="admin").is_admin
    assert not User.objects.filter(is_superuser=True).exclude(username="admin").exists()
    expected = {u.username: u.department for u in data.USERS}
    assert {u.username: u.department.name for u in User.objects.select_related("department")} == expected


def test_every_demo_user_can_sign_in_with_the_demo_password() -> None:
    run("--force", "--only", "org")
    request = RequestFactory().post("/accounts/login/")
    for spec in data.USERS:
        user = authenticate(request, username=spec.username, password="demo1234")
        assert user is not None and user.get_username() == spec.username
    assert authenticate(request, username="rep1", password="wrong") is None


def test_role_names_follow_the_installation_language(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"
    run("--force", "--only", "org")
    assert Role.objects.get(code="director").name == "Sales director"
    assert Role.objects.get(code="rep").name == "Sales rep"


def test_deleted_demo_records_stay_deleted_unless_refreshed() -> None:
    run("--force", "--only", "org")
    User.objects.filter(username="marketer1").delete()
    run("--force", "--only", "org")
    assert not User.objects.filter(username="marketer1").exists()
    run("--force", "--only", "org", "--refresh")
    assert User.objects.get(username="marketer1").department.name == "市场部"


def test_rerun_adds_missing_grants_but_keeps_an_admins_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    # users.department stands in for a model whose grants a later issue adds to the table.
    extra = data.Grant("users.department", ("view", "change"), Scope.OWN)
    roles = [dataclasses.replace(r, grants=(*r.grants, extra)) if r.code == "rep" else r for r in data.ROLES]
    monkeypatch.setattr(data, "ROLES", roles)
    role = Role.objects.create(code="rep", name="Rep")
    RolePermission.objects.create(role=role, model="users.department", action="view", scope=Scope.ALL)
    run("--force", "--only", "org")
    got = dict(
        RolePermission.objects.filter(role=role, model="users.department").values_list("action", "scope")
    )
    assert got == {"view": Scope.ALL, "change": Scope.OWN}
    account = dict(
        RolePermission.objects.filter(role=role, model="customers.account").values_list("action", "scope")
    )
    assert account == dict.fromkeys(("view", "add", "change", "delete", "export"), Scope.OWN)


def test_demo_roles_grants() -> None:
    run("--force", "--only", "org")

    def grants(code: str, app: str = "customers.") -> dict[tuple[str, str], str]:
        rows = RolePermission.objects.filter(role__code=code, model__startswith=app).values_list(
            "model", "action", "scope"
        )
        return {(m, a): s for m, a, s in rows}

    every = ("view", "add", "change", "delete", "export", "import", "assign")
    both = ("customers.account", "customers.contact")
    assert grants("director") == {(m, a): "all" for m in both for a in every}
    assert grants("manager") == {(m, a): "department_and_below" for m in both for a in every}
    assert grants("rep") == {
        (m, a): "own" for m in both for a in ("view", "add", "change", "delete", "export")
    }
    assert grants("agent") == {
        ("customers.account", "view"): "all",
        ("customers.contact", "view"): "all",
        ("customers.contact", "add"): "all",
        ("customers.contact", "change"): "all",
    }
    assert grants("marketer") == {(m, a): "all" for m in both for a in ("view", "export")}
    assert grants("admin") == {}
    # follow-ups: the reps their own, managers their department's, the director everybody's
    assert grants("rep", "activities.")[("activities.task", "add")] == "own"
    assert grants("manager", "activities.")[("activities.interaction", "view")] == "department_and_below"
    assert grants("director", "activities.")[("activities.interaction", "delete")] == "all"
    assert grants("manager", "quality.") == {("quality.qualitysnapshot", "view"): "all"}
    assert grants("rep", "quality.") == {}
    # sales: reps their own leads and deals (no delete, no assign) and their own targets to view;
    # managers their department's, assigning included, and its targets; the director everything
    # of the sales department and below; pools and rules are configured by the administrator only.
    sales = ("sales.lead", "sales.opportunity")
    assert {k: v for k, v in grants("rep", "sales.").items() if k[0] in sales} == {
        (m, a): "own" for m in sales for a in ("view", "add", "change", "export")
    }
    assert grants("rep", "sales.target") == {("sales.target", "view"): "own"}
    assert grants("manager", "sales.lead")[("sales.lead", "assign")] == "department"
    assert ("sales.opportunity", "import") not in grants("manager", "sales.")
    assert grants("manager", "sales.target") == {
        ("sales.target", a): "department" for a in ("view", "add", "change", "export")
    }
    assert grants("director", "sales.opportunity")[("sales.opportunity", "delete")] == "department_and_below"
    assert grants("director", "sales.target")[("sales.target", "delete")] == "department_and_below"
    for code in ("director", "manager", "rep"):
        assert not [
            k for k in grants(code, "sales.") if k[0].split(".")[1] in ("pool", "assignmentrule", "pipeline")
        ]


def test_grant_actions_skip_models_that_do_not_exist_yet() -> None:
    assert grant_actions(data.Grant("loyalty.membership", data.ALL, Scope.ALL)) == []
    assert grant_actions(data.Grant("users.department", data.ALL, Scope.ALL)) == [
        "view",
        "add",
        "change",
        "delete",
    ]
    assert grant_actions(data.Grant("users.department", ("view", "export"), Scope.ALL)) == ["view"]


def test_load_demo_returns_a_summary() -> None:
    summary = load_demo(only={"org"})
    assert summary.loaded == ["org"]
    assert summary.created["users"] == len(data.USERS)
    assert summary.created["departments"] == 6
    assert summary.created["roles"] == len(data.ROLES)
    again = load_demo(only={"org"})
    assert again.loaded == []
    assert "org" in again.skipped
    assert again.created == {}
