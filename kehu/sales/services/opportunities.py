"""Opportunities: create, update, move between stages (the one path that writes StageHistory).

INTERFACE (owned by the opportunities engineer; the leads engineer's conversion calls
``opportunity_create``):

* ``opportunity_create(*, by, account, name, pipeline=None, stage=None, amount=Decimal(0),
  currency=None, owner=None, lead=None, contact=None, data=None) -> Opportunity``: pipeline
  defaults to the default pipeline and stage to its first open stage; writes the first
  StageHistory row; ``data`` holds further fields (expected_close_date, source, custom...).
* ``opportunity_move_stage(*, opportunity, stage, by, version=None, values=None) -> Opportunity``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..models import Opportunity, Pipeline, Stage


def opportunity_create(
    *,
    by: Any,
    account: Any,
    name: str,
    pipeline: Pipeline | None = None,
    stage: Stage | None = None,
    amount: Decimal = Decimal("0"),
    currency: str | None = None,
    owner: Any = None,
    lead: Any = None,
    contact: Any = None,
    data: Mapping[str, Any] | None = None,
) -> Opportunity:
    raise NotImplementedError


def opportunity_move_stage(
    *,
    opportunity: Opportunity,
    stage: Stage,
    by: Any,
    version: int | None = None,
    values: Mapping[str, Any] | None = None,
) -> Opportunity:
    raise NotImplementedError
