"""Rich text sanitising (`kehu.core.richtext`): formatting stays, anything that runs or reaches
out goes — checked on known attack strings and with hypothesis on arbitrary markup."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.core.richtext import html_to_text, sanitize_html


def test_formatting_is_kept() -> None:
    html = (
        "<h2>安装步骤</h2><p>先<strong>关机</strong>，再<em>拔掉</em>电源。</p>"
        "<ol start='2'><li>一</li><li>二</li></ol>"
        "<table><tr><th>型号</th><td colspan='2'>HW-SRV-005</td></tr></table>"
        "<blockquote>引用</blockquote><pre><code>ls -l</code></pre>"
    )
    clean = sanitize_html(html)
    for kept in ("<h2>", "<strong>关机</strong>", "<em>拔掉</em>", '<ol start="2">', "<li>一</li>",
                 '<td colspan="2">', "<blockquote>", "<pre><code>"):  # fmt: skip
        assert kept in clean, kept


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<a href='javascript:alert(1)'>x</a>",
        "<a href=' JaVaScRiPt:alert(1)'>x</a>",
        "<a href='vbscript:msgbox(1)'>x</a>",
        "<a href='data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=='>x</a>",
        "<svg onload=alert(1)>",
        "<iframe src='https://evil.example'></iframe>",
        "<div style='background:url(javascript:alert(1))'>x</div>",
        "<body onload=alert(1)>",
        "<form action='https://evil.example'><input name=p></form>",
        "<math><mi xlink:href='javascript:alert(1)'>x</mi></math>",
        "<style>*{display:none}</style>",
        "<p onclick='steal()'>点我</p>",
        "<<script>script>alert(1)<</script>/script>",
        "<!--<script>alert(1)</script>-->",
        "<object data='x.swf'></object><embed src='x.swf'>",
        "<meta http-equiv='refresh' content='0;url=https://evil.example'>",
    ],
)
def test_attacks_are_removed(attack: str) -> None:
    clean = sanitize_html(attack).lower()
    assert "<script" not in clean and "javascript:" not in clean and "vbscript:" not in clean
    assert not re.search(r"\son\w+\s*=", clean)
    for tag in (
        "<iframe",
        "<svg",
        "<style",
        "<form",
        "<input",
        "<object",
        "<embed",
        "<meta",
        "<math",
        "<body",
    ):
        assert tag not in clean
    assert "style=" not in clean and "data:text/html" not in clean


def test_links_and_inline_images() -> None:
    clean = sanitize_html(
        '<a href="https://kehu.example/kb/1" target="_blank">文章</a> <a href="mailto:a@b.cn">信</a>'
        '<img src="cid:logo@mail" alt="logo"><img src="data:image/png;base64,iVBORw0KGgo=">'
        '<a href="cid:logo@mail">x</a>'
    )
    assert 'href="https://kehu.example/kb/1"' in clean and 'rel="noopener noreferrer nofollow"' in clean
    assert 'href="mailto:a@b.cn"' in clean
    assert 'src="cid:logo@mail"' in clean and 'src="data:image/png;base64,iVBORw0KGgo="' in clean
    assert 'href="cid:' not in clean and "target=" not in clean
    # a data: image must be a raster image
    assert "src=" not in sanitize_html('<img src="data:text/html,<script>x()</script>">')
    assert "src=" not in sanitize_html('<img src="data:image/svg+xml;base64,PHN2Zz4=">')


def test_empty_and_none() -> None:
    assert sanitize_html(None) == "" and sanitize_html("") == ""
    assert html_to_text(None) == ""


def test_plain_text_of_html() -> None:
    text = html_to_text(
        "<p>您好，</p><p>订单&nbsp;<b>SO-2026-00012</b> 已发货。</p><script>x()</script>"
        "<table><tr><td>型号</td><td>数量</td></tr></table><ul><li>一</li><li>二</li></ul>"
    )
    assert [line for line in text.splitlines() if line] == [
        "您好，",
        "订单 SO-2026-00012 已发货。",
        "型号\t数量",
        "- 一",
        "- 二",
    ]


_TAGS = st.sampled_from(["p", "a", "img", "script", "svg", "iframe", "div", "b", "style", "object"])
_ATTRS = st.sampled_from(["onclick", "onerror", "href", "src", "style", "onload", "title", "formaction"])
_VALUES = st.sampled_from(["javascript:alert(1)", "https://x.example", "alert(1)", "data:text/html,x", "1"])


@st.composite
def markup(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 8))):
        tag = draw(_TAGS)
        attrs = " ".join(f'{draw(_ATTRS)}="{draw(_VALUES)}"' for _ in range(draw(st.integers(0, 3))))
        parts.append(f"<{tag} {attrs}>{draw(st.text(max_size=10))}")
        if draw(st.booleans()):
            parts.append(f"</{tag}>")
    return "".join(parts)


def _elements(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """(tag, attributes) of every start tag, as a browser's tokenizer reads them."""
    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, attrs))

    Collector().feed(html)
    return found


@settings(max_examples=200, deadline=None)
@given(html=markup())
def test_nothing_executable_survives(html: str) -> None:
    clean = sanitize_html(html).lower()
    assert "<script" not in clean and "<iframe" not in clean and "<svg" not in clean
    assert "<object" not in clean and "<style" not in clean
    for tag, attrs in _elements(clean):
        assert tag not in {"script", "iframe", "svg", "object", "style", "embed", "form"}
        for name, value in attrs:
            assert not name.startswith("on") and name != "style"
            if name in ("href", "src"):  # (a title may say anything)
                assert not (value or "").strip().lower().startswith(("javascript:", "vbscript:", "data:text"))
