"""Fixtures and helpers of the contract and order tests (test_contracts_* / test_orders_*)."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal
from typing import Any

import pytest

from kehu.core.choices import Action, Scope
from kehu.users.tests.factories import grant

from ..choices import QuoteStatus
from ..models import Quote
from .factories import QuoteFactory, QuoteLineFactory

ACTIONS = (Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE)


@pytest.fixture
def sellers(company: Any) -> Any:
    """The company with quote-to-cash grants: reps own, managers their department, the director
    销售部 and below, viewer_all everything; accounts, contacts, quotes, contracts and orders alike;
    viewer_all may also edit order statuses."""
    for role, scope in (
        (company.role_rep, Scope.OWN),
        (company.role_manager, Scope.DEPARTMENT),
        (company.role_director, Scope.DEPARTMENT_AND_BELOW),
        (company.role_all, Scope.ALL),
    ):
        for label in (
            "customers.account",
            "customers.contact",
            "commerce.quote",
            "commerce.contract",
            "commerce.order",
        ):
            grant(role, label, *ACTIONS, scope=scope)
        grant(role, "catalog.product", Action.VIEW, scope=Scope.ALL)
    grant(company.role_all, "commerce.orderstatus", *ACTIONS)
    return company


@pytest.fixture
def media(settings: Any, tmp_path: Any) -> Any:
    """A temporary MEDIA_ROOT (what the attachment tests store, and what they check is left)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def stored_files(root: Any) -> list[str]:
    return [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()] if root.exists() else []


def accepted_quote(owner: Any, *, lines: int = 2, **kwargs: Any) -> Quote:
    """An accepted, latest quote with `lines` lines (exact amounts: 2 × 100 at 10 % off, 13 % tax)."""
    kwargs.setdefault("status", QuoteStatus.ACCEPTED)
    kwargs.setdefault("terms", "货到付款 30 天")
    quote = QuoteFactory.create(owner=owner, **kwargs)
    for i in range(lines):
        QuoteLineFactory.create(
            quote=quote,
            position=(i + 1) * 10,
            product_code=f"P-{i}",
            description=f"服务器 {i}",
            quantity=Decimal("2"),
            unit="台",
            unit_price=Decimal("100.00"),
            price_source="From price list 标准价",
            discount_percent=Decimal("10"),
            tax_rate=Decimal("13"),
            gross=Decimal("200.00"),
            discount=Decimal("20.00"),
            net=Decimal("180.00"),
            tax=Decimal("23.40"),
            total=Decimal("203.40"),
        )
    n = Decimal(lines)
    Quote.objects.filter(pk=quote.pk).update(
        subtotal=200 * n, discount_total=20 * n, net_total=180 * n, tax_total=Decimal("23.40") * n,
        total=Decimal("203.40") * n,
    )  # fmt: skip
    quote.refresh_from_db()
    return quote


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def office_zip(member: str = "word/document.xml") -> bytes:
    buffer = io.BytesIO()
    stamp = (2026, 1, 1, 0, 0, 0)  # the same bytes every time (test ids, xdist workers)
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("[Content_Types].xml", stamp), "<Types/>")
        archive.writestr(zipfile.ZipInfo(member, stamp), "<x/>")
    return buffer.getvalue()
