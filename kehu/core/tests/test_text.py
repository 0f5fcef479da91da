"""Lists and "label: value" pairs in the active language (kehu.core.text and the kehu_text
template filters): the separator and the pattern come from the catalogue, items are escaped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.template import Context, Template
from django.utils import translation
from django.utils.translation import trans_real

from kehu.core.text import bilingual_name, join_list, label_value, list_separator

SEPARATOR = "list of items\x04, "
PATTERN = "label and value\x04%(label)s: %(value)s"


@pytest.fixture
def chinese() -> Iterator[None]:
    """zh-Hans with the two entries as the translator writes them (whether or not the catalogue
    has them yet); the catalogue is put back afterwards."""
    with translation.override("zh-hans"):
        catalog = trans_real.translation("zh-hans")._catalog  # type: ignore[attr-defined]
        saved = {key: catalog.get(key) for key in (SEPARATOR, PATTERN)}
        catalog[SEPARATOR] = "、"
        catalog[PATTERN] = "%(label)s：%(value)s"
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    for part in catalog._catalogs:
                        part.pop(key, None)
                else:
                    catalog[key] = value


def _render(source: str, **context: object) -> str:
    return Template("{% load kehu_text %}" + source).render(Context(context))


def test_english_lists_and_pairs() -> None:
    with translation.override("en"):
        assert list_separator() == ", "
        assert join_list(["Name", "Phone", 3]) == "Name, Phone, 3"
        assert join_list([]) == ""
        assert label_value("Contacts", 3) == "Contacts: 3"
        assert _render("{{ items|join_list }}", items=["a", "b"]) == "a, b"
        assert _render("{{ name|label_value:count }}", name="Tasks", count=2) == "Tasks: 2"


def test_chinese_uses_the_translated_separator_and_colon(chinese: None) -> None:
    assert join_list(["姓名", "手机", "邮箱"]) == "姓名、手机、邮箱"
    assert label_value("联系人", 3) == "联系人：3"
    assert _render("{{ items|join_list }}", items=["姓名", "手机"]) == "姓名、手机"
    assert _render("{{ name|label_value:count }}", name="任务", count=2) == "任务：2"


def test_filters_escape_items_and_tolerate_empty_values() -> None:
    with translation.override("en"):
        assert _render("{{ items|join_list }}", items=["<b>", "a&b"]) == "&lt;b&gt;, a&amp;b"
        assert _render("{{ items|join_list }}", items=None) == ""
        assert _render("{{ items|join_list }}", items="one") == "one"
        assert _render("{{ a|label_value:b }}", a="<i>", b="x&y") == "&lt;i&gt;: x&amp;y"
        assert _render("{% autoescape off %}{{ items|join_list }}{% endautoescape %}", items=["<b>"]) == "<b>"


def test_bilingual_names_follow_the_reader() -> None:
    with translation.override("en"):
        assert bilingual_name("已完成", "Completed") == "Completed"
        assert bilingual_name("已完成", "") == "已完成"  # no English name: the name
    with translation.override("zh-hans"):
        assert bilingual_name("已完成", "Completed") == "已完成"
        assert bilingual_name("", "Completed") == "Completed"
