"""A per-connection queue of records to process when the transaction commits, safe with savepoints.

The search index and the dedup keys are derived data: a save marks its record dirty, and the
records are re-processed once, in a batch, when the transaction commits (or earlier, when a reader
in the same transaction asks for a flush). A flush inside a transaction writes rows that a later
savepoint rollback may remove while the records' own changes stay: each flush leaves a marker among
the connection's on-commit callbacks (Django drops those with the savepoint), and the next flush
queues again the records whose marker is gone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from django.db import DEFAULT_DB_ALIAS, connections, transaction

Key = tuple[str, int]


class CommitQueue:
    """Records (model label, pk) queued per database connection; `process(model=, ids=, using=)`
    writes the derived rows of a batch of one model."""

    def __init__(self, name: str, process: Callable[..., object]) -> None:
        self._pending_attr = f"_kehu_{name}_pending"
        self._flushed_attr = f"_kehu_{name}_flushed"
        self._process = process

    def pending(self, using: str) -> set[Key]:
        conn = connections[using]
        pending: set[Key] | None = getattr(conn, self._pending_attr, None)
        if pending is None:
            pending = set()
            setattr(conn, self._pending_attr, pending)
        return pending

    def mark_dirty(self, *, model: str, ids: Iterable[int], using: str = DEFAULT_DB_ALIAS) -> None:
        """Queue records for processing when the current transaction commits."""
        pending = self.pending(using)
        pending.update((model.lower(), int(pk)) for pk in ids if pk is not None)
        transaction.on_commit(lambda: self.flush(using=using), using=using, robust=True)

    def flush(self, *, using: str = DEFAULT_DB_ALIAS) -> int:
        """Process every queued record now; returns how many were queued."""
        pending = self.pending(using)
        self._requeue_rolled_back(using, pending)
        if not pending:
            return 0
        todo = list(pending)
        pending.clear()
        by_model: dict[str, list[int]] = defaultdict(list)
        for label, pk in todo:
            by_model[label].append(pk)
        try:
            for label, ids in by_model.items():
                self._process(model=label, ids=ids, using=using)
        except Exception:
            pending.update(todo)  # retried by the next flush; a rebuild repairs anything lost
            raise
        self._remember_flushed(using, todo)
        return len(todo)

    def _requeue_rolled_back(self, using: str, pending: set[Key]) -> None:
        """Rows written by a flush inside a savepoint that was rolled back since are gone while
        their records' changes may remain: queue those records again."""
        conn = connections[using]
        flushed: dict[Key, int] | None = getattr(conn, self._flushed_attr, None)
        if not flushed:
            return
        alive = {id(entry[1]) for entry in conn.run_on_commit}
        for key, marker in list(flushed.items()):
            if marker not in alive:
                pending.add(key)
                del flushed[key]

    def _remember_flushed(self, using: str, keys: list[Key]) -> None:
        conn = connections[using]
        if not conn.in_atomic_block:
            return
        flushed: dict[Key, int] = getattr(conn, self._flushed_attr, None) or {}
        setattr(conn, self._flushed_attr, flushed)

        def committed() -> None:  # the transaction committed: the rows are for good
            for key in keys:
                if flushed.get(key) == id(committed):
                    del flushed[key]

        transaction.on_commit(committed, using=using)
        for key in keys:
            flushed[key] = id(committed)
