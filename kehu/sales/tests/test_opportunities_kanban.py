"""The kanban's first render: a constant number of queries whatever the number of deals, the
first cards of every column in one read (window function or UNION of per-column LIMITs, same
cards as the per-column page), cards built in Python and escaped, the lazy page keeps the filters."""

# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kehu.customers.tests.factories import AccountFactory

from ..models import Opportunity
from ..selectors import opportunities as selectors
from .factories import OpportunityFactory, default_pipeline, stage_named
from .opportunity_fixtures import opps  # noqa: F401

pytestmark = pytest.mark.django_db

KANBAN = "/sales/opportunities/kanban/"


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _deals(owner: Any, n: int, *, start: int = 0) -> None:
    account = AccountFactory.create(owner=owner)
    stages = [stage_named(name) for name in ("初步沟通", "确定意向", "商务洽谈")]
    for i in range(start, start + n):
        OpportunityFactory.create(
            owner=owner, account=account, stage=stages[i % 3], name=f"deal-{i}", position=float(i % 7)
        )


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx)


def test_first_render_queries_do_not_grow_with_the_deals(opps: Any) -> None:
    _deals(opps.rep1, 3)
    c = _client(opps.rep1)
    c.get(KANBAN)  # warm the per-user caches (permissions, session)
    few = _queries(c, KANBAN)
    _deals(opps.rep1, 3 * selectors.KANBAN_PAGE + 9, start=3)
    won = OpportunityFactory.create(owner=opps.rep1, stage=stage_named("赢单"), name="won deal")
    Opportunity.objects.filter(pk=won.pk).update(closed_at=timezone.now())
    many = _queries(c, KANBAN)
    assert many == few
    body = c.get(KANBAN).content.decode()
    assert body.count('class="card card-sm kehu-kanban-card') == 3 * selectors.KANBAN_PAGE + 1
    assert body.count('data-role="more"') == 3


def _per_column(queryset: Any, stages: list[Any], limit: int) -> dict[int, list[Any]]:
    out = {}
    for stage in stages:
        cards, more = selectors.kanban_cards(queryset=queryset, stage=stage, limit=limit)
        out[stage.pk] = [c.pk for c in cards] + (["more"] if more else [])
    return out


@pytest.mark.parametrize("method", ["window", "union"])
def test_first_cards_match_the_column_pages(opps: Any, method: str) -> None:
    if method == "union" and not connection.features.supports_slicing_ordering_in_compound:
        pytest.skip("this database takes no LIMIT inside UNION (the window function is used)")
    _deals(opps.rep1, 25)
    _deals(opps.rep2, 4, start=100)  # out of rep1's scope
    lost = OpportunityFactory.create(owner=opps.rep1, stage=stage_named("输单"), name="old loss")
    Opportunity.objects.filter(pk=lost.pk).update(closed_at=timezone.now() - dt.timedelta(days=400))
    recent = OpportunityFactory.create(owner=opps.rep1, stage=stage_named("输单"), name="recent loss")
    Opportunity.objects.filter(pk=recent.pk).update(closed_at=timezone.now())
    pipeline = default_pipeline()
    stages = list(pipeline.stages.order_by("order"))
    queryset = selectors.opportunity_list(user=opps.rep1).filter(pipeline=pipeline)
    limit = 5
    with CaptureQueriesContext(connection) as ctx:
        first = selectors.kanban_first_cards(queryset=queryset, stages=stages, limit=limit, method=method)
        for cards in first.values():
            for card in cards:
                str(card.account.name), str(card.owner)  # no query per card
    assert len(ctx) == 2
    got = {
        pk: [c.pk for c in cards[:limit]] + (["more"] if len(cards) > limit else [])
        for pk, cards in first.items()
    }
    assert got == _per_column(queryset, stages, limit)
    lost_stage = stage_named("输单")
    assert [c.name for c in first[lost_stage.pk]] == ["recent loss"]
    assert all(c.owner_id == opps.rep1.pk for cards in first.values() for c in cards)


def test_cards_are_escaped_and_show_stage_aging(opps: Any) -> None:
    account = AccountFactory.create(owner=opps.rep1, name="<b>客户</b>")
    first = stage_named("初步沟通")
    first.stuck_after_days = 5
    first.save()
    OpportunityFactory.create(
        owner=opps.rep1,
        account=account,
        name='<script>alert("x")</script>',
        stage_entered_at=timezone.now() - dt.timedelta(days=9),
    )
    body = _client(opps.rep1).get(KANBAN).content.decode()
    assert "<script>alert" not in body and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body
    assert "&lt;b&gt;客户&lt;/b&gt;" in body
    assert "9 days in stage" in body and "border-warning" in body and "stuck" in body


def test_next_page_keeps_the_board_filters(opps: Any) -> None:
    _deals(opps.rep1, 3 * selectors.KANBAN_PAGE + 9)
    c = _client(opps.rep1)
    body = c.get(KANBAN + "?q=deal").content.decode()
    first = stage_named("初步沟通")
    assert f"stage_col={first.pk}&amp;offset={selectors.KANBAN_PAGE}&amp;q=deal" in body or (
        f"stage_col={first.pk}&offset={selectors.KANBAN_PAGE}&q=deal" in body
    )
    page = c.get(f"{KANBAN}?stage_col={first.pk}&offset={selectors.KANBAN_PAGE}&q=deal").content.decode()
    assert page.count("kehu-kanban-card") == 3  # 23 deals per column
