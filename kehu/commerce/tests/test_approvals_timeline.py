"""The account timeline writes quote approval events from their reason data in the reader's
language (`kehu.commerce.hooks.approvals`, a `kehu.audit.events` renderer): "submitted for
approval" with its reasons, "approval step approved" with its reason and the approver's comment;
events from before the reasons were data show their stored text; no extra queries."""

# ruff: noqa: F811

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from kehu.audit import events, timeline
from kehu.audit.models import TimelineEvent

from ..choices import ApprovalRuleKind
from ..services import quotes as svc
from .factories import ApprovalRuleFactory
from .quote_fixtures import world  # noqa: F401

pytestmark = pytest.mark.django_db
D = Decimal
TEXTS = {
    "en": ("Discount 20 % is above 10 %", "Total 10,848.00 CNY is above 5,000 CNY"),
    "zh-hans": ("折扣 20 % 超过 10 %", "总额 10,848.00 CNY 超过 5,000 CNY"),
}


def _approved(world: Any) -> Any:
    """rep1 (reading Chinese) submits a quote with a 20 % discount worth 10,848.00 CNY; manager1
    approves both steps (reading Chinese too) with a comment."""
    ApprovalRuleFactory.create(kind=ApprovalRuleKind.DISCOUNT_ABOVE, threshold=D("10"))
    ApprovalRuleFactory.create(kind=ApprovalRuleKind.TOTAL_ABOVE, threshold=D("5000"))
    quote = svc.quote_create(by=world.rep1, account=world.account)
    svc.quote_line_add(
        quote=quote,
        by=world.rep1,
        data={"product": world.product, "quantity": "100", "unit_price": "120", "discount_percent": "20"},
    )
    with translation.override("zh-hans"):
        svc.quote_submit(quote=quote, by=world.rep1)
        svc.quote_approve(quote=quote, by=world.manager1, comment="同意，老客户")
    return quote


def _bodies(world: Any, language: str) -> dict[str, list[str]]:
    with translation.override(language):
        page = timeline.account_timeline(user=world.admin, account_id=world.account.pk)
    out: dict[str, list[str]] = {}
    for entry in page.entries:
        out.setdefault(entry.code, []).append(entry.body)
    return out


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_approval_events_are_written_in_the_readers_language(world: Any, language: str) -> None:
    _approved(world)
    discount, total = TEXTS[language]
    bodies = _bodies(world, language)
    assert bodies[svc.EVENT_SUBMITTED] == [f"{discount}; {total}"]
    assert sorted(bodies[svc.EVENT_STEP_APPROVED]) == sorted(
        [f"{discount}\n同意，老客户", f"{total}\n同意，老客户"]
    )


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_timeline_page_shows_them_in_the_readers_language(world: Any, client: Any, language: str) -> None:
    _approved(world)
    world.manager1.language = language
    world.manager1.save(update_fields=["language"])
    client.force_login(world.manager1)
    html = client.get(f"/audit/timeline/customers.account/{world.account.pk}/").content.decode()
    discount, total = TEXTS[language]
    assert f"{discount}; {total}" in html
    assert f"{discount}<br>同意，老客户" in html
    other = TEXTS["zh-hans" if language == "en" else "en"]
    assert other[0] not in html


def test_events_from_before_the_reason_data_show_their_stored_text(world: Any) -> None:
    quote = _approved(world)
    TimelineEvent.objects.filter(event=svc.EVENT_SUBMITTED, object_id=quote.pk).update(
        data={"number": str(quote), "reasons": ["折扣 20 % 超过 10 %"]}
    )
    TimelineEvent.objects.filter(event=svc.EVENT_STEP_APPROVED, object_id=quote.pk).update(
        data={"number": str(quote), "reason": "老规则：特价审批", "comment": ""}
    )
    bodies = _bodies(world, "en")
    assert bodies[svc.EVENT_SUBMITTED] == ["折扣 20 % 超过 10 %"]
    assert bodies[svc.EVENT_STEP_APPROVED] == ["老规则：特价审批", "老规则：特价审批"]
    TimelineEvent.objects.filter(event=svc.EVENT_SUBMITTED, object_id=quote.pk).update(
        data={"number": str(quote), "body": "stored body"}
    )
    assert _bodies(world, "en")[svc.EVENT_SUBMITTED] == ["stored body"]  # nothing to render


def test_the_renderers_read_no_more_queries(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _approved(world)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            timeline.account_timeline(user=world.admin, account_id=world.account.pk)
        return len(ctx.captured_queries)

    count()  # warms the per-process caches
    rendered = count()
    monkeypatch.delitem(events._renderers, svc.EVENT_SUBMITTED)
    monkeypatch.delitem(events._renderers, svc.EVENT_STEP_APPROVED)
    assert count() == rendered
