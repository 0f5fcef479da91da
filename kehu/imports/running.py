"""The background parts of an import (issue 6 CONTRACT, see services.py): dry run, run with
resume, undo. Each starts a `core.Job` (progress, heartbeat) and returns it; the work runs in
`tasks.py` through the engine (`engine.py`: rows converted, validated and matched into
`PreparedRow`s; `writers.py`: a batch written in one transaction).

Resuming never trusts the broker: a run reads the job's committed `ImportBatch` rows and starts
after the last one (the rows before it are read and skipped, not converted). A worker killed with
``kill -9`` leaves its `core.Job` running without heartbeats; the foundation's sweep
(`job_sweep_stale`) marks it failed, and `import_run_start` then starts a new job that resumes.
"""

from __future__ import annotations

import itertools
import logging
import tempfile
from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kehu.core import permissions
from kehu.core.choices import Action, JobStatus
from kehu.core.context import acting_as
from kehu.core.models import Job
from kehu.core.services import job_create, job_run
from kehu.core.text import join_list

from .choices import ImportStatus
from .engine import BATCH_SIZE, CREATE, ERROR, SKIP, UPDATE, ImportRunError, Preparer, batches
from .models import ImportBatch, ImportJob
from .parsing import RawRow, iter_rows, sniff, write_error_file

logger = logging.getLogger(__name__)

JOB_KIND = "import"
FIRST_ERRORS = 100
SEARCH_CHUNK = 5000

_DRY_RUN_FROM = (ImportStatus.MAPPED, ImportStatus.CHECKED, ImportStatus.CHECKING, ImportStatus.FAILED)
_RUN_FROM = (ImportStatus.MAPPED, ImportStatus.CHECKED, ImportStatus.FAILED)


# --- starting -------------------------------------------------------------------------------


def _check_permission(job: ImportJob, by: Any) -> None:
    from django.apps import apps

    from .registry import target_handler

    try:
        model = apps.get_model(job.target)
    except (LookupError, ValueError):
        model = None
    handler = target_handler(job.target)
    if handler is not None:
        allowed = handler.may_import(by)
    else:
        allowed = model is not None and permissions.can(by, model, Action.IMPORT)
    if model is None or not allowed:
        raise ImportRunError(
            _("You may not import these records."), code=ImportRunError.NO_PERMISSION, status=403
        )


def _job_finished(job: ImportJob) -> bool:
    """The import's background job ended (or vanished): a RUNNING/CHECKING/UNDOING import whose
    job was failed by the sweep may start again."""
    if job.job_id is None:
        return True
    status = Job.objects.filter(pk=job.job_id).values_list("status", flat=True).first()
    return status is None or status not in (JobStatus.PENDING, JobStatus.RUNNING)


def _start(job: ImportJob, by: Any, *, allowed: tuple[str, ...], status: str, task: str, title: str) -> Job:
    _check_permission(job, by)
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        busy = locked.status in (ImportStatus.CHECKING, ImportStatus.RUNNING, ImportStatus.UNDOING)
        if locked.status not in allowed and not (busy and _job_finished(locked)):
            raise ImportRunError(
                _("This import cannot do that now (it is “%(status)s”).")
                % {"status": locked.get_status_display()},
                code=ImportRunError.BAD_STATUS,
                status=409,
            )
        if busy and not _job_finished(locked):
            raise ImportRunError(
                _("This import is already being worked on."), code=ImportRunError.BAD_STATUS, status=409
            )
        core = job_create(
            kind=JOB_KIND,
            owner=by,
            title=title % {"name": locked.original_name},
            params={"import_id": locked.pk, "step": task},
            total=locked.row_estimate,
        )
        locked.status = status
        locked.job = core
        fields = ["status", "job", "updated_at"]
        if status == ImportStatus.RUNNING and locked.started_at is None:
            locked.started_at = timezone.now()
            fields.append("started_at")
        locked.save(update_fields=fields)
        transaction.on_commit(lambda: _schedule(task, core.pk))
    job.refresh_from_db()
    return core


def _schedule(task: str, job_id: int) -> None:
    from . import tasks

    getattr(tasks, task).delay(job_id)


def import_dry_run_start(*, job: ImportJob, by: Any) -> Job:
    """Start the dry run in the background (a `core.Job` with progress): every row converted and
    validated with the same rules as forms and API, matched against the database and the earlier
    rows; `job.dry_run` gets the counts (would create / update / skip / errors, with reasons) and
    the first errors; the error file is written. Nothing else changes. Status CHECKING → CHECKED."""
    return _start(
        job,
        by,
        allowed=_DRY_RUN_FROM,
        status=ImportStatus.CHECKING,
        task="import_dry_run",
        title=_("Import check: %(name)s"),
    )


def import_run_start(*, job: ImportJob, by: Any) -> Job:
    """Start (or resume after a failure) the import in the background: rows in batches, each
    batch one transaction with its records, change-log rows (request_id = job.audit_tag), match
    keys and its `ImportBatch`; a resumed run starts after the last committed batch. Status
    RUNNING → DONE (or FAILED, resumable)."""
    return _start(
        job,
        by,
        allowed=_RUN_FROM,
        status=ImportStatus.RUNNING,
        task="import_run",
        title=_("Import: %(name)s"),
    )


def import_undo_start(*, job: ImportJob, by: Any) -> Job:
    """Undo in the background: delete what the import created and restore what it updated, from
    its change-log rows; refused (nothing changes) when any of those records changed since.
    Status UNDOING → UNDONE."""
    allowed = (ImportStatus.DONE, ImportStatus.FAILED)
    return _start(
        job,
        by,
        allowed=allowed,
        status=ImportStatus.UNDOING,
        task="import_undo",
        title=_("Undo import: %(name)s"),
    )


# --- the job bodies (called by tasks.py and the import_run command) --------------------------


def _preparer(job: ImportJob, by: Any, *, dry_run: bool = False) -> Any:
    """The bulk preparer of accounts and contacts, or the service-backed one of leads and
    opportunities (`rowwise.py`)."""
    from .registry import target_handler
    from .rowwise import ROW_TARGETS, RowPreparer

    if (handler := target_handler(job.target)) is not None:
        return handler.preparer(job, by, dry_run)
    if job.target in ROW_TARGETS:
        return RowPreparer(job, by=by, dry_run=dry_run)
    return Preparer(job, by=by)


def _writer(job: ImportJob, by: Any) -> Any:
    from .registry import target_handler
    from .rowwise import ROW_TARGETS, RowWriter
    from .writers import BatchWriter

    if (handler := target_handler(job.target)) is not None:
        return handler.writer(job, by)
    if job.target in ROW_TARGETS:
        return RowWriter(job, by=by)
    return BatchWriter(job, by=by)


def _file_rows(job: ImportJob) -> Iterator[RawRow]:
    """The file's data rows, read as the wizard read them (`job.options`)."""
    try:
        path = Path(job.file.path)
    except NotImplementedError:  # remote storage: a local copy
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept for the run
            prefix="kehu-import-", suffix=Path(job.file.name).suffix, delete=False
        )
        with job.file.open("rb") as src:
            for chunk in src.chunks():
                handle.write(chunk)
        handle.close()
        path = Path(handle.name)
    sniffed = sniff(path, filename=job.original_name or path.name, **(job.options or {}))
    job._sniffed = sniffed  # type: ignore[attr-defined]
    return iter_rows(path, sniffed)


def _context(job_id: int) -> tuple[Job | None, ImportJob | None]:
    core = Job.objects.select_related("owner").filter(pk=job_id).first()
    if core is None or core.is_finished:
        return core, None
    import_id = (core.params or {}).get("import_id")
    imp = ImportJob.objects.select_related("owner", "assign_to").filter(pk=import_id).first()
    return core, imp


def _run_as(
    core: Job,
    work: Callable[[Job, Callable[..., None]], dict[str, Any] | None],
    task_id: str,
    failed: Callable[[], None],
) -> Job | None:
    user = core.owner
    language = getattr(user, "language", "") or settings.LANGUAGE_CODE
    with acting_as(getattr(user, "pk", None), source="import"), translation.override(language):
        result = job_run(core.pk, work, task_id=task_id)
    if result is not None and result.status != JobStatus.SUCCEEDED:
        failed()
    return result


def _set_status(import_id: int, status: str, **extra: Any) -> None:
    ImportJob.objects.filter(pk=import_id).update(status=status, updated_at=timezone.now(), **extra)


def _progress_message(done: int, total: int | None) -> str:
    if total:
        return _("%(done)s of about %(total)s rows") % {"done": f"{done:,}", "total": f"{total:,}"}
    return _("%(done)s rows") % {"done": f"{done:,}"}


def _store_error_file(imp: ImportJob, path: Path, count: int) -> None:
    """Keep the error file (rows with errors, fixable and re-importable as is) on the import."""
    if count:
        with path.open("rb") as fh:
            imp.error_file.save(f"import-{imp.pk}-errors.csv", File(fh), save=False)
        ImportJob.objects.filter(pk=imp.pk).update(error_file=imp.error_file.name)
    else:
        ImportJob.objects.filter(pk=imp.pk).update(error_file="")


def import_dry_run_execute(*, job_id: int, task_id: str = "") -> Job | None:
    """The dry run's body: every row prepared, nothing written but `dry_run` and the error file."""
    core, imp = _context(job_id)
    if core is None or imp is None:
        return core

    def work(core: Job, progress: Callable[..., None]) -> dict[str, Any]:
        _check_permission(imp, core.owner)
        preparer = _preparer(imp, core.owner, dry_run=True)
        counts: Counter[str] = Counter()
        reasons: Counter[str] = Counter()
        first: list[dict[str, Any]] = []
        done = 0
        with tempfile.TemporaryDirectory(prefix="kehu-import-") as folder:
            path = Path(folder) / "errors.csv"
            rows = _file_rows(imp)
            sniffed = imp._sniffed  # type: ignore[attr-defined]

            def rejected() -> Iterator[tuple[RawRow, str]]:
                nonlocal done
                for raws in batches(rows):
                    for r in preparer.prepare(raws):
                        counts[r.action] += 1
                        if r.reason:
                            reasons[r.reason] += 1
                        if r.action == ERROR:
                            if len(first) < FIRST_ERRORS:
                                first.append({"row": r.line, "code": r.reason, "message": r.message})
                            yield r.raw, r.message
                    done += len(raws)
                    progress(done, message=_progress_message(done, imp.row_estimate))

            written = write_error_file(path, sniffed, rejected())
            _store_error_file(imp, path, written)
        result = {
            "rows": done,
            "create": counts[CREATE],
            "update": counts[UPDATE],
            "skip": counts[SKIP],
            "errors": counts[ERROR],
            "reasons": dict(reasons),
            "first_errors": first,
        }
        ImportJob.objects.filter(pk=imp.pk).update(
            dry_run=result, status=ImportStatus.CHECKED, updated_at=timezone.now()
        )
        return {"message": _dry_run_message(result), "result": result}

    return _run_as(core, work, task_id, lambda: _set_status(imp.pk, ImportStatus.MAPPED))


def _dry_run_message(result: dict[str, Any]) -> str:
    return _("Would create %(create)s, update %(update)s, skip %(skip)s; %(errors)s rows with errors.") % {
        k: f"{result[k]:,}" for k in ("create", "update", "skip", "errors")
    }


def import_run_execute(
    *, job_id: int, task_id: str = "", batch_size: int = BATCH_SIZE, pause: float = 0.0
) -> Job | None:
    """The run's body: batches written one transaction each, resuming after the last committed
    `ImportBatch`; then the search index (second phase), the error file and the counts.
    `pause`: seconds to wait after each batch (throttling; the kill test uses it)."""
    core, imp = _context(job_id)
    if core is None or imp is None:
        return core

    def work(core: Job, progress: Callable[..., None]) -> dict[str, Any]:
        import time

        _check_permission(imp, core.owner)
        preparer = _preparer(imp, core.owner)
        writer = _writer(imp, core.owner)
        threaded = use_writer_thread(imp)  # `pause` throttles either way (the kill test uses both)
        committed = list(
            ImportBatch.objects.filter(job=imp).order_by("number").values_list("number", "last_row")
        )
        next_number = committed[-1][0] + 1 if committed else 1
        resume_after = committed[-1][1] if committed else 0
        done = _rows_before(imp) if committed else 0
        rows = _file_rows(imp)
        sniffed = imp._sniffed  # type: ignore[attr-defined]
        if resume_after:
            rows = itertools.dropwhile(lambda r: r.line <= resume_after, rows)
        progress(done, message=_progress_message(done, imp.row_estimate))

        def rejected() -> Iterator[tuple[RawRow, str]]:
            nonlocal done, next_number
            if resume_after:
                yield from _earlier_errors(imp, core.owner, resume_after)
            for raws, prepared in written_batches(
                preparer, writer, batches(rows, batch_size), first_number=next_number, threaded=threaded
            ):
                next_number += 1
                done += len(raws)
                ImportJob.objects.filter(pk=imp.pk).update(rows_done=done)
                progress(done, message=_progress_message(done, imp.row_estimate))
                for r in prepared:
                    if r.action == ERROR:
                        yield r.raw, r.message
                if pause:
                    time.sleep(pause)

        with tempfile.TemporaryDirectory(prefix="kehu-import-") as folder:
            path = Path(folder) / "errors.csv"
            written = write_error_file(path, sniffed, rejected())
            progress(done, message=_("Updating the search index…"))
            search_phase(imp)
            _store_error_file(imp, path, written)
        totals = _totals(imp)
        now = timezone.now()
        ImportJob.objects.filter(pk=imp.pk).update(
            status=ImportStatus.DONE, result=totals, rows_done=done, finished_at=now, updated_at=now
        )
        message = _(
            "Created %(created)s, updated %(updated)s, skipped %(skipped)s; %(errors)s rows with errors."
        ) % {k: f"{totals[k]:,}" for k in ("created", "updated", "skipped", "errors")}
        return {"message": message, "result": totals}

    return _run_as(core, work, task_id, lambda: _set_status(imp.pk, ImportStatus.FAILED))


# Imports from this size on PostgreSQL write each batch in a second thread (its own connection)
# while the next batch is prepared: the writer mostly waits on the server (COPY, indexes, commit)
# with the GIL released, so preparing and writing overlap.
THREAD_FROM_ROWS = 10_000


def use_writer_thread(imp: ImportJob) -> bool:
    """Pipelined writing: PostgreSQL (SQLite has one writer and table locks between connections),
    a big file, the bulk writer, and no transaction around the run (a second connection would not
    see its uncommitted rows; tests run inside one)."""
    from .registry import target_handler
    from .rowwise import ROW_TARGETS

    return (
        connection.vendor == "postgresql"
        and (imp.row_estimate or 0) >= THREAD_FROM_ROWS
        and imp.target not in ROW_TARGETS
        and target_handler(imp.target) is None
        and not connection.in_atomic_block
    )


def written_batches(
    preparer: Any, writer: Any, raw_batches: Iterator[list[RawRow]], *, first_number: int, threaded: bool
) -> Iterator[tuple[list[RawRow], list[Any]]]:
    """Prepare and write `raw_batches` (numbered from `first_number`), yielding each batch with its
    prepared rows once it has committed, in file order. `threaded`: the writes run in one writer
    thread, one batch behind the preparing (at most one batch in flight: memory stays bounded,
    and a failed write stops the import before the next batch is prepared further)."""
    number = first_number
    if not threaded:
        for raws in raw_batches:
            prepared = preparer.prepare(raws)
            writer.write(number=number, first_row=raws[0].line, last_row=raws[-1].line, rows=prepared)
            number += 1
            yield raws, prepared
        return
    from concurrent.futures import Future, ThreadPoolExecutor

    from django.db import connections

    language = translation.get_language()

    def write(number: int, raws: list[RawRow], prepared: list[Any]) -> tuple[list[RawRow], list[Any]]:
        with translation.override(language):
            writer.write(number=number, first_row=raws[0].line, last_row=raws[-1].line, rows=prepared)
        return raws, prepared

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kehu-import-writer") as pool:
        pending: Future[tuple[list[RawRow], list[Any]]] | None = None
        try:
            for raws in raw_batches:
                prepared = preparer.prepare(raws)  # while the previous batch is written
                if pending is not None:
                    yield pending.result()
                pending = pool.submit(write, number, raws, prepared)
                number += 1
            if pending is not None:
                yield pending.result()
                pending = None
        finally:
            if pending is not None:
                pending.exception()  # let an unfinished write end (commit or roll back) first
            pool.submit(connections.close_all).result()  # the writer thread's connection


def _rows_before(imp: ImportJob) -> int:
    totals = _totals(imp)
    return int(sum(totals[k] for k in ("created", "updated", "skipped", "errors")))


def _totals(imp: ImportJob) -> dict[str, int]:
    from django.db.models import Sum

    agg = ImportBatch.objects.filter(job=imp).aggregate(
        created=Sum("created"), updated=Sum("updated"), skipped=Sum("skipped"), errors=Sum("errors")
    )
    out = {k: int(v or 0) for k, v in agg.items()}
    out["batches"] = ImportBatch.objects.filter(job=imp).count()
    return out


# Row errors that do not depend on what the import itself wrote (a resumed run finds them again
# for the error file of the rows before the resume point).
_STABLE_ERRORS = frozenset(
    {
        "invalid_value",
        "unknown_account",
        "ambiguous_account",
        "unknown_owner",
        "unknown_parent",
        "invalid_tag",
        "unknown_contact",
        "ambiguous_contact",
        "unknown_pipeline",
        "unknown_stage",
    }
)


def _earlier_errors(imp: ImportJob, by: Any, last_line: int) -> Iterator[tuple[RawRow, str]]:
    preparer = _preparer(imp, by)
    rows = itertools.takewhile(lambda r: r.line <= last_line, _file_rows(imp))
    for raws in batches(rows):
        for r in preparer.prepare(raws):
            if r.action == ERROR and (r.reason in _STABLE_ERRORS or r.raw.error):
                yield r.raw, r.message


def search_phase(imp: ImportJob) -> int:
    """Second phase: the search index of every record the import created or updated (a big
    import on PostgreSQL builds half of it in a forked process: pinyin and tokens are CPU work)."""
    from kehu.audit.models import ObjectChange
    from kehu.search.registry import indexed_models

    label = imp.target
    if label not in {i.label for i in indexed_models()}:
        return 0
    # 8 bytes an id (a million-row import: 8 MB); a record logged twice (created, then moved to a
    # pool by the same import) is indexed twice, which changes nothing
    ids = array(
        "q",
        ObjectChange.objects.filter(request_id=imp.audit_tag, model=label)
        .order_by("id")
        .values_list("object_id", flat=True)
        .iterator(chunk_size=SEARCH_CHUNK),
    )
    if len(ids) >= THREAD_FROM_ROWS and _may_fork():
        half = len(ids) // 2
        return _reindex_in_two(label, ids[:half], ids[half:])
    return _reindex(label, ids)


def _reindex(label: str, ids: Sequence[int]) -> int:
    from kehu.search.services import search_reindex

    return sum(
        search_reindex(model=label, ids=list(ids[start : start + SEARCH_CHUNK]))
        for start in range(0, len(ids), SEARCH_CHUNK)
    )


def _may_fork() -> bool:
    import os

    return (
        hasattr(os, "fork")
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and bool(getattr(settings, "IMPORT_FORK_SEARCH", True))
    )


def _reindex_in_two(label: str, mine: Sequence[int], theirs: Sequence[int]) -> int:
    """`theirs` in a forked child (``kehu.core.forking``), `mine` here; if the child fails, its
    half is done here too."""
    from kehu.core.forking import run_split

    written, child = run_split(
        lambda: _reindex(label, mine), lambda: _reindex(label, theirs), label="import search phase"
    )
    if child is None:
        logger.warning(
            "import search phase: the forked process indexing %d records failed; indexing them here",
            len(theirs),
        )
        return written + _reindex(label, theirs)
    return written + int(child)


# --- undo -------------------------------------------------------------------------------------


def import_undo_execute(*, job_id: int, task_id: str = "") -> Job | None:
    """Undo's body: refuse when any record the import touched changed since (a later change-log
    row or a version that moved on); else delete what it created and restore what it updated,
    in one transaction, with change-log rows (request_id = audit_tag + "-undo")."""
    core, imp = _context(job_id)
    if core is None or imp is None:
        return core

    def work(core: Job, progress: Callable[..., None]) -> dict[str, Any]:
        _check_permission(imp, core.owner)
        result = undo(imp, by=core.owner)
        ImportJob.objects.filter(pk=imp.pk).update(
            status=ImportStatus.UNDONE,
            undone_at=timezone.now(),
            undone_by=core.owner,
            updated_at=timezone.now(),
        )
        message = _("Deleted %(deleted)s records, restored %(restored)s.") % {
            k: f"{result[k]:,}" for k in ("deleted", "restored")
        }
        return {"message": message, "result": result}

    return _run_as(core, work, task_id, lambda: _set_status(imp.pk, ImportStatus.DONE))


def undo(imp: ImportJob, *, by: Any) -> dict[str, int]:
    """Delete the created records and restore the updated ones of `imp` (see import_undo_execute)."""
    from django.apps import apps

    from kehu.audit.models import ObjectChange
    from kehu.search.services import search_reindex

    model = apps.get_model(imp.target)
    label = imp.target
    tag = imp.audit_tag
    log = ObjectChange.objects.filter(request_id=tag, model=label)
    created: dict[int, str] = {}
    updated: dict[int, dict[str, Any]] = {}
    first_id = None
    # The version each record was left at by the import (its last own change-log row: a create
    # is version 1, assignment rules or a pool move in the same import may have raised it); None
    # when that row did not log a number (then only the check for later change-log rows counts).
    left_at: dict[int, int | None] = {}
    for change_id, object_id, action, changes, text in log.order_by("id").values_list(
        "id", "object_id", "action", "changes", "object_repr"
    ):
        first_id = first_id or change_id
        if action == "create":
            created[object_id] = text
            left_at[object_id] = 1
        elif action == "update":  # the import's update, or a later change in it (a pool move)
            if object_id not in updated and object_id not in created:
                updated[object_id] = changes
            after = (changes or {}).get("version", [None, None])[1]
            left_at[object_id] = after if isinstance(after, int) else None
    ids = list(created) + list(updated)
    versioned = any(f.name == "version" for f in model._meta.concrete_fields)
    with transaction.atomic():
        moved: set[int] = set()
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            moved.update(
                ObjectChange.objects.filter(model=label, object_id__in=chunk, id__gt=first_id or 0)
                .exclude(request_id=tag)
                .values_list("object_id", flat=True)
            )
            if not versioned:  # (catalog prices and rates: the change-log check alone)
                continue
            for pk, version in model._default_manager.filter(pk__in=chunk).values_list("pk", "version"):
                expected = left_at.get(pk, version)
                if expected is not None and version != expected:
                    moved.add(pk)
        if moved:
            shown = join_list([f"#{pk}" for pk in sorted(moved)[:10]])
            raise ImportRunError(
                ngettext(
                    "%(count)d record changed after the import (%(ids)s); undo would lose that change.",
                    "%(count)d records changed after the import (%(ids)s); undo would lose those changes.",
                    len(moved),
                )
                % {"count": len(moved), "ids": shown},
                code=ImportRunError.CHANGED_SINCE,
                status=409,
            )
        from .registry import target_handler
        from .rowwise import ROW_TARGETS, undo_rows

        if (handler := target_handler(label)) is not None:
            result = handler.undo(imp, by=by, created=list(created), updated=updated)
        elif label in ROW_TARGETS:
            result = undo_rows(imp, by=by, created=list(created), updated=updated)
        else:
            result = _undo_bulk(imp, model=model, created=created, updated=updated, by=by)
    from kehu.search.registry import indexed_models

    if label in {i.label for i in indexed_models()}:  # (the catalog's records are not searched)
        for start in range(0, len(ids), SEARCH_CHUNK):
            search_reindex(model=label, ids=ids[start : start + SEARCH_CHUNK])
    return result


def _undo_bulk(
    imp: ImportJob, *, model: Any, created: dict[int, str], updated: dict[int, dict[str, Any]], by: Any
) -> dict[str, int]:
    """Undo of the bulk writer's accounts and contacts (inside `undo`'s transaction): created
    records deleted with their detail rows, keys and tags; updated ones restored; logged."""
    from kehu.audit.services import object_changes_record_bulk
    from kehu.dedup.models import MatchKey
    from kehu.tags.models import TaggedItem

    label, tag = imp.target, imp.audit_tag
    from .writers import UNDO_CASCADE, BatchWriter

    writer = BatchWriter(imp, by=by)
    created_ids = list(created)
    ct = writer.content_type_id
    try:
        with transaction.atomic():
            for start in range(0, len(created_ids), 5000):
                chunk = created_ids[start : start + 5000]
                writer.phone_model._default_manager.filter(**{f"{writer.parent_fk}__in": chunk})._raw_delete(
                    connection.alias
                )
                writer.email_model._default_manager.filter(**{f"{writer.parent_fk}__in": chunk})._raw_delete(
                    connection.alias
                )
                if writer.is_contact:
                    writer.relation_model._default_manager.filter(contact_id__in=chunk)._raw_delete(
                        connection.alias
                    )
                else:
                    writer.address_model._default_manager.filter(account_id__in=chunk)._raw_delete(
                        connection.alias
                    )
                for dependent, field in UNDO_CASCADE.get(label, ()):
                    dependent._base_manager.filter(**{f"{field}__in": chunk}).delete()
                MatchKey.objects.filter(content_type_id=ct, object_id__in=chunk)._raw_delete(connection.alias)
                TaggedItem.objects.filter(model=label, object_id__in=chunk)._raw_delete(connection.alias)
                model._default_manager.filter(pk__in=chunk)._raw_delete(connection.alias)
            if connection.vendor == "postgresql":
                with connection.cursor() as cur:
                    cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
    except IntegrityError as exc:
        raise ImportRunError(
            _("Some records the import created are used by other records now; undo is not possible."),
            code=ImportRunError.IN_USE,
            status=409,
        ) from exc
    restored = _restore(model, updated)
    with acting_as(getattr(by, "pk", None), source="import", request_id=f"{tag}-undo"):
        object_changes_record_bulk(
            model=label,
            action="delete",
            rows=[(pk, text, {}) for pk, text in created.items()],
            by=by,
        )
        object_changes_record_bulk(
            model=label,
            action="update",
            rows=[(pk, "", {k: [v[1], v[0]] for k, v in ch.items()}) for pk, ch in updated.items()],
            by=by,
        )
    return {"deleted": len(created_ids), "restored": restored}


def _restore(model: Any, updated: dict[int, dict[str, Any]]) -> int:
    from kehu.dedup.services import dedup_reindex

    if not updated:
        return 0
    from kehu.tags.models import TaggedItem

    from .writers import detail_models

    phone_model, email_model, fk = detail_models(model)
    label = model._meta.label_lower
    for pk, changes in updated.items():
        if "tags" in changes:  # an import only adds tags: take off the ones it added
            before_tags, after_tags = (changes["tags"][0] or []), (changes["tags"][1] or [])
            added = {n.casefold() for n in after_tags} - {n.casefold() for n in before_tags}
            TaggedItem.objects.filter(
                model=label, object_id=pk, tag__name__in=[n for n in after_tags if n.casefold() in added]
            ).delete()
        for name, detail, column in (("phones", phone_model, "number"), ("emails", email_model, "email")):
            if name in changes:  # take off the numbers and addresses the import added
                added_values = set(changes[name][1] or []) - set(changes[name][0] or [])
                detail.objects.filter(**{fk: pk, f"{column}__in": sorted(added_values)}).delete()
        values = {k: v[0] for k, v in changes.items() if k not in ("version", "tags", "phones", "emails")}
        version = changes.get("version") or [1, 1]
        values["version"] = version[1] + 1
        model._default_manager.filter(pk=pk).update(**values)
        if "phone" in values:
            phone_model.objects.filter(**{fk: pk, "is_primary": True}).update(number=values["phone"] or "")
        if "email" in values:
            email_model.objects.filter(**{fk: pk, "is_primary": True}).update(email=values["email"] or "")
    dedup_reindex(model=model, ids=list(updated))
    return len(updated)
