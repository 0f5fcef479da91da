"""The catalog's settings pages: currencies (本位币), exchange rates and the category tree."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from kehu.catalog.models import Currency, ExchangeRate, Product, ProductCategory
from kehu.catalog.services import category_create, exchange_rate_set, product_create
from kehu.core.choices import Action
from kehu.users.tests.factories import grant

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Target": "kehu-modal-content"}
DAY = dt.date(2026, 6, 1)

LISTS = ["catalog:currency_list", "catalog:exchangerate_list", "catalog:productcategory_list"]


@pytest.fixture
def admin(client: Client, company: Any) -> Client:
    client.force_login(company.admin)
    return client


def usd() -> Currency:
    return Currency.objects.get(code="USD")


def cny() -> Currency:
    return Currency.objects.get(code="CNY")


def _tree(admin_user: Any) -> tuple[ProductCategory, ProductCategory, ProductCategory]:
    root = category_create(by=admin_user, data={"name": "硬件"})
    child = category_create(by=admin_user, data={"name": "服务器", "parent": root})
    grandchild = category_create(by=admin_user, data={"name": "机架式", "parent": child})
    return root, child, grandchild


# --- pages render --------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_every_page_renders_for_an_admin_in_both_languages(admin: Client, company: Any, lang: str) -> None:
    _root, child, _ = _tree(company.admin)
    exchange_rate_set(currency=usd(), valid_on=DAY, rate=Decimal("7.1"), by=company.admin, source="PBOC")
    admin.cookies["django_language"] = lang
    pages = [
        *[reverse(n) for n in LISTS],
        reverse("catalog:currency_add"),
        reverse("catalog:currency_edit", args=[usd().pk]),
        reverse("catalog:currency_delete", args=[usd().pk]),
        reverse("catalog:exchangerate_add"),
        reverse("catalog:exchangerate_delete", args=[ExchangeRate.objects.get().pk]),
        reverse("catalog:productcategory_add"),
        reverse("catalog:productcategory_edit", args=[child.pk]),
        reverse("catalog:productcategory_delete", args=[child.pk]),
    ]
    for url in pages:
        for extra in ({}, HTMX):
            response = admin.get(url, headers={"Accept-Language": lang, **extra})
            assert response.status_code == 200, (url, extra)
    body = admin.get(reverse("catalog:currency_list"), headers={"Accept-Language": lang}).content.decode()
    with translation.override(lang):
        badge = translation.gettext("Company currency")
        title = str(Currency._meta.verbose_name_plural)
    assert f"data-company-currency>{badge}</span>" in body
    assert title.capitalize() in body
    assert ("币种" if lang == "zh-hans" else "Currencies") in body


def test_the_company_currency_has_a_badge_and_no_delete_or_make_company(admin: Client) -> None:
    body = admin.get(reverse("catalog:currency_list")).content.decode()
    assert body.count("data-company-currency") == 1
    assert reverse("catalog:currency_delete", args=[cny().pk]) not in body
    assert reverse("catalog:currency_make_company", args=[cny().pk]) not in body
    assert reverse("catalog:currency_delete", args=[usd().pk]) in body
    assert reverse("catalog:currency_make_company", args=[usd().pk]) in body
    # nor can it be deactivated: the edit form has no "active" box
    form = admin.get(reverse("catalog:currency_edit", args=[cny().pk])).content.decode()
    assert 'name="is_active"' not in form
    assert 'name="is_active"' in admin.get(reverse("catalog:currency_edit", args=[usd().pk])).content.decode()


def test_the_rates_list_shows_currency_date_rate_source_and_the_company_code(
    admin: Client, company: Any
) -> None:
    exchange_rate_set(
        currency=usd(), valid_on=DAY, rate=Decimal("7.12340000"), by=company.admin, source="PBOC"
    )
    admin.cookies["django_language"] = "en"
    body = admin.get(reverse("catalog:exchangerate_list")).content.decode()
    assert "Rate (CNY per unit)" in body
    assert "7.1234<" in body and "PBOC" in body and "USD" in body


def test_the_rates_list_filters_by_currency(admin: Client, company: Any) -> None:
    exchange_rate_set(currency=usd(), valid_on=DAY, rate="7.1", by=company.admin, source="usd-src")
    eur = Currency.objects.get(code="EUR")
    exchange_rate_set(currency=eur, valid_on=DAY, rate="7.8", by=company.admin, source="eur-src")
    body = admin.get(reverse("catalog:exchangerate_list"), {"currency": eur.pk}).content.decode()
    assert "eur-src" in body and "usd-src" not in body


def test_the_category_list_is_the_tree_indented_with_product_counts(admin: Client, company: Any) -> None:
    root, child, grandchild = _tree(company.admin)
    other = category_create(by=company.admin, data={"name": "A-软件"})
    product_create(by=company.admin, data={"code": "P1", "name": "R740", "category": child})
    product_create(by=company.admin, data={"code": "P2", "name": "R750", "category": child})
    body = admin.get(reverse("catalog:productcategory_list")).content.decode()
    # depth first: 软件 (A…) and 硬件 are roots; the subtree follows its root
    positions = [body.index(f'data-pk="{c.pk}"') for c in (other, root, child, grandchild)]
    assert positions == sorted(positions)
    assert 'data-depth="2"' in body and 'data-depth="1"' in body
    row = body[body.index(f'data-pk="{child.pk}"') :]
    row = row[: row.index("</tr>")]
    assert ">2</td>" in row
    assert Product.objects.filter(category=child).count() == 2


# --- currencies: add, edit, make company, delete ---------------------------------------------------


@pytest.mark.parametrize("htmx", [True, False])
def test_currency_add_edit_delete_round_trip(admin: Client, htmx: bool) -> None:
    extra = HTMX if htmx else {}
    response = admin.post(
        reverse("catalog:currency_add"),
        {
            "code": "CHF",
            "name": "瑞士法郎",
            "name_en": "Swiss franc",
            "symbol": "Fr",
            "minor_unit": 2,
            "is_active": "on",
        },
        headers=extra,
    )
    list_url = reverse("catalog:currency_list")
    if htmx:
        assert response.status_code == 204
        assert json.loads(response["HX-Location"])["path"] == list_url
        assert "kehu:closeModal" in json.loads(response["HX-Trigger"])
    else:
        assert response.status_code == 302 and response["Location"] == list_url
    chf = Currency.objects.get(code="CHF")
    assert (chf.name, chf.is_active, chf.is_company) == ("瑞士法郎", True, False)

    response = admin.post(
        reverse("catalog:currency_edit", args=[chf.pk]),
        {"code": "XXX", "name": "瑞郎", "name_en": "Swiss franc", "symbol": "Fr", "minor_unit": 2},
        headers=extra,
    )
    assert response.status_code == (204 if htmx else 302)
    chf.refresh_from_db()
    assert (chf.code, chf.name, chf.is_active) == ("CHF", "瑞郎", False)  # the code is fixed

    response = admin.post(reverse("catalog:currency_delete", args=[chf.pk]), headers=extra)
    assert response.status_code == (204 if htmx else 302)
    assert not Currency.objects.filter(code="CHF").exists()


@pytest.mark.parametrize("htmx", [True, False])
def test_a_lower_case_code_is_a_field_error_and_nothing_is_created(admin: Client, htmx: bool) -> None:
    before = Currency.objects.count()
    response = admin.post(
        reverse("catalog:currency_add"),
        {"code": "chf", "name": "瑞士法郎", "minor_unit": 2, "is_active": "on"},
        headers=HTMX if htmx else {},
    )
    assert response.status_code == (200 if htmx else 400)
    form = response.context["form"]
    assert "code" in form.errors
    assert "is-invalid" in response.content.decode() or "invalid-feedback" in response.content.decode()
    assert Currency.objects.count() == before


def test_make_company_switches_the_company_currency(admin: Client) -> None:
    response = admin.post(reverse("catalog:currency_make_company", args=[usd().pk]), headers=HTMX)
    assert response.status_code == 204
    assert list(Currency.objects.filter(is_company=True).values_list("code", flat=True)) == ["USD"]
    response = admin.post(reverse("catalog:currency_make_company", args=[cny().pk]))
    assert response.status_code == 302
    assert list(Currency.objects.filter(is_company=True).values_list("code", flat=True)) == ["CNY"]
    assert admin.get(reverse("catalog:currency_make_company", args=[usd().pk])).status_code == 405


def test_an_inactive_currency_cannot_become_the_company_currency(admin: Client, company: Any) -> None:
    Currency.objects.filter(code="GBP").update(is_active=False)
    gbp = Currency.objects.get(code="GBP")
    response = admin.post(reverse("catalog:currency_make_company", args=[gbp.pk]), headers=HTMX)
    assert response.status_code == 204
    assert json.loads(response["HX-Trigger"])["kehu:toast"]["level"] == "error"
    assert cny().is_company and not Currency.objects.get(code="GBP").is_company


def test_the_company_currency_cannot_be_deleted(admin: Client) -> None:
    response = admin.post(reverse("catalog:currency_delete", args=[cny().pk]), headers=HTMX)
    assert response.status_code == 200
    assert "data-delete-error" in response.content.decode()
    assert Currency.objects.filter(code="CNY", is_company=True).exists()


# --- exchange rates ------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [True, False])
def test_exchange_rate_set_is_an_upsert_and_delete_removes_it(admin: Client, htmx: bool) -> None:
    extra = HTMX if htmx else {}
    url = reverse("catalog:exchangerate_add")
    data = {"currency": usd().pk, "valid_on": "2026-06-01", "rate": "7.1", "source": "PBOC"}
    response = admin.post(url, data, headers=extra)
    assert response.status_code == (204 if htmx else 302)
    if not htmx:
        assert response["Location"] == reverse("catalog:exchangerate_list")
    response = admin.post(url, {**data, "rate": "7.25", "source": "manual"}, headers=extra)
    assert response.status_code == (204 if htmx else 302)
    rate = ExchangeRate.objects.get()
    assert (rate.currency.code, rate.valid_on, rate.rate, rate.source) == (
        "USD",
        DAY,
        Decimal("7.25"),
        "manual",
    )
    response = admin.post(reverse("catalog:exchangerate_delete", args=[rate.pk]), headers=extra)
    assert response.status_code == (204 if htmx else 302)
    assert not ExchangeRate.objects.exists()


@pytest.mark.parametrize("rate", ["0", "-1", "abc"])
def test_a_bad_rate_is_a_field_error_and_nothing_changes(admin: Client, company: Any, rate: str) -> None:
    exchange_rate_set(currency=usd(), valid_on=DAY, rate="7.1", by=company.admin)
    response = admin.post(
        reverse("catalog:exchangerate_add"),
        {"currency": usd().pk, "valid_on": "2026-06-01", "rate": rate},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "rate" in response.context["form"].errors
    assert ExchangeRate.objects.get().rate == Decimal("7.1")


def test_the_company_currency_is_not_offered_for_a_rate(admin: Client) -> None:
    response = admin.post(
        reverse("catalog:exchangerate_add"), {"currency": cny().pk, "valid_on": "2026-06-01", "rate": "1"}
    )
    assert response.status_code == 400
    assert "currency" in response.context["form"].errors
    assert not ExchangeRate.objects.exists()


# --- categories ----------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [True, False])
def test_category_add_edit_delete_round_trip(admin: Client, company: Any, htmx: bool) -> None:
    extra = HTMX if htmx else {}
    root = category_create(by=company.admin, data={"name": "硬件"})
    response = admin.post(
        reverse("catalog:productcategory_add"),
        {"name": "服务器", "name_en": "Servers", "parent": root.pk, "order": 1},
        headers=extra,
    )
    assert response.status_code == (204 if htmx else 302)
    if not htmx:
        assert response["Location"] == reverse("catalog:productcategory_list")
    child = ProductCategory.objects.get(name="服务器")
    assert child.parent == root
    response = admin.post(
        reverse("catalog:productcategory_edit", args=[child.pk]),
        {"name": "服务器与存储", "name_en": "Servers", "parent": "", "order": 2},
        headers=extra,
    )
    assert response.status_code == (204 if htmx else 302)
    child.refresh_from_db()
    assert (child.name, child.parent_id, child.order) == ("服务器与存储", None, 2)
    response = admin.post(reverse("catalog:productcategory_delete", args=[child.pk]), headers=extra)
    assert response.status_code == (204 if htmx else 302)
    assert not ProductCategory.objects.filter(pk=child.pk).exists()


def test_the_add_form_takes_the_parent_from_the_query(admin: Client, company: Any) -> None:
    root = category_create(by=company.admin, data={"name": "硬件"})
    response = admin.get(reverse("catalog:productcategory_add"), {"parent": root.pk}, headers=HTMX)
    assert f'<option value="{root.pk}" selected>' in response.content.decode()


@pytest.mark.parametrize("htmx", [True, False])
def test_a_category_loop_is_a_field_error_and_nothing_changes(
    admin: Client, company: Any, htmx: bool
) -> None:
    root, _child, grandchild = _tree(company.admin)
    for parent in (grandchild, root):  # under its own grandchild, under itself
        response = admin.post(
            reverse("catalog:productcategory_edit", args=[root.pk]),
            {"name": root.name, "parent": parent.pk, "order": 0},
            headers=HTMX if htmx else {},
        )
        assert response.status_code == (200 if htmx else 400)
        assert "parent" in response.context["form"].errors
    root.refresh_from_db()
    assert root.parent_id is None


def test_a_category_with_products_is_not_deleted(admin: Client, company: Any) -> None:
    root = category_create(by=company.admin, data={"name": "硬件"})
    product_create(by=company.admin, data={"code": "P1", "name": "R740", "category": root})
    response = admin.post(reverse("catalog:productcategory_delete", args=[root.pk]), headers=HTMX)
    assert response.status_code == 200
    assert "data-delete-error" in response.content.decode()
    assert ProductCategory.objects.filter(pk=root.pk).exists()


# --- permissions ---------------------------------------------------------------------------------


def _all_urls(company: Any) -> list[tuple[str, str]]:
    root = category_create(by=company.admin, data={"name": "硬件"})
    rate = exchange_rate_set(currency=usd(), valid_on=DAY, rate="7.1", by=company.admin)
    return [
        *[("get", reverse(n)) for n in LISTS],
        ("get", reverse("catalog:currency_add")),
        ("get", reverse("catalog:currency_edit", args=[usd().pk])),
        ("post", reverse("catalog:currency_make_company", args=[usd().pk])),
        ("post", reverse("catalog:currency_delete", args=[usd().pk])),
        ("get", reverse("catalog:exchangerate_add")),
        ("post", reverse("catalog:exchangerate_add")),
        ("post", reverse("catalog:exchangerate_delete", args=[rate.pk])),
        ("get", reverse("catalog:productcategory_add")),
        ("post", reverse("catalog:productcategory_edit", args=[root.pk])),
        ("post", reverse("catalog:productcategory_delete", args=[root.pk])),
    ]


def test_a_user_without_permission_gets_403_and_nothing_changes(client: Client, company: Any) -> None:
    urls = _all_urls(company)
    client.force_login(company.nobody)
    for method, url in urls:
        assert getattr(client, method)(url).status_code == 403, url
    assert cny().is_company and Currency.objects.filter(code="USD").exists()
    assert ExchangeRate.objects.count() == 1 and ProductCategory.objects.count() == 1


def test_anonymous_is_sent_to_sign_in(client: Client, company: Any) -> None:
    for method, url in _all_urls(company):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert "login" in response["Location"] and "next=" in response["Location"]


def test_view_only_users_see_the_lists_without_edit_buttons_and_may_not_write(
    client: Client, company: Any
) -> None:
    for model in ("catalog.currency", "catalog.exchangerate", "catalog.productcategory"):
        grant(company.role_rep, model, Action.VIEW)
    root = category_create(by=company.admin, data={"name": "硬件"})
    client.force_login(company.rep1)
    body = client.get(reverse("catalog:currency_list")).content.decode()
    assert reverse("catalog:currency_edit", args=[usd().pk]) not in body
    assert reverse("catalog:currency_add") not in body
    assert client.get(reverse("catalog:productcategory_list")).status_code == 200
    assert (
        client.post(reverse("catalog:productcategory_edit", args=[root.pk]), {"name": "x"}).status_code == 403
    )
    assert client.post(reverse("catalog:currency_make_company", args=[usd().pk])).status_code == 403
    assert cny().is_company
