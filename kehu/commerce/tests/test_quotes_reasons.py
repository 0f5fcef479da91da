"""Approval reasons are kept as data (rule kind and the values compared) and written in the reader's
language: the approvals inbox, the quote page and the approvers' notifications, in English and in
简体中文; steps from before the data existed show their stored text; migration 0004 reads the data
out of old English and Chinese texts."""

from __future__ import annotations

import importlib
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from kehu.audit.models import TimelineEvent
from kehu.notifications.models import Notification

from ..choices import ApprovalRuleKind
from ..models import QuoteApproval
from ..models.quotes import approval_reason_text
from ..services import quotes as svc
from .factories import ApprovalRuleFactory
from .quote_fixtures import world  # noqa: F401

# ruff: noqa: F811

pytestmark = pytest.mark.django_db
D = Decimal
LANG = {"en": "en", "zh": "zh-hans"}


def _submitted(world: Any, *, total_above: str | None = None) -> Any:
    """A quote by rep1 with a 20 % line discount, submitted while rep1 reads Chinese."""
    ApprovalRuleFactory.create(kind=ApprovalRuleKind.DISCOUNT_ABOVE, threshold=D("10"))
    if total_above is not None:
        ApprovalRuleFactory.create(kind=ApprovalRuleKind.TOTAL_ABOVE, threshold=D(total_above))
    quote = svc.quote_create(by=world.rep1, account=world.account)
    svc.quote_line_add(
        quote=quote,
        by=world.rep1,
        data={"product": world.product, "quantity": "100", "unit_price": "120", "discount_percent": "20"},
    )
    with translation.override("zh-hans"):
        svc.quote_submit(quote=quote, by=world.rep1)
    return quote


def test_submit_keeps_the_reason_as_data(world: Any) -> None:
    quote = _submitted(world, total_above="5000")
    steps = list(quote.approvals.order_by("id"))
    # 100 × 120 = 12,000 − 20 % = 9,600 + 13 % tax = 10,848.00 CNY
    assert [s.reason_data for s in steps] == [
        {"rule": "discount_above", "limit": "10", "actual": "20"},
        {"rule": "total_above", "limit": "5000", "actual": "10848.00", "currency": "CNY"},
    ]
    event = TimelineEvent.objects.get(event="quote.submitted", object_id=quote.pk)
    assert event.data["reasons"] == [s.reason_data for s in steps]
    with translation.override("en"):
        assert [s.reason_text for s in steps] == [
            "Discount 20 % is above 10 %",
            "Total 10,848.00 CNY is above 5,000 CNY",
        ]
    with translation.override("zh-hans"):
        assert [s.reason_text for s in steps] == [
            "折扣 20 % 超过 10 %",
            "总额 10,848.00 CNY 超过 5,000 CNY",
        ]


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "Discount 20 % is above 10 %"), ("zh-hans", "折扣 20 % 超过 10 %")],
)
def test_inbox_and_quote_page_show_the_reason_in_the_viewers_language(
    world: Any, client: Any, language: str, expected: str
) -> None:
    quote = _submitted(world)  # submitted in Chinese
    world.manager1.language = language
    world.manager1.save(update_fields=["language"])
    client.force_login(world.manager1)
    inbox = client.get("/commerce/approvals/").content.decode()
    assert expected in inbox
    client.force_login(world.rep1)
    world.rep1.language = language
    world.rep1.save(update_fields=["language"])
    page = client.get(f"/commerce/quotes/{quote.pk}/").content.decode()
    assert expected in page


def test_approvers_are_notified_in_their_own_language(world: Any) -> None:
    world.manager1.language = "en"
    world.manager1.save(update_fields=["language"])
    _submitted(world)  # rep1 submits in Chinese; manager1 reads English
    note = Notification.objects.get(recipient=world.manager1)
    assert note.body == "Discount 20 % is above 10 %"
    assert "needs your approval" in note.title


def test_old_steps_without_data_show_their_text(world: Any, client: Any) -> None:
    quote = _submitted(world)
    step = quote.approvals.get()
    QuoteApproval.objects.filter(pk=step.pk).update(reason="老规则：特价审批", reason_data={})
    step.refresh_from_db()
    assert step.reason_text == "老规则：特价审批"
    client.force_login(world.manager1)
    assert "老规则：特价审批" in client.get("/commerce/approvals/").content.decode()
    assert approval_reason_text({"rule": "something_new"}, fallback="as written") == "as written"


def test_below_cost_reason_lists_the_lines(world: Any) -> None:
    data = {"rule": "below_cost", "lines": ["服务器", "Router"]}
    with translation.override("en"):
        assert approval_reason_text(data) == "Priced below cost: 服务器, Router"
    with translation.override("zh-hans"):
        assert approval_reason_text(data) == "低于成本价：服务器, Router"


def test_migration_reads_data_out_of_old_texts() -> None:
    migration = importlib.import_module("kehu.commerce.migrations.0004_approval_reason_data")
    read = migration.reason_data
    assert read("discount_above", "Discount 16 % is above 15 %") == {
        "rule": "discount_above",
        "limit": "15",
        "actual": "16",
    }
    assert read(None, "折扣 16.5 % 超过 15 %") == {"rule": "discount_above", "limit": "15", "actual": "16.5"}
    assert read("total_above", "总额 677976 CNY 超过 500000 CNY") == {
        "rule": "total_above",
        "limit": "500000",
        "actual": "677976",
        "currency": "CNY",
    }
    assert read(None, "Total 621.5 CNY is above 500 CNY")["actual"] == "621.5"
    assert read("below_cost", "Priced below cost: 服务器") == {}
    assert read("discount_above", "something else") == {}
