"""Small pieces of user-visible text that differ between languages: list separators and
"label: value" pairs (Chinese writes 甲、乙、丙 and 标签：值).

    join_list(["Name", "Phone"])         "Name, Phone" / "Name、Phone"
    label_value("Contacts", 3)           "Contacts: 3" / "Contacts：3"

In templates: ``{% load kehu_text %}`` then ``{{ items|join_list }}`` and ``{{ label|label_value:count }}``.

The separator's msgid has its own context: a plain ``", "`` is translated differently by other
apps, and core's ``pgettext("list separator", ", ")`` joins clauses (``，``), not items.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import pgettext


def list_separator() -> str:
    """What goes between the items of a list in the active language."""
    return pgettext("list of items", ", ")


def join_list(items: Iterable[Any]) -> str:
    """The items as text, joined with the active language's list separator."""
    return list_separator().join(str(item) for item in items)


def label_value(label: Any, value: Any) -> str:
    """``label: value`` with the active language's punctuation."""
    return pgettext("label and value", "%(label)s: %(value)s") % {"label": label, "value": value}
