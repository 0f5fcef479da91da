"""The permission matrix of quotes: pages, line edits, status moves and the API as anonymous, no
permission, own, department, department and below, and all."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from kehu.core.choices import Action
from kehu.core.testing import Endpoint, PermissionMatrix, crud_endpoints
from kehu.users.tests.factories import grant

from .factories import QuoteFactory, QuoteLineFactory

pytestmark = pytest.mark.django_db

HTML = "/commerce/quotes/"
API = "/api/v1/commerce/quotes/"


def _make(owner: Any) -> Any:
    quote = QuoteFactory.create(owner=owner, currency="CNY")
    QuoteLineFactory.create(quote=quote)
    return quote


def _endpoints() -> list[Endpoint]:
    return crud_endpoints(
        HTML,
        API,
        views=[Endpoint("html timeline", "get", lambda o: f"{HTML}{o.pk}/?tab=timeline", Action.VIEW)],
        add_form_url=lambda o: f"{HTML}add/?account={o.account_id}",
        create=lambda o: {"account": o.account_id, "currency": "CNY", "language": "zh-hans"},
        edit=lambda o: {
            "name": "改名",
            "currency": "CNY",
            "quote_date": o.quote_date.isoformat(),
            "language": "zh-hans",
            "version": o.version,
        },
        actions=[
            Endpoint("line form", "get", lambda o: f"{HTML}{o.pk}/lines/add/", Action.CHANGE, htmx=True),
            Endpoint(
                "line add (htmx)",
                "post",
                lambda o: f"{HTML}{o.pk}/lines/add/",
                Action.CHANGE,
                data=lambda o: {
                    "description": "服务费",
                    "quantity": "2",
                    "unit_price": "50",
                    "version": o.version,
                },
                writes=True,
                ok=(204,),
                htmx=True,
            ),
            Endpoint(
                "submit", "post", lambda o: f"{HTML}{o.pk}/submit/", Action.CHANGE, writes=True, ok=(302,)
            ),
        ],
        delete_confirm=False,
        api_create=lambda o: {"account": o.account_id, "name": "API 报价"},
        api_update=lambda o: {"terms": "30 天付款", "version": o.version},
        api_actions=[
            Endpoint(
                "api add line",
                "post",
                lambda o: f"{API}{o.pk}/lines/",
                Action.CHANGE,
                api=True,
                data=lambda o: {"description": "安装", "quantity": "1", "unit_price": "10"},
                writes=True,
                ok=(201,),
            ),
            Endpoint(
                "api submit", "post", lambda o: f"{API}{o.pk}/submit/", Action.CHANGE, api=True, writes=True
            ),
        ],
    )


def _snapshot(quote: Any) -> Any:
    return (quote.name, quote.status, quote.version, quote.terms, quote.total, quote.lines.count())


def test_quote_permission_matrix(company: Any, client: Any) -> None:
    from kehu.catalog.models import Currency

    Currency.objects.update_or_create(
        code="CNY", defaults={"name": "人民币", "is_company": True, "is_active": True}
    )
    PermissionMatrix(
        model="commerce.quote",
        make=_make,
        endpoints=_endpoints(),
        extra_grants={"customers.account": ["view"], "catalog.product": ["view"]},
        grant=grant,
        snapshot=_snapshot,
    ).run(company, client)


def test_line_amount_is_decimal_exact(company: Any) -> None:
    quote = _make(company.rep1)
    assert quote.lines.get().unit_price == Decimal("100")
