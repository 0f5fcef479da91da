"""The index stays in step when a savepoint that flushed the queue is rolled back: a search inside
a write's transaction indexes the records saved so far; if a later part of that transaction (its
savepoint) fails, the entries written there are gone, and the records saved before it must be
indexed again (the same fix as the dedup app's keys)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction

from kehu.core import search
from kehu.customers.models import Account
from kehu.customers.tests.factories import AccountFactory
from kehu.search import services
from kehu.search.models import SearchEntry


def _found(user: Any, q: str) -> list[str]:
    return [h.title for g in search.search(user, q, limit=5) if g.key == "customers.account" for h in g.hits]


def _entry(account: Account) -> bool:
    return SearchEntry.objects.filter(model="customers.account", object_id=account.pk).exists()


@pytest.mark.django_db
def test_entries_flushed_in_a_rolled_back_savepoint_are_written_again(sales: Any) -> None:
    account = AccountFactory.create(owner=sales.rep1, name="宁德时代新能源")
    with pytest.raises(RuntimeError), transaction.atomic():
        assert _found(sales.rep1, "宁德时代") == ["宁德时代新能源"]  # flushes inside the savepoint
        raise RuntimeError
    assert not _entry(account)  # the savepoint took the entry with it …
    assert _found(sales.rep1, "宁德时代") == ["宁德时代新能源"]  # … and the next flush writes it again
    assert _entry(account)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_commit_after_a_rolled_back_flush_and_an_aborted_savepoint_keeps_the_index(sales: Any) -> None:
    """On PostgreSQL a failed statement aborts its savepoint: the flush queued for the commit must
    still index the record saved before it."""
    with transaction.atomic():
        account = AccountFactory.create(owner=sales.rep1, name="比亚迪汽车工业")
        with pytest.raises(RuntimeError), transaction.atomic():
            services.search_index_flush()
            assert _entry(account)
            raise RuntimeError
        with pytest.raises(IntegrityError), transaction.atomic():
            SearchEntry.objects.create(model="x.y", object_id=1)  # a duplicate key aborts the savepoint
            SearchEntry.objects.create(model="x.y", object_id=1)
    # committed: the on-commit flush re-indexed what the rolled-back savepoint lost
    assert _entry(account)
    assert _found(sales.rep1, "比亚迪") == ["比亚迪汽车工业"]
