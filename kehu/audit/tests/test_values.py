from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kehu.audit.values import diff_json, json_safe

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.datetimes(timezones=st.sampled_from([dt.UTC, None])),
    st.dates(),
    st.times(),
    st.timedeltas(),
    st.uuids(),
    st.binary(max_size=20),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=5), children, max_size=4),
        st.frozensets(st.integers(), max_size=4),
    ),
    max_leaves=8,
)


def _no_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, list):
        return all(_no_nul(v) for v in value)
    if isinstance(value, dict):
        return all(_no_nul(k) and _no_nul(v) for k, v in value.items())
    return True


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values)
def test_json_safe_values_survive_a_json_round_trip_without_nul(value: object) -> None:
    safe = json_safe(value)
    text = json.dumps(safe, allow_nan=False)
    assert json.loads(text) == safe
    assert _no_nul(safe)
    assert json_safe(safe) == safe  # idempotent


def test_json_safe_formats() -> None:
    moment = dt.datetime(2026, 3, 1, 8, 30, tzinfo=dt.UTC)
    assert json_safe(moment) == "2026-03-01T08:30:00+00:00"
    assert json_safe(dt.date(2026, 3, 1)) == "2026-03-01"
    assert json_safe(decimal.Decimal("12.50")) == "12.50"
    assert json_safe(float("nan")) == "nan"
    assert json_safe(uuid.UUID(int=1)) == "00000000-0000-0000-0000-000000000001"
    assert json_safe(b"abc") == "<3 bytes>"
    assert json_safe("a\x00b") == "a\ufffdb"
    assert json_safe(dt.timedelta(hours=1)) == "P0DT01H00M00S"
    assert json_safe({1: {2, 1}}) == {"1": [1, 2]}


def test_diff_json_compares_dicts_key_by_key() -> None:
    assert diff_json("custom", {"a": 1, "b": 2}, {"a": 1, "b": 3, "c": None}) == {"custom.b": [2, 3]}
    assert diff_json("custom", None, {"a": 1}) == {"custom.a": [None, 1]}
    assert diff_json("tags", [1], [1, 2]) == {"tags": [[1], [1, 2]]}
    assert diff_json("custom", {"a": 1}, {"a": 1}) == {}
