"""`kehu.core.bulksql`: one-parameter set membership on both databases."""

from __future__ import annotations

import pytest
from django.db import connection

from kehu.core.bulksql import select_rows, values_in
from kehu.core.models import Sequence

pytestmark = pytest.mark.django_db


def _names(values: list[str]) -> set[str]:
    where, params = values_in(connection.ops.quote_name("key"), values)
    sql = f"SELECT {connection.ops.quote_name('key')} FROM {Sequence._meta.db_table} WHERE {where}"
    return {row[0] for row in select_rows(sql, params)}


def test_values_in_matches_exactly_the_given_values() -> None:
    for name in ("a", "b'quote", "客户-1", 'x"y', "tail "):
        Sequence.objects.create(key=name)
    assert _names(["a", "客户-1", "missing", "b'quote", 'x"y']) == {"a", "客户-1", "b'quote", 'x"y'}
    assert _names(["tail"]) == set()  # no trimming, no case folding
    assert _names([]) == set()


def test_values_in_takes_thousands_of_values() -> None:
    Sequence.objects.create(key="n-4999")
    assert _names([f"n-{i}" for i in range(5000)]) == {"n-4999"}
