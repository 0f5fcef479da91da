"""Parallel taggers, each thread on its own connection (PostgreSQL as is; SQLite through a file copy
of the test database, see `kehu.core.tests.test_sequences.database_for_threads`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from kehu.core.tests.test_sequences import database_for_threads, in_thread
from kehu.customers.models import Account
from kehu.customers.tests.factories import AccountFactory

from .. import services
from ..models import TaggedItem
from .factories import TagFactory, TagGroupFactory


def _run_parallel(
    fns: list[Callable[[], Any]], tmp_path: Path, read: Callable[[], Any]
) -> tuple[list[Any], Any]:
    barrier = threading.Barrier(len(fns))
    errors: list[BaseException] = []

    def worker(fn: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            fn()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    with database_for_threads(tmp_path):
        threads = [threading.Thread(target=worker, args=(fn,)) for fn in fns]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        result = in_thread(read)
    return errors, result


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_bulk_adds_insert_each_tag_once(sales: Any, tmp_path: Path) -> None:
    ids = [a.pk for a in AccountFactory.create_batch(20, owner=sales.rep1)]
    vip = TagFactory.create()
    errors, count = _run_parallel(
        [lambda: services.tags_add(model=Account, ids=ids, tags=[vip.pk], by=sales.rep1) for _ in range(6)],
        tmp_path,
        lambda: TaggedItem.objects.count(),
    )
    assert errors == []
    assert count == 20


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_exclusive_tags_leave_one(sales: Any, tmp_path: Path) -> None:
    ids = [a.pk for a in AccountFactory.create_batch(10, owner=sales.rep1)]
    group = TagGroupFactory.create(exclusive=True)
    tags = [TagFactory.create(group=group) for _ in range(4)]

    def adder(tag_id: int) -> Callable[[], Any]:
        return lambda: services.tags_add(model=Account, ids=ids, tags=[tag_id], by=sales.rep1)

    errors, per_record = _run_parallel(
        [adder(t.pk) for t in tags],
        tmp_path,
        lambda: sorted(
            TaggedItem.objects.filter(model="customers.account").values_list("object_id", flat=True)
        ),
    )
    assert errors == []
    assert per_record == sorted(ids)  # exactly one tag of the group on each record
