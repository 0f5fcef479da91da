"""Parallel claims on PostgreSQL, each thread on its own connection, all starting at once: one
record claimed by 20 users gets exactly one owner (the others hear it was just claimed); one user's
parallel claims never break the daily limit or the records-owned limit."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from kehu.core.tests.test_sequences import database_for_threads, in_thread
from kehu.users.tests.factories import UserFactory

from ..errors import AlreadyClaimedError, PoolLimitError
from ..models import Lead, PoolClaimCounter, PoolHistory
from ..services.pools import pool_claim, pool_put
from .pool_fixtures import PoolFactory, make_lead, pools  # noqa: F401

# ruff: noqa: F811  (the fixtures above are used as test arguments)


def _race(n: int, work: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    barrier = threading.Barrier(n)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        try:
            barrier.wait()
            out = work(i)
            with lock:
                results.append(out)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_users_claim_one_record(pools: Any, tmp_path: Path) -> None:
    pool = PoolFactory.create(departments=[pools.north])
    users = [
        UserFactory.create(username=f"racer{i}", department=pools.north, roles=[pools.role_rep])
        for i in range(20)
    ]
    lead = make_lead()
    pool_put(pool=pool, records=[lead], by=None)

    with database_for_threads(tmp_path):
        results, errors = _race(20, lambda i: pool_claim(pool=pool, ids=[lead.pk], by=users[i]))
        owner_id = in_thread(lambda: Lead.objects.get(pk=lead.pk).owner_id)
        claims = in_thread(lambda: PoolHistory.objects.filter(lead_id=lead.pk, action="claim").count())

    assert len(results) == 1 and len(errors) == 19
    assert all(isinstance(e, AlreadyClaimedError) for e in errors), errors
    assert all(
        "just claimed by someone else" in str(e.message) for e in errors if isinstance(e, AlreadyClaimedError)
    )
    assert owner_id == results[0][0].owner_id and owner_id in {u.pk for u in users}
    assert claims == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_users_parallel_claims_keep_the_daily_limit(pools: Any, tmp_path: Path) -> None:
    pool = PoolFactory.create(departments=[pools.north], max_claims_per_day=5)
    leads = [make_lead() for _ in range(12)]
    pool_put(pool=pool, records=leads, by=None)

    with database_for_threads(tmp_path):
        results, errors = _race(12, lambda i: pool_claim(pool=pool, ids=[leads[i].pk], by=pools.rep1))
        owned = in_thread(lambda: Lead.objects.filter(owner=pools.rep1).count())
        counter = in_thread(lambda: PoolClaimCounter.objects.get(pool=pool, user=pools.rep1).claims)

    assert len(results) == 5 and owned == 5 and counter == 5
    assert len(errors) == 7 and all(
        isinstance(e, PoolLimitError) and e.code == "pool_daily_limit" for e in errors
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_users_parallel_claims_across_pools_keep_the_owned_limit(pools: Any, tmp_path: Path) -> None:
    """Two pools with "at most 4 open leads": 10 parallel claims of pairs of leads from both pools."""
    first = PoolFactory.create(departments=[pools.north], max_owned=4)
    second = PoolFactory.create(departments=[pools.north], max_owned=4)
    make_lead(owner=pools.rep1)  # one owned already
    leads = [make_lead() for _ in range(20)]
    pool_put(pool=first, records=leads[:10], by=None)
    pool_put(pool=second, records=leads[10:], by=None)

    def work(i: int) -> Any:
        pool, batch = (first, leads[i : i + 1]) if i % 2 == 0 else (second, leads[10 + i : 11 + i])
        return pool_claim(pool=pool, ids=[r.pk for r in batch], by=pools.rep1)

    with database_for_threads(tmp_path):
        results, errors = _race(10, work)
        owned = in_thread(lambda: Lead.objects.filter(owner=pools.rep1).count())

    assert owned == 4 and len(results) == 3
    assert len(errors) == 7 and all(
        isinstance(e, PoolLimitError) and e.code == "pool_owned_limit" for e in errors
    )
