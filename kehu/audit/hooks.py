"""Entries audit puts in lower apps' hook lists (core cannot import audit)."""

from __future__ import annotations

from typing import Any

from .choices import ChangeAction


def record_reveal(*, user: Any, obj: Any, field: str) -> None:
    """`kehu.core.masking` reveal recorder: showing a masked value in full is logged (the field's
    name only, never the value)."""
    from .services import object_change_record

    object_change_record(obj=obj, action=ChangeAction.REVEAL, changes={"revealed": [field]}, by=user)
