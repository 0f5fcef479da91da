from celery import shared_task

from . import services


@shared_task(name="kehu.core.tasks.job_sweep_stale")
def job_sweep_stale() -> int:
    return services.job_sweep_stale()
