"""The set-based writers of kehu.core.bulksql on both databases: every row written as given,
conflicts skipped on request, nothing else touched."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.db import IntegrityError, connection, transaction

from kehu.core.bulksql import filter_in, insert_rows, update_by_id
from kehu.core.models import Sequence

pytestmark = pytest.mark.django_db

TABLE = "kehu_bulk_probe"


@pytest.fixture
def table() -> Iterator[str]:
    stamp = "timestamp with time zone" if connection.vendor == "postgresql" else "datetime"
    with connection.cursor() as cur:
        cur.execute(f"CREATE TABLE {TABLE} (id integer PRIMARY KEY, key varchar(20) UNIQUE, at {stamp} NULL)")
    yield TABLE


def _read() -> dict[int, tuple[str, dt.datetime | None]]:
    with connection.cursor() as cur:
        cur.execute(f"SELECT id, key, at FROM {TABLE}")
        return {pk: (key, at) for pk, key, at in cur.fetchall()}


def _at(hour: int) -> object:
    return connection.ops.adapt_datetimefield_value(dt.datetime(2026, 3, 4, hour, tzinfo=dt.UTC))


def _hour(value: dt.datetime | None) -> int | None:
    """The UTC hour (SQLite gives back naive UTC datetimes, PostgreSQL aware ones)."""
    if value is None:
        return None
    return value.hour if value.tzinfo is None else value.astimezone(dt.UTC).hour


def test_insert_rows_then_update_by_id(table: str) -> None:
    insert_rows(table, ["id", "key", "at"], [(1, "a", _at(9)), (2, "b", None), (3, "c", _at(10))])
    update_by_id(table, "at", [(_at(11), 1), (_at(12), 2)], pg_type="timestamptz")
    got = {pk: (key, _hour(at)) for pk, (key, at) in _read().items()}
    assert got == {1: ("a", 11), 2: ("b", 12), 3: ("c", 10)}


def test_insert_rows_skips_conflicts_only_on_request(table: str) -> None:
    insert_rows(table, ["id", "key"], [(1, "a"), (2, "b")])
    insert_rows(table, ["id", "key"], [(3, "a"), (4, "d")], ignore_conflicts=True)
    assert {pk: key for pk, (key, _at) in _read().items()} == {1: "a", 2: "b", 4: "d"}
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(table, ["id", "key"], [(5, "b")])


def test_filter_in_matches_the_orms_in() -> None:
    rows = [Sequence.objects.create(key=f"bulk-{i}") for i in range(4)]
    wanted = [rows[0].pk, rows[3].pk, 10**9]
    assert sorted(filter_in(Sequence.objects.all(), "id", wanted).values_list("pk", flat=True)) == sorted(
        Sequence.objects.filter(pk__in=wanted).values_list("pk", flat=True)
    )
