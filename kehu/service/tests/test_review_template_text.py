"""Templates of the service app show no untranslated words: every piece of visible text sits in
{% translate %} / {% blocktranslate %}."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "service"
CHECKED = ["surveys/_account_panel.html"]
WORD = re.compile(r"[A-Za-z]{2,}|[\u4e00-\u9fff]")


def visible_words(source: str) -> list[str]:
    """Words of the template's visible text: outside template tags and variables, translate
    blocks, comments, HTML tags (attributes included), entities and <script>/<style>."""
    text = re.sub(r"{%\s*blocktrans(late)?\b.*?{%\s*endblocktrans(late)?\s*%}", " ", source, flags=re.S)
    text = re.sub(r"{#.*?#}|{%.*?%}|{{.*?}}", " ", text, flags=re.S)
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S)
    text = re.sub(r"<[^>]*>", " ", text)
    text = re.sub(r"&[a-z]+;|&#\d+;", " ", text)
    return WORD.findall(text)


def test_the_checker_finds_bare_words() -> None:
    assert visible_words('<div class="x">CSAT</div>{% translate "NPS" %}') == ["CSAT"]
    assert visible_words("{% blocktranslate %}NPS {{ s }}{% endblocktranslate %} ★ —") == []


@pytest.mark.parametrize("name", CHECKED)
def test_templates_have_no_bare_words(name: str) -> None:
    assert visible_words((TEMPLATES / name).read_text()) == []
