"""Celery tasks of customfields: they load by id and call a service; idempotent, safe to retry."""

from celery import shared_task

from . import services


@shared_task(bind=True, name="kehu.customfields.tasks.completeness_recompute", acks_late=True)
def completeness_recompute(self, job_id: int) -> None:
    services.completeness_recompute_run(job_id=job_id, task_id=self.request.id or "")
