"""`{% static_fragment %}`: a template rendered once per language, with holes for each request's values."""

from __future__ import annotations

from typing import Any

import pytest
from django.template import engines
from django.utils import translation
from django.utils.safestring import mark_safe

from kehu.core.templatetags import kehu as tags

pytestmark = pytest.mark.django_db


def _render(source: str, **context: Any) -> str:
    return engines["django"].from_string("{% load kehu %}" + source).render(context)


def test_holes_take_each_requests_values_escaped() -> None:
    html = _render(
        '{% static_fragment "core/_topbar_end.html" initial=i user=u department=d csrf=c %}',
        i="张",
        u='<b>"rep"</b>',
        d=None,
        c="tok123",
    )
    assert '<span class="avatar avatar-sm">张</span>' in html
    assert "&lt;b&gt;&quot;rep&quot;&lt;/b&gt;" in html and "<b>" not in html
    assert 'name="csrfmiddlewaretoken" value="tok123"' in html
    assert "\ue000" not in html and "\ue001" not in html
    again = _render(
        '{% static_fragment "core/_topbar_end.html" initial=i user=u department=d csrf=c %}',
        i="李",
        u="rep2",
        d="华北区",
        c="tok456",
    )
    assert '<span class="avatar avatar-sm">李</span>' in again and "华北区" in again and "tok456" in again
    assert "tok123" not in again


def test_safe_html_goes_in_as_it_is_and_each_language_has_its_own_copy() -> None:
    source = '{% static_fragment "core/_topbar_start.html" q=q csrf="t" next=n %}'
    with translation.override("en"):
        english = _render(source, q=mark_safe("<i>x</i>"), n="/a/?b=1&c=2")
    with translation.override("zh-hans"):
        chinese = _render(source, q="", n="/")
    assert 'value="<i>x</i>"' in english
    assert 'value="/a/?b=1&amp;c=2"' in english
    assert "Search accounts and contacts…" in english and "Search accounts and contacts…" not in chinese
    assert '<option value="zh-hans" selected>' in chinese and '<option value="en" selected>' in english
    keys = [k for k in tags._static_fragments if k[0] == "core/_topbar_start.html"]
    assert {k[1] for k in keys} >= {"en", "zh-hans"}


def test_a_fragment_without_holes_is_the_rendered_template() -> None:
    html = _render('{% static_fragment "core/_user_menu.html" %}')
    assert html.strip() and "\ue000" not in html
