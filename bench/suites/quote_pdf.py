"""The quote PDF (issue 7): a 200-line quote rendered by `kehu.commerce.pdf.quote_pdf` (letterhead,
customer block, lines with repeated headings, totals, 大写金额, terms, signatures; Noto Sans SC
Regular and Bold subset-embedded), first in the process (the fonts parsed: ~0.3 s per weight) and
warm (fonts cached per worker process). The bare reference is plain fpdf2 with the same fonts
added per document (`add_font` each time: what a renderer without the cache pays) drawing the
same 200 rows as single cells: no database, no layout."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from bench.harness import Comparison, Context, Stats, Target, benchmark, measure

LINES = 200


def _quote(owner: Any) -> Any:
    from kehu.commerce.models import Quote, QuoteLine
    from kehu.customers.models import Account

    account = Account.objects.create(
        name="北京星辰科技有限公司",
        address="北京市海淀区中关村大街 1 号",
        owner=owner,
        department_id=owner.department_id,
    )
    quote = Quote.objects.create(
        number="QT-BENCH-PDF",
        name="CRM 年度订阅",
        account=account,
        owner=owner,
        department_id=owner.department_id,
        quote_date=dt.date.today(),
        valid_until=dt.date.today() + dt.timedelta(days=30),
        subtotal=Decimal("740700"),
        net_total=Decimal("740700"),
        tax_total=Decimal("96291"),
        total=Decimal("836991"),
        terms="1. 本报价有效期 30 天。\n2. 合同签订后 5 个工作日内支付 30% 预付款。",
    )
    QuoteLine.objects.bulk_create(
        QuoteLine(
            quote=quote,
            position=i,
            product_code=f"SKU-{i:04d}",
            description=f"企业版许可证 Enterprise licence seat {i} 含一年技术支持"
            if i % 3 == 0
            else f"实施服务 {i}",
            unit="套",
            quantity=Decimal("3"),
            unit_price=Decimal("1234.5"),
            discount_percent=Decimal("10") if i % 2 else None,
            tax_rate=Decimal("13"),
            gross=Decimal("3703.5"),
            net=Decimal("3703.5"),
            tax=Decimal("481.46"),
            total=Decimal("4184.96"),
        )
        for i in range(LINES)
    )
    return quote


def _bare(_: int) -> bytes:
    """Plain fpdf2: fonts added per document, 200 rows as single-line cells."""
    from fpdf import FPDF

    from kehu.commerce.pdf import FONT_FILES, font_dir

    pdf = FPDF()
    for style, name in FONT_FILES.items():
        pdf.add_font("noto", style, str(font_dir() / name))
    pdf.add_page()
    pdf.set_font("noto", "B", 16)
    pdf.cell(0, 10, "报价单 Quotation", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("noto", "", 8)
    for i in range(LINES):
        pdf.cell(
            0,
            5,
            f"{i + 1}  SKU-{i:04d}  实施服务 {i}  3  套  1,234.50  10%  13%  4,184.96",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    return bytes(pdf.output())


@benchmark(
    "commerce.quote_pdf", f"quote PDF: {LINES} lines, first (font load) and warm", requires=("commerce",)
)
def quote_pdf_time(ctx: Context) -> Iterable[Comparison]:
    from django.db import transaction

    from kehu.commerce import pdf

    within = Target("PDF ≤ 2 s (p95)", lambda c: c.subject.p95 <= 2.0)
    with transaction.atomic():
        quote = _quote(ctx.users["rep"])
        pdf._font_cache.clear()
        first = measure(
            "quote_pdf(), first in the process", lambda _: pdf.quote_pdf(quote), repeat=1, warmup=0
        )
        repeat = max(3, min(ctx.repeat, 10))
        warm = measure("quote_pdf(), fonts cached", lambda _: pdf.quote_pdf(quote), repeat=repeat, warmup=1)
        size = len(pdf.quote_pdf(quote, language="en"))
        bare = measure("bare fpdf2, add_font per document", _bare, repeat=repeat, warmup=1)
        transaction.set_rollback(True)
    yield Comparison(
        f"quote PDF, {LINES} lines, first call (parses the fonts)",
        first,
        [Stats(bare.label, bare.samples)],
        note="includes parsing Noto Sans SC Regular + Bold once for the process",
        targets=[within],
    )
    yield Comparison(
        f"quote PDF, {LINES} lines, warm ({size // 1024} KB)",
        warm,
        [bare],
        note="fonts parsed once per worker; each document re-opens the font bytes for its own subset",
        targets=[within],
    )
