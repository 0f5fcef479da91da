"""Celery tasks of the quality app: idempotent, safe to retry."""

from celery import shared_task

from . import services


@shared_task(name="kehu.quality.tasks.snapshot_daily")
def snapshot_daily() -> int:
    """Scheduled by beat once a day (CELERY_BEAT_SCHEDULE): one snapshot per model per day."""
    return len(services.quality_snapshot_take())
