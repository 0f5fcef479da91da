"""Writes of the core app: document numbers and background jobs."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import JobStatus, SequenceReset
from .errors import ConflictError, DomainError
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
#
# Life of a job: pending -> running -> succeeded | failed | cancelled. Every transition is a
# conditional UPDATE (or a locked read), so a redelivered task, a late worker, the stale sweep and a
# user's cancel never overwrite each other: the first one to leave "running" wins.

UNFINISHED = (JobStatus.PENDING, JobStatus.RUNNING)


class JobStopped(Exception):
    """Raised inside running work when its job was cancelled (or failed by the sweep) meanwhile.

    `job_run` catches it and stops cleanly; work only needs `with`/`finally` for its own cleanup."""

    def __init__(self, job_id: int, status: str) -> None:
        super().__init__(f"job {job_id} is {status}")
        self.job_id = job_id
        self.status = status


def job_create(
    *,
    kind: str,
    owner: Any,
    title: str = "",
    params: dict[str, Any] | None = None,
    total: int | None = None,
) -> Job:
    return Job.objects.create(
        kind=kind, owner=owner, title=title[:200], params=params or {}, progress_total=total
    )


def job_start(*, job_id: int, total: int | None = None, celery_task_id: str = "") -> Job | None:
    """Mark the job running (again, after a redelivery). None when it is already finished."""
    now = timezone.now()
    values: dict[str, Any] = {
        "status": JobStatus.RUNNING,
        "started_at": now,
        "heartbeat_at": now,
        "progress_done": 0,
        "celery_task_id": celery_task_id[:64],
    }
    if total is not None:
        values["progress_total"] = total
    if not Job.objects.filter(pk=job_id, status__in=UNFINISHED).update(**values):
        return None
    return Job.objects.get(pk=job_id)


def job_progress(*, job_id: int, done: int, total: int | None = None, message: str = "") -> None:
    """Record progress; doubles as the heartbeat. Cheap: one UPDATE.

    Raises JobStopped when the job is no longer running (cancelled by its owner, or failed by the
    stale sweep), so the work stops at its next progress report."""
    values: dict[str, Any] = {"progress_done": max(0, done), "heartbeat_at": timezone.now()}
    if total is not None:
        values["progress_total"] = max(0, total)
    if message:
        values["message"] = message[:500]
    if not Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(**values):
        status = Job.objects.filter(pk=job_id).values_list("status", flat=True).first()
        raise JobStopped(job_id, status or "deleted")


def _store(field: Any, name: str, content: bytes | File) -> None:
    if isinstance(content, bytes):
        content = ContentFile(content)
    field.save(name, content, save=False)


@transaction.atomic
def job_finish(
    *,
    job_id: int,
    message: str = "",
    result: dict[str, Any] | None = None,
    result_file: tuple[str, bytes | File] | None = None,
    error_file: tuple[str, bytes | File] | None = None,
) -> Job:
    """Mark the job succeeded, storing its result and files. A job that already ended (cancelled
    meanwhile, or failed by the sweep) is left as it is and returned unchanged."""
    job = Job.objects.select_for_update().get(pk=job_id)
    if job.is_finished:
        return job
    job.status = JobStatus.SUCCEEDED
    job.finished_at = timezone.now()
    job.heartbeat_at = job.finished_at
    job.message = message[:500]
    if job.progress_total is not None:
        job.progress_done = job.progress_total
    if result is not None:
        job.result = result
    if result_file:
        _store(job.result_file, *result_file)
    if error_file:
        _store(job.error_file, *error_file)
    job.save()
    _notify_finished(job)
    return job


@transaction.atomic
def job_fail(
    *, job_id: int, error: str, message: str = "", error_file: tuple[str, bytes | File] | None = None
) -> Job:
    """Mark an unfinished job failed. `error` is the technical detail (for admins), `message` the
    sentence the owner reads."""
    job = Job.objects.select_for_update().get(pk=job_id)
    if job.is_finished:
        return job
    job.status = JobStatus.FAILED
    job.finished_at = timezone.now()
    job.error = error[:10000]
    job.message = str(message or _("The job failed."))[:500]
    if error_file:
        _store(job.error_file, *error_file)
    job.save()
    _notify_finished(job)
    return job


@transaction.atomic
def job_cancel(*, job: Job, by: Any) -> Job:
    """Cancel a pending or running job. Running work notices at its next progress report and
    stops. Callers pass a job loaded through `Job.objects.restrict(by, "change")`."""
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.is_finished:
        raise ConflictError(_("This job has already ended."), code="job_finished")
    job.status = JobStatus.CANCELLED
    job.finished_at = timezone.now()
    job.message = str(_("Cancelled by %(user)s.") % {"user": by})[:500]
    job.save(update_fields=["status", "finished_at", "message"])
    return job


def job_sweep_stale(*, now: dt.datetime | None = None) -> int:
    """Mark running jobs whose worker stopped sending heartbeats (killed, crashed, the machine
    restarted) as failed, so nothing stays "running" forever. Returns how many."""
    now = now or timezone.now()
    limit = now - settings.KEHU_JOB_STALE_AFTER
    stale = Job.objects.filter(status=JobStatus.RUNNING).filter(
        Q(heartbeat_at__lt=limit) | Q(heartbeat_at__isnull=True)
    )
    count = 0
    for job_id, heartbeat_at in stale.values_list("pk", "heartbeat_at"):
        seen = heartbeat_at.isoformat() if heartbeat_at else "never"
        job = job_fail(
            job_id=job_id,
            error=f"No heartbeat since {seen} (limit {settings.KEHU_JOB_STALE_AFTER}); worker presumed dead.",
            message=_("The worker running this job stopped responding. Start the job again."),
        )
        count += job.status == JobStatus.FAILED
    return count


# Hooks called after commit when a job ends (succeeded or failed), e.g. the notifications app's
# "your export is ready". Core never imports upward.
job_finished_hooks: list[Callable[[Job], None]] = []


def _notify_finished(job: Job) -> None:
    def run() -> None:
        for hook in job_finished_hooks:
            try:
                hook(job)
            except Exception:  # a failing notifier must not fail the job
                log.exception("job finished hook failed", extra={"job_id": job.pk})

    transaction.on_commit(run)


Progress = Callable[..., None]


def job_run(
    job_id: int,
    work: Callable[[Job, Progress], dict[str, Any] | None],
    *,
    task_id: str = "",
    on_success: Callable[[Job], None] | None = None,
) -> Job | None:
    """Run `work(job, progress)` for a job: start, heartbeats, success, failure or cancellation.

    `progress(done, total=None, message="")` records progress and raises JobStopped when the job
    was cancelled meanwhile. `work` may return keyword arguments for `job_finish` (message, result,
    result_file, error_file). `on_success(job)` runs in the same transaction as `job_finish`: if it
    raises, the job fails instead (used to audit exports: no unaudited success). Idempotent: a
    redelivered task for a finished job does nothing.
    """
    job = job_start(job_id=job_id, celery_task_id=task_id)
    if job is None:
        return None

    def progress(done: int, total: int | None = None, message: str = "") -> None:
        job_progress(job_id=job_id, done=done, total=total, message=message)

    stored: list[Any] = []
    try:
        outcome = work(job, progress) or {}
        with transaction.atomic():
            finished = job_finish(job_id=job_id, **outcome)
            stored = [f for f in (finished.result_file, finished.error_file) if f]
            if on_success is not None and finished.status == JobStatus.SUCCEEDED:
                on_success(finished)
        return finished
    except JobStopped as stopped:
        log.info("job stopped", extra={"job_id": job_id, "status": stopped.status})
        return Job.objects.get(pk=job_id)
    except Exception as exc:
        for f in stored:  # written to storage by a finish that was rolled back
            f.storage.delete(f.name)
        if isinstance(exc, DomainError):  # an expected refusal: its message is for the owner
            log.info("job refused", extra={"job_id": job_id, "code": exc.code})
            return job_fail(job_id=job_id, error=f"{exc.code}: {exc}", message=str(exc.message))
        log.exception("job failed", extra={"job_id": job_id})
        return job_fail(job_id=job_id, error=f"{type(exc).__name__}: {exc}")


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
