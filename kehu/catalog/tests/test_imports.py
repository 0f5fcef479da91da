"""Importing products, prices and exchange rates (issue 7): upload, automatic mapping, dry run, run,
per-row errors with the error file, upsert on each target's key, undo, and who may import."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from kehu.catalog.models import Currency, ExchangeRate, PriceListItem, Product
from kehu.catalog.tests.factories import (
    ExchangeRateFactory,
    PriceListFactory,
    PriceListItemFactory,
    ProductCategoryFactory,
    ProductFactory,
)
from kehu.core.choices import Action, Scope
from kehu.core.errors import PermissionDeniedError
from kehu.imports import selectors, services
from kehu.imports.choices import ImportStatus
from kehu.imports.engine import ImportRunError
from kehu.imports.mapping import auto_map
from kehu.imports.models import ImportJob
from kehu.imports.running import import_dry_run_start, import_run_start, import_undo_start
from kehu.users.tests.factories import RoleFactory, UserFactory, grant

PRODUCT, PRICE, RATE = "catalog.product", "catalog.pricelistitem", "catalog.exchangerate"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


def catalog_manager(username: str = "catalogimp", *, change: bool = True, may_import: bool = True) -> Any:
    role: Any = RoleFactory(name=f"Catalog {username}", code=f"catalog-{username}")
    actions = [Action.VIEW, Action.ADD, *([Action.CHANGE] if change else [])]
    for label in ("catalog.product", "catalog.pricelist", "catalog.exchangerate", "catalog.currency"):
        grant(role, label, *actions, scope=Scope.ALL)
    if may_import:
        for label in ("catalog.product", "catalog.pricelist", "catalog.exchangerate"):
            grant(role, label, Action.IMPORT, scope=Scope.ALL)
    user = UserFactory(username=username)
    user.roles.add(role)
    return user


@pytest.fixture
def user(db: Any) -> Any:
    return catalog_manager()


@pytest.fixture
def currencies(db: Any) -> dict[str, Currency]:
    cny, _ = Currency.objects.get_or_create(code="CNY", defaults={"name": "人民币", "is_company": True})
    Currency.objects.filter(pk=cny.pk).update(is_company=True)
    usd, _ = Currency.objects.get_or_create(code="USD", defaults={"name": "美元"})
    eur, _ = Currency.objects.get_or_create(code="EUR", defaults={"name": "欧元"})
    return {"CNY": cny, "USD": usd, "EUR": eur}


def upload(user: Any, target: str, text: str) -> ImportJob:
    data = text.encode("utf-8")
    return services.import_create(
        by=user, target=target, upload=SimpleUploadedFile("f.csv", data), filename="f.csv"
    )


def mapped(user: Any, target: str, text: str, *, mode: str = "upsert", match_key: str = "") -> ImportJob:
    """Uploaded, with the mapping the wizard proposed (every header must have found its field)."""
    job = upload(user, target, text)
    assert all(job.mapping.values()), job.mapping
    return services.import_set_mapping(
        job=job, by=user, mapping=dict(job.mapping), mode=mode, match_key=match_key
    )


def step(job: ImportJob, user: Any, capture: Any, start: Any) -> ImportJob:
    with capture(execute=True):
        start(job=job, by=user)
    job.refresh_from_db()
    return job


def errors_of(job: ImportJob) -> dict[int, str]:
    return {e["row"]: e["message"] for e in job.dry_run["first_errors"]}


def error_file(job: ImportJob) -> str:
    with job.error_file.open("rb") as fh:
        return fh.read().decode("utf-8-sig")


# --- mapping ------------------------------------------------------------------------------------


def test_headers_in_english_and_chinese_find_their_fields(db: Any) -> None:
    assert auto_map(["代码", "名称", "英文名称", "分类", "税率", "单位", "启用"], PRODUCT) == {
        "代码": "code",
        "名称": "name",
        "英文名称": "name_en",
        "分类": "category",
        "税率": "tax_rate",
        "单位": "unit",
        "启用": "is_active",
    }
    assert auto_map(["SKU", "Product Name", "Tax Rate", "Category", "Unit"], PRODUCT) == {
        "SKU": "code",
        "Product Name": "name",
        "Tax Rate": "tax_rate",
        "Category": "category",
        "Unit": "unit",
    }
    assert auto_map(["价目表", "编码", "起订量", "单价"], PRICE) == {
        "价目表": "price_list",
        "编码": "product",
        "起订量": "min_quantity",
        "单价": "unit_price",
    }
    assert auto_map(["Price List", "Product Code", "Min Quantity", "Unit Price"], PRICE) == {
        "Price List": "price_list",
        "Product Code": "product",
        "Min Quantity": "min_quantity",
        "Unit Price": "unit_price",
    }
    assert auto_map(["币种", "日期", "汇率", "来源"], RATE) == {
        "币种": "currency",
        "日期": "valid_on",
        "汇率": "rate",
        "来源": "source",
    }
    assert auto_map(["Currency", "Date", "Exchange Rate"], RATE) == {
        "Currency": "currency",
        "Date": "valid_on",
        "Exchange Rate": "rate",
    }


def test_the_wizard_offers_the_catalog_targets_in_both_languages(user: Any) -> None:
    client = Client()
    client.force_login(user)
    for language, names in (
        ("en", ("products", "price list items", "exchange rates")),
        ("zh-hans", ("产品", "汇率")),
    ):
        with translation.override(language):
            offered = dict(selectors.import_targets(user=user))
        assert set(offered) == {PRODUCT, PRICE, RATE}
        for name in names:
            assert any(name in str(label).lower() for label in offered.values()), (language, offered)
    page = client.get("/imports/new/").content.decode()
    for label in (PRODUCT, PRICE, RATE):
        assert f'value="{label}"' in page
    job = upload(user, RATE, "币种,日期,汇率\nUSD,2026-01-02,7.1\n")
    assert client.get(f"/imports/{job.pk}/mapping/").status_code == 200
    assert client.get(f"/imports/{job.pk}/options/").status_code == 200


# --- products -----------------------------------------------------------------------------------

PRODUCTS = """代码,名称,英文名称,分类,税率,单位,启用
P-100,服务器,Server,硬件/服务器,13,台,是
p-200,实施服务,Implementation,服务,6,小时,否
P-300,坏税率,,服务,120,台,
P-400,未知分类,,不存在的分类,13,台,
P-100,重复的行,,,,台,
P-500,,,,,台,
"""


def test_products_end_to_end_with_upsert_errors_and_undo(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    hardware = ProductCategoryFactory(name="硬件", name_en="Hardware")
    servers = ProductCategoryFactory(name="服务器", parent=hardware)
    ProductCategoryFactory(name="服务器")  # the same name at the top: the path tells them apart
    services_cat = ProductCategoryFactory(name="服务", name_en="Services")
    old: Any = ProductFactory(code="P-200", name="旧名称", unit="次", tax_rate=Decimal("13"), category=None)
    version = old.version
    capture = django_capture_on_commit_callbacks

    job = mapped(user, PRODUCT, PRODUCTS, match_key="code")
    job = step(job, user, capture, import_dry_run_start)
    assert job.status == ImportStatus.CHECKED
    assert {k: job.dry_run[k] for k in ("create", "update", "skip", "errors")} == {
        "create": 1,
        "update": 1,
        "skip": 1,
        "errors": 3,
    }
    errors = errors_of(job)
    assert set(errors) == {4, 5, 7}
    assert "Between 0 and 100." in errors[4]
    assert "No category is named “不存在的分类”." in errors[5]
    assert "Name" in errors[7] and "This field cannot be blank." in errors[7]
    assert not Product.objects.filter(code="P-100").exists()  # the dry run kept nothing
    assert "P-300" in error_file(job) and "P-100" not in error_file(job)

    job = step(job, user, capture, import_run_start)
    assert job.status == ImportStatus.DONE
    assert {k: job.result[k] for k in ("created", "updated", "skipped", "errors")} == {
        "created": 1,
        "updated": 1,
        "skipped": 1,
        "errors": 3,
    }
    made = Product.objects.get(code="P-100")
    assert (made.name, made.name_en, made.category, made.tax_rate, made.unit, made.is_active) == (
        "服务器",
        "Server",
        servers,
        Decimal("13"),
        "台",
        True,
    )
    old.refresh_from_db()
    assert (old.code, old.name, old.category, old.tax_rate, old.unit, old.is_active) == (
        "P-200",  # matched case-insensitively, the stored code kept
        "实施服务",
        services_cat,
        Decimal("6"),
        "小时",
        False,
    )
    assert not Product.objects.filter(code__in=["P-300", "P-400", "P-500"]).exists()
    assert "P-400" in error_file(job)

    job = step(job, user, capture, import_undo_start)
    assert job.status == ImportStatus.UNDONE
    assert not Product.objects.filter(code="P-100").exists()
    old.refresh_from_db()
    assert (old.name, old.category, old.tax_rate, old.unit, old.is_active) == (
        "旧名称",
        None,
        Decimal("13"),
        "次",
        True,
    )
    assert old.version > version


def test_create_only_skips_existing_products_and_update_only_skips_new_ones(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ProductFactory(code="A-1", name="甲")
    text = "Code,Name\na-1,改名\nB-1,新的\n"
    job = step(
        mapped(user, PRODUCT, text, mode="create"), user, django_capture_on_commit_callbacks, import_run_start
    )
    assert (job.result["created"], job.result["skipped"]) == (1, 1)
    assert Product.objects.get(code="A-1").name == "甲"
    job = step(
        mapped(user, PRODUCT, "Code,Name\nA-1,改名\nC-1,不建\n", mode="update", match_key="code"),
        user,
        django_capture_on_commit_callbacks,
        import_run_start,
    )
    assert (job.result["updated"], job.result["skipped"]) == (1, 1)
    assert Product.objects.get(code="A-1").name == "改名"
    assert not Product.objects.filter(code="C-1").exists()


def test_undo_is_refused_when_an_imported_product_changed_since(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from kehu.catalog.services import product_update

    capture = django_capture_on_commit_callbacks
    job = step(mapped(user, PRODUCT, "Code,Name\nX-1,产品\n"), user, capture, import_run_start)
    product = Product.objects.get(code="X-1")
    product_update(product=product, by=user, data={"name": "后来改的"})
    with pytest.raises(ImportRunError) as info:
        from kehu.imports.running import undo

        undo(job, by=user)
    assert info.value.code == ImportRunError.CHANGED_SINCE
    assert Product.objects.get(code="X-1").name == "后来改的"


# --- prices -------------------------------------------------------------------------------------


def test_prices_end_to_end_with_upsert_errors_and_undo(
    user: Any, currencies: dict[str, Currency], django_capture_on_commit_callbacks: Any
) -> None:
    retail: Any = PriceListFactory(name="零售价", currency=currencies["CNY"])
    product: Any = ProductFactory(code="S-1")
    other: Any = ProductFactory(code="S-2")
    tier: Any = PriceListItemFactory(
        price_list=retail, product=product, min_quantity=Decimal("10"), unit_price=Decimal("90")
    )
    capture = django_capture_on_commit_callbacks
    text = (
        "价目表,产品编码,起订量,单价\n"
        "零售价,s-1,10,85\n"  # the existing tier: updated
        "零售价,S-1,,100\n"  # tier 1: created
        "零售价,S-2,5,-3\n"  # negative price
        "批发价,S-2,1,50\n"  # unknown price list
        "零售价,S-9,1,50\n"  # unknown product
        "零售价,S-2,1,abc\n"  # not a number
    )
    job = step(mapped(user, PRICE, text, match_key="product"), user, capture, import_dry_run_start)
    assert {k: job.dry_run[k] for k in ("create", "update", "skip", "errors")} == {
        "create": 1,
        "update": 1,
        "skip": 0,
        "errors": 4,
    }
    errors = errors_of(job)
    assert "Cannot be negative." in errors[4]
    assert errors[5] == "No price list is named “批发价”."
    assert errors[6] == "No product has the code “S-9”."
    assert "Unit price" in errors[7]
    tier.refresh_from_db()
    assert tier.unit_price == Decimal("90")

    job = step(job, user, capture, import_run_start)
    assert (job.result["created"], job.result["updated"], job.result["errors"]) == (1, 1, 4)
    tier.refresh_from_db()
    assert tier.unit_price == Decimal("85")
    assert PriceListItem.objects.get(price_list=retail, product=product, min_quantity=1).unit_price == 100
    assert not PriceListItem.objects.filter(product=other).exists()
    assert "批发价" in error_file(job)

    job = step(job, user, capture, import_undo_start)
    assert job.status == ImportStatus.UNDONE
    tier.refresh_from_db()
    assert tier.unit_price == Decimal("90")
    assert list(PriceListItem.objects.filter(price_list=retail).values_list("pk", flat=True)) == [tier.pk]


def test_undo_keeps_imported_products_that_have_prices_since(
    user: Any, currencies: dict[str, Currency], django_capture_on_commit_callbacks: Any
) -> None:
    from kehu.catalog.services import price_set

    capture = django_capture_on_commit_callbacks
    job = step(mapped(user, PRODUCT, "Code,Name\nN-1,新品\n"), user, capture, import_run_start)
    price_set(
        price_list=PriceListFactory.create(currency=currencies["CNY"]),
        product=Product.objects.get(code="N-1"),
        unit_price=Decimal("5"),
        by=user,
    )
    job = step(job, user, capture, import_undo_start)
    assert job.status == ImportStatus.DONE  # refused: nothing changed
    assert Product.objects.filter(code="N-1").exists()


# --- exchange rates -----------------------------------------------------------------------------


def test_exchange_rates_end_to_end_with_upsert_errors_and_undo(
    user: Any, currencies: dict[str, Currency], django_capture_on_commit_callbacks: Any
) -> None:
    before: Any = ExchangeRateFactory(
        currency=currencies["USD"], valid_on=dt.date(2026, 1, 1), rate=Decimal("7.1")
    )
    capture = django_capture_on_commit_callbacks
    text = (
        "Currency,Date,Rate,Source\n"
        "usd,2026-01-01,7.2,PBOC\n"  # updated
        "EUR,2026-01-01,7.9,PBOC\n"  # created
        "XYZ,2026-01-01,1,\n"  # unknown currency
        "USD,2026-13-45,7.0,\n"  # bad date
        "USD,2026-01-03,0,\n"  # not above zero
        "CNY,2026-01-03,1,\n"  # the company currency has no rate
        "EUR,2026/1/1,8,\n"  # same key as row 3
    )
    job = step(mapped(user, RATE, text, match_key="currency"), user, capture, import_dry_run_start)
    assert {k: job.dry_run[k] for k in ("create", "update", "skip", "errors")} == {
        "create": 1,
        "update": 1,
        "skip": 1,
        "errors": 4,
    }
    errors = errors_of(job)
    assert errors[4] == "No currency has the code “XYZ”."
    assert "Date" in errors[5]
    assert "A rate is above zero." in errors[6]
    assert "This is the company currency." in errors[7]

    job = step(job, user, capture, import_run_start)
    assert (job.result["created"], job.result["updated"], job.result["errors"]) == (1, 1, 4)
    before.refresh_from_db()
    assert (before.rate, before.source) == (Decimal("7.2"), "PBOC")
    assert ExchangeRate.objects.get(currency=currencies["EUR"]).rate == Decimal("7.9")
    assert "XYZ" in error_file(job) and "2026-13-45" in error_file(job)

    job = step(job, user, capture, import_undo_start)
    assert job.status == ImportStatus.UNDONE
    before.refresh_from_db()
    assert (before.rate, before.source) == (Decimal("7.1"), "")
    assert not ExchangeRate.objects.filter(currency=currencies["EUR"]).exists()


# --- permission ---------------------------------------------------------------------------------


def test_who_may_import_the_catalog(
    db: Any, currencies: dict[str, Currency], django_capture_on_commit_callbacks: Any
) -> None:
    reader = catalog_manager("reader", change=False)
    assert not {PRODUCT, PRICE, RATE} & {label for label, _n in selectors.import_targets(user=reader)}
    for target in (PRODUCT, PRICE, RATE):
        with pytest.raises(PermissionDeniedError):
            upload(reader, target, "Code,Name\nQ-1,产品\n")
    # adding and changing the records is not enough: importing is a grant of its own
    maintainer = catalog_manager("maintainer", may_import=False)
    assert not {PRODUCT, PRICE, RATE} & {label for label, _n in selectors.import_targets(user=maintainer)}
    with pytest.raises(PermissionDeniedError):
        upload(maintainer, PRODUCT, "Code,Name\nQ-1,产品\n")
    client = Client()
    client.force_login(reader)
    assert f'value="{PRODUCT}"' not in client.get("/imports/new/").content.decode()
    assert 'data-menu="imports:new"' not in client.get("/catalog/products/").content.decode()

    # an import set up by someone who has lost the grant since does not run
    manager = catalog_manager("manager")
    client.force_login(manager)
    assert 'data-menu="imports:new"' in client.get("/catalog/products/").content.decode()
    job = mapped(manager, PRODUCT, "Code,Name\nQ-1,产品\n")
    manager.roles.clear()
    manager = type(manager).objects.get(pk=manager.pk)  # (permissions are cached on the user)
    with pytest.raises(ImportRunError) as info:
        import_run_start(job=job, by=manager)
    assert info.value.code == ImportRunError.NO_PERMISSION
    assert not Product.objects.filter(code="Q-1").exists()
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.MAPPED


def test_products_take_their_custom_fields_by_label(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from kehu.customfields.choices import FieldType
    from kehu.customfields.tests.factories import CustomFieldFactory

    CustomFieldFactory.create(
        model="catalog.product",
        name="warranty_months",
        label="保修期",
        label_en="Warranty",
        type=FieldType.INTEGER,
    )
    job = mapped(user, PRODUCT, "编码,名称,保修期\nW-1,带保修,24\nW-2,坏值,两年\n")
    assert job.mapping["保修期"] == "custom.warranty_months"
    job = step(job, user, django_capture_on_commit_callbacks, import_run_start)
    assert (job.result["created"], job.result["errors"]) == (1, 1)
    assert Product.objects.get(code="W-1").custom == {"warranty_months": 24}
    assert not Product.objects.filter(code="W-2").exists()


def test_the_options_step_asks_nothing_about_owners_or_duplicates(user: Any, currencies: Any) -> None:
    job = mapped(user, PRODUCT, "Code,Name\nQ-9,产品九\n")
    client = Client()
    client.force_login(user)
    page = client.get(f"/imports/{job.pk}/options/").content.decode()
    assert 'data-field="mode"' in page
    assert 'data-field="owner_mode"' not in page and 'name="on_duplicate"' not in page
    response = client.post(
        f"/imports/{job.pk}/options/",
        {
            "date_order": "YMD",
            "phone_region": "CN",
            "unknown_choices": "reject",
            "separators": ";",
            "mode": "upsert",
            "match_key": "code",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    job.refresh_from_db()
    assert (job.mode, job.match_key) == ("upsert", "code")
