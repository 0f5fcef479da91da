"""Assignment rules: matching, round-robin, least-loaded, a user, a pool, availability, fairness
under parallel creation (PostgreSQL), the settings pages and the API."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from kehu.audit.models import TimelineEvent
from kehu.core.choices import Action, Scope
from kehu.core.errors import DomainError, PermissionDeniedError
from kehu.customers.models import Account
from kehu.customers.tests.factories import AccountFactory
from kehu.users.tests.factories import grant

from ..choices import AssignmentAction, LeadStatus, PoolKind
from ..models import AssignmentRule, Lead, Pool, UserAvailability
from ..services.assignment import (
    ASSIGNED_EVENT,
    assignment_apply,
    assignment_rule_create,
    assignment_rule_update,
    assignment_rules_reorder,
    open_record_counts,
    rule_matches,
    user_availability_set,
)
from .factories import LeadFactory

pytestmark = pytest.mark.django_db


def _rule(**kwargs: Any) -> AssignmentRule:
    users = kwargs.pop("users", [])
    kwargs.setdefault("name", "rule")
    kwargs.setdefault("kind", PoolKind.LEAD)
    kwargs.setdefault("action", AssignmentAction.ROUND_ROBIN)
    rule = AssignmentRule.objects.create(**kwargs)
    rule.users.set(users)
    return rule


def _new_lead(creator: Any, **kwargs: Any) -> Lead:
    return LeadFactory.create(owner=creator, **kwargs)


@pytest.fixture
def org(company: Any) -> Any:
    grant(company.role_all, "sales.assignmentrule", Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE)
    grant(company.role_manager, "sales.lead", Action.VIEW, Action.ASSIGN, scope=Scope.DEPARTMENT)
    grant(company.role_rep, "sales.lead", Action.VIEW, Action.ADD, scope=Scope.OWN)
    return company


def test_round_robin_takes_turns_in_user_order(org: Any) -> None:
    rule = _rule(users=[org.rep1, org.rep2, org.rep3])
    owners = []
    for _ in range(6):
        lead = _new_lead(org.admin)
        result = assignment_apply(record=lead, by=org.admin)
        assert result is not None and result.rule == rule
        lead.refresh_from_db()
        owner = lead.owner
        assert owner is not None and lead.assignment_rule_id == rule.pk
        assert lead.department_id == owner.department_id
        owners.append(owner.username)
    assert owners == ["rep1", "rep2", "rep3", "rep1", "rep2", "rep3"]
    event = TimelineEvent.objects.filter(event=ASSIGNED_EVENT, model="sales.lead").latest("id")
    assert event.data["rule"] == rule.pk and event.data["title"].startswith(rule.name)
    assert event.data["rule_name"] == rule.name


def test_unavailable_and_away_users_are_skipped(org: Any) -> None:
    _rule(users=[org.rep1, org.rep2, org.rep3])
    user_availability_set(user=org.rep2, by=org.rep2, is_available=False)
    today = timezone.localdate()
    user_availability_set(
        user=org.rep3,
        by=org.manager1,
        is_available=True,
        away_from=today,
        away_until=today + dt.timedelta(days=3),
    )
    owners = {assignment_apply(record=_new_lead(org.admin), by=org.admin).owner.username for _ in range(3)}  # type: ignore[union-attr]
    assert owners == {"rep1"}
    # leave in the past: available again
    user_availability_set(
        user=org.rep3,
        by=org.rep3,
        is_available=True,
        away_from=today - dt.timedelta(days=9),
        away_until=today - dt.timedelta(days=1),
    )
    owners = {assignment_apply(record=_new_lead(org.admin), by=org.admin).owner.username for _ in range(2)}  # type: ignore[union-attr]
    assert "rep3" in owners


def test_everyone_away_falls_through_to_the_next_rule(org: Any) -> None:
    _rule(name="first", users=[org.rep1], order=1)
    second = _rule(name="second", action=AssignmentAction.USER, user=org.rep3, order=2)
    user_availability_set(user=org.rep1, by=org.rep1, is_available=False)
    result = assignment_apply(record=_new_lead(org.admin), by=org.admin)
    assert result is not None and result.rule == second and result.owner == org.rep3


def test_least_loaded_picks_the_user_with_fewest_open_leads(org: Any) -> None:
    for _ in range(3):
        LeadFactory(owner=org.rep1)
    LeadFactory(owner=org.rep2)
    # converted and unqualified leads are not open
    LeadFactory(owner=org.rep3, status=LeadStatus.CONVERTED)
    LeadFactory(owner=org.rep3, status=LeadStatus.UNQUALIFIED)
    assert open_record_counts(PoolKind.LEAD, [org.rep1.pk, org.rep2.pk, org.rep3.pk]) == {
        org.rep1.pk: 3,
        org.rep2.pk: 1,
        org.rep3.pk: 0,
    }
    _rule(action=AssignmentAction.LEAST_LOADED, users=[org.rep1, org.rep2, org.rep3])
    got = [assignment_apply(record=_new_lead(org.admin), by=org.admin).owner for _ in range(3)]  # type: ignore[union-attr]
    # rep3 (0) → then rep2 and rep3 tie at 1 … the loads even out
    assert got[0] == org.rep3
    final = open_record_counts(PoolKind.LEAD, [org.rep1.pk, org.rep2.pk, org.rep3.pk])
    assert final[org.rep2.pk] == 2 and final[org.rep3.pk] == 2 and final[org.rep1.pk] == 3


def test_pool_action_puts_the_lead_in_the_pool(org: Any) -> None:
    pool = Pool.objects.create(name="华北线索池", kind=PoolKind.LEAD)
    rule = _rule(action=AssignmentAction.POOL, pool=pool)
    lead = _new_lead(org.admin)
    result = assignment_apply(record=lead, by=org.admin)
    assert result is not None and result.pool == pool
    lead.refresh_from_db()
    assert lead.owner_id is None and lead.assignment_rule_id == rule.pk
    assert lead.pool_item.pool_id == pool.pk and lead.pool_item.in_pool


def test_no_rule_or_no_match_leaves_the_record_alone(org: Any) -> None:
    lead = _new_lead(org.rep1)
    assert assignment_apply(record=lead, by=org.rep1) is None
    _rule(users=[org.rep2], is_active=False)
    assert assignment_apply(record=lead, by=org.rep1) is None
    lead.refresh_from_db()
    assert lead.owner == org.rep1 and lead.assignment_rule_id is None


def test_conditions_use_the_list_filters(org: Any) -> None:
    """Account rules: conditions are the account list's FilterSet query."""
    rule = _rule(
        kind=PoolKind.ACCOUNT, action=AssignmentAction.USER, user=org.rep3, conditions={"source": "website"}
    )
    web = AccountFactory.create(owner=org.admin, source="website")
    other = AccountFactory.create(owner=org.admin, source="referral")
    assert rule_matches(rule, web) and not rule_matches(rule, other)
    assert assignment_apply(record=other, by=org.admin) is None
    result = assignment_apply(record=web, by=org.admin)
    assert result is not None and result.owner == org.rep3
    web.refresh_from_db()
    assert web.owner == org.rep3 and web.department_id == org.rep3.department_id
    assert TimelineEvent.objects.filter(event=ASSIGNED_EVENT, account_id=web.pk).exists()


def test_rule_validation_messages(org: Any) -> None:
    with pytest.raises(DomainError) as exc:
        assignment_rule_create(
            by=org.admin, data={"name": "x", "kind": "lead", "action": AssignmentAction.USER}
        )
    assert "user" in exc.value.fields
    with pytest.raises(DomainError) as exc:
        assignment_rule_create(
            by=org.admin,
            data={"name": "x", "kind": "lead", "action": AssignmentAction.ROUND_ROBIN, "users": []},
        )
    assert "users" in exc.value.fields
    account_pool = Pool.objects.create(name="客户公海", kind=PoolKind.ACCOUNT)
    with pytest.raises(DomainError) as exc:
        assignment_rule_create(
            by=org.admin,
            data={"name": "x", "kind": "lead", "action": AssignmentAction.POOL, "pool": account_pool},
        )
    assert "pool" in exc.value.fields
    with pytest.raises(DomainError) as exc:
        assignment_rule_create(
            by=org.admin,
            data={
                "name": "x",
                "kind": "account",
                "action": AssignmentAction.USER,
                "user": org.rep1,
                "conditions": {"no_such_filter": "1"},
            },
        )
    assert "conditions" in exc.value.fields
    assert not AssignmentRule.objects.exists()
    with pytest.raises(PermissionDeniedError):
        assignment_rule_create(
            by=org.rep1, data={"name": "x", "kind": "lead", "action": AssignmentAction.USER, "user": org.rep1}
        )


def test_create_update_and_reorder(org: Any) -> None:
    a = assignment_rule_create(
        by=org.admin, data={"name": "A", "kind": "lead", "action": AssignmentAction.USER, "user": org.rep1}
    )
    b = assignment_rule_create(
        by=org.admin, data={"name": "B", "kind": "lead", "action": AssignmentAction.USER, "user": org.rep2}
    )
    assert a.order < b.order
    assignment_rules_reorder(kind="lead", ids=[b.pk, a.pk], by=org.admin)
    result = assignment_apply(record=_new_lead(org.admin), by=org.admin)
    assert result is not None and result.rule.pk == b.pk
    assignment_rule_update(rule=b, by=org.admin, data={"is_active": False})
    result = assignment_apply(record=_new_lead(org.admin), by=org.admin)
    assert result is not None and result.rule.pk == a.pk


def test_availability_of_others_needs_assign(org: Any) -> None:
    with pytest.raises(PermissionDeniedError):
        user_availability_set(user=org.rep2, by=org.rep1, is_available=False)
    user_availability_set(user=org.rep2, by=org.manager1, is_available=False, note="年假")
    assert UserAvailability.objects.get(user=org.rep2).note == "年假"
    with pytest.raises(DomainError) as exc:
        user_availability_set(
            user=org.rep1,
            by=org.rep1,
            is_available=True,
            away_from=dt.date(2026, 5, 3),
            away_until=dt.date(2026, 5, 1),
        )
    assert "away_until" in exc.value.fields


# --- pages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 302),
        ("nobody", 403),
        ("rep1", 403),
        ("manager1", 403),
        ("viewer_all", 200),
        ("admin", 200),
    ],
)
def test_rule_pages_permissions(client: Any, org: Any, who: str, status: int) -> None:
    if who != "anonymous":
        client.force_login(getattr(org, who))
    before = AssignmentRule.objects.count()
    assert client.get(reverse("sales:rule_list")).status_code == status
    response = client.post(
        reverse("sales:rule_add") + "?kind=lead",
        {"kind": "lead", "name": "via page", "action": "user", "user": org.rep1.pk, "is_active": "on"},
    )
    if status == 200:
        assert response.status_code == 302
        assert AssignmentRule.objects.count() == before + 1
    else:
        assert response.status_code == status
        assert AssignmentRule.objects.count() == before


def test_rule_form_saves_conditions_from_the_filters(client: Any, org: Any) -> None:
    client.force_login(org.admin)
    page = client.get(reverse("sales:rule_add") + "?kind=account")
    assert page.status_code == 200
    assert b'name="c-source"' in page.content
    response = client.post(
        reverse("sales:rule_add") + "?kind=account",
        {
            "kind": "account",
            "name": "网络来源",
            "action": "user",
            "user": org.rep3.pk,
            "is_active": "on",
            "c-source": "website",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = AssignmentRule.objects.get(name="网络来源")
    assert rule.conditions == {"source": "website"} and rule.kind == "account"
    listing = client.get(reverse("sales:rule_list"))
    assert "网络来源" in listing.content.decode()
    # a bad submission keeps the input and says what is missing
    response = client.post(
        reverse("sales:rule_add") + "?kind=account",
        {"kind": "account", "name": "缺用户", "action": "user", "c-source": "website"},
    )
    assert response.status_code == 400
    assert "缺用户" in response.content.decode()
    assert not AssignmentRule.objects.filter(name="缺用户").exists()


def test_reorder_endpoint(client: Any, org: Any) -> None:
    a = _rule(name="A", order=10, action=AssignmentAction.USER, user=org.rep1)
    b = _rule(name="B", order=20, action=AssignmentAction.USER, user=org.rep2)
    client.force_login(org.rep1)
    assert (
        client.post(reverse("sales:rule_reorder"), {"kind": "lead", "ids": [b.pk, a.pk]}).status_code == 403
    )
    client.force_login(org.admin)
    assert (
        client.post(reverse("sales:rule_reorder"), {"kind": "lead", "ids": [b.pk, a.pk]}).status_code == 204
    )
    assert list(AssignmentRule.objects.order_by("order").values_list("name", flat=True)) == ["B", "A"]
    # the shared drag-to-reorder script posts only ids; the kind comes in the URL
    assert client.post(reverse("sales:rule_reorder") + "?kind=lead", {"ids": [a.pk, b.pk]}).status_code == 204
    assert list(AssignmentRule.objects.order_by("order").values_list("name", flat=True)) == ["A", "B"]


def test_availability_pages(client: Any, org: Any) -> None:
    client.force_login(org.rep1)
    page = client.get(reverse("sales:availability"))
    assert page.status_code == 200
    assert 'data-user="rep1"' in page.content.decode() and 'data-user="rep2"' not in page.content.decode()
    assert client.get(reverse("sales:availability_edit", args=[org.rep2.pk])).status_code == 404
    response = client.post(reverse("sales:availability_edit", args=[org.rep1.pk]), {"note": "出差"})
    assert response.status_code == 302
    assert UserAvailability.objects.get(user=org.rep1).is_available is False
    client.force_login(org.manager1)
    page = client.get(reverse("sales:availability")).content.decode()
    assert 'data-user="rep2"' in page and 'data-user="rep3"' not in page  # rep3 is in 华东区


# --- API -----------------------------------------------------------------------------------------


def test_api_rules_crud_and_errors(org: Any) -> None:
    api = APIClient()
    api.force_authenticate(org.rep1)
    assert api.get("/api/v1/sales/assignment-rules/").status_code == 403
    api.force_authenticate(org.admin)
    created = api.post(
        "/api/v1/sales/assignment-rules/",
        {"name": "轮流", "kind": "lead", "action": "round_robin", "users": [org.rep1.pk, org.rep2.pk]},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["users"] == [org.rep1.pk, org.rep2.pk]
    bad = api.post(
        "/api/v1/sales/assignment-rules/", {"name": "x", "kind": "lead", "action": "user"}, format="json"
    )
    assert bad.status_code == 400 and "user" in bad.json()["fields"]
    rule_id = created.json()["id"]
    assert (
        api.patch(
            f"/api/v1/sales/assignment-rules/{rule_id}/", {"is_active": False}, format="json"
        ).status_code
        == 200
    )
    assert AssignmentRule.objects.get(pk=rule_id).is_active is False
    assert api.delete(f"/api/v1/sales/assignment-rules/{rule_id}/").status_code == 204


def test_api_availability(org: Any) -> None:
    api = APIClient()
    api.force_authenticate(org.rep1)
    assert api.get(f"/api/v1/sales/availability/{org.rep2.pk}/").status_code == 404
    answer = api.put(f"/api/v1/sales/availability/{org.rep1.pk}/", {"is_available": False}, format="json")
    assert answer.status_code == 200 and answer.json()["is_available"] is False
    bad = api.put(
        f"/api/v1/sales/availability/{org.rep1.pk}/",
        {"is_available": True, "away_from": "2026-05-03", "away_until": "2026-05-01"},
        format="json",
    )
    assert bad.status_code == 400 and "away_until" in bad.json()["fields"]


# --- fairness under parallel creation (PostgreSQL) -----------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_assignments_take_turns(company: Any) -> None:
    users = [company.rep1, company.rep2, company.rep3]
    _rule(users=users)
    leads = [_new_lead(company.admin) for _ in range(12)]
    barrier = threading.Barrier(len(leads))
    errors: list[BaseException] = []

    def work(lead: Lead) -> None:
        from django.db import connections

        try:
            barrier.wait()
            assignment_apply(record=Lead.objects.get(pk=lead.pk), by=company.admin)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(lead,)) for lead in leads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    counts = open_record_counts(PoolKind.LEAD, [u.pk for u in users])
    assert sorted(counts.values()) == [4, 4, 4]
    assert Account.objects.count() == 0
