"""Keeping the search index in step with the records.

* Signals (registered by ``registry.register_indexed``) queue the changed ids on the database
  connection; the queue is indexed when the transaction commits (``transaction.on_commit``), and
  before any search on that connection, so a user finds what they saved a moment ago even inside
  the same transaction. Indexing reads the record's current state, so indexing twice, late, or
  for a row that was rolled back is harmless (a missing row loses its entry). Entries written by
  such an early flush inside a savepoint that is rolled back afterwards are gone while the records
  saved before the savepoint stay: the next flush queues those records again (as the dedup app's
  keys do).
* ``search_reindex(model=..., ids=...)``: bulk writers (imports, bulk edits, merges) call it after
  writing without signals.
* ``search_rebuild(model=None)``: the whole index (``manage.py search_rebuild`` or a background
  job), in batches, with progress.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.commitqueue import CommitQueue

from .backends import get_backend
from .models import SearchEntry
from .registry import Indexed, indexed, indexed_models

log = logging.getLogger(__name__)

BATCH = 2000
JOB_KIND = "search.rebuild"


# --- the queue ----------------------------------------------------------------------------


# Records to (re)process when the transaction commits (savepoint-safe: kehu.core.commitqueue).
_queue = CommitQueue("search", lambda **kwargs: search_reindex(**kwargs))


def search_mark_dirty(*, model: str, ids: Iterable[int], using: str = DEFAULT_DB_ALIAS) -> None:
    """Queue records for indexing when the current transaction commits."""
    _queue.mark_dirty(model=model, ids=ids, using=using)


def search_index_flush(*, using: str = DEFAULT_DB_ALIAS) -> int:
    """Index every queued record now; returns how many were queued."""
    return _queue.flush(using=using)


def _pending(using: str) -> set[tuple[str, int]]:
    return _queue.pending(using)


def on_saved(
    sender: Any, instance: Any, using: str = DEFAULT_DB_ALIAS, raw: bool = False, **kwargs: Any
) -> None:
    """post_save / post_delete of an indexed model (loaddata's raw saves included: cheap)."""
    search_mark_dirty(model=sender._meta.label_lower, ids=[instance.pk], using=using)


def child_handler(parent_label: str, fk_attname: str) -> Callable[..., None]:
    def handler(sender: Any, instance: Any, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
        parent_id = getattr(instance, fk_attname, None)
        if parent_id is not None:
            search_mark_dirty(model=parent_label, ids=[parent_id], using=using)

    return handler


# --- writing entries ----------------------------------------------------------------------


def _documents(entry: Indexed, ids: list[int], using: str) -> dict[int, tuple[str, str]]:
    if entry.documents is not None:
        return {pk: doc.columns() for pk, doc in entry.documents(ids, using).items()}
    docs: dict[int, tuple[str, str]] = {}
    for obj in entry.queryset().using(using).filter(pk__in=ids):
        docs[obj.pk] = entry.document(obj).columns()
    return docs


def search_reindex(*, model: str | type[Any], ids: Iterable[int], using: str = DEFAULT_DB_ALIAS) -> int:
    """(Re)index these records of `model` ("app_label.model" or the class); ids whose record no
    longer exists lose their entry. Returns the number of entries written."""
    label = model if isinstance(model, str) else model._meta.label_lower
    entry = indexed(label)
    all_ids = sorted({int(pk) for pk in ids})
    written = 0
    for start in range(0, len(all_ids), BATCH):
        chunk = all_ids[start : start + BATCH]
        with transaction.atomic(using=using):
            docs = _documents(entry, chunk, using)
            gone = [pk for pk in chunk if pk not in docs]
            if gone:
                SearchEntry.objects.using(using).filter(model=entry.label, object_id__in=gone).delete()
            written += _upsert(entry.label, docs, using)
    return written


def _upsert(label: str, docs: dict[int, tuple[str, str]], using: str) -> int:
    if not docs:
        return 0
    now = timezone.now()
    rows = [
        SearchEntry(model=label, object_id=pk, name_tokens=name, tokens=other, updated_at=now)
        for pk, (name, other) in docs.items()
    ]
    if connections[using].vendor == "postgresql":
        _copy_upsert(rows, using)
    else:
        SearchEntry.objects.using(using).bulk_create(
            rows,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["model", "object_id"],
            update_fields=["name_tokens", "tokens", "updated_at"],
        )
    return len(rows)


def _copy_upsert(rows: list[SearchEntry], using: str) -> None:
    """PostgreSQL: COPY the batch into a temporary table, then one INSERT ... ON CONFLICT."""
    with connections[using].cursor() as wrapper:
        cur: Any = wrapper.cursor  # psycopg 3
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS search_load "
            "(model varchar(100), object_id bigint, name_tokens text, tokens text, updated_at timestamptz) "
            "ON COMMIT DELETE ROWS"
        )
        cur.execute("TRUNCATE search_load")
        with cur.copy(
            "COPY search_load (model, object_id, name_tokens, tokens, updated_at) FROM STDIN"
        ) as copy:
            for r in rows:
                copy.write_row((r.model, r.object_id, r.name_tokens, r.tokens, r.updated_at))
        cur.execute(
            "INSERT INTO search_searchentry (model, object_id, name_tokens, tokens, updated_at) "
            "SELECT model, object_id, name_tokens, tokens, updated_at FROM search_load "
            "ON CONFLICT (model, object_id) DO UPDATE SET name_tokens = EXCLUDED.name_tokens, "
            "tokens = EXCLUDED.tokens, updated_at = EXCLUDED.updated_at "
            "WHERE (search_searchentry.name_tokens, search_searchentry.tokens) "
            "IS DISTINCT FROM (EXCLUDED.name_tokens, EXCLUDED.tokens)"
        )


# --- rebuilding ---------------------------------------------------------------------------

Progress = Callable[..., None]


def search_rebuild(
    *, model: str | None = None, progress: Progress | None = None, using: str = DEFAULT_DB_ALIAS
) -> dict[str, int]:
    """Rebuild the entries of one indexed model or of all, in batches of ids (keyset): records are
    indexed, entries of deleted records removed. `progress(done, total, message)` is called per
    batch. Safe while users keep working (each batch is its own transaction and an upsert)."""
    entries = [indexed(model)] if model else indexed_models()
    totals = {e.label: e.model._default_manager.using(using).count() for e in entries}
    total = sum(totals.values())
    done = 0
    counts: dict[str, int] = {}
    for entry in entries:
        written = 0
        last = 0
        base = entry.model._default_manager.using(using).order_by("pk")
        while True:
            ids = list(base.filter(pk__gt=last).values_list("pk", flat=True)[:BATCH])
            if not ids:
                break
            with transaction.atomic(using=using):
                docs = _documents(entry, ids, using)
                SearchEntry.objects.using(using).filter(
                    model=entry.label, object_id__gt=last, object_id__lte=ids[-1]
                ).exclude(object_id__in=list(docs)).delete()
                written += _upsert(entry.label, docs, using)
            last = ids[-1]
            done += len(ids)
            if progress is not None:
                progress(
                    done, total, _("Indexing %(model)s") % {"model": entry.model._meta.verbose_name_plural}
                )
        SearchEntry.objects.using(using).filter(model=entry.label, object_id__gt=last).delete()
        counts[entry.label] = written
    get_backend(using).analyze()  # plans made on the statistics of an empty index are bad ones
    return counts


def search_rebuild_start(*, by: Any, model: str | None = None) -> Any:
    """Start a rebuild as a background job (progress shown on the jobs page)."""
    from kehu.core.services import job_create

    from . import tasks

    job = job_create(
        kind=JOB_KIND, owner=by, title=_("Rebuild the search index"), params={"model": model or ""}
    )
    transaction.on_commit(lambda: tasks.search_rebuild_run.delay(job.pk))
    return job


def search_rebuild_job(*, job_id: int, task_id: str = "") -> Any:
    from kehu.core.models import Job
    from kehu.core.services import job_run

    def work(job: Job, progress: Progress) -> dict[str, Any]:
        counts = search_rebuild(model=job.params.get("model") or None, progress=progress)
        return {"message": _("%(count)s records indexed.") % {"count": sum(counts.values())}}

    return job_run(job_id, work, task_id=task_id)


def entry_tokens(*, model: str, object_id: int) -> str:
    """The tokens stored for one record ("" when it has no entry): for checks and debugging."""
    row = (
        SearchEntry.objects.filter(model=model.lower(), object_id=object_id)
        .values_list("name_tokens", "tokens")
        .first()
    )
    return " ".join(row) if row else ""


__all__ = [
    "search_index_flush",
    "search_mark_dirty",
    "search_rebuild",
    "search_rebuild_start",
    "search_reindex",
]
