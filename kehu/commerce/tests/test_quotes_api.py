"""The quote API: create (from an account or an opportunity), nested lines, status actions,
refusals as {"code", "message", "fields"} with 400/403/409, approval rules and the inbox."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ..choices import ApprovalRuleKind, QuoteStatus
from ..models import ApprovalRule, Quote
from .factories import ApprovalRuleFactory
from .quote_fixtures import make_quote, world  # noqa: F401

# ruff: noqa: F811

pytestmark = pytest.mark.django_db
API = "/api/v1/commerce/"


def _post(client: Any, url: str, data: Any = None) -> Any:
    return client.post(url, data or {}, content_type="application/json")


def test_create_add_lines_and_read_totals(world: Any, client: Any) -> None:
    client.force_login(world.rep1)
    response = _post(client, f"{API}quotes/", {"account": world.account.pk, "name": "API"})
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    assert response.json()["number"].startswith("QT") and response.json()["status"] == "draft"
    line = _post(
        client,
        f"{API}quotes/{pk}/lines/",
        {"product": world.product.pk, "quantity": "2", "discount_percent": "10"},
    )
    assert line.status_code == 201, line.json()
    assert line.json()["price_source"] == "@pricelist:标准价|"
    assert line.json()["price_source_text"] in ("From price list 标准价", "来自价目表 标准价")
    assert line.json()["price_source"] and line.json()["total"] == "203.4000"
    body = client.get(f"{API}quotes/{pk}/").json()
    assert body["total"] == "203.4000" and len(body["lines"]) == 1
    line_id = line.json()["id"]
    changed = client.patch(f"{API}quote-lines/{line_id}/", {"quantity": "3"}, content_type="application/json")
    assert changed.status_code == 200, changed.json()
    assert Quote.objects.get(pk=pk).total == Decimal("305.10")
    assert client.delete(f"{API}quote-lines/{line_id}/").status_code == 204
    assert Quote.objects.get(pk=pk).total == Decimal("0")


def test_bad_input_answers_field_errors(world: Any, client: Any) -> None:
    quote = make_quote(world)
    client.force_login(world.rep1)
    for data, field in (
        ({"product": world.product.pk, "quantity": "-1"}, "quantity"),
        ({"product": world.product.pk, "quantity": "1", "discount_percent": "150"}, "discount_percent"),
        ({"product": world.product.pk, "quantity": "1", "discount_amount": "1000"}, "discount_amount"),
        ({"product": world.product.pk, "quantity": "1", "price_list": world.usd_list.pk}, "price_list"),
    ):
        response = _post(client, f"{API}quotes/{quote.pk}/lines/", data)
        assert response.status_code == 400, (data, response.json())
        assert field in response.json()["fields"], response.json()
    assert quote.lines.count() == 1


def test_actions_flow_and_wrong_state(world: Any, client: Any) -> None:
    ApprovalRuleFactory.create(kind=ApprovalRuleKind.DISCOUNT_ABOVE, threshold=Decimal("5"))
    quote = make_quote(world)
    client.force_login(world.rep1)
    assert _post(client, f"{API}quotes/{quote.pk}/accept/").status_code == 409
    line = quote.lines.get()
    client.patch(f"{API}quote-lines/{line.pk}/", {"discount_percent": "10"}, content_type="application/json")
    response = _post(client, f"{API}quotes/{quote.pk}/submit/")
    assert response.status_code == 200 and response.json()["status"] == "pending"
    edit = client.patch(f"{API}quotes/{quote.pk}/", {"terms": "x"}, content_type="application/json")
    assert edit.status_code == 409 and edit.json()["code"] == "quote_state"
    assert _post(client, f"{API}quotes/{quote.pk}/approve/").status_code == 403
    assert _post(client, f"{API}quotes/{quote.pk}/recall/").json()["status"] == "draft"
    _post(client, f"{API}quotes/{quote.pk}/submit/")
    client.force_login(world.manager1)
    inbox = client.get(f"{API}approvals/").json()
    rows = inbox.get("results", inbox)
    assert [r["quote"] for r in rows] == [quote.pk]
    rejected = _post(client, f"{API}quotes/{quote.pk}/reject/", {"comment": ""})
    assert rejected.status_code == 400 and "comment" in rejected.json()["fields"]
    assert _post(client, f"{API}quotes/{quote.pk}/approve/", {"comment": "ok"}).json()["status"] == "approved"
    client.force_login(world.rep1)
    assert _post(client, f"{API}quotes/{quote.pk}/send/").json()["status"] == "sent"
    declined = _post(client, f"{API}quotes/{quote.pk}/decline/", {"reason": "预算"})
    assert declined.json()["status"] == "rejected"
    revised = _post(client, f"{API}quotes/{quote.pk}/revise/")
    assert (
        revised.status_code == 201 and revised.json()["revision"] == 2 and revised.json()["status"] == "draft"
    )
    listed = client.get(f"{API}quotes/").json()
    ids = [r["id"] for r in listed.get("results", listed)]
    assert ids == [revised.json()["id"]]
    listed = client.get(f"{API}quotes/?all_versions=true").json()
    assert {r["id"] for r in listed.get("results", listed)} == {quote.pk, revised.json()["id"]}
    assert _post(client, f"{API}quotes/{quote.pk}/accept/").status_code == 409
    new = Quote.objects.get(pk=revised.json()["id"])
    new_accept = _post(client, f"{API}quotes/{new.pk}/accept/")
    assert new_accept.status_code == 409 and Quote.objects.get(pk=new.pk).status == QuoteStatus.DRAFT


def test_out_of_scope_404(world: Any, client: Any) -> None:
    quote = make_quote(world)
    client.force_login(world.rep3)
    assert client.get(f"{API}quotes/{quote.pk}/").status_code == 404
    assert _post(client, f"{API}quotes/{quote.pk}/submit/").status_code == 404
    assert _post(client, f"{API}quotes/{quote.pk}/approve/").status_code == 404


def test_create_from_opportunity(world: Any, client: Any) -> None:
    from kehu.sales.tests.factories import OpportunityFactory

    opp = OpportunityFactory.create(owner=world.rep1, account=world.account, currency="CNY")
    client.force_login(world.rep1)
    response = _post(client, f"{API}quotes/", {"opportunity": opp.pk})
    assert response.status_code == 201, response.json()
    assert response.json()["account"] == world.account.pk and response.json()["opportunity"] == opp.pk


def test_approval_rules_crud(world: Any, client: Any) -> None:
    client.force_login(world.admin)
    response = _post(client, f"{API}approval-rules/", {"name": "低于成本", "kind": "below_cost"})
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    bad = client.patch(
        f"{API}approval-rules/{pk}/", {"kind": "discount_above"}, content_type="application/json"
    )
    assert bad.status_code == 400 and "threshold" in bad.json()["fields"]
    ok = client.patch(
        f"{API}approval-rules/{pk}/",
        {"kind": "discount_above", "threshold": "12.5"},
        content_type="application/json",
    )
    assert ok.status_code == 200 and ApprovalRule.objects.get(pk=pk).threshold == Decimal("12.5")
    client.force_login(world.rep1)
    assert _post(client, f"{API}approval-rules/", {"name": "x", "kind": "below_cost"}).status_code == 403
    client.force_login(world.admin)
    assert client.delete(f"{API}approval-rules/{pk}/").status_code == 204
