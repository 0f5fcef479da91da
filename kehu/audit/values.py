"""Field values as JSON-safe data for `ObjectChange.changes`, and diffs between two snapshots.

Rules: None, bools, ints, finite floats and strings stay as they are (NUL characters, which
PostgreSQL cannot store, become U+FFFD); decimals, UUIDs and non-finite floats become strings;
dates, times and datetimes become ISO 8601 strings; durations become ISO 8601 durations; foreign
keys become ``{"id": ..., "repr": ...}``; many-to-many values become sorted lists of those; files
become their names; binary values become ``"<N bytes>"``; anything else becomes ``str(value)``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models
from django.db.models.fields.files import FieldFile
from django.utils.duration import duration_iso_string
from django.utils.functional import Promise

REPR_MAX = 200
MISSING = object()


def clean_text(text: str) -> str:
    return text.replace("\x00", "\ufffd")


def short_repr(obj: Any) -> str:
    try:
        text = str(obj)
    except Exception:  # a broken __str__ must never break the write it audits
        text = f"#{getattr(obj, 'pk', '?')}"
    return clean_text(text)[:REPR_MAX]


def json_safe(value: Any) -> Any:
    """`value` as something `json.dumps` accepts and PostgreSQL's jsonb stores unchanged."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, Promise):
        return clean_text(str(value))
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return duration_iso_string(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, FieldFile):
        return clean_text(value.name or "")
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    if isinstance(value, models.Model):
        return {"id": json_safe(value.pk), "repr": short_repr(value)}
    if isinstance(value, Mapping):
        return {clean_text(str(k)): json_safe(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        items = [json_safe(v) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return sorted(items, key=repr)
    if isinstance(value, Iterable):
        return [json_safe(v) for v in value]
    return clean_text(str(value))


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


# --- raw values of a model instance --------------------------------------------------------


def raw_value(instance: models.Model, field: models.Field) -> Any:
    """The value the database holds for `field` (a foreign key's id, not the related object)."""
    if field.is_relation:
        return getattr(instance, field.attname)
    return field.value_from_object(instance)


def same_value(field: models.Field, before: Any, after: Any) -> bool:
    """Equal as the database would store them ("1.50" and Decimal("1.5") are the same)."""
    if before == after:
        return True
    if field.is_relation:
        target = field.target_field  # type: ignore[attr-defined]
        try:
            return bool(target.to_python(before) == target.to_python(after))
        except Exception:
            return False
    try:
        return bool(field.to_python(before) == field.to_python(after))
    except Exception:
        return False


def related_repr(instance: models.Model, field: models.Field, related_id: Any) -> str:
    """The related object's text, from the instance's cache when it holds that object."""
    if field.is_cached(instance):  # type: ignore[attr-defined]
        cached = field.get_cached_value(instance)  # type: ignore[attr-defined]
        if cached is not None and cached.pk == related_id:
            return short_repr(cached)
    related = field.related_model._base_manager.filter(pk=related_id).first()  # type: ignore[union-attr]
    return short_repr(related) if related is not None else f"#{related_id}"


def display_value(instance: models.Model, field: models.Field, raw: Any = MISSING) -> Any:
    """The JSON-safe value stored in `changes` for `field` of `instance`."""
    if raw is MISSING:
        raw = raw_value(instance, field)
    if field.is_relation:
        if raw is None:
            return None
        return {"id": json_safe(raw), "repr": related_repr(instance, field, raw)}
    return json_safe(raw)


def diff_json(name: str, before: Any, after: Any) -> dict[str, list[Any]]:
    """Changes between two JSON-safe values; dicts (e.g. custom fields) are compared per key as
    ``name.key`` so the history shows which custom field changed."""
    if before == after:
        return {}
    if isinstance(before, dict | None) and isinstance(after, dict | None) and (before or after):
        old, new = before or {}, after or {}
        out: dict[str, list[Any]] = {}
        for key in sorted(set(old) | set(new), key=str):
            if old.get(key) != new.get(key):
                out[f"{name}.{key}"] = [old.get(key), new.get(key)]
        return out
    return {name: [before, after]}
