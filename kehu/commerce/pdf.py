"""The quote PDF (报价单) in Chinese or English: letterhead, customer block, lines, totals with the
amount in Chinese uppercase (大写金额), terms, signature area, page numbers.

Chinese must show in any viewer, also where no Chinese font is installed, so the PDF embeds a
subset of Noto Sans SC (SIL OFL 1.1; Regular and Bold, from the npm package
``@expo-google-fonts/noto-sans-sc``, copied into ``settings.KEHU_PDF_FONT_DIR`` by ``make assets``).
fpdf2 subsets TrueType fonts itself: only the glyphs a document uses are embedded.

Parsing a 10 MB CJK font takes a few tenths of a second per weight, so each worker process parses
the fonts once (`_font_cache`) and every document gets a light copy: the parsed metrics and the
glyph order are shared, and the font file is re-opened lazily from memory (its layout tables,
which fpdf2 does not embed, left unparsed) for that document's subset, because fontTools'
subsetter changes the font it is given.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import threading
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from kehu.catalog.selectors import currency_places
from kehu.core.money import chinese_uppercase

from .models import CompanyProfile, Quote, QuoteLine
from .selectors.company import company_profile

FONT_FAMILY = "NotoSansSC"
FONT_FILES = {"": "NotoSansSC-Regular.ttf", "B": "NotoSansSC-Bold.ttf"}
# Tables fpdf2's subsetter drops anyway (output.py): removed once, so no document parses them.
_UNUSED_TABLES = ("FFTM", "GDEF", "GPOS", "GSUB", "MATH", "hdmx", "meta", "sbix", "SVG ")

PAGE_MARGIN = 15.0
TEXT = (33, 37, 41)
MUTED = (108, 117, 125)
RULE = (206, 212, 218)
HEAD_FILL = (233, 236, 239)
ACCENT = (32, 107, 196)


# fontTools' subsetter logs every table it prunes at INFO: noise in the worker's log.
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)


class FontsMissingError(RuntimeError):
    """The PDF fonts are not where KEHU_PDF_FONT_DIR says (run `make assets`)."""


@dataclass
class _CachedFont:
    prototype: Any  # fpdf.fonts.TTFFont parsed once (cmap, widths, descriptor)
    data: bytes  # the font file, read once
    glyph_order: list[str]


_font_cache: dict[str, _CachedFont] = {}
_font_lock = threading.Lock()


def font_dir() -> Path:
    return Path(settings.KEHU_PDF_FONT_DIR)


def _load_font(style: str, path: Path) -> _CachedFont:
    from fontTools import ttLib
    from fpdf import FPDF
    from fpdf.fonts import TTFFont

    prototype = TTFFont(FPDF(), path, f"{FONT_FAMILY.lower()}{style}", style)
    data = path.read_bytes()
    font = ttLib.TTFont(io.BytesIO(data), recalcTimestamp=False, lazy=True)
    glyph_order = list(font.getGlyphOrder())
    font.close()
    return _CachedFont(prototype=prototype, data=data, glyph_order=glyph_order)


def load_fonts() -> dict[str, _CachedFont]:
    """Parse the fonts once per process (thread-safe); later calls return the cache."""
    if len(_font_cache) == len(FONT_FILES):
        return _font_cache
    with _font_lock:
        for style, name in FONT_FILES.items():
            if style in _font_cache:
                continue
            path = font_dir() / name
            if not path.is_file():
                raise FontsMissingError(
                    f"The quote PDF font {path} is missing: run `make assets` (it copies Noto Sans SC "
                    "from node_modules) or point KEHU_PDF_FONT_DIR at a folder holding "
                    + ", ".join(FONT_FILES.values())
                )
            _font_cache[style] = _load_font(style, path)
    return _font_cache


def _font_for(pdf: Any, cached: _CachedFont) -> Any:
    """A per-document copy of a cached font: shared metrics, its own subset and font file."""
    from fontTools import ttLib
    from fpdf.fonts import SubsetMap, TTFFont

    proto = cached.prototype
    font = TTFFont.__new__(TTFFont)
    for slot in TTFFont.__slots__:
        if hasattr(proto, slot):
            setattr(font, slot, getattr(proto, slot))
    font.i = len(pdf.fonts) + 1
    ttfont = ttLib.TTFont(io.BytesIO(cached.data), recalcTimestamp=False, lazy=True)
    for tag in _UNUSED_TABLES:  # never parsed: fpdf2's subsetter would drop them anyway
        if tag in ttfont:
            del ttfont[tag]
    ttfont.setGlyphOrder(list(cached.glyph_order))
    font.ttfont = ttfont
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font._hbfont = None
    font.subset = SubsetMap(font)
    return font


# --- formatting -----------------------------------------------------------------------------


def money(amount: Decimal | None, places: int) -> str:
    if amount is None:
        return ""
    return f"{Decimal(amount):,.{places}f}"


def number(value: Decimal | None) -> str:
    """A quantity or percentage without trailing zeros: 2, 2.5, 12.125."""
    if value is None:
        return ""
    text = f"{Decimal(value):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _date(value: dt.date | None) -> str:
    if value is None:
        return ""
    if translation.get_language().startswith("zh"):
        return f"{value.year}年{value.month}月{value.day}日"
    return date_format(value, "j M Y")


def _uppercase_prefix(currency: str) -> str:
    return "人民币" if currency == "CNY" else currency


def amount_in_words(quote: Quote) -> str:
    """大写金额 of the quote's total, e.g. 人民币壹万贰仟叁佰肆拾伍元陆角柒分."""
    return f"{_uppercase_prefix(quote.currency)}{chinese_uppercase(quote.total)}"


# --- the document ---------------------------------------------------------------------------


class _QuoteDocument:
    def __init__(self, quote: Quote, company: CompanyProfile, lines: list[QuoteLine], language: str) -> None:
        from fpdf import FPDF

        self.quote = quote
        self.company = company
        self.lines = lines
        self.language = language
        self.places = currency_places(quote.currency)
        document = self

        class _PDF(FPDF):
            def header(self) -> None:
                document.draw_header()

            def footer(self) -> None:
                document.draw_footer()

        pdf = _PDF(orientation="P", unit="mm", format="A4")
        for style, cached in load_fonts().items():
            pdf.fonts[f"{FONT_FAMILY.lower()}{style}"] = _font_for(pdf, cached)
        pdf.set_margins(PAGE_MARGIN, PAGE_MARGIN, PAGE_MARGIN)
        pdf.set_auto_page_break(auto=True, margin=PAGE_MARGIN + 8)
        pdf.set_creator("Kehu")
        pdf.set_title(f"{self.title()} {quote}")
        pdf.set_author(company.display_name(language))
        pdf.set_lang("zh-CN" if language.startswith("zh") else "en")
        self.pdf = pdf

    # helpers
    def font(self, size: float, bold: bool = False, color: tuple[int, int, int] = TEXT) -> None:
        self.pdf.set_font(FONT_FAMILY, "B" if bold else "", size)
        self.pdf.set_text_color(*color)

    def title(self) -> str:
        return _("Quotation")

    @property
    def width(self) -> float:
        return float(self.pdf.w - 2 * PAGE_MARGIN)

    # page furniture
    def draw_header(self) -> None:
        pdf, company = self.pdf, self.company
        top = pdf.y
        logo_w = 0.0
        if company.logo:
            try:
                with company.logo.open("rb") as handle:
                    image = pdf.image(io.BytesIO(handle.read()), x=PAGE_MARGIN, y=top, h=16)
                logo_w = float(image.rendered_width) + 4
            except (OSError, ValueError, RuntimeError):
                logo_w = 0.0
        x = PAGE_MARGIN + logo_w
        pdf.set_xy(x, top)
        name = company.display_name(self.language) or settings.KEHU_COMPANY_NAME
        self.font(13, bold=True)
        pdf.cell(self.width - logo_w - 60, 6.5, name)
        # the quote number on every page, top right
        self.font(8.5, color=MUTED)
        pdf.set_xy(PAGE_MARGIN + self.width - 60, top)
        pdf.cell(60, 5, f"{self.title()}  {self.quote.number}", align="R")
        pdf.set_xy(PAGE_MARGIN + self.width - 60, top + 5)
        pdf.cell(60, 5, f"{_('Version')} {self.quote.revision}", align="R")
        details = [company.display_address(self.language)]
        contact = []
        if company.phone:
            contact.append(f"{_('Phone')}: {company.phone}")
        if company.email:
            contact.append(company.email)
        if company.website:
            contact.append(company.website)
        details.append("   ".join(contact))
        bank = []
        if company.tax_id:
            bank.append(f"{_('Tax ID')}: {company.tax_id}")
        if company.bank_name or company.bank_account:
            bank.append(f"{_('Bank')}: {company.bank_name} {company.bank_account}".strip())
        details.append("   ".join(bank))
        self.font(8, color=MUTED)
        y = top + 7
        for line in details:
            if line:
                pdf.set_xy(x, y)
                pdf.cell(self.width - logo_w - 60, 4, line)
                y += 4
        bottom = max(y, top + (17 if logo_w else 0)) + 1.5
        pdf.set_draw_color(*ACCENT)
        pdf.set_line_width(0.5)
        pdf.line(PAGE_MARGIN, bottom, PAGE_MARGIN + self.width, bottom)
        pdf.set_line_width(0.2)
        pdf.set_xy(PAGE_MARGIN, bottom + 4)

    def draw_footer(self) -> None:
        pdf = self.pdf
        pdf.set_y(-(PAGE_MARGIN + 3))
        self.font(8, color=MUTED)
        pdf.set_draw_color(*RULE)
        pdf.line(PAGE_MARGIN, pdf.y - 1, PAGE_MARGIN + self.width, pdf.y - 1)
        pdf.cell(self.width / 2, 5, f"{self.quote.number} v{self.quote.revision}")
        pdf.cell(
            self.width / 2,
            5,
            _("Page %(page)s of %(pages)s") % {"page": pdf.page_no(), "pages": pdf.str_alias_nb_pages},
            align="R",
        )

    # blocks
    def draw_title(self) -> None:
        pdf = self.pdf
        self.font(17, bold=True)
        pdf.cell(self.width, 10, self.title(), align="C", new_x="LMARGIN", new_y="NEXT")
        if self.quote.name:
            self.font(10, color=MUTED)
            pdf.cell(self.width, 6, self.quote.name, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)

    def draw_parties(self) -> None:
        pdf, quote = self.pdf, self.quote
        account = quote.account
        contact = quote.contact
        left = [(_("Customer"), account.name)]
        if account.address:
            left.append((_("Address"), account.address))
        if contact is not None:
            left.append((_("Contact"), contact.name))
            phone = contact.mobile or contact.phone
            if phone:
                left.append((_("Phone"), phone))
            if contact.email:
                left.append((_("E-mail"), contact.email))
        else:
            if account.phone:
                left.append((_("Phone"), account.phone))
            if account.email:
                left.append((_("E-mail"), account.email))
        right = [
            (_("Quote number"), quote.number),
            (_("Version"), str(quote.revision)),
            (_("Date"), _date(quote.quote_date)),
            (_("Valid until"), _date(quote.valid_until)),
            (_("Currency"), quote.currency),
        ]
        owner = quote.owner
        if owner is not None:
            right.append((_("Sales representative"), owner.get_full_name() or owner.get_username()))
        top = pdf.y
        col = self.width / 2 - 3
        self._field_block(PAGE_MARGIN, top, col, self._label_width(left), _("Customer"), left)
        y_left = pdf.y
        self._field_block(PAGE_MARGIN + col + 6, top, col, self._label_width(right), _("Quote"), right)
        pdf.set_xy(PAGE_MARGIN, max(y_left, pdf.y) + 4)

    def _label_width(self, rows: list[tuple[str, str]]) -> float:
        self.font(8.5)
        widest = max(float(self.pdf.get_string_width(label)) for label, _value in rows)
        return min(max(widest + 3, 18.0), 40.0)

    def _field_block(
        self, x: float, y: float, width: float, label_w: float, heading: str, rows: list[tuple[str, str]]
    ) -> None:
        pdf = self.pdf
        pdf.set_xy(x, y)
        self.font(9.5, bold=True, color=ACCENT)
        pdf.cell(width, 6, heading, new_x="LEFT", new_y="NEXT")
        pdf.set_draw_color(*RULE)
        pdf.line(x, pdf.y, x + width, pdf.y)
        pdf.ln(1)
        for label, value in rows:
            pdf.set_x(x)
            self.font(8.5, color=MUTED)
            pdf.cell(label_w, 5, label)
            self.font(9, bold=label == _("Customer"))
            pdf.multi_cell(width - label_w, 5, value or "—", new_x="LEFT", new_y="NEXT")
            pdf.set_x(x)

    def line_discount(self, line: QuoteLine) -> str:
        if line.discount_percent:
            return f"{number(line.discount_percent)}%"
        if line.discount:
            return money(line.discount, self.places)
        return ""

    # the lines table: drawn with plain cells (fpdf2's table() costs ~1 ms a cell: too slow for
    # 200 lines), the heading repeated at the top of every page the table runs onto
    COLUMNS = (
        # (width in mm, alignment)
        (8, "C"),
        (22, "L"),
        (50, "L"),
        (15, "R"),
        (11, "C"),
        (23, "R"),
        (17, "R"),
        (11, "R"),
        (23, "R"),
    )
    LINE_HEIGHT = 4.4
    PAD = 1.3

    def column_headings(self) -> list[str]:
        return [
            "#",
            _("Code"),
            _("Description"),
            _("Qty"),
            _("Unit"),
            _("Unit price"),
            _("Discount"),
            pgettext("tax rate column", "Tax"),
            _("Amount"),
        ]

    def draw_table_heading(self) -> None:
        pdf = self.pdf
        height = self.LINE_HEIGHT + 2 * self.PAD
        pdf.set_fill_color(*HEAD_FILL)
        pdf.rect(PAGE_MARGIN, pdf.y, self.width, height, style="F")
        self.font(8, bold=True)
        x = PAGE_MARGIN
        for (width, align), text in zip(self.COLUMNS, self.column_headings(), strict=True):
            pdf.set_xy(x + self.PAD, pdf.y)
            pdf.cell(width - 2 * self.PAD, height, text, align=align)
            x += width
        pdf.set_xy(PAGE_MARGIN, pdf.y + height)

    def _wrapped(self, text: str, width: float) -> list[str]:
        room = width - 2 * self.PAD
        if float(self.pdf.get_string_width(text)) <= room:
            return [text]
        lines: Any = self.pdf.multi_cell(room, self.LINE_HEIGHT, text, dry_run=True, output="LINES")
        return [str(line) for line in lines]

    def draw_lines(self) -> None:
        pdf = self.pdf
        self.draw_table_heading()
        self.font(8)
        pdf.set_draw_color(*RULE)
        code_w, desc_w = self.COLUMNS[1][0], self.COLUMNS[2][0]
        for index, line in enumerate(self.lines, start=1):
            texts = [
                str(index),
                line.product_code,
                line.description,
                number(line.quantity),
                line.unit,
                money(line.unit_price, self.places),
                self.line_discount(line),
                f"{number(line.tax_rate)}%",
                money(line.total, self.places),
            ]
            code_lines = self._wrapped(line.product_code, code_w)
            desc_lines = self._wrapped(line.description, desc_w)
            count = max(len(code_lines), len(desc_lines), 1)
            height = count * self.LINE_HEIGHT + 2 * self.PAD
            if pdf.will_page_break(height):
                pdf.add_page()
                self.draw_table_heading()
                self.font(8)
                pdf.set_draw_color(*RULE)
            top = pdf.y
            if index % 2 == 0:
                pdf.set_fill_color(248, 249, 250)
                pdf.rect(PAGE_MARGIN, top, self.width, height, style="F")
            x = PAGE_MARGIN
            for column, ((width, align), text) in enumerate(zip(self.COLUMNS, texts, strict=True)):
                wrapped = code_lines if column == 1 else desc_lines if column == 2 else None
                if wrapped is not None and len(wrapped) > 1:
                    for number_, part in enumerate(wrapped):
                        pdf.set_xy(x + self.PAD, top + self.PAD + number_ * self.LINE_HEIGHT)
                        pdf.cell(width - 2 * self.PAD, self.LINE_HEIGHT, part, align=align)
                else:
                    pdf.set_xy(x + self.PAD, top)
                    pdf.cell(width - 2 * self.PAD, height, text, align=align)
                x += width
            pdf.line(PAGE_MARGIN, top + height, PAGE_MARGIN + self.width, top + height)
            pdf.set_xy(PAGE_MARGIN, top + height)
        pdf.ln(3)

    def draw_totals(self) -> None:
        pdf, quote = self.pdf, self.quote
        rows = [
            (_("Subtotal"), quote.subtotal, False),
            (_("Discount"), -quote.discount_total if quote.discount_total else quote.discount_total, False),
            (_("Net amount"), quote.net_total, False),
            (_("Tax"), quote.tax_total, False),
            (_("Total"), quote.total, True),
        ]
        needed = 6 * len(rows) + 16
        if pdf.will_page_break(needed):
            pdf.add_page()
        label_w, value_w = 40.0, 38.0
        x = PAGE_MARGIN + self.width - label_w - value_w
        for label, value, strong in rows:
            pdf.set_x(x)
            if strong:
                pdf.set_draw_color(*TEXT)
                pdf.line(x, pdf.y, PAGE_MARGIN + self.width, pdf.y)
            self.font(10 if strong else 9, bold=strong, color=TEXT if strong else MUTED)
            pdf.cell(label_w, 6, label)
            self.font(10 if strong else 9, bold=strong)
            pdf.cell(value_w, 6, f"{quote.currency} {money(value, self.places)}", align="R")
            pdf.ln(6)
        if quote.total_company is not None and quote.currency != settings.KEHU_COMPANY_CURRENCY:
            pdf.set_x(x)
            self.font(8, color=MUTED)
            pdf.cell(
                label_w + value_w,
                5,
                _("≈ %(currency)s %(amount)s at the rate of the quote date")
                % {
                    "currency": settings.KEHU_COMPANY_CURRENCY,
                    "amount": money(quote.total_company, currency_places(settings.KEHU_COMPANY_CURRENCY)),
                },
                align="R",
            )
            pdf.ln(5)
        pdf.ln(1)
        # 大写金额: in both languages
        pdf.set_fill_color(*HEAD_FILL)
        self.font(9, color=MUTED)
        label = "大写金额" if self.language.startswith("zh") else _("Amount in words (大写金额)")
        label_w = float(pdf.get_string_width(label)) + 8
        pdf.set_x(PAGE_MARGIN)
        pdf.cell(label_w, 8, f"  {label}", fill=True)
        self.font(10.5, bold=True)
        pdf.cell(self.width - label_w, 8, amount_in_words(quote), fill=True, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)

    def draw_terms(self) -> None:
        pdf = self.pdf
        terms = (self.quote.terms or self.company.default_terms or "").strip()
        if not terms:
            return
        if pdf.will_page_break(18):
            pdf.add_page()
        self.font(9.5, bold=True, color=ACCENT)
        pdf.cell(self.width, 6, _("Terms"), new_x="LMARGIN", new_y="NEXT")
        self.font(8.5)
        pdf.multi_cell(self.width, 4.6, terms, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)

    def draw_signatures(self) -> None:
        pdf = self.pdf
        height = 36.0
        if pdf.will_page_break(height + 2):
            pdf.add_page()
        col = self.width / 2 - 4
        top = pdf.y
        parties = [
            (_("Supplier (seal)"), self.company.display_name(self.language) or settings.KEHU_COMPANY_NAME),
            (_("Customer (seal)"), self.quote.account.name),
        ]
        for index, (heading, name) in enumerate(parties):
            x = PAGE_MARGIN + index * (col + 8)
            pdf.set_draw_color(*RULE)
            pdf.rect(x, top, col, height)
            pdf.set_xy(x + 3, top + 2)
            self.font(9, bold=True)
            pdf.cell(col - 6, 5, heading, new_x="LEFT", new_y="NEXT")
            self.font(8.5, color=MUTED)
            pdf.cell(col - 6, 5, name, new_x="LEFT", new_y="NEXT")
            labels = (_("Authorised signature"), _("Date"))
            label_w = max(float(pdf.get_string_width(f"{label}:")) for label in labels) + 3
            for label in labels:
                pdf.set_xy(x + 3, pdf.y + 5)
                pdf.cell(label_w, 5, f"{label}:")
                pdf.line(x + 3 + label_w, pdf.y + 4.5, x + col - 4, pdf.y + 4.5)
                pdf.ln(5)
        pdf.set_xy(PAGE_MARGIN, top + height + 2)

    def render(self) -> bytes:
        self.pdf.add_page()
        self.draw_title()
        self.draw_parties()
        self.draw_lines()
        self.draw_totals()
        self.draw_terms()
        self.draw_signatures()
        return bytes(self.pdf.output())


def quote_pdf(quote: Quote, *, language: str | None = None) -> bytes:
    """The quote as a PDF in `language` ("zh-hans" or "en"; the quote's own language by default).
    Callers load the quote through ``Quote.objects.restrict(user, "view")``."""
    language = language or quote.language or settings.LANGUAGE_CODE
    lines = list(quote.lines.select_related(None).order_by("position", "id"))
    quote = Quote.objects.select_related("account", "contact", "owner").get(pk=quote.pk)
    with translation.override(language):
        return _QuoteDocument(quote, company_profile(), lines, translation.get_language()).render()


def quote_pdf_filename(quote: Quote, language: str | None = None) -> str:
    language = language or quote.language or ""
    suffix = "en" if language.startswith("en") else "zh"
    version = f"-v{quote.revision}" if quote.revision > 1 else ""
    return f"{quote.number}{version}-{suffix}.pdf"
