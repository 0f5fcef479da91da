"""The claim's own statements in plain SQL (kehu.sales.services.pools, issue 5) read and write what
the ORM would, on SQLite and PostgreSQL; the API finds the pool through the configuration cache and
still answers 404 outside the user's pools and sees a pool's new rules at once."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kehu.audit.models import ObjectChange, TimelineEvent
from kehu.audit.services import new_object_change
from kehu.core import rows
from kehu.customers.models import Account
from kehu.users.services import api_token_create

from ..choices import LeadStatus, PoolAction
from ..models import Lead, Pool, PoolClaimCounter, PoolHistory, PoolItem
from ..services import pools as services
from .pool_fixtures import PoolFactory, make_lead, pools  # noqa: F401

# ruff: noqa: F811  (the fixtures above are used as test arguments)

pytestmark = pytest.mark.django_db
API = "/api/v1/sales/pools/"


def _values(obj: Any) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_locked_records_read_as_the_orm_reads_them(pools: Any) -> None:
    pool = PoolFactory.create(departments=[pools.north])
    lead = make_lead(custom={"级别": "A", "n": 3}, email="a@example.com", mobile="13800000000")
    other = make_lead()
    services.pool_put(pool=pool, records=[lead, other], by=None)
    elsewhere = make_lead()  # not in this pool: left out
    with transaction.atomic():
        records, items = services._lock_pool_records(pool, Lead, [other.pk, lead.pk, elsewhere.pk])
    assert list(records) == sorted([lead.pk, other.pk])  # record id order
    for pk, record in records.items():
        fresh = Lead.objects.get(pk=pk)
        assert _values(record) == _values(fresh)
        assert _values(items[pk]) == _values(PoolItem.objects.get(lead_id=pk))
        assert not record._state.adding and record._state.db == "default"
        with CaptureQueriesContext(connection) as ctx:
            assert record.pool_item is items[pk]
        assert not ctx.captured_queries
    assert records[lead.pk].custom == {"级别": "A", "n": 3}
    entered = items[lead.pk].entered_at
    assert isinstance(entered, dt.datetime) and timezone.is_aware(entered)


def test_insert_writes_what_bulk_create_writes(pools: Any) -> None:
    pool = PoolFactory.create(departments=[pools.north])
    lead = make_lead()
    at = timezone.now()

    def make_rows() -> tuple[ObjectChange, PoolHistory, TimelineEvent]:
        change = new_object_change(
            model_label="sales.lead",
            object_id=lead.pk,
            object_repr=str(lead),
            action="update",
            changes={"owner": [None, {"id": pools.rep1.pk, "repr": "张三"}]},
            by=pools.rep1,
            time=at,
        )
        history = PoolHistory(
            pool=pool, lead=lead, action=PoolAction.CLAIM, to_user=pools.rep1, by=pools.rep1, at=at
        )
        event = services._event_row(services.EVENT_CLAIMED, lead, pools.rep1, {"pool": "池", "n": [1, 2]}, at)
        return change, history, event

    before = {
        model: list(model.objects.values_list("id", flat=True))
        for model in (ObjectChange, PoolHistory, TimelineEvent)
    }
    ours, theirs = make_rows(), make_rows()
    for model, mine, twin in zip((ObjectChange, PoolHistory, TimelineEvent), ours, theirs, strict=True):
        rows.insert(connection, model, [mine])
        model._default_manager.bulk_create([twin])
    skip = {"id", "created_at"}
    for model in (ObjectChange, PoolHistory, TimelineEvent):
        manager: Any = model._default_manager
        a, b = (
            {k: v for k, v in row.items() if k not in skip}
            for row in manager.exclude(id__in=before[model]).order_by("id").values()
        )
        assert a == b, model
    event = TimelineEvent.objects.exclude(id__in=before[TimelineEvent]).order_by("id").first()
    assert event is not None and event.data == {"pool": "池", "n": [1, 2]} and event.created_at is not None
    # several rows at once (a claim of many records)
    many = [
        PoolHistory(pool=pool, lead=lead, action=PoolAction.CLAIM, to_user=pools.rep2, by=pools.rep2, at=at)
        for _ in range(3)
    ]
    rows.insert(connection, PoolHistory, many)
    assert PoolHistory.objects.filter(to_user=pools.rep2).count() == 3


def test_counter_upsert_reads_the_records_owned(pools: Any) -> None:
    lead_pool = PoolFactory.create(departments=[pools.north], max_owned=10)
    account_pool = PoolFactory.create(kind="account", departments=[pools.north], max_owned=10)
    rep = pools.rep1
    for status in (LeadStatus.NEW, LeadStatus.QUALIFIED, LeadStatus.CONVERTED):
        make_lead(owner=rep, status=status)
    make_lead(owner=pools.rep2)
    Account.objects.create(name="甲公司", owner=rep, department=rep.department)
    Account.objects.create(name="乙公司", owner=rep, department=rep.department, is_active=False)
    day = timezone.localdate()
    with transaction.atomic():
        assert services._count_claims(lead_pool, rep, day, 1, owned=True) == (1, 2)
        assert services._count_claims(lead_pool, rep, day, 2, owned=True) == (3, 2)
        assert services._count_claims(lead_pool, rep, day, 1) == (4, None)
        assert services._count_claims(account_pool, rep, day, 1, owned=True) == (1, 1)
    assert services.owned_count(rep, "lead") == 2 and services.owned_count(rep, "account") == 1


def test_cooling_off_reads_aware_times(pools: Any) -> None:
    pool = PoolFactory.create(departments=[pools.north], cooling_off_days=3)
    lead = make_lead(owner=pools.rep1)
    services.pool_return(records=[lead], by=pools.rep1, pool=pool)
    left = PoolHistory.objects.get(lead=lead, action=PoolAction.RETURN).at
    until = services._cooling_off(pool, Lead, [lead.pk], pools.rep1, timezone.now())
    assert until == {lead.pk: left + dt.timedelta(days=3)}
    assert timezone.is_aware(until[lead.pk])
    assert services._cooling_off(pool, Lead, [lead.pk], pools.rep2, timezone.now()) == {}


def _claim(client: Any, key: str, pool_id: Any, ids: list[int]) -> Any:
    return client.post(
        f"{API}{pool_id}/claim/",
        json.dumps({"ids": ids}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {key}",
    )


def test_api_claim_pool_scope_and_new_rules(pools: Any, client: Any) -> None:
    north = PoolFactory.create(name="华北池", departments=[pools.north])
    east = PoolFactory.create(name="华东池", departments=[pools.east])
    a, b, c = (make_lead() for _ in range(3))
    services.pool_put(pool=north, records=[a, b], by=None)
    services.pool_put(pool=east, records=[c], by=None)
    key = api_token_create(user=pools.rep1, name="t")[1]
    # not a member of the east pool, a pool that does not exist, an id that is no number: 404 alike
    for pool_id in (east.pk, 10**9, "x"):
        response = _claim(client, key, pool_id, [c.pk])
        assert response.status_code == 404, (pool_id, response.content)
    assert Lead.objects.get(pk=c.pk).owner_id is None
    ok = _claim(client, key, north.pk, [a.pk])
    assert ok.status_code == 200 and ok.json()["max_claims_per_day"] is None, ok.content
    # a new rule applies to the next claim (the pool row is kept under the configuration token)
    changed = Pool.objects.get(pk=north.pk)
    changed.max_claims_per_day = 1
    changed.save()
    limit = _claim(client, key, north.pk, [b.pk])
    assert limit.status_code == 400 and limit.json()["code"] == "pool_daily_limit", limit.content
    # a disabled pool is no longer the member's
    changed.max_claims_per_day = None
    changed.is_active = False
    changed.save()
    assert _claim(client, key, north.pk, [b.pk]).status_code == 404
    # an administrator may open every pool; the service still wants a member
    admin_key = api_token_create(user=pools.admin, name="t")[1]
    changed.is_active = True
    changed.save()
    assert _claim(client, admin_key, east.pk, [c.pk]).status_code == 403
    assert Lead.objects.get(pk=b.pk).owner_id is None and Lead.objects.get(pk=a.pk).owner_id == pools.rep1.pk


def test_writes_run_together(pools: Any) -> None:
    pool = PoolFactory.create(departments=[pools.north])
    lead = make_lead()
    at = timezone.now()
    history = [
        PoolHistory(pool=pool, lead=lead, action=PoolAction.CLAIM, to_user=pools.rep1, by=pools.rep1, at=at)
        for _ in range(2)
    ]
    writes = rows.insert_statements(connection, PoolHistory, history)
    writes.append((f"UPDATE {Lead._meta.db_table} SET name = %s WHERE id = %s", ["改名", lead.pk]))
    with CaptureQueriesContext(connection) as ctx:
        rows.execute_together(connection, writes)
    assert len(ctx.captured_queries) == (1 if connection.vendor == "postgresql" else 2)
    assert PoolHistory.objects.filter(lead=lead, action=PoolAction.CLAIM).count() == 2
    assert Lead.objects.get(pk=lead.pk).name == "改名"


def test_claim_of_many_records_at_once(pools: Any) -> None:
    """More rows than SQLite takes parameters in one INSERT: the inserts are split."""
    pool = PoolFactory.create(departments=[pools.north])
    leads = [make_lead() for _ in range(90)]
    services.pool_put(pool=pool, records=leads, by=None)
    out = services.pool_claim(pool=pool, ids=[lead.pk for lead in leads], by=pools.rep2)
    assert len(out) == 90
    assert Lead.objects.filter(owner=pools.rep2).count() == 90
    assert PoolHistory.objects.filter(pool=pool, action=PoolAction.CLAIM, to_user=pools.rep2).count() == 90
    assert (
        ObjectChange.objects.filter(model="sales.lead", action="update", user_id=pools.rep2.pk).count() == 90
    )
    assert TimelineEvent.objects.filter(event=services.EVENT_CLAIMED, actor_id=pools.rep2.pk).count() == 90


@pytest.mark.urls("bench.urls")
def test_bare_reference_claim_of_the_benchmark(pools: Any, client: Any) -> None:
    """bench/bare.py `pool_claim` (the reference bench/pool_claims.py measures Kehu's claim against)
    claims on SQLite and PostgreSQL alike."""
    pool = PoolFactory.create(departments=[pools.north], protection_days=7)
    lead = make_lead()
    services.pool_put(pool=pool, records=[lead], by=None)
    key = api_token_create(user=pools.rep1, name="t")[1]
    url = f"/bench/bare/pools/{pool.pk}/claim/"
    assert _claim_bare(client, url, "nonsense", lead.pk).status_code == 401
    ok = _claim_bare(client, url, key, lead.pk)
    assert ok.status_code == 200 and ok.json() == {"claimed": [lead.pk], "claims_today": 1}, ok.content
    again = _claim_bare(client, url, key, lead.pk)
    assert again.status_code == 409
    fresh = Lead.objects.get(pk=lead.pk)
    assert fresh.owner_id == pools.rep1.pk and fresh.department_id == pools.rep1.department_id
    item = PoolItem.objects.get(lead=lead)
    assert not item.in_pool and item.claimed_by_id == pools.rep1.pk and item.protected_until is not None
    assert PoolHistory.objects.filter(lead=lead, action=PoolAction.CLAIM, to_user=pools.rep1).count() == 1
    assert PoolClaimCounter.objects.get(pool=pool, user=pools.rep1).claims == 1  # the refused one rolled back


def _claim_bare(client: Any, url: str, key: str, pk: int) -> Any:
    return client.post(
        url, json.dumps({"ids": [pk]}), content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}"
    )
