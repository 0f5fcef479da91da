"""Domain errors of the sales app (codes are stable API values)."""

from __future__ import annotations

from kehu.core.errors import ConflictError, DomainError


class SalesError(DomainError):
    code = "sales_invalid"


class LeadAlreadyConvertedError(ConflictError):
    code = "lead_already_converted"


class LeadNotQualifiedError(SalesError):
    code = "lead_not_qualified"


class PoolLimitError(SalesError):
    """A claim would break a pool rule (daily claims, records owned, cooling-off)."""

    code = "pool_limit"


class AlreadyClaimedError(ConflictError):
    code = "already_claimed"


class StageMoveError(SalesError):
    """A stage move the pipeline does not allow, or required fields missing."""

    code = "stage_move_refused"
