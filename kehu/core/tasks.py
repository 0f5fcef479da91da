"""Celery tasks of core: they load by id and call a service; idempotent, safe to retry."""

from celery import shared_task

from . import exports, services


@shared_task(name="kehu.core.tasks.job_sweep_stale")
def job_sweep_stale() -> int:
    """Scheduled by beat (CELERY_BEAT_SCHEDULE, synced into django-celery-beat's tables)."""
    return services.job_sweep_stale()


@shared_task(bind=True, name="kehu.core.tasks.export_run", acks_late=True)
def export_run(self, job_id: int) -> None:
    exports.export_run(job_id=job_id, task_id=self.request.id or "")


@shared_task(bind=True, name="kehu.core.tasks.bulk_run", acks_late=True)
def bulk_run(self, job_id: int) -> None:
    from . import bulk

    bulk.bulk_run(job_id=job_id, task_id=self.request.id or "")
