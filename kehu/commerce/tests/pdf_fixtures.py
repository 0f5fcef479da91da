"""Quotes with lines and a company profile for the PDF and sending tests."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from kehu.customers.tests.factories import AccountFactory

from ..models import CompanyProfile, Quote
from ..selectors.company import company_profile
from .factories import QuoteFactory, QuoteLineFactory


def letterhead(**values: Any) -> CompanyProfile:
    profile = company_profile()
    defaults = {
        "name": "上海客户软件有限公司",
        "name_en": "Shanghai Kehu Software Co., Ltd.",
        "address": "上海市浦东新区张江路 88 号",
        "address_en": "88 Zhangjiang Road, Pudong, Shanghai",
        "phone": "+86 21 5555 1234",
        "tax_id": "91310115MA1K4ABC12",
        "bank_name": "招商银行上海张江支行",
        "bank_account": "1219 0888 6610 801",
    }
    for name, value in {**defaults, **values}.items():
        setattr(profile, name, value)
    profile.save()
    return profile


def priced_quote(*, lines: int = 3, owner: Any = None, **values: Any) -> Quote:
    """A quote of `lines` lines at 3 × 1,234.50 (13 % tax) whose total is 12,345.67."""
    kwargs: dict[str, Any] = {
        "name": "CRM 年度订阅",
        "valid_until": dt.date.today() + dt.timedelta(days=30),
        "subtotal": Decimal("12345.67"),
        "net_total": Decimal("12345.67"),
        "total": Decimal("12345.67"),
        "terms": "付款方式：合同签订后 5 个工作日内付款。",
    }
    if owner is not None:
        kwargs["owner"] = owner
        kwargs["account"] = AccountFactory.create(owner=owner, name="北京星辰科技有限公司")
    else:
        kwargs["account"] = AccountFactory.create(name="北京星辰科技有限公司")
    kwargs.update(values)
    quote = QuoteFactory.create(**kwargs)
    for index in range(lines):
        QuoteLineFactory.create(
            quote=quote,
            position=index,
            product_code=f"SKU-{index:04d}",
            description=f"企业版许可证 {index}",
            unit="套",
            quantity=Decimal("3"),
            unit_price=Decimal("1234.5"),
            tax_rate=Decimal("13"),
            total=Decimal("4184.96"),
        )
    return quote


def pdf_text(data: bytes) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "q.pdf"
        path.write_bytes(data)
        return subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
        ).stdout


def pdf_fonts(data: bytes) -> list[list[str]]:
    """The rows of `pdffonts` (name, type, encoding, emb, sub, uni, ...)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "q.pdf"
        path.write_bytes(data)
        out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    return [line.split() for line in out.splitlines()[2:] if line.strip()]


def pdf_pages(data: bytes) -> int:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "q.pdf"
        path.write_bytes(data)
        out = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in out.splitlines() if line.startswith("Pages:")))


def poppler_available() -> bool:
    return all(shutil.which(tool) for tool in ("pdftotext", "pdffonts", "pdfinfo"))


def png_bytes(size: tuple[int, int] = (120, 40), kind: str = "PNG") -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (32, 107, 196)).save(buffer, format=kind)
    return buffer.getvalue()
