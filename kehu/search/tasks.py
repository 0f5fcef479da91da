"""Celery tasks of the search: they load by id and call a service; idempotent, safe to retry."""

from celery import shared_task

from . import services


@shared_task(bind=True, name="kehu.search.tasks.search_rebuild_run", acks_late=True)
def search_rebuild_run(self, job_id: int) -> None:
    services.search_rebuild_job(job_id=job_id, task_id=self.request.id or "")


@shared_task(name="kehu.search.tasks.search_reindex")
def search_reindex(model: str, ids: list[int]) -> int:
    return services.search_reindex(model=model, ids=ids)
