"""Duplicate detection (查重), first part: match keys and the exact-key collision check (撞单检查).

INTERFACE (others call these names):

* ``collision_check(*, model_label, values, exclude_pk=None, user) -> list[CollisionMatch]``:
  the existing leads, contacts and accounts whose normalised phone, e-mail, company name or tax
  number equals one in ``values`` (a mapping of the record's field values, e.g. the cleaned form
  or API data of a lead being created or edited; list fields such as ``phones`` may hold dicts or
  strings); ``exclude_pk`` is the record being edited: it is never matched, and only the keys the
  edit adds are checked (keys it already had were checked when they were added). Converted leads
  are never matched. Records the user may not view come masked (label and owner, no URL).
* ``collision_policy(model_label) -> str``: "block" or "warn" (admin setting per model).
* ``collision_enforce(*, model_label, values, exclude_pk=None, user, confirmed=False)``:
  runs the check; under "block" any match raises ``kehu.dedup.errors.CollisionError`` (409, with the
  matches in its body); under "warn" a match raises it too unless ``confirmed`` (the user saw the
  matches and chose to save anyway); returns the matches.

Key maintenance: registered models (``kehu.dedup.registry``) queue changed ids on the database
connection through signals; the queue is written when the transaction commits and before any
collision check on that connection (so a check sees what was saved a moment ago in the same
transaction). ``dedup_reindex(model=..., ids=...)`` is for writes that fire no signals (bulk
updates, imports, merges); ``dedup_rebuild()`` (``manage.py dedup_rebuild_keys`` or a background
job) rebuilds every key.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kehu.core.commitqueue import CommitQueue
from kehu.core.errors import DomainError, PermissionDeniedError
from kehu.core.permissions import is_admin

from .choices import PolicyMode
from .errors import CollisionError
from .models import CollisionPolicy, MatchKey
from .registry import KeySource, key_source, key_sources

log = logging.getLogger(__name__)

BATCH = 2000
JOB_KIND = "dedup.rebuild_keys"


@dataclass(frozen=True)
class CollisionMatch:
    """One existing record that matches. ``visible`` is False when the user may not see it: then
    ``label`` and ``owner_name`` are masked and ``url`` is empty."""

    model_label: str  # "sales.lead", "customers.contact", "customers.account"
    pk: int
    label: str
    owner_name: str
    matched_on: str  # "phone" | "email" | "company" | "tax_number" (the strongest of `kinds`)
    visible: bool
    url: str = ""
    kinds: tuple[str, ...] = ()  # every kind that matched, strongest first
    fields: tuple[str, ...] = ()  # the fields of the checked values that matched ("phones", "email")
    model_name: str = ""  # the record type, translated ("lead", "客户")
    in_pool: bool = False  # no owner: the record is in a pool (公海)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["id"] = out.pop("pk")
        out["model"] = out.pop("model_label")
        out["kinds"] = list(self.kinds)
        out["fields"] = list(self.fields)
        return out


# --- policy -------------------------------------------------------------------------------------


def collision_policy(model_label: str) -> str:
    mode = (
        CollisionPolicy.objects.filter(model_label=model_label.lower()).values_list("mode", flat=True).first()
    )
    return str(mode) if mode in PolicyMode.values else str(PolicyMode.WARN)


@transaction.atomic
def collision_policy_set(*, model_label: str, mode: str, by: Any) -> CollisionPolicy:
    """Set the policy of a model with match keys (administrators only)."""
    from .registry import has_keys

    if not is_admin(by):
        raise PermissionDeniedError(_("Only administrators may change the collision policy."))
    label = model_label.lower()
    if not has_keys(label):
        raise CollisionPolicyError(
            _("“%(model)s” has no collision check.") % {"model": model_label},
            fields={"model": [_("Unknown.")]},
        )
    if mode not in PolicyMode.values:
        raise CollisionPolicyError(
            _("Choose “warn” or “block”."), fields={"mode": [_("Choose “warn” or “block”.")]}
        )
    policy = CollisionPolicy.objects.select_for_update().filter(model_label=label).first()
    if policy is None:
        return CollisionPolicy.objects.create(model_label=label, mode=mode, updated_by=by)
    if policy.mode != mode:
        policy.mode = mode
        policy.updated_by = by
        policy.save(update_fields=["mode", "updated_by", "updated_at"])
    return policy


class CollisionPolicyError(DomainError):
    code = "invalid"


# --- the check ----------------------------------------------------------------------------------


def collision_check(
    *, model_label: str, values: Mapping[str, Any], exclude_pk: int | None = None, user: Any
) -> list[CollisionMatch]:
    from .selectors import collision_matches

    return collision_matches(model_label=model_label, values=values, exclude_pk=exclude_pk, user=user)


def collision_enforce(
    *,
    model_label: str,
    values: Mapping[str, Any],
    exclude_pk: int | None = None,
    user: Any,
    confirmed: bool = False,
) -> list[CollisionMatch]:
    matches = collision_check(model_label=model_label, values=values, exclude_pk=exclude_pk, user=user)
    if not matches:
        return []
    policy = collision_policy(model_label)
    if policy == PolicyMode.BLOCK or not confirmed:
        raise CollisionError(collision_message(model_label, matches, policy), matches=matches, policy=policy)
    return matches


def collision_message(model_label: str, matches: list[CollisionMatch], policy: str) -> str:
    source = key_source(model_label)
    name = str(source.model._meta.verbose_name)
    count = len(matches)
    if policy == PolicyMode.BLOCK:
        return ngettext(
            "This %(model)s matches an existing record, and duplicates may not be saved. "
            "Change the matching values, or ask the owner of the existing record.",
            "This %(model)s matches %(count)d existing records, and duplicates may not be saved. "
            "Change the matching values, or ask the owners of the existing records.",
            count,
        ) % {"model": name, "count": count}
    return ngettext(
        "This %(model)s matches an existing record. Check it; if it is a different customer, "
        "tick “Save anyway” and save again.",
        "This %(model)s matches %(count)d existing records. Check them; if it is a different "
        "customer, tick “Save anyway” and save again.",
        count,
    ) % {"model": name, "count": count}


# --- key maintenance ----------------------------------------------------------------------------


# Records to (re)process when the transaction commits (savepoint-safe: kehu.core.commitqueue).
_queue = CommitQueue("dedup", lambda **kwargs: dedup_reindex(**kwargs))


def dedup_mark_dirty(*, model: str, ids: Iterable[int], using: str = DEFAULT_DB_ALIAS) -> None:
    """Queue records for re-keying when the current transaction commits."""
    _queue.mark_dirty(model=model, ids=ids, using=using)


def dedup_flush(*, using: str = DEFAULT_DB_ALIAS) -> int:
    """Re-key every queued record now; returns how many were queued."""
    return _queue.flush(using=using)


def on_saved(
    sender: Any,
    instance: Any,
    using: str = DEFAULT_DB_ALIAS,
    update_fields: Iterable[str] | None = None,
    **kwargs: Any,
) -> None:
    """post_save of a model with keys: saves that touch none of its key fields are skipped."""
    label = sender._meta.label_lower
    if update_fields is not None:
        source = key_source(label)
        if not source.watched.intersection(update_fields):
            return
    dedup_mark_dirty(model=label, ids=[instance.pk], using=using)


def on_deleted(sender: Any, instance: Any, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    dedup_mark_dirty(model=sender._meta.label_lower, ids=[instance.pk], using=using)


def child_handler(parent_label: str, fk_attname: str) -> Callable[..., None]:
    def handler(sender: Any, instance: Any, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
        parent_id = getattr(instance, fk_attname, None)
        if parent_id is not None:
            dedup_mark_dirty(model=parent_label, ids=[parent_id], using=using)

    return handler


def _content_type(source: KeySource, using: str) -> ContentType:
    return ContentType.objects.db_manager(using).get_for_model(source.model)


def _write_keys(
    source: KeySource, ct: ContentType, wanted: dict[int, set[tuple[str, str]]], ids: list[int], using: str
) -> int:
    """Make the keys of records `ids` equal `wanted` (missing ids: no keys). Returns keys written."""
    existing: dict[int, dict[tuple[str, str], int]] = defaultdict(dict)
    for key_id, object_id, kind, value in (
        MatchKey.objects.using(using)
        .filter(content_type=ct, object_id__in=ids)
        .values_list("id", "object_id", "kind", "value")
    ):
        existing[object_id][(kind, value)] = key_id
    stale: list[int] = []
    new: list[MatchKey] = []
    for pk in ids:
        have = existing.get(pk, {})
        want = wanted.get(pk, set())
        stale.extend(key_id for key, key_id in have.items() if key not in want)
        new.extend(
            MatchKey(content_type=ct, object_id=pk, kind=kind, value=value)
            for kind, value in want
            if (kind, value) not in have
        )
    if stale:
        MatchKey.objects.using(using).filter(id__in=stale).delete()
    if new:
        MatchKey.objects.using(using).bulk_create(new, batch_size=1000, ignore_conflicts=True)
    return len(new)


def dedup_reindex(*, model: str | type[Any], ids: Iterable[int], using: str = DEFAULT_DB_ALIAS) -> int:
    """(Re)compute the keys of these records of `model` ("app_label.model" or the class); ids whose
    record no longer exists lose their keys. Bulk writers (``QuerySet.update``, ``bulk_create``,
    imports, merges) call it after writing. Returns the number of keys added."""
    label = model if isinstance(model, str) else model._meta.label_lower
    source = key_source(label)
    ct = _content_type(source, using)
    all_ids = sorted({int(pk) for pk in ids})
    written = 0
    for start in range(0, len(all_ids), BATCH):
        chunk = all_ids[start : start + BATCH]
        with transaction.atomic(using=using):
            wanted = {
                obj.pk: source.keys_of(obj) for obj in source.queryset().using(using).filter(pk__in=chunk)
            }
            written += _write_keys(source, ct, wanted, chunk, using)
    return written


Progress = Callable[..., None]


def dedup_rebuild(
    *, model: str | None = None, progress: Progress | None = None, using: str = DEFAULT_DB_ALIAS
) -> dict[str, int]:
    """Rebuild the keys of one registered model or of all, in keyset batches of ids: records are
    keyed, keys of deleted records removed. `progress(done, total, message)` is called per batch.
    Safe while users keep working (each batch is its own transaction)."""
    sources = [key_source(model)] if model else key_sources()
    totals = {s.label: s.model._default_manager.using(using).count() for s in sources}
    total = sum(totals.values())
    done = 0
    counts: dict[str, int] = {}
    for source in sources:
        ct = _content_type(source, using)
        written = 0
        last = 0
        base = source.model._default_manager.using(using).order_by("pk")
        while True:
            ids = list(base.filter(pk__gt=last).values_list("pk", flat=True)[:BATCH])
            if not ids:
                break
            with transaction.atomic(using=using):
                wanted = {
                    obj.pk: source.keys_of(obj) for obj in source.queryset().using(using).filter(pk__in=ids)
                }
                # keys of records deleted inside this id range
                MatchKey.objects.using(using).filter(
                    content_type=ct, object_id__gt=last, object_id__lte=ids[-1]
                ).exclude(object_id__in=ids).delete()
                written += _write_keys(source, ct, wanted, ids, using)
            last = ids[-1]
            done += len(ids)
            if progress is not None:
                progress(
                    done, total, _("Keying %(model)s") % {"model": source.model._meta.verbose_name_plural}
                )
        MatchKey.objects.using(using).filter(content_type=ct, object_id__gt=last).delete()
        counts[source.label] = written
    return counts


def dedup_rebuild_start(*, by: Any, model: str | None = None) -> Any:
    """Start a rebuild of the match keys as a background job (progress on the jobs page)."""
    from kehu.core.services import job_create

    from . import tasks

    if not is_admin(by):
        raise PermissionDeniedError(_("Only administrators may rebuild the match keys."))
    job = job_create(
        kind=JOB_KIND, owner=by, title=_("Rebuild the match keys"), params={"model": model or ""}
    )
    transaction.on_commit(lambda: tasks.dedup_rebuild_run.delay(job.pk))
    return job


def dedup_rebuild_job(*, job_id: int, task_id: str = "") -> Any:
    from kehu.core.models import Job
    from kehu.core.services import job_run

    def work(job: Job, progress: Progress) -> dict[str, Any]:
        counts = dedup_rebuild(model=job.params.get("model") or None, progress=progress)
        return {"message": _("%(count)s match keys written.") % {"count": sum(counts.values())}}

    return job_run(job_id, work, task_id=task_id)


__all__ = [
    "CollisionMatch",
    "collision_check",
    "collision_enforce",
    "collision_policy",
    "collision_policy_set",
    "dedup_flush",
    "dedup_mark_dirty",
    "dedup_rebuild",
    "dedup_rebuild_start",
    "dedup_reindex",
]
