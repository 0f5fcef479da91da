"""Celery tasks of the imports app: they take the `core.Job` id and call the engine in
`running.py`. Idempotent: a finished job is left alone, and a run resumes from the import's
committed `ImportBatch` rows (never from the broker's memory of what it delivered)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from . import running


@shared_task(bind=True, name="kehu.imports.tasks.import_dry_run", acks_late=True)
def import_dry_run(self: Any, job_id: int) -> None:
    running.import_dry_run_execute(job_id=job_id, task_id=self.request.id or "")


@shared_task(bind=True, name="kehu.imports.tasks.import_run", acks_late=True)
def import_run(self: Any, job_id: int, batch_size: int = running.BATCH_SIZE, pause: float = 0.0) -> None:
    running.import_run_execute(
        job_id=job_id, task_id=self.request.id or "", batch_size=batch_size, pause=pause
    )


@shared_task(bind=True, name="kehu.imports.tasks.import_undo", acks_late=True)
def import_undo(self: Any, job_id: int) -> None:
    running.import_undo_execute(job_id=job_id, task_id=self.request.id or "")
