"""Entries audit puts in lower apps' hook lists (core cannot import audit)."""

from __future__ import annotations

from typing import Any

from .choices import ChangeAction


def record_reveal(*, user: Any, obj: Any, field: str) -> None:
    """`kehu.core.masking` reveal recorder: showing a masked value in full is logged (the field's
    name only, never the value)."""
    from .services import object_change_record

    object_change_record(obj=obj, action=ChangeAction.REVEAL, changes={"revealed": [field]}, by=user)


def record_bulk_operation(record: Any) -> None:
    """`kehu.core.bulk.bulk_hooks` entry (registered in ``AuditConfig.ready()``, so every app's bulk
    actions get it): one operation-log entry per bulk run (who, what, which selection, how many).
    `record` is a `kehu.core.bulk.BulkRecord`. The rows themselves are recorded by the action's
    service (`object_changes_record_bulk`)."""
    from .services import object_change_record

    key = record.action.key
    object_change_record(
        obj=record.model,
        action=ChangeAction.DELETE if key == "delete" else ChangeAction.UPDATE,
        changes={
            "bulk_action": key,
            "label": str(record.action.label),
            "selection": record.selection,
            "params": record.params,
            "done": record.result.done,
            "skipped": record.result.skipped,
            "failed": record.result.failed_count,
            "job": record.job_id,
        },
        by=record.user,
    )
