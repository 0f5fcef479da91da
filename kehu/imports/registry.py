"""Import targets handled by the app that owns them (issue 7: the catalog).

The imports app sits below most apps (import-linter), so a higher app whose records are imported
by its own code (its services, its look-ups, its undo) hands that code over from its
``AppConfig.ready()`` with :func:`register_target_handler`; `running.py`, `services.py` and
`selectors.py` ask :func:`target_handler` before the built-in bulk (accounts, contacts) and
row-wise (leads, opportunities) paths. The target's fields are registered as usual with
`mapping.register_import_target`.

A handler gives:

* ``preparer(job, by, dry_run)``: an object with ``prepare(raws) -> list[PreparedRow]`` (the
  interface of `engine.Preparer`; a dry run confirms each row without keeping anything);
* ``writer(job, by)``: an object with ``write(*, number, first_row, last_row, rows)`` writing one
  batch in one transaction with its `ImportBatch` row (the interface of `writers.BatchWriter`),
  its change-log rows under ``job.audit_tag``;
* ``undo(imp, *, by, created, updated) -> {"deleted": n, "restored": m}``: called by
  `running.undo` inside its transaction, after its "changed since" check;
* ``may_import(user) -> bool``: who may import these records (instead of the "import" action);
* ``match_keys``: the fields the wizard offers to find existing records on;
* ``owned``: whether the records have an owner (else the wizard asks nothing about owners);
* ``finds_duplicates``: whether the duplicate check runs on them (else the wizard does not ask
  what to do with a duplicate).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TargetHandler:
    preparer: Callable[..., Any]
    writer: Callable[..., Any]
    undo: Callable[..., dict[str, int]]
    may_import: Callable[[Any], bool]
    match_keys: tuple[str, ...] = ()
    owned: bool = True
    finds_duplicates: bool = True


_handlers: dict[str, TargetHandler] = {}


def register_target_handler(model_label: str, handler: TargetHandler) -> None:
    """Registering again replaces (``ready()`` may run twice in tests)."""
    _handlers[model_label.lower()] = handler


def target_handler(model_label: str) -> TargetHandler | None:
    return _handlers.get((model_label or "").lower())
