"""Writes of the core app: document numbers and background jobs."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import JobStatus, SequenceReset
from .models import Job, Sequence

log = logging.getLogger(__name__)


# --- document numbers -----------------------------------------------------------------------


def _period(reset: str, today: dt.date) -> str:
    if reset == SequenceReset.YEARLY:
        return f"{today:%Y}"
    if reset == SequenceReset.MONTHLY:
        return f"{today:%Y%m}"
    if reset == SequenceReset.DAILY:
        return f"{today:%Y%m%d}"
    return ""


def sequence_next(*, key: str, prefix: str | None = None, today: dt.date | None = None) -> str:
    """The next number of sequence `key`, formatted. Parallel callers never get the same number:
    the row is locked (`SELECT ... FOR UPDATE` on PostgreSQL, an IMMEDIATE transaction on SQLite)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        try:
            with transaction.atomic():
                Sequence.objects.get_or_create(
                    key=key, defaults={"prefix": prefix if prefix is not None else key[:1].upper()}
                )
        except IntegrityError:  # created by a parallel caller
            pass
        seq = Sequence.objects.select_for_update().get(key=key)
        period = _period(seq.reset, today)
        if period != seq.period:
            seq.period = period
            seq.last_value = 0
        seq.last_value += 1
        seq.save(update_fields=["period", "last_value"])
        return seq.pattern.format(
            prefix=seq.prefix,
            yyyy=f"{today:%Y}",
            yy=f"{today:%y}",
            mm=f"{today:%m}",
            dd=f"{today:%d}",
            n=seq.last_value,
        ).lstrip("-")


# --- background jobs ------------------------------------------------------------------------


def job_create(*, kind: str, owner: Any, title: str = "", params: dict[str, Any] | None = None) -> Job:
    return Job.objects.create(kind=kind, owner=owner, title=title, params=params or {})


def job_start(*, job_id: int, total: int | None = None, celery_task_id: str = "") -> Job:
    now = timezone.now()
    Job.objects.filter(pk=job_id).update(
        status=JobStatus.RUNNING,
        started_at=now,
        heartbeat_at=now,
        progress_total=total,
        celery_task_id=celery_task_id,
    )
    return Job.objects.get(pk=job_id)


def job_progress(*, job_id: int, done: int, total: int | None = None, message: str = "") -> None:
    """Record progress; doubles as the heartbeat. Cheap: one UPDATE."""
    values: dict[str, Any] = {"progress_done": done, "heartbeat_at": timezone.now()}
    if total is not None:
        values["progress_total"] = total
    if message:
        values["message"] = message[:500]
    Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(**values)


def job_finish(
    *,
    job_id: int,
    message: str = "",
    result: dict[str, Any] | None = None,
    result_file: tuple[str, bytes] | None = None,
    error_file: tuple[str, bytes] | None = None,
) -> Job:
    job = Job.objects.get(pk=job_id)
    job.status = JobStatus.SUCCEEDED
    job.finished_at = timezone.now()
    job.heartbeat_at = job.finished_at
    job.message = message[:500]
    if job.progress_total is not None:
        job.progress_done = job.progress_total
    if result is not None:
        job.result = result
    if result_file:
        job.result_file.save(result_file[0], ContentFile(result_file[1]), save=False)
    if error_file:
        job.error_file.save(error_file[0], ContentFile(error_file[1]), save=False)
    job.save()
    _notify_finished(job)
    return job


def job_fail(*, job_id: int, error: str, message: str = "") -> Job:
    job = Job.objects.get(pk=job_id)
    job.status = JobStatus.FAILED
    job.finished_at = timezone.now()
    job.error = error[:10000]
    job.message = (message or _("The job failed."))[:500]
    job.save(update_fields=["status", "finished_at", "error", "message"])
    _notify_finished(job)
    return job


def job_sweep_stale(*, now: dt.datetime | None = None) -> int:
    """Mark running jobs whose worker stopped sending heartbeats as failed. Returns how many."""
    now = now or timezone.now()
    limit = now - settings.KEHU_JOB_STALE_AFTER
    stale = list(
        Job.objects.filter(status=JobStatus.RUNNING).filter(
            Q(heartbeat_at__lt=limit) | Q(heartbeat_at__isnull=True)
        )
    )
    for job in stale:
        job_fail(
            job_id=job.pk,
            error="no heartbeat since %s" % (job.heartbeat_at.isoformat() if job.heartbeat_at else "start"),
            message=_("The worker running this job stopped responding. Start the job again."),
        )
    return len(stale)


# Hooks called when a job ends (the notifications app registers one). Core never imports upward.
job_finished_hooks: list[Callable[[Job], None]] = []


def _notify_finished(job: Job) -> None:
    def run() -> None:
        for hook in job_finished_hooks:
            try:
                hook(job)
            except Exception:  # a failing notifier must not fail the job
                log.exception("job finished hook failed", extra={"job_id": job.pk})

    transaction.on_commit(run)


def job_run(
    job_id: int, work: Callable[[Job, Callable[..., None]], dict[str, Any] | None], *, task_id: str = ""
) -> None:
    """Run `work(job, progress)` for a job: start, heartbeats, success or failure.

    `progress(done, total=None, message="")` records progress; `work` may return a dict of
    keyword arguments for `job_finish` (message, result, result_file, error_file).
    """
    job = Job.objects.get(pk=job_id)
    if job.is_finished:  # idempotent: a redelivered task does nothing
        return
    job = job_start(job_id=job_id, total=job.progress_total, celery_task_id=task_id)

    def progress(done: int, total: int | None = None, message: str = "") -> None:
        job_progress(job_id=job_id, done=done, total=total, message=message)

    try:
        outcome = work(job, progress) or {}
    except Exception as exc:
        log.exception("job failed", extra={"job_id": job_id})
        job_fail(job_id=job_id, error=f"{type(exc).__name__}: {exc}")
        return
    job_finish(job_id=job_id, **outcome)


def job_bump_counter(*, job_id: int, by: int = 1) -> None:
    Job.objects.filter(pk=job_id).update(progress_done=F("progress_done") + by, heartbeat_at=timezone.now())


# --- user preferences -----------------------------------------------------------------------


@transaction.atomic
def user_preference_set(*, user: Any, key: str, value: dict[str, Any]) -> None:
    """Store (or replace) one preference of `user`, e.g. the columns of a list."""
    from .models import UserPreference

    UserPreference.objects.update_or_create(user=user, key=key, defaults={"value": value})


@transaction.atomic
def user_preference_delete(*, user: Any, key: str) -> None:
    from .models import UserPreference

    UserPreference.objects.filter(user=user, key=key).delete()
