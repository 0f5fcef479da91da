"""Quote pages: list (latest versions by default), detail (lines, totals, approvals, versions,
read-only banner, action buttons), line editing through htmx, create from an opportunity, the
approvals inbox with approve/reject and the approval rule settings pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from kehu.core.choices import Action, Scope
from kehu.users.tests.factories import grant

from ..choices import ApprovalRuleKind, QuoteStatus
from ..models import ApprovalRule, Quote
from ..services import quotes as svc
from .factories import ApprovalRuleFactory
from .quote_fixtures import make_quote, world  # noqa: F401

# ruff: noqa: F811

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def test_list_shows_latest_versions_and_filters(world: Any, client: Any) -> None:
    quote = make_quote(world)
    svc.quote_submit(quote=quote, by=world.rep1)
    new = svc.quote_revise(quote=quote, by=world.rep1)
    client.force_login(world.rep1)
    page = client.get("/commerce/quotes/").content.decode()
    assert f'data-pk="{new.pk}"' in page and f'data-pk="{quote.pk}"' not in page
    page = client.get("/commerce/quotes/?all_versions=true").content.decode()
    assert f'data-pk="{quote.pk}"' in page
    page = client.get("/commerce/quotes/?status=approved&all_versions=true").content.decode()
    assert f'data-pk="{quote.pk}"' in page and f'data-pk="{new.pk}"' not in page


def test_detail_draft_shows_lines_totals_and_moves(world: Any, client: Any) -> None:
    quote = make_quote(world, lines=2)
    client.force_login(world.rep1)
    response = client.get(f"/commerce/quotes/{quote.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "data-quote-totals" in page and "452.00" in page
    assert 'data-action="submit"' in page and 'data-action="add-line"' in page
    assert "data-sortable-url" in page and "From price list 标准价" in page
    assert 'data-action="accept"' not in page


def test_old_version_is_read_only(world: Any, client: Any) -> None:
    quote = make_quote(world)
    svc.quote_submit(quote=quote, by=world.rep1)
    new = svc.quote_revise(quote=quote, by=world.rep1)
    client.force_login(world.rep1)
    page = client.get(f"/commerce/quotes/{quote.pk}/").content.decode()
    assert "data-read-only-version" in page and new.get_absolute_url() in page
    assert 'data-action="add-line"' not in page and 'data-action="revise"' not in page
    assert "data-quote-versions" in page
    edit = client.get(f"/commerce/quotes/{quote.pk}/edit/")
    assert edit.status_code == 302 and edit["Location"] == quote.get_absolute_url()
    response = client.post(
        f"/commerce/quotes/{quote.pk}/lines/add/",
        {"description": "x", "quantity": "1", "unit_price": "1"},
        headers=HTMX,
    )
    assert "earlier version" in response.content.decode()
    assert quote.lines.count() == 1


def test_out_of_scope_is_404(world: Any, client: Any) -> None:
    quote = make_quote(world)
    client.force_login(world.rep3)
    for url in ("", "edit/", "lines/add/", "lines/price/?product=1"):
        assert client.get(f"/commerce/quotes/{quote.pk}/{url}").status_code == 404
    assert client.post(f"/commerce/quotes/{quote.pk}/submit/").status_code == 404
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT


def test_line_form_bad_input_shows_field_errors(world: Any, client: Any) -> None:
    quote = make_quote(world)
    client.force_login(world.rep1)
    url = f"/commerce/quotes/{quote.pk}/lines/add/"
    for data, message in (
        ({"product": world.product.pk, "quantity": "-2"}, "The quantity may not be negative."),
        (
            {"product": world.product.pk, "quantity": "1", "discount_percent": "120"},
            "The discount is between 0 and 100 %.",
        ),
        (
            {"product": world.product.pk, "quantity": "1", "discount_amount": "500"},
            "The discount may not exceed the line amount.",
        ),
    ):
        response = client.post(url, data, headers=HTMX)
        assert response.status_code == 200 and message in response.content.decode()
    assert quote.lines.count() == 1


def test_line_price_preview_and_htmx_edit_delete_reorder(world: Any, client: Any) -> None:
    quote = make_quote(world, lines=2)
    client.force_login(world.rep1)
    page = client.get(
        f"/commerce/quotes/{quote.pk}/lines/price/?product={world.product.pk}&quantity=150"
    ).content.decode()
    assert "tier ≥ 100" in page and 'value="90"' in page
    first, second = list(quote.lines.all())
    response = client.post(
        f"/commerce/quotes/{quote.pk}/lines/{first.pk}/edit/",
        {"product": world.product.pk, "quantity": "3", "unit_price": "100", "discount_percent": "10"},
        headers=HTMX,
    )
    assert response.status_code == 204
    first.refresh_from_db()
    assert (first.quantity, first.discount) == (Decimal("3"), Decimal("30.00"))
    response = client.post(
        f"/commerce/quotes/{quote.pk}/lines/reorder/", {"ids": [second.pk, first.pk]}, headers=HTMX
    )
    assert response.status_code == 204
    assert list(quote.lines.values_list("pk", flat=True)) == [second.pk, first.pk]
    assert (
        client.post(f"/commerce/quotes/{quote.pk}/lines/{second.pk}/delete/", headers=HTMX).status_code == 204
    )
    quote.refresh_from_db()
    assert quote.lines.count() == 1 and quote.total == Decimal("305.10")


def test_product_picker_searches_visible_products(world: Any, client: Any) -> None:
    client.force_login(world.rep1)
    data = client.get(f"/commerce/quotes/products/autocomplete/?q={world.product.code}").json()
    assert [r["id"] for r in data["results"]] == [world.product.pk]


def test_create_from_opportunity_page(world: Any, client: Any) -> None:
    from kehu.sales.tests.factories import OpportunityFactory

    opp = OpportunityFactory.create(owner=world.rep1, account=world.account, currency="CNY", name="扩容")
    client.force_login(world.rep1)
    form = client.get(f"/commerce/quotes/add/?opportunity={opp.pk}")
    assert form.status_code == 200 and "扩容" in form.content.decode()
    response = client.post(
        f"/commerce/quotes/add/?opportunity={opp.pk}", {"currency": "CNY", "language": "zh-hans"}
    )
    assert response.status_code == 302
    quote = Quote.objects.get()
    assert quote.opportunity == opp and quote.account == world.account and quote.name == "扩容"


def test_create_from_opportunity_page_offers_its_price_list(world: Any, client: Any) -> None:
    from kehu.catalog.tests.factories import PriceListFactory
    from kehu.sales.models import OpportunityLine
    from kehu.sales.tests.factories import OpportunityFactory

    project = PriceListFactory.create(name="项目价", currency=world.cny, customer_level="VIP")
    opp = OpportunityFactory.create(owner=world.rep1, account=world.account, currency="CNY", name="项目")
    OpportunityLine.objects.create(
        opportunity=opp,
        product=world.product,
        quantity=Decimal("2"),
        unit_price=Decimal("80"),
        price_list=project,
    )
    client.force_login(world.rep1)
    form = client.get(f"/commerce/quotes/add/?opportunity={opp.pk}").content.decode()
    assert f'<option value="{project.pk}" selected>' in form
    url = f"/commerce/quotes/add/?opportunity={opp.pk}"
    base = {"currency": "CNY", "language": "zh-hans"}
    assert client.post(url, {**base, "price_list": project.pk}).status_code == 302
    assert client.post(url, {**base, "price_list": ""}).status_code == 302  # cleared on the form
    assert list(Quote.objects.order_by("id").values_list("price_list", flat=True)) == [project.pk, None]


def test_approval_inbox_approve_and_reject(world: Any, client: Any) -> None:
    ApprovalRuleFactory.create(kind=ApprovalRuleKind.DISCOUNT_ABOVE, threshold=Decimal("5"))
    quote = svc.quote_create(by=world.rep1, account=world.account)
    svc.quote_line_add(
        quote=quote, by=world.rep1, data={"product": world.product, "quantity": "1", "discount_percent": "10"}
    )
    svc.quote_submit(quote=quote, by=world.rep1)
    client.force_login(world.manager1)
    page = client.get("/commerce/approvals/").content.decode()
    assert str(quote) in page and "Discount 10 % is above 5 %" in page and world.account.name in page
    assert client.get(f"/commerce/quotes/{quote.pk}/reject/", headers=HTMX).status_code == 200
    response = client.post(f"/commerce/quotes/{quote.pk}/reject/", {"comment": ""}, headers=HTMX)
    assert "Say why the quote is rejected." in response.content.decode()
    response = client.post(f"/commerce/quotes/{quote.pk}/reject/", {"comment": "再谈谈"}, headers=HTMX)
    assert response.status_code == 204
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT
    svc.quote_submit(quote=quote, by=world.rep1)
    response = client.post(f"/commerce/quotes/{quote.pk}/approve/", {"comment": "好"}, headers=HTMX)
    assert response.status_code == 204
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED
    assert "Nothing waits for your approval." in client.get("/commerce/approvals/").content.decode()
    client.force_login(world.rep2)
    assert client.post(f"/commerce/quotes/{quote.pk}/approve/", {"comment": ""}).status_code == 404


def test_wrong_state_move_shows_a_message(world: Any, client: Any) -> None:
    quote = make_quote(world)
    client.force_login(world.rep1)
    response = client.post(f"/commerce/quotes/{quote.pk}/mark-sent/", headers=HTMX)
    assert response.status_code == 200 and "cannot be sent" in response.headers["HX-Trigger"]
    response = client.post(f"/commerce/quotes/{quote.pk}/mark-sent/", follow=True)
    assert response.status_code == 200
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT


def test_approval_rule_settings_pages(world: Any, client: Any) -> None:
    client.force_login(world.rep1)
    assert client.get("/commerce/settings/approval-rules/").status_code == 403
    client.force_login(world.admin)
    assert client.get("/commerce/settings/approval-rules/").status_code == 200
    assert client.get("/commerce/settings/approval-rules/add/", headers=HTMX).status_code == 200
    response = client.post(
        "/commerce/settings/approval-rules/add/",
        {
            "name": "大单",
            "kind": "total_above",
            "threshold": "100000",
            "approver_kind": "manager",
            "position": "1",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    rule = ApprovalRule.objects.get()
    page = client.get("/commerce/settings/approval-rules/").content.decode()
    assert "大单" in page
    response = client.post(
        f"/commerce/settings/approval-rules/{rule.pk}/edit/",
        {"name": "大单", "kind": "total_above", "threshold": "", "approver_kind": "manager", "position": "1"},
        headers=HTMX,
    )
    assert "This condition needs a threshold." in response.content.decode(), response.content.decode()[:3000]
    assert client.post(f"/commerce/settings/approval-rules/{rule.pk}/delete/").status_code == 302
    assert not ApprovalRule.objects.exists()


def test_settings_grant_for_rules(world: Any, client: Any) -> None:
    grant(world.role_manager, "commerce.approvalrule", Action.VIEW, scope=Scope.ALL)
    client.force_login(world.manager1)
    assert client.get("/commerce/settings/approval-rules/").status_code == 200
    assert client.get("/commerce/settings/approval-rules/add/").status_code == 403


def test_new_quote_buttons_on_account_and_opportunity_pages(world: Any, client: Any) -> None:
    from kehu.sales.tests.factories import OpportunityFactory

    opp = OpportunityFactory.create(owner=world.rep1, account=world.account, currency="CNY")
    client.force_login(world.rep1)
    page = client.get(world.account.get_absolute_url()).content.decode()
    assert f"/commerce/quotes/add/?account={world.account.pk}" in page
    page = client.get(opp.get_absolute_url()).content.decode()
    assert f"/commerce/quotes/add/?opportunity={opp.pk}" in page
    client.force_login(world.viewer_all)
    page = client.get(world.account.get_absolute_url()).content.decode()
    assert "/commerce/quotes/add/" not in page
