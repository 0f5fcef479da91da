"""Leads and opportunities: imported row by row through their own services (issue 6).

CONTRACT (lead engineer): `running.py` picks these for ``ROW_TARGETS`` instead of the bulk
`engine.Preparer` / `writers.BatchWriter` of accounts and contacts. Leads and opportunities come
in thousands, not millions, and their create paths carry rules the bulk path would have to copy
(assignment rules and pools, the collision check, stage and pipeline rules, probability, the
amount's currency), so each row goes through `kehu.sales.services` (`lead_create`, `lead_update`,
`opportunity_create`, `opportunity_update`) inside the batch's transaction: the exact rules of
forms and API, and the change log written by the services themselves (request id =
``job.audit_tag`` through `acting_as`, so undo and the search phase find the rows as they do for
accounts and contacts).

The dry run validates with the same services: each row is written inside a savepoint that is
rolled back (the batch's outer transaction is rolled back too), so "would create" means "the
service accepted it".
"""

from __future__ import annotations

from typing import Any

from .engine import PreparedRow
from .models import ImportBatch, ImportJob
from .parsing import RawRow

ROW_TARGETS = ("sales.lead", "sales.opportunity")


class RowPreparer:
    """Same interface as `engine.Preparer`: ``prepare(raws) -> list[PreparedRow]`` in file order,
    each row converted (`mapping.convert_values` with the job's transforms), its related records
    looked up per batch (account, contact, owner, pool, pipeline, stage, campaign …), matched on
    the job's match key and given its action (create, update, skip, error) with reason and a
    translated message. ``dry_run=True``: the action is confirmed by running the service in a
    rolled-back savepoint (service errors become row errors)."""

    def __init__(self, job: ImportJob, *, by: Any, dry_run: bool = False) -> None:
        raise NotImplementedError

    def prepare(self, raws: list[RawRow]) -> list[PreparedRow]:
        raise NotImplementedError


class RowWriter:
    """Same interface as `writers.BatchWriter.write`: one batch in ONE transaction with its
    `ImportBatch` row (idempotent per batch number). A row the service refuses becomes an error
    row of the batch (its savepoint rolled back), the rest of the batch commits."""

    def __init__(self, job: ImportJob, *, by: Any) -> None:
        raise NotImplementedError

    def write(
        self, *, number: int, first_row: int, last_row: int, rows: list[PreparedRow]
    ) -> ImportBatch | None:
        raise NotImplementedError


def undo_rows(
    imp: ImportJob, *, by: Any, created: list[int], updated: dict[int, dict[str, Any]]
) -> dict[str, int]:
    """Undo for leads and opportunities (called by `running.undo` after its "changed since" check,
    inside its transaction): delete the created records with their children through the models'
    own delete paths, restore the updated ones from their change-log values, write the undo's
    change-log rows. Returns ``{"deleted": n, "restored": m}``."""
    raise NotImplementedError
