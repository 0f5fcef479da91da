"""Rich text (HTML) that users and e-mails bring in — ticket descriptions and replies, knowledge-base
articles, inbound e-mail bodies — made safe to store and show.

`sanitize_html(html)` keeps formatting (paragraphs, lists, tables, emphasis, headings, code,
quotes, links, images) and drops everything that runs or reaches out: ``<script>``, ``<style>``,
``<iframe>``, forms, ``on*`` event handlers, ``javascript:``/``vbscript:``/``data:`` links (images
may use ``data:`` and ``cid:``, the way e-mails embed them), and ``style`` attributes. Links get
``rel="noopener noreferrer nofollow"``. The work is done by nh3 (the Rust library ammonia: an HTML5
parser and an allow-list), not by regular expressions.

`html_to_text(html)` gives the plain text of HTML (for search, previews and e-mail text parts).
"""

from __future__ import annotations

import html as html_lib
import re

import nh3

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del",
        "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
        "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small", "span",
        "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "col": {"span"},
    "ol": {"start"},
    "*": {"lang", "dir"},
}
# Links may go to the web, to e-mail and to phones; images also to data: and cid: (inline images
# of e-mails, kept with the message as attachments).
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel", "data", "cid"})
_IMAGE_ONLY_SCHEMES = ("data:", "cid:")
MAX_LENGTH = 2_000_000  # characters of HTML accepted before sanitising (a ~2 MB e-mail body)


_RASTER_DATA = re.compile(r"data:image/(png|jpe?g|gif|webp)[;,]", re.I)


def _attribute_filter(element: str, attribute: str, value: str) -> str | None:
    """data: and cid: are for images only (a link with one loses its href), and a data: image must
    be a raster image (png, jpeg, gif, webp: never text/html or svg)."""
    lowered = value.strip().lower()
    if element == "a" and attribute == "href" and lowered.startswith(_IMAGE_ONLY_SCHEMES):
        return None
    if (
        element == "img"
        and attribute == "src"
        and lowered.startswith("data:")
        and not _RASTER_DATA.match(lowered)
    ):
        return None
    return value


def sanitize_html(html: str | None) -> str:
    """`html` with only the allowed tags and attributes (see the module); "" for None. Text beyond
    `MAX_LENGTH` characters is cut before sanitising (the parser then closes what was left open)."""
    if not html:
        return ""
    return nh3.clean(
        str(html)[:MAX_LENGTH],
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        attribute_filter=_attribute_filter,
    )


_BLOCK_END = re.compile(r"</(p|div|h[1-6]|li|tr|blockquote|pre|table|ul|ol|dl|dd|dt)\s*>|<br\s*/?>", re.I)
_CELL_END = re.compile(r"</t[dh]\s*>", re.I)
_SPACES = re.compile(r"[ \u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def html_to_text(html: str | None) -> str:
    """The readable text of `html`: blocks and line breaks become new lines, table cells are
    separated by tabs, tags and scripts are dropped, entities decoded."""
    if not html:
        return ""
    safe = nh3.clean(str(html)[:MAX_LENGTH], tags={"p", "div", "br", "li", "tr", "td", "th", "h1", "h2",
                                                  "h3", "h4", "h5", "h6", "blockquote", "pre", "table",
                                                  "ul", "ol", "dl", "dd", "dt"}, attributes={})  # fmt: skip
    text = _BLOCK_END.sub("\n", safe)
    text = _CELL_END.sub("\t", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = html_lib.unescape(text)
    lines = [_SPACES.sub(" ", line).strip(" \t") for line in text.splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
