"""Document numbers: formats, resets and parallel callers."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections

from kehu.core.choices import SequenceReset
from kehu.core.models import Sequence
from kehu.core.services import sequence_next

D = dt.date


@pytest.mark.django_db
def test_default_format_and_prefix_from_the_key() -> None:
    assert sequence_next(key="quote", today=D(2026, 5, 1)) == "Q-2026-00001"
    assert sequence_next(key="quote", today=D(2026, 5, 2)) == "Q-2026-00002"
    assert sequence_next(key="order", prefix="SO", today=D(2026, 5, 2)) == "SO-2026-00001"
    seq = Sequence.objects.get(key="quote")
    assert (seq.prefix, seq.period, seq.last_value, seq.reset) == ("Q", "2026", 2, SequenceReset.YEARLY)


@pytest.mark.django_db
def test_yearly_reset() -> None:
    assert sequence_next(key="quote", today=D(2026, 12, 31)) == "Q-2026-00001"
    assert sequence_next(key="quote", today=D(2026, 12, 31)) == "Q-2026-00002"
    assert sequence_next(key="quote", today=D(2027, 1, 1)) == "Q-2027-00001"


@pytest.mark.django_db
def test_monthly_reset_with_a_month_pattern() -> None:
    Sequence.objects.create(
        key="order", prefix="SO", pattern="{prefix}{yyyy}{mm}-{n:04d}", reset=SequenceReset.MONTHLY
    )
    assert sequence_next(key="order", today=D(2026, 1, 31)) == "SO202601-0001"
    assert sequence_next(key="order", today=D(2026, 1, 31)) == "SO202601-0002"
    assert sequence_next(key="order", today=D(2026, 2, 1)) == "SO202602-0001"
    assert sequence_next(key="order", today=D(2027, 2, 1)) == "SO202702-0001"  # same month, next year


@pytest.mark.django_db
def test_daily_reset_with_a_short_year() -> None:
    Sequence.objects.create(
        key="daily", prefix="T", pattern="{prefix}{yy}{mm}{dd}{n:03d}", reset=SequenceReset.DAILY
    )
    assert sequence_next(key="daily", today=D(2026, 7, 9)) == "T260709001"
    assert sequence_next(key="daily", today=D(2026, 7, 9)) == "T260709002"
    assert sequence_next(key="daily", today=D(2026, 7, 10)) == "T260710001"


@pytest.mark.django_db
def test_never_reset_and_empty_prefix() -> None:
    Sequence.objects.create(
        key="invoice", prefix="", pattern="{prefix}-{yyyy}-{n:05d}", reset=SequenceReset.NEVER
    )
    assert sequence_next(key="invoice", today=D(2026, 12, 31)) == "2026-00001"
    assert sequence_next(key="invoice", today=D(2027, 1, 1)) == "2027-00002"  # the counter goes on


@pytest.mark.django_db
def test_numbers_grow_past_the_padding() -> None:
    Sequence.objects.create(key="big", prefix="B", last_value=99999, period="2026")
    assert sequence_next(key="big", today=D(2026, 1, 1)) == "B-2026-100000"


@contextlib.contextmanager
def database_for_threads(tmp_path: Path) -> Iterator[None]:
    """Threads need a database they can share. PostgreSQL: the test database as it is. SQLite: the
    in-memory test database cannot be shared between connections with the locking production
    relies on (shared-cache tables answer "table is locked" at once instead of waiting), so it is
    copied to a file, which new connections then use exactly as in production: WAL, a busy timeout
    and IMMEDIATE transactions."""
    if connection.vendor != "sqlite" or not getattr(connection, "is_in_memory_db", lambda: False)():
        yield
        return
    path = tmp_path / "race.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    settings_dict = connections.settings[DEFAULT_DB_ALIAS]
    name = settings_dict["NAME"]
    settings_dict["NAME"] = str(path)
    try:
        yield
    finally:
        settings_dict["NAME"] = name


def in_thread(fn: Callable[[], Any]) -> Any:
    """Run `fn` on a fresh thread (a fresh connection) and return its result."""
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(fn())
        finally:
            connections.close_all()

    t = threading.Thread(target=run)
    t.start()
    t.join()
    return out[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_callers_never_get_the_same_number(tmp_path: Path) -> None:
    """8 threads × 25 numbers, each thread on its own connection, all starting at once (the first
    calls race to create the sequence row too): all 200 numbers distinct and contiguous."""
    threads_n, per_thread = 8, 25
    barrier = threading.Barrier(threads_n)
    results: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait()
            mine = [sequence_next(key="race", today=D(2026, 4, 1)) for _ in range(per_thread)]
            with lock:
                results.extend(mine)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    with database_for_threads(tmp_path):
        threads = [threading.Thread(target=worker) for _ in range(threads_n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        last_value = in_thread(lambda: Sequence.objects.get(key="race").last_value)

    assert errors == []
    expected = [f"R-2026-{n:05d}" for n in range(1, threads_n * per_thread + 1)]
    assert sorted(results) == expected
    assert len(set(results)) == threads_n * per_thread
    assert last_value == threads_n * per_thread
