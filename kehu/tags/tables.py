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

    def __init__(self, name: str = "tags", label: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("field", "")
        super().__init__(name, label or _("Tags"), **kwargs)

    def prepare(self, records: list[Any]) -> Column:
        bound = copy.copy(self)
        bound.tags = tags_for(records) if records else {}
        return bound

    def fields_read(self, model: Any) -> tuple[str, ...] | None:
        return ()  # the page's (record, tag) pairs, by primary key

    def value(self, record: Any) -> Any:
        return (self.tags or {}).get(record.pk, [])

    def render(self, record: Any, mode: str | None = None) -> Any:
        tags = self.value(record)
        return chips(tags) if tags else EMPTY
