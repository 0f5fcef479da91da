"""A "Tags" column for any taggable model's list table (tags of the page loaded in one query)."""

from __future__ import annotations

import copy
from typing import Any

from django.utils.translation import gettext_lazy as _

from kehu.core.tables import EMPTY, Column

from .display import chips
from .models import Tag
from .selectors import tags_for


class TagsColumn(Column):
    tags: dict[Any, list[Tag]] | None = None
    made: dict[tuple[Any, ...], Any] | None = None

    def __init__(self, name: str = "tags", label: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("field", "")
        super().__init__(name, label or _("Tags"), **kwargs)

    def prepare(self, records: list[Any]) -> Column:
        bound = copy.copy(self)
        bound.tags = tags_for(records) if records else {}
        bound.made = {}  # the chips of each set of tags on the page, made once
        return bound

    def fields_read(self, model: Any) -> tuple[str, ...] | None:
        return ()  # the page's (record, tag) pairs, by primary key

    def value(self, record: Any) -> Any:
        return (self.tags or {}).get(record.pk, [])

    def render(self, record: Any, mode: str | None = None) -> Any:
        tags = self.value(record)
        if not tags:
            return EMPTY
        made = self.made
        if made is None:
            return chips(tags)
        key = tuple(t.pk for t in tags)
        found = made.get(key)
        if found is None:
            found = made[key] = chips(tags)
        return found
