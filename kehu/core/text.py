"""Small pieces of user-visible text that differ between languages: list separators and
"label: value" pairs (Chinese writes 甲、乙、丙 and 标签：值).

    join_list(["Name", "Phone"])         "Name, Phone" / "Name、Phone"
    label_value("Contacts", 3)           "Contacts: 3" / "Contacts：3"
    bilingual_name("已完成", "Completed")  "Completed" / "已完成"

In templates: ``{% load kehu_text %}`` then ``{{ items|join_list }}`` and ``{{ label|label_value:count }}``.

The separator's msgid has its own context: a plain ``", "`` is translated differently by other
apps, and core's ``pgettext("list separator", ", ")`` joins clauses (``，``), not items.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import get_language, pgettext


def list_separator() -> str:
    """What goes between the items of a list in the active language."""
    return pgettext("list of items", ", ")


def join_list(items: Iterable[Any]) -> str:
    """The items as text, joined with the active language's list separator."""
    return list_separator().join(str(item) for item in items)


def label_value(label: Any, value: Any) -> str:
    """``label: value`` with the active language's punctuation."""
    return pgettext("label and value", "%(label)s: %(value)s") % {"label": label, "value": value}


def bilingual_name(name: str, name_en: str) -> str:
    """A record's name in the reader's language: `name_en` for English readers when it is filled,
    else `name` (records set up as data — order statuses, product categories, products — carry
    a name and an English name)."""
    if name_en and (get_language() or "").lower().startswith("en"):
        return name_en
    return name or name_en
