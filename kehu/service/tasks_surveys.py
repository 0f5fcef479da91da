"""Scheduled and background tasks of the service app: surveys."""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(name="kehu.service.tasks_surveys.surveys_run_due", acks_late=True)
def surveys_run_due() -> list[int]:
    """Start the due sendings of NPS surveys (beat, hourly): one background job per run."""
    from .services.surveys import surveys_run_due as run

    return run()


@shared_task(name="kehu.service.tasks_surveys.survey_run", bind=True, acks_late=True)
def survey_run(self: Any, job_id: int) -> None:
    """One sending of an NPS survey (a `core.Job` with progress); idempotent."""
    from .services.surveys import survey_run_job

    survey_run_job(job_id=job_id, task_id=str(getattr(self.request, "id", "") or ""))
