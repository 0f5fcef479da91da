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

import re
from html.parser import HTMLParser

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


_BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "table",
        "tr",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "section",
        "article",
        "header",
        "footer",
        "hr",
    }
)
_SKIP_TAGS = frozenset({"script", "style", "head", "title", "template"})


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self.skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in ("td", "th"):
            self.parts.append("\t")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str | None) -> str:
    """The readable text of `html` (not a sanitiser): blocks become paragraphs, line breaks new
    lines, list items "- " lines, table cells are separated by tabs; scripts and styles are
    dropped, entities decoded."""
    if not html:
        return ""
    html = str(html)[:MAX_LENGTH]
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # HTMLParser is lenient, but never let it take the parse down
        return re.sub(r"<[^>]*>", " ", html).strip()
    text = "".join(parser.parts).replace("\xa0", " ")
    lines = [line.strip(" \t") for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
