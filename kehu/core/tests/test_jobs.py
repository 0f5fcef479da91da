"""Job services: life cycle, progress and heartbeat, cancel, the stale sweep, hooks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from kehu.core import services
from kehu.core.choices import JobStatus
from kehu.core.errors import ConflictError, DomainError
from kehu.core.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished_hook() -> Any:
    seen: list[tuple[int, str]] = []

    def hook(job: Job) -> None:
        seen.append((job.pk, job.status))

    services.job_finished_hooks.append(hook)
    yield seen
    services.job_finished_hooks.remove(hook)


def test_job_run_success_records_progress_result_and_file(
    company, finished_hook, django_capture_on_commit_callbacks
) -> None:
    job = services.job_create(kind="demo", owner=company.rep1, title="Demo")
    seen_progress: list[tuple[int, int | None]] = []

    def work(job: Job, progress: Any) -> dict[str, Any]:
        progress(0, total=3, message="starting")
        for i in range(1, 4):
            progress(i)
            row = Job.objects.get(pk=job.pk)
            seen_progress.append((row.progress_done, row.progress_total))
        return {"message": "done", "result": {"rows": 3}, "result_file": ("out.txt", b"hello")}

    with django_capture_on_commit_callbacks(execute=True):
        services.job_run(job.pk, work, task_id="task-1")

    job.refresh_from_db()
    assert seen_progress == [(1, 3), (2, 3), (3, 3)]
    assert job.status == JobStatus.SUCCEEDED
    assert job.celery_task_id == "task-1"
    assert (job.progress_done, job.progress_total, job.percent) == (3, 3, 100)
    assert job.message == "done"
    assert job.result == {"rows": 3}
    assert job.result_file.read() == b"hello"
    assert job.started_at is not None and job.finished_at is not None
    assert finished_hook == [(job.pk, JobStatus.SUCCEEDED)]


def test_job_run_failure_is_recorded_and_the_owner_message_is_generic(
    company, finished_hook, django_capture_on_commit_callbacks
) -> None:
    job = services.job_create(kind="demo", owner=company.rep1)

    def work(job: Job, progress: Any) -> None:
        raise ValueError("boom")

    with django_capture_on_commit_callbacks(execute=True):
        services.job_run(job.pk, work)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == "ValueError: boom"
    assert job.message == "The job failed."
    assert finished_hook == [(job.pk, JobStatus.FAILED)]


def test_a_domain_error_in_work_becomes_the_owner_message(company) -> None:
    job = services.job_create(kind="demo", owner=company.rep1)

    def work(job: Job, progress: Any) -> None:
        raise DomainError("The file has no header row.", code="no_header")

    services.job_run(job.pk, work)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.message == "The file has no header row."
    assert job.error == "no_header: The file has no header row."


def test_job_run_is_idempotent_for_finished_jobs(company) -> None:
    job = services.job_create(kind="demo", owner=company.rep1)
    calls: list[int] = []

    def work(job: Job, progress: Any) -> None:
        calls.append(job.pk)

    services.job_run(job.pk, work)
    services.job_run(job.pk, work)
    assert calls == [job.pk]
    assert Job.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED


def test_a_redelivered_running_job_starts_again_from_zero(company) -> None:
    job = services.job_create(kind="demo", owner=company.rep1)
    services.job_start(job_id=job.pk, total=10)
    services.job_progress(job_id=job.pk, done=7)
    restarted = services.job_start(job_id=job.pk)
    assert restarted is not None
    assert (restarted.status, restarted.progress_done, restarted.progress_total) == (JobStatus.RUNNING, 0, 10)


def test_cancel_stops_running_work_at_its_next_progress_report(
    company, finished_hook, django_capture_on_commit_callbacks
) -> None:
    job = services.job_create(kind="demo", owner=company.rep1)
    reached: list[int] = []

    def work(job: Job, progress: Any) -> dict[str, Any]:
        for i in range(1, 6):
            if i == 3:  # the owner clicks "Cancel" while the work runs
                services.job_cancel(job=job, by=company.rep1)
            progress(i, total=5)
            reached.append(i)
        return {"message": "should not get here"}

    with django_capture_on_commit_callbacks(execute=True):
        services.job_run(job.pk, work)
    job.refresh_from_db()
    assert reached == [1, 2]
    assert job.status == JobStatus.CANCELLED
    assert job.message == "Cancelled by rep1."
    assert job.progress_done == 2
    assert finished_hook == []  # cancelling is the owner's own act: no "job finished" notice


def test_cancel_a_pending_job_and_the_task_then_does_nothing(company) -> None:
    job = services.job_create(kind="demo", owner=company.rep1)
    services.job_cancel(job=job, by=company.rep1)
    calls: list[int] = []

    def work(job: Job, progress: Any) -> None:
        calls.append(job.pk)

    assert services.job_run(job.pk, work) is None
    assert calls == []
    assert Job.objects.get(pk=job.pk).status == JobStatus.CANCELLED


def test_cancel_a_finished_job_is_a_conflict(company) -> None:
    job = services.job_create(kind="demo", owner=company.rep1)
    services.job_run(job.pk, lambda job, progress: None)
    with pytest.raises(ConflictError) as err:
        services.job_cancel(job=job, by=company.rep1)
    assert err.value.code == "job_finished"
    assert Job.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED


def test_finish_and_fail_do_not_overwrite_an_ended_job(company) -> None:
    job = services.job_create(kind="demo", owner=company.rep1)
    services.job_start(job_id=job.pk)
    services.job_cancel(job=job, by=company.rep1)
    assert services.job_finish(job_id=job.pk, message="late").status == JobStatus.CANCELLED
    assert services.job_fail(job_id=job.pk, error="late").status == JobStatus.CANCELLED
    assert Job.objects.get(pk=job.pk).message == "Cancelled by rep1."


def test_on_success_failure_fails_the_job_and_removes_its_file(company, settings) -> None:
    from pathlib import Path

    job = services.job_create(kind="demo", owner=company.rep1)

    def on_success(job: Job) -> None:
        assert Path(job.result_file.path).read_bytes() == b"x"  # written before the hook runs
        raise RuntimeError("audit down")

    services.job_run(job.pk, lambda job, progress: {"result_file": ("r.csv", b"x")}, on_success=on_success)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == "RuntimeError: audit down"
    assert not job.result_file
    assert [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()] == []


# --- the stale sweep --------------------------------------------------------------------------


def test_sweep_fails_running_jobs_without_heartbeat_and_leaves_fresh_ones(
    company, settings, finished_hook, django_capture_on_commit_callbacks
) -> None:
    settings.KEHU_JOB_STALE_AFTER = dt.timedelta(minutes=2)
    now = timezone.now()
    dead = services.job_create(kind="demo", owner=company.rep1, title="dead")
    fresh = services.job_create(kind="demo", owner=company.rep1, title="fresh")
    pending = services.job_create(kind="demo", owner=company.rep1, title="pending")
    never = services.job_create(kind="demo", owner=company.rep1, title="never beat")
    for job in (dead, fresh):
        services.job_start(job_id=job.pk)
    Job.objects.filter(pk=dead.pk).update(heartbeat_at=now - dt.timedelta(minutes=2, seconds=1))
    Job.objects.filter(pk=fresh.pk).update(heartbeat_at=now - dt.timedelta(minutes=1, seconds=59))
    Job.objects.filter(pk=never.pk).update(status=JobStatus.RUNNING, heartbeat_at=None)
    Job.objects.filter(pk=pending.pk).update(created_at=now - dt.timedelta(days=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert services.job_sweep_stale(now=now) == 2

    dead.refresh_from_db()
    assert dead.status == JobStatus.FAILED
    assert dead.message == "The worker running this job stopped responding. Start the job again."
    assert dead.error.startswith("No heartbeat since ")
    assert dead.finished_at is not None
    assert Job.objects.get(pk=never.pk).status == JobStatus.FAILED
    assert Job.objects.get(pk=fresh.pk).status == JobStatus.RUNNING
    assert Job.objects.get(pk=pending.pk).status == JobStatus.PENDING
    assert sorted(finished_hook) == sorted([(dead.pk, JobStatus.FAILED), (never.pk, JobStatus.FAILED)])
    # A second sweep finds nothing more.
    assert services.job_sweep_stale(now=now) == 0


def test_work_of_a_swept_job_stops_at_its_next_progress(company) -> None:
    job = services.job_create(kind="demo", owner=company.rep1)
    services.job_start(job_id=job.pk)
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - dt.timedelta(hours=1))
    services.job_sweep_stale()
    with pytest.raises(services.JobStopped) as stopped:
        services.job_progress(job_id=job.pk, done=1)
    assert stopped.value.status == JobStatus.FAILED


def test_the_sweep_task_runs_the_service(company) -> None:
    from kehu.core.tasks import job_sweep_stale

    job = services.job_create(kind="demo", owner=company.rep1)
    services.job_start(job_id=job.pk)
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - dt.timedelta(hours=1))
    assert job_sweep_stale.delay().get() == 1
    assert Job.objects.get(pk=job.pk).status == JobStatus.FAILED


@pytest.mark.django_db(transaction=True)  # beat calls close_old_connections(): no test transaction
def test_beat_database_scheduler_picks_up_the_sweep_from_settings() -> None:
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    from config.celery import app

    scheduler = DatabaseScheduler(app=app)  # beat does this at start: syncs CELERY_BEAT_SCHEDULE
    scheduler._finalize.cancel()  # no sync at garbage collection, in the middle of a later test
    task = PeriodicTask.objects.get(name="jobs-sweep-stale")
    assert task.task == "kehu.core.tasks.job_sweep_stale"
    assert task.enabled
    assert task.interval is not None
    assert (task.interval.every, task.interval.period) == (60, "seconds")
    app.loader.import_default_modules()
    assert "kehu.core.tasks.job_sweep_stale" in app.tasks
