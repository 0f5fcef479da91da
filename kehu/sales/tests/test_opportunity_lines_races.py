"""Parallel line adds on PostgreSQL, each thread on its own connection: the opportunity row lock
serialises them, so the amount is the sum of every line's net and the version counts every add."""

# ruff: noqa: F811

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from kehu.catalog.tests.factories import ProductFactory
from kehu.core.tests.test_sequences import database_for_threads, in_thread

from ..models import Opportunity
from ..services.opportunity_lines import opportunity_line_add
from .factories import OpportunityFactory, StageFactory
from .opportunity_fixtures import opps  # noqa: F401
from .opportunity_line_fixtures import lines  # noqa: F401

N = 8


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_adds_sum_up(lines: Any, tmp_path: Path) -> None:
    stage = StageFactory.create()
    opp = OpportunityFactory.create(owner=lines.rep1, stage=stage, amount=Decimal("0"))
    product = ProductFactory.create()
    barrier = threading.Barrier(N)
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait()
            opportunity_line_add(
                by=lines.rep1,
                opportunity=opp,
                product=product,
                quantity=Decimal(i + 1),
                unit_price=Decimal("10"),
            )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    with database_for_threads(tmp_path):
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(N)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        amount, version, count = in_thread(
            lambda: (
                Opportunity.objects.get(pk=opp.pk).amount,
                Opportunity.objects.get(pk=opp.pk).version,
                Opportunity.objects.get(pk=opp.pk).lines.count(),
            )
        )
    assert not errors, errors
    assert count == N
    assert amount == Decimal(10 * sum(range(1, N + 1)))
    assert version == opp.version + N
