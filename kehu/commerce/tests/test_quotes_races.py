"""Parallel quote creation on PostgreSQL: 16 clients at once never repeat or skip a number."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from kehu.core.tests.test_sequences import database_for_threads, in_thread

from ..models import Quote
from ..services.quotes import quote_create
from .quote_fixtures import world  # noqa: F401

# ruff: noqa: F811


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sixteen_parallel_creates_get_unique_contiguous_numbers(world: Any, tmp_path: Path) -> None:
    n = 16
    barrier = threading.Barrier(n)
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    users = [world.rep1, world.rep2, world.manager1, world.director]

    def worker(i: int) -> None:
        try:
            barrier.wait()
            quote = quote_create(by=users[i % len(users)], account=world.account)
            with lock:
                numbers.append(quote.number)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    with database_for_threads(tmp_path):
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stored = in_thread(lambda: list(Quote.objects.values_list("number", flat=True)))

    assert not errors, errors
    assert len(numbers) == n and len(set(numbers)) == n and sorted(stored) == sorted(numbers)
    values = sorted(int(re.findall(r"\d+", number)[-1]) for number in numbers)
    assert values == list(range(values[0], values[0] + n))
