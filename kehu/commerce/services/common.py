"""Small helpers the commerce services share (setting checked values, checking linked records)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import gettext as _

from kehu.core.choices import Action
from kehu.core.errors import DomainError


def set_values(obj: Any, data: Mapping[str, Any], allowed: Iterable[str]) -> list[str]:
    """Set the allowed keys of `data`; the names whose value changed (links compared by id)."""
    changed = []
    for name in allowed:
        if name not in data:
            continue
        field = obj._meta.get_field(name)
        value = data[name]
        if field.is_relation:
            before = getattr(obj, field.attname)
            after = getattr(value, "pk", value)
        else:
            before, after = getattr(obj, name), value
        setattr(obj, name, value)
        if before != after:
            changed.append(name)
    return changed


def check_visible(by: Any, model: Any, obj: Any, name: str, errors: dict[str, list[str]]) -> None:
    """A linked record the user cannot see is refused on its field (as if it did not exist)."""
    if obj is not None and not model.objects.restrict(by, Action.VIEW).filter(pk=obj.pk).exists():
        errors[name] = [_("Choose a record you can see.")]


def invalid(cls: type[DomainError], fields: dict[str, list[str]], message: str | None = None) -> DomainError:
    """A `cls` error with field messages; its message is `message`, else the first field's."""
    first = next(iter(fields.values()))[0] if fields else None
    return cls(message or first or _("Some fields are not valid."), fields=fields)
