"""Celery tasks of the dedup app: they load by id and call a service; idempotent, safe to retry."""

from celery import shared_task

from . import services


@shared_task(bind=True, name="kehu.dedup.tasks.dedup_rebuild_run", acks_late=True)
def dedup_rebuild_run(self, job_id: int) -> None:
    services.dedup_rebuild_job(job_id=job_id, task_id=self.request.id or "")


@shared_task(name="kehu.dedup.tasks.dedup_reindex")
def dedup_reindex(model: str, ids: list[int]) -> int:
    return services.dedup_reindex(model=model, ids=ids)
