"""Exports of products, prices and exchange rates: the list's filters, CSV and XLSX, the export
permission, and an export that imports back as updates."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kehu.catalog.models import Currency, Product
from kehu.catalog.tests.factories import (
    ExchangeRateFactory,
    PriceListFactory,
    PriceListItemFactory,
    ProductCategoryFactory,
    ProductFactory,
)
from kehu.core import exports
from kehu.core.choices import Action, JobStatus, Scope
from kehu.core.errors import PermissionDeniedError
from kehu.imports import services as import_services
from kehu.imports.running import import_run_start
from kehu.users.tests.factories import RoleFactory, UserFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


def exporter_user(username: str = "exporter", *, export: bool = True) -> Any:
    role: Any = RoleFactory(name=f"Catalog {username}", code=f"catalog-{username}")
    actions = [Action.VIEW, Action.ADD, Action.CHANGE, *([Action.EXPORT] if export else [])]
    for label in ("catalog.product", "catalog.pricelist", "catalog.exchangerate", "catalog.currency"):
        grant(role, label, *actions, scope=Scope.ALL)
    for label in ("catalog.product", "catalog.pricelist", "catalog.exchangerate"):
        grant(role, label, Action.IMPORT, scope=Scope.ALL)  # (one test imports an export back)
    user = UserFactory(username=username)
    user.roles.add(role)
    return user


def run(user: Any, exporter: str, params: dict[str, Any], capture: Any, fmt: str = "csv") -> list[list[Any]]:
    with capture(execute=True):
        job = exports.export_start(user=user, exporter=exporter, params=params, fmt=fmt)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    data = job.result_file.read()
    if fmt == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(data)).active
        assert sheet is not None
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.fixture
def catalog(db: Any) -> dict[str, Any]:
    hardware = ProductCategoryFactory(name="硬件")
    servers = ProductCategoryFactory(name="服务器", parent=hardware)
    cny, _ = Currency.objects.get_or_create(code="CNY", defaults={"name": "人民币", "is_company": True})
    usd, _ = Currency.objects.get_or_create(code="USD", defaults={"name": "美元"})
    eur, _ = Currency.objects.get_or_create(code="EUR", defaults={"name": "欧元"})
    a = ProductFactory(code="A-1", name="服务器", name_en="Server", category=servers, tax_rate=Decimal("13"))
    b = ProductFactory(code="B-1", name="停产品", category=hardware, is_active=False)
    retail = PriceListFactory(name="零售价", currency=cny)
    export = PriceListFactory(name="出口价", currency=usd)
    PriceListItemFactory(price_list=retail, product=a, unit_price=Decimal("100.50"))
    PriceListItemFactory(price_list=retail, product=a, min_quantity=Decimal("10"), unit_price=Decimal("90"))
    PriceListItemFactory(price_list=export, product=b, unit_price=Decimal("20"))
    ExchangeRateFactory(currency=usd, valid_on=dt.date(2026, 1, 1), rate=Decimal("7.1"))
    ExchangeRateFactory(currency=eur, valid_on=dt.date(2026, 1, 1), rate=Decimal("7.9"))
    return {"a": a, "b": b, "retail": retail, "usd": usd, "eur": eur}


def test_products_export_with_the_list_filters_in_csv_and_xlsx(
    catalog: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    user = exporter_user()
    rows = run(user, "catalog.product", {"is_active": "true"}, django_capture_on_commit_callbacks)
    header = rows[0]
    assert header[:10] == [
        "Code",
        "Name",
        "English name",
        "Kind",
        "Category",
        "Unit",
        "Tax rate",
        "Cost",
        "Description",
        "Active",
    ]
    assert [r[:7] for r in rows[1:]] == [["A-1", "服务器", "Server", "Product", "硬件/服务器", "台", "13"]]
    rows = run(user, "catalog.product", {}, django_capture_on_commit_callbacks, fmt="xlsx")
    assert [r[0] for r in rows] == ["Code", "A-1", "B-1"]
    assert rows[2][9] == "No"


def test_prices_export_holds_the_prices_of_the_filtered_price_lists(
    catalog: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    user = exporter_user()
    rows = run(user, "catalog.pricelistitem", {"q": "零售"}, django_capture_on_commit_callbacks)
    assert rows == [
        ["Price list", "Currency", "Product code", "Product name", "Min quantity", "Unit price"],
        ["零售价", "CNY", "A-1", "服务器", "1", "100.5"],
        ["零售价", "CNY", "A-1", "服务器", "10", "90"],
    ]
    rows = run(user, "catalog.pricelistitem", {}, django_capture_on_commit_callbacks, fmt="xlsx")
    assert len(rows) == 4


def test_exchange_rates_export_with_the_currency_filter(
    catalog: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    user = exporter_user()
    rows = run(
        user, "catalog.exchangerate", {"currency": [catalog["eur"].pk]}, django_capture_on_commit_callbacks
    )
    assert rows == [["Currency", "Date", "Rate", "Source"], ["EUR", "2026-01-01", "7.9", ""]]


def test_exports_need_the_export_permission_and_the_button_shows_with_it(catalog: dict[str, Any]) -> None:
    reader = exporter_user("reader", export=False)
    for name in ("catalog.product", "catalog.pricelistitem", "catalog.exchangerate"):
        with pytest.raises(PermissionDeniedError):
            exports.export_start(user=reader, exporter=name, params={}, fmt="csv")
    client = Client()
    client.force_login(reader)
    pages = {
        "/catalog/products/": "catalog.product",
        "/catalog/price-lists/": "catalog.pricelistitem",
        "/catalog/exchange-rates/": "catalog.exchangerate",
    }
    for url, name in pages.items():
        page = client.get(url)
        assert page.status_code == 200, url
        assert f'data-exporter="{name}"' not in page.content.decode()
    client.force_login(exporter_user())
    for url, name in pages.items():
        assert f'data-exporter="{name}"' in client.get(url).content.decode(), url


def test_an_exported_product_list_imports_back_as_updates(
    catalog: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    user = exporter_user()
    rows = run(user, "catalog.product", {}, django_capture_on_commit_callbacks)
    rows[1][1] = "新名字"
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    job = import_services.import_create(
        by=user,
        target="catalog.product",
        upload=SimpleUploadedFile("products.csv", buf.getvalue().encode()),
        filename="products.csv",
    )
    assert all(job.mapping.values()), job.mapping
    job = import_services.import_set_mapping(job=job, by=user, mapping=dict(job.mapping), mode="upsert")
    with django_capture_on_commit_callbacks(execute=True):
        import_run_start(job=job, by=user)
    job.refresh_from_db()
    assert (job.result["created"], job.result["updated"], job.result["errors"]) == (0, 2, 0)
    assert Product.objects.get(code="A-1").name == "新名字"
    assert Product.objects.get(code="B-1").is_active is False
