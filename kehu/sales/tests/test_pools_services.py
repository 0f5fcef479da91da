"""Pool services: put, claim, return, assign, transfer; rules (daily claims, records owned,
protection, cooling-off) and recycling with warnings, with time travel."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kehu.audit.models import ObjectChange, TimelineEvent
from kehu.core.errors import PermissionDeniedError
from kehu.customers.tests.factories import AccountFactory, ContactFactory
from kehu.notifications.models import Notification

from ..choices import LeadStatus, PoolAction, PoolKind, RecycleReason
from ..errors import AlreadyClaimedError, PoolLimitError, SalesError
from ..models import Lead, PoolClaimCounter, PoolHistory, PoolItem
from ..services.pools import (
    pool_assign,
    pool_claim,
    pool_put,
    pool_recycle_due,
    pool_recycle_preview,
    pool_return,
    pool_transfer,
)
from .pool_fixtures import PoolFactory, clock, make_lead, pools, won_opportunity  # noqa: F401

# ruff: noqa: F811  (the fixtures above are used as test arguments)

pytestmark = pytest.mark.django_db


def _pool(c: Any, **rules: Any) -> Any:
    return PoolFactory.create(departments=[c.north], admins=[c.manager1], **rules)


def _in_pool(pool: Any, n: int = 1, **kw: Any) -> list[Lead]:
    leads = [make_lead(owner=None, **kw) for _ in range(n)]
    pool_put(pool=pool, records=leads, by=None)
    return leads


def _fresh(lead: Lead) -> Lead:
    return Lead.objects.select_related("pool_item").get(pk=lead.pk)


# --- put ----------------------------------------------------------------------------------------


def test_put_clears_the_owner_and_records_history(pools: Any) -> None:
    pool = _pool(pools)
    lead = make_lead(owner=pools.rep1)
    assert pool_put(pool=pool, records=[lead], by=pools.manager1, reason="wrong region") == 1
    lead = _fresh(lead)
    assert lead.owner_id is None and lead.department_id is None and lead.owned_since is None
    assert lead.pool_item.in_pool and lead.pool_item.pool == pool
    h = PoolHistory.objects.get(lead=lead)
    assert (h.action, h.from_user, h.by, h.reason) == (
        PoolAction.ENTER,
        pools.rep1,
        pools.manager1,
        "wrong region",
    )
    event = TimelineEvent.objects.get(model="sales.lead", object_id=lead.pk, event="pool.entered")
    assert event.data["pool"] == pool.name
    assert ObjectChange.objects.filter(
        model="sales.lead", object_id=lead.pk, changes__has_key="owner"
    ).exists()


def test_put_refuses_the_wrong_kind_and_converted_leads(pools: Any) -> None:
    pool = _pool(pools)
    with pytest.raises(SalesError):
        pool_put(pool=pool, records=[AccountFactory.create(owner=pools.rep1)], by=None)
    converted = make_lead(owner=pools.rep1, status=LeadStatus.CONVERTED)
    with pytest.raises(SalesError):
        pool_put(pool=pool, records=[converted], by=None)
    assert not PoolItem.objects.exists()


# --- claim --------------------------------------------------------------------------------------


def test_member_claims_several_at_once(pools: Any) -> None:
    pool = _pool(pools, protection_days=3)
    a, b = _in_pool(pool, 2)
    claimed = pool_claim(pool=pool, ids=[a.pk, b.pk, a.pk], by=pools.rep1)
    assert {r.pk for r in claimed} == {a.pk, b.pk}
    for lead in (a, b):
        lead = _fresh(lead)
        assert lead.owner == pools.rep1 and lead.department == pools.north and lead.owned_since is not None
        item = lead.pool_item
        assert not item.in_pool and item.claimed_by == pools.rep1
        assert item.protected_until is not None and item.claimed_at is not None
        assert item.protected_until - item.claimed_at == dt.timedelta(days=3)
    assert PoolHistory.objects.filter(action=PoolAction.CLAIM, to_user=pools.rep1, by=pools.rep1).count() == 2
    assert TimelineEvent.objects.filter(event="pool.claimed").count() == 2
    assert PoolClaimCounter.objects.get(pool=pool, user=pools.rep1).claims == 2
    # The rep sees the leads now as their own.
    assert set(Lead.objects.restrict(pools.rep1, "view").values_list("pk", flat=True)) == {a.pk, b.pk}


def test_members_see_the_pool_and_outsiders_do_not(pools: Any) -> None:
    pool = _pool(pools)
    (lead,) = _in_pool(pool)
    assert Lead.objects.restrict(pools.rep1, "view").filter(pk=lead.pk).exists()
    assert not Lead.objects.restrict(pools.rep1, "change").filter(pk=lead.pk).exists()
    assert not Lead.objects.restrict(pools.rep3, "view").filter(pk=lead.pk).exists()  # 华东区
    assert not Lead.objects.restrict(pools.nobody, "view").filter(pk=lead.pk).exists()  # no lead grant
    with pytest.raises(PermissionDeniedError):
        pool_claim(pool=pool, ids=[lead.pk], by=pools.rep3)
    with pytest.raises(PermissionDeniedError):
        pool_claim(pool=pool, ids=[lead.pk], by=pools.nobody)
    assert _fresh(lead).pool_item.in_pool


def test_claiming_a_claimed_record_says_so_and_changes_nothing(pools: Any) -> None:
    pool = _pool(pools)
    a, b = _in_pool(pool, 2)
    pool_claim(pool=pool, ids=[a.pk], by=pools.rep1)
    with pytest.raises(AlreadyClaimedError) as exc:
        pool_claim(pool=pool, ids=[b.pk, a.pk], by=pools.rep2)
    assert exc.value.status == 409 and str(a) in str(exc.value.message)
    assert _fresh(b).pool_item.in_pool and _fresh(b).owner is None  # all or nothing
    assert _fresh(a).owner == pools.rep1


def test_unknown_ids_and_bad_input(pools: Any) -> None:
    pool = _pool(pools)
    other = PoolFactory.create(departments=[pools.north])
    (lead,) = _in_pool(other)
    with pytest.raises(AlreadyClaimedError):  # moved to another pool meanwhile
        pool_claim(pool=pool, ids=[lead.pk], by=pools.rep1)
    owned = make_lead(owner=pools.rep2)
    for pk in (owned.pk, 999999):
        with pytest.raises(SalesError) as exc:
            pool_claim(pool=pool, ids=[pk], by=pools.rep1)
        assert exc.value.code == "not_in_pool" and exc.value.status == 400
    for bad in ([], ["x"], list(range(1, 300))):
        with pytest.raises(SalesError) as exc:
            pool_claim(pool=pool, ids=bad, by=pools.rep1)
        assert "ids" in exc.value.fields


def test_daily_claim_limit(pools: Any, clock: Any) -> None:
    pool = _pool(pools, max_claims_per_day=2)
    leads = _in_pool(pool, 4)
    pool_claim(pool=pool, ids=[leads[0].pk], by=pools.rep1)
    with pytest.raises(PoolLimitError) as exc:
        pool_claim(pool=pool, ids=[leads[1].pk, leads[2].pk], by=pools.rep1)
    assert exc.value.code == "pool_daily_limit" and "1" in str(exc.value.message)
    assert _fresh(leads[1]).owner is None
    pool_claim(pool=pool, ids=[leads[1].pk], by=pools.rep1)
    with pytest.raises(PoolLimitError):
        pool_claim(pool=pool, ids=[leads[2].pk], by=pools.rep1)
    pool_claim(pool=pool, ids=[leads[2].pk], by=pools.rep2)  # per user
    clock.travel(days=1)
    pool_claim(pool=pool, ids=[leads[3].pk], by=pools.rep1)  # a new day
    assert Lead.objects.filter(owner=pools.rep1).count() == 3


def test_owned_limit_counts_open_leads_from_any_source(pools: Any) -> None:
    pool = _pool(pools, max_owned=3)
    make_lead(owner=pools.rep1)  # owned outside the pool
    make_lead(owner=pools.rep1, status=LeadStatus.CONVERTED)  # not open
    leads = _in_pool(pool, 3)
    pool_claim(pool=pool, ids=[leads[0].pk], by=pools.rep1)
    with pytest.raises(PoolLimitError) as exc:
        pool_claim(pool=pool, ids=[leads[1].pk, leads[2].pk], by=pools.rep1)
    assert exc.value.code == "pool_owned_limit" and "3" in str(exc.value.message)
    pool_claim(pool=pool, ids=[leads[1].pk], by=pools.rep1)
    assert Lead.objects.filter(owner=pools.rep1, status=LeadStatus.NEW).count() == 3


def test_cooling_off_after_a_return(pools: Any, clock: Any) -> None:
    pool = _pool(pools, cooling_off_days=7)
    (lead,) = _in_pool(pool)
    pool_claim(pool=pool, ids=[lead.pk], by=pools.rep1)
    clock.travel(days=1)
    pool_return(records=[_fresh(lead)], by=pools.rep1, reason="")
    clock.travel(days=6, hours=23)
    with pytest.raises(PoolLimitError) as exc:
        pool_claim(pool=pool, ids=[lead.pk], by=pools.rep1)
    assert exc.value.code == "pool_cooling_off" and "2026-03-10" in str(exc.value.message)
    clock.travel(hours=1, minutes=1)
    pool_claim(pool=pool, ids=[lead.pk], by=pools.rep1)
    assert _fresh(lead).owner == pools.rep1


def test_cooling_off_binds_only_the_previous_owner(pools: Any) -> None:
    pool = _pool(pools, cooling_off_days=7)
    lead = make_lead(owner=pools.rep1)
    pool_put(pool=pool, records=[lead], by=pools.manager1)
    with pytest.raises(PoolLimitError):
        pool_claim(pool=pool, ids=[lead.pk], by=pools.rep1)
    pool_claim(pool=pool, ids=[lead.pk], by=pools.rep2)


# --- return, assign, transfer --------------------------------------------------------------------


def test_return_needs_owner_or_manager_and_a_reason(pools: Any) -> None:
    pool = _pool(pools, return_reason_required=True)
    (lead,) = _in_pool(pool)
    pool_claim(pool=pool, ids=[lead.pk], by=pools.rep1)
    lead = _fresh(lead)
    with pytest.raises(PermissionDeniedError):
        pool_return(records=[lead], by=pools.rep2, reason="x")
    with pytest.raises(SalesError) as exc:
        pool_return(records=[lead], by=pools.rep1, reason="  ")
    assert exc.value.code == "reason_required" and "reason" in exc.value.fields
    assert _fresh(lead).owner == pools.rep1
    assert pool_return(records=[lead], by=pools.manager1, reason="客户无意向") == 1
    lead = _fresh(lead)
    assert lead.owner is None and lead.pool_item.in_pool
    h = PoolHistory.objects.filter(lead=lead, action=PoolAction.RETURN).get()
    assert (h.from_user, h.by, h.reason) == (pools.rep1, pools.manager1, "客户无意向")
    with pytest.raises(AlreadyClaimedError):
        pool_return(records=[lead], by=pools.manager1, reason="again")


def test_return_of_a_record_without_a_home_pool(pools: Any) -> None:
    pool = _pool(pools)
    lead = make_lead(owner=pools.rep1)
    with pytest.raises(SalesError) as exc:
        pool_return(records=[lead], by=pools.rep1)
    assert exc.value.code == "no_pool"
    assert pool_return(records=[lead], by=pools.rep1, pool=pool) == 1
    assert _fresh(lead).pool_item.pool == pool


def test_assign_by_pool_admin_or_manager(pools: Any) -> None:
    pool = _pool(pools, max_owned=0, max_claims_per_day=0)
    a, b = _in_pool(pool, 2)
    with pytest.raises(PermissionDeniedError):
        pool_assign(pool=pool, ids=[a.pk], to=pools.rep2, by=pools.rep1)
    pool_assign(pool=pool, ids=[a.pk], to=pools.rep2, by=pools.manager1)  # limits do not bind
    assert _fresh(a).owner == pools.rep2
    h = PoolHistory.objects.get(lead=a, action=PoolAction.ASSIGN)
    assert (h.to_user, h.by) == (pools.rep2, pools.manager1)
    pools.manager1.is_active = False
    pools.manager1.save()
    with pytest.raises(SalesError) as exc:
        pool_assign(pool=pool, ids=[b.pk], to=pools.manager1, by=pools.admin)
    assert "to" in exc.value.fields
    with pytest.raises(SalesError):
        pool_assign(pool=pool, ids=[b.pk], to=pools.nobody, by=pools.admin)  # may not see leads


def test_transfer_between_pools_of_the_same_kind(pools: Any) -> None:
    pool = _pool(pools)
    other = PoolFactory.create(departments=[pools.east])
    accounts = PoolFactory.create(kind=PoolKind.ACCOUNT)
    (lead,) = _in_pool(pool)
    with pytest.raises(PermissionDeniedError):
        pool_transfer(records=[lead], to_pool=other, by=pools.rep1)
    with pytest.raises(SalesError):
        pool_transfer(records=[lead], to_pool=accounts, by=pools.manager1)
    assert pool_transfer(records=[lead], to_pool=other, by=pools.manager1, reason="华东客户") == 1
    lead = _fresh(lead)
    assert lead.pool_item.pool == other and lead.pool_item.in_pool
    h = PoolHistory.objects.get(lead=lead, action=PoolAction.TRANSFER)
    assert (h.pool, h.to_pool) == (pool, other)
    assert Lead.objects.restrict(pools.rep3, "view").filter(pk=lead.pk).exists()
    assert not Lead.objects.restrict(pools.rep1, "view").filter(pk=lead.pk).exists()


# --- accounts -------------------------------------------------------------------------------------


def test_account_pool_contacts_follow_the_owner(pools: Any) -> None:
    pool = PoolFactory.create(kind=PoolKind.ACCOUNT, departments=[pools.north], admins=[pools.manager1])
    account = AccountFactory.create(owner=pools.rep1)
    contact = ContactFactory.create(account=account, owner=pools.rep1)
    pool_put(pool=pool, records=[account], by=pools.manager1)
    contact.refresh_from_db()
    assert contact.owner is None
    account.refresh_from_db()
    assert account.owner is None
    pool_claim(pool=pool, ids=[account.pk], by=pools.rep2)
    contact.refresh_from_db()
    account.refresh_from_db()
    assert account.owner == pools.rep2 and contact.owner == pools.rep2 and contact.department == pools.north
    assert TimelineEvent.objects.filter(event="pool.claimed", account_id=account.pk).exists()


# --- recycling ------------------------------------------------------------------------------------


def test_recycling_no_follow_up_with_warning_and_protection(pools: Any, clock: Any) -> None:
    pool = _pool(pools, recycle_no_follow_up_days=10, recycle_warning_days=3, protection_days=12)
    (lead,) = _in_pool(pool)
    pool_claim(pool=pool, ids=[lead.pk], by=pools.rep1)
    claimed_at = clock.now
    # Day 8: no follow-up for 8 days, but protected until day 12: the warning comes at day 9.
    clock.travel(days=8)
    assert pool_recycle_due() == 0
    assert not Notification.objects.exists()
    clock.travel(days=1, minutes=1)
    assert pool_recycle_due() == 0
    (note,) = Notification.objects.all()
    assert (
        note.recipient == pools.rep1
        and note.kind == "sales.pool_recycle_warning"
        and "2026-03-14" in note.title
    )
    pool_recycle_due()  # once per ownership
    assert Notification.objects.count() == 1
    preview = pool_recycle_preview(pool=pool, on=dt.date(2026, 3, 14))
    assert [(d.record.pk, d.reason, d.due_at) for d in preview] == [
        (lead.pk, RecycleReason.NO_FOLLOW_UP, claimed_at + dt.timedelta(days=12))
    ]
    assert pool_recycle_preview(pool=pool, on=dt.date(2026, 3, 13)) == []
    clock.travel(days=3)
    assert pool_recycle_due() == 1
    lead = _fresh(lead)
    assert lead.owner is None and lead.pool_item.in_pool and lead.pool_item.warned_at is None
    h = PoolHistory.objects.get(lead=lead, action=PoolAction.RECYCLE)
    assert (h.from_user, h.by, h.recycle_reason) == (pools.rep1, None, RecycleReason.NO_FOLLOW_UP)
    assert Notification.objects.filter(kind="sales.pool_recycled", recipient=pools.rep1).count() == 1
    assert pool_recycle_due() == 0  # idempotent


def test_follow_up_postpones_recycling(pools: Any, clock: Any) -> None:
    pool = _pool(pools, recycle_no_follow_up_days=5)
    (lead,) = _in_pool(pool)
    pool_claim(pool=pool, ids=[lead.pk], by=pools.rep1)
    clock.travel(days=4)
    Lead.objects.filter(pk=lead.pk).update(last_activity_at=clock.now)
    clock.travel(days=4)
    assert pool_recycle_due() == 0
    clock.travel(days=1, minutes=1)
    assert pool_recycle_due() == 1


def test_recycling_not_converted_and_converted_leads_stay(pools: Any, clock: Any) -> None:
    pool = _pool(pools, recycle_not_converted_days=30)
    a, b = _in_pool(pool, 2)
    pool_claim(pool=pool, ids=[a.pk, b.pk], by=pools.rep1)
    Lead.objects.filter(pk=b.pk).update(status=LeadStatus.CONVERTED)
    clock.travel(days=29)
    Lead.objects.filter(pk=a.pk).update(last_activity_at=clock.now)  # activity does not help here
    assert pool_recycle_due() == 0
    clock.travel(days=1, seconds=1)
    assert pool_recycle_due() == 1
    assert _fresh(a).owner is None and _fresh(b).owner == pools.rep1
    assert (
        PoolHistory.objects.get(lead=a, action=PoolAction.RECYCLE).recycle_reason
        == RecycleReason.NOT_CONVERTED
    )


def test_account_recycling_spares_won_accounts(pools: Any, clock: Any) -> None:
    pool = PoolFactory.create(kind=PoolKind.ACCOUNT, departments=[pools.north], recycle_not_converted_days=30)
    a = AccountFactory.create(owner=None)
    b = AccountFactory.create(owner=None)
    pool_put(pool=pool, records=[a, b], by=None)
    pool_claim(pool=pool, ids=[a.pk, b.pk], by=pools.rep1)
    clock.travel(days=10)
    won_opportunity(owner=pools.rep1, account=b, closed_at=clock.now)
    clock.travel(days=21)
    assert [d.record.pk for d in pool_recycle_preview(pool=pool, on=clock.now.date())] == [a.pk]
    assert pool_recycle_due() == 1
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.owner is None and b.owner == pools.rep1


def test_recycled_record_cools_off_for_its_previous_owner(pools: Any, clock: Any) -> None:
    pool = _pool(pools, recycle_no_follow_up_days=2, cooling_off_days=5)
    (lead,) = _in_pool(pool)
    pool_claim(pool=pool, ids=[lead.pk], by=pools.rep1)
    clock.travel(days=2, minutes=1)
    assert pool_recycle_due() == 1
    with pytest.raises(PoolLimitError):
        pool_claim(pool=pool, ids=[lead.pk], by=pools.rep1)
    clock.travel(days=5)
    pool_claim(pool=pool, ids=[lead.pk], by=pools.rep1)


def test_a_new_claim_resets_the_warning(pools: Any, clock: Any) -> None:
    pool = _pool(pools, recycle_no_follow_up_days=5, recycle_warning_days=2)
    (lead,) = _in_pool(pool)
    pool_claim(pool=pool, ids=[lead.pk], by=pools.rep1)
    clock.travel(days=3, minutes=1)
    pool_recycle_due()
    assert _fresh(lead).pool_item.warned_at is not None
    pool_return(records=[_fresh(lead)], by=pools.rep1)
    pool_claim(pool=pool, ids=[lead.pk], by=pools.rep2)
    assert _fresh(lead).pool_item.warned_at is None
    clock.travel(days=3, minutes=1)
    pool_recycle_due()
    assert Notification.objects.filter(kind="sales.pool_recycle_warning").count() == 2


def test_recycling_rechecks_each_record_under_its_lock(pools: Any, clock: Any) -> None:
    """A follow-up logged after the job listed the due records keeps that record, even though
    another record of the pool is still due."""
    from ..services.pools import _due, _recycle_one

    pool = _pool(pools, recycle_no_follow_up_days=5)
    a, b = _in_pool(pool, 2)
    pool_claim(pool=pool, ids=[a.pk, b.pk], by=pools.rep1)
    clock.travel(days=6)
    due = {d.record.pk: d for d in _due(pool, clock.now)}
    assert set(due) == {a.pk, b.pk}
    Lead.objects.filter(pk=a.pk).update(last_activity_at=clock.now)  # a follow-up meanwhile
    assert not _recycle_one(pool, due[a.pk], clock.now)
    assert _recycle_one(pool, due[b.pk], clock.now)
    assert _fresh(a).owner == pools.rep1 and _fresh(b).owner is None
