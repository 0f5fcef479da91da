"""The quote page (issue 7) of a quote with 200 lines: header, facts, the lines table with their
price sources, discounts and amounts, totals, approvals, versions and actions, as the owner (a rep)
sees it through the test client (server time: no network, no browser). The bare reference, measured
in the same run, reads the same 200 lines from the database and escapes them into an HTML table:
what the page costs at the least."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from html import escape
from typing import Any

from bench.harness import Comparison, Context, Target, benchmark, measure

LINES = 200
NUMBER = "QT-BENCH-PAGE"
LINE_COLUMNS = (
    "position",
    "product_code",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "price_source",
    "discount_percent",
    "tax_rate",
    "net",
    "tax",
    "total",
)


def _quote(owner: Any) -> Any:
    from kehu.commerce.models import Quote, QuoteLine
    from kehu.customers.models import Account

    quote = Quote.objects.filter(number=NUMBER).first()
    if quote is not None:
        return quote
    account = Account.objects.create(
        name="基准报价客户有限公司", owner=owner, department_id=owner.department_id, created_by=owner
    )
    quote = Quote.objects.create(
        number=NUMBER,
        name="年度采购报价",
        account=account,
        owner=owner,
        department_id=owner.department_id,
        quote_date=dt.date.today(),
        valid_until=dt.date.today() + dt.timedelta(days=30),
        subtotal=Decimal("740700"),
        discount_total=Decimal("18517.5"),
        net_total=Decimal("722182.5"),
        tax_total=Decimal("93883.73"),
        total=Decimal("816066.23"),
    )
    QuoteLine.objects.bulk_create(
        QuoteLine(
            quote=quote,
            position=i,
            product_code=f"SKU-{i:04d}",
            description=f"企业版许可证 {i} 含一年技术支持",
            unit="套",
            quantity=Decimal("3"),
            unit_price=Decimal("1234.5"),
            price_source="价目表 标准价 2026，数量 ≥ 1",
            discount_percent=Decimal("5") if i % 2 else None,
            tax_rate=Decimal("13"),
            gross=Decimal("3703.5"),
            discount=Decimal("185.18") if i % 2 else Decimal("0"),
            net=Decimal("3518.32") if i % 2 else Decimal("3703.5"),
            tax=Decimal("457.38") if i % 2 else Decimal("481.46"),
            total=Decimal("3975.70") if i % 2 else Decimal("4184.96"),
        )
        for i in range(LINES)
    )
    return quote


def _bare(quote_id: int) -> Any:
    def run(_: int) -> str:
        from kehu.commerce.models import QuoteLine

        rows = QuoteLine.objects.filter(quote_id=quote_id).order_by("position").values_list(*LINE_COLUMNS)
        body = "".join("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
        return f"<table>{body}</table>"

    return run


@benchmark("commerce.quote_page", f"quote page with {LINES} lines (server time)", requires=("commerce",))
def quote_page(ctx: Context) -> Iterable[Comparison]:
    from django.test import Client

    rep = ctx.users["rep"]
    quote = _quote(rep)
    client = Client()
    client.force_login(rep)
    url = quote.get_absolute_url()

    def page(_: int) -> Any:
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}; the benchmark needs 200")
        return response

    repeat = max(5, min(ctx.repeat, 30))
    subject = measure(f"quote page, {LINES} lines", page, repeat=repeat, warmup=2)
    bare = measure(f"bare: {LINES} lines read and escaped", _bare(quote.pk), repeat=repeat, warmup=2)
    yield Comparison(
        f"quote page, {LINES} lines",
        subject,
        [bare],
        note="Django test client as the quote's owner; same database, same run",
        targets=[Target("page ≤ 200 ms (p95)", lambda c: c.subject.p95 <= 0.2)],
    )
