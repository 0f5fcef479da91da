"""Assignment rules: who (or which pool) gets a new lead or account.

INTERFACE (owned by the assignment engineer; lead and account creation paths call it):

* ``assignment_apply(*, record, by) -> AssignmentResult | None``: for a newly created lead (or
  account) without a chosen owner: the first active matching rule of its kind gives it an owner
  (round-robin / least-loaded / user: fair under concurrency, unavailable users skipped) or puts it
  in a pool; records which rule fired (``record.assignment_rule`` for leads, timeline event).
  Returns None when no rule matched (the record stays with its creator).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..models import AssignmentRule, Pool


@dataclass(frozen=True)
class AssignmentResult:
    rule: AssignmentRule
    owner: Any = None
    pool: Pool | None = None


def assignment_apply(*, record: Any, by: Any) -> AssignmentResult | None:
    return None
