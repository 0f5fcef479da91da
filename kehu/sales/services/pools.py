"""Pools (公海): put in, claim, return, assign, transfer, recycle.

INTERFACE (owned by the pools engineer; lead creation and assignment call ``pool_put``):

* ``pool_put(*, pool, records, by, reason="") -> int``: put leads/accounts into a pool (no owner).
* ``pool_claim(*, pool, ids, by) -> list``; ``pool_return(*, records, by, reason="")``;
  ``pool_assign(*, pool, ids, to, by)``; ``pool_transfer(*, records, to_pool, by, reason="")``;
  ``pool_recycle_due(*, now=None) -> int`` (the scheduled job), ``pool_recycle_preview(*, pool, on)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..models import Pool


def pool_put(*, pool: Pool, records: Iterable[Any], by: Any, reason: str = "") -> int:
    raise NotImplementedError
