"""Query budget of a claim (issue 5: 16 clients claiming in parallel, p95 <= 100 ms): a claim runs a
fixed number of statements, claiming ten records at once runs no more than claiming one, and the
operation log the claim writes in bulk reads as the change recorder's."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kehu.audit.models import ObjectChange, TimelineEvent
from kehu.core import owned
from kehu.users.services import api_token_create

from ..models import Lead, Pool, PoolClaimCounter, PoolHistory
from ..services.pools import EVENT_CLAIMED, pool_assign, pool_claim, pool_claim_counted, pool_put
from .pool_fixtures import PoolFactory, make_lead, pools  # noqa: F401

# ruff: noqa: F811  (the fixtures above are used as test arguments)

pytestmark = pytest.mark.django_db
API = "/api/v1/sales/pools/"
# The claim service: lock the user, count the claim (upsert), lock the records with their pool items,
# cooling-off, records owned, update the items, update the records, insert the operation log, the
# pool history and the timeline events: 10, plus the savepoint and its release in a test.
SERVICE_BUDGET = 12
# The API adds authentication, the user's roles and permissions, pool membership and the pool.
API_BUDGET = SERVICE_BUDGET + 8


def _pool(c: Any) -> Pool:
    # every rule on: each check runs and each lock is taken (as in bench/pool_claims.py)
    return PoolFactory.create(
        departments=[c.north],
        max_claims_per_day=1000,
        max_owned=1000,
        protection_days=7,
        cooling_off_days=3,
        recycle_no_follow_up_days=30,
        recycle_not_converted_days=90,
        recycle_warning_days=3,
    )


def _in_pool(pool: Pool, n: int) -> list[Lead]:
    leads = [make_lead() for _ in range(n)]
    pool_put(pool=pool, records=leads, by=None)
    return leads


def _api_claim(client: Any, key: str, pool: Pool, ids: list[int]) -> tuple[Any, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(
            f"{API}{pool.pk}/claim/",
            json.dumps({"ids": ids}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {key}",
        )
    return response, len(ctx.captured_queries)


def test_claim_statements_are_bounded_and_do_not_grow_with_the_records(pools: Any) -> None:
    pool = _pool(pools)
    leads = _in_pool(pool, 23)
    rep = pools.rep1
    with CaptureQueriesContext(connection) as first:
        pool_claim(pool=pool, ids=[leads[0].pk], by=rep)  # the day's first claim: the counter is new
    with CaptureQueriesContext(connection) as one:
        pool_claim(pool=pool, ids=[leads[1].pk], by=rep)
    with CaptureQueriesContext(connection) as ten:
        out, today = pool_claim_counted(pool=pool, ids=[lead.pk for lead in leads[2:12]], by=rep)
    sql = "\n".join(q["sql"] for q in one.captured_queries)
    # the first claim also reads the user's pools, roles and permissions (kept for the request)
    assert len(first.captured_queries) <= SERVICE_BUDGET + 4, sql
    assert len(one.captured_queries) <= SERVICE_BUDGET, sql
    assert len(ten.captured_queries) <= len(one.captured_queries), "\n".join(
        q["sql"] for q in ten.captured_queries
    )
    assert [r.pk for r in out] == sorted(lead.pk for lead in leads[2:12]) and today == 12
    assert all(r.owner_id == rep.pk and r.department_id == rep.department_id for r in out)
    assert Lead.objects.filter(owner=rep).count() == 12
    assert PoolHistory.objects.filter(pool=pool, action="claim", to_user=rep).count() == 12
    assert TimelineEvent.objects.filter(event=EVENT_CLAIMED, model="sales.lead").count() == 12
    assert PoolClaimCounter.objects.get(pool=pool, user=rep).claims == 12
    # an assignment takes the same path
    with CaptureQueriesContext(connection) as assign:
        pool_assign(pool=pool, ids=[lead.pk for lead in leads[12:22]], to=pools.rep2, by=pools.admin)
    assert len(assign.captured_queries) <= SERVICE_BUDGET, "\n".join(
        q["sql"] for q in assign.captured_queries
    )
    assert Lead.objects.filter(owner=pools.rep2).count() == 10


def test_api_claim_statements(pools: Any) -> None:
    pool = _pool(pools)
    leads = _in_pool(pool, 12)
    _token, key = api_token_create(user=pools.rep1, name="t")
    client = Client()
    warm, _ = _api_claim(client, key, pool, [leads[0].pk])
    assert warm.status_code == 200, warm.content
    one, n_one = _api_claim(client, key, pool, [leads[1].pk])
    assert one.status_code == 200 and one.json()["claims_today"] == 2, one.content
    ten, n_ten = _api_claim(client, key, pool, [lead.pk for lead in leads[2:12]])
    assert ten.status_code == 200 and ten.json()["claims_today"] == 12, ten.content
    assert n_one <= API_BUDGET
    assert n_ten <= n_one


def test_claim_writes_the_operation_log_as_a_save_would(pools: Any) -> None:
    pool = _pool(pools)
    claimed, saved = _in_pool(pool, 2)
    rep = pools.rep1
    pool_claim(pool=pool, ids=[claimed.pk], by=rep)
    # the same change through save(): the change recorder writes its row
    owned.set_owner(saved, rep)
    saved.owned_since = Lead.objects.get(pk=claimed.pk).owned_since
    saved.version += 1
    saved.save(update_fields=["owner", "department", "owned_since", "version", "updated_at"])
    by_claim = ObjectChange.objects.get(model="sales.lead", object_id=claimed.pk, action="update")
    by_save = ObjectChange.objects.get(model="sales.lead", object_id=saved.pk, action="update")
    assert by_claim.changes == by_save.changes
    assert by_claim.changes["owner"] == [None, {"id": rep.pk, "repr": str(rep)}]
    assert by_claim.changes["department"][1]["repr"] == str(rep.department)
    assert not by_claim.bulk and by_claim.user_id == rep.pk
    assert by_claim.object_repr == str(claimed)


def test_membership_in_one_query(pools: Any) -> None:
    from kehu.users.tests.factories import DepartmentFactory, UserFactory

    from ..selectors.pools import forget_membership, member_pool_ids

    north = pools.north
    parent = north.parent
    child = DepartmentFactory(name="华北一组", parent=north)
    deep = UserFactory(username="deep", department=child)
    lone = UserFactory(username="lone", department=None)
    by_child_of_parent = PoolFactory.create(departments=[parent])  # 销售部: north and below
    by_north = PoolFactory.create(departments=[north])
    by_user = PoolFactory.create(members=[lone])
    by_admin = PoolFactory.create(admins=[lone])
    PoolFactory.create(departments=[north], is_active=False)
    PoolFactory.create(departments=[DepartmentFactory(name="华北区2", parent=parent)])  # a sibling
    with CaptureQueriesContext(connection) as ctx:
        assert member_pool_ids(deep) == sorted([by_child_of_parent.pk, by_north.pk])
        assert member_pool_ids(deep) == sorted([by_child_of_parent.pk, by_north.pk])  # kept
    assert len(ctx.captured_queries) == 1
    assert member_pool_ids(lone) == sorted([by_user.pk, by_admin.pk])
    assert member_pool_ids(pools.rep1) == sorted([by_child_of_parent.pk, by_north.pk])
    forget_membership(pools.rep1)
    by_north.member_departments.clear()
    assert member_pool_ids(pools.rep1) == [by_child_of_parent.pk]
