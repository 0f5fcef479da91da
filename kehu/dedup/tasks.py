"""Celery tasks of the dedup app: they load by id and call a service; idempotent, safe to retry.

The scheduled scan is a beat entry in ``CELERY_BEAT_SCHEDULE`` (config/settings/base.py, synced
into django-celery-beat's tables at start), like every periodic task of Kehu;
``BEAT_SCHEDULE`` below is that entry (``"dedup-scan-nightly"``), for the settings and the tests.
"""

from typing import Any

from celery import shared_task
from celery.schedules import crontab

from . import scanning, services

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    # Every record type scanned for duplicates once a night (idempotent: a rerun refreshes the queue).
    "dedup-scan-nightly": {
        "task": "kehu.dedup.tasks.dedup_scan_scheduled",
        "schedule": crontab(hour=2, minute=15),
    },
}


@shared_task(bind=True, name="kehu.dedup.tasks.dedup_rebuild_run", acks_late=True)
def dedup_rebuild_run(self, job_id: int) -> None:
    services.dedup_rebuild_job(job_id=job_id, task_id=self.request.id or "")


@shared_task(name="kehu.dedup.tasks.dedup_reindex")
def dedup_reindex(model: str, ids: list[int]) -> int:
    return services.dedup_reindex(model=model, ids=ids)


@shared_task(bind=True, name="kehu.dedup.tasks.dedup_scan_run", acks_late=True)
def dedup_scan_run(self, job_id: int) -> None:
    """A scan a user started (a ``core.Job`` with progress)."""
    scanning.dedup_scan_job(job_id=job_id, task_id=self.request.id or "")


@shared_task(name="kehu.dedup.tasks.dedup_scan_scheduled", acks_late=True)
def dedup_scan_scheduled() -> dict[str, int]:
    """The nightly scan of every record type (beat); returns the groups per type."""
    return scanning.dedup_scan_all()
