"""Scheduled duplicate scans (查重), match rules and the review queue's writes (issue 6).

* ``match_rule_get(model_label)``: the engine rule (``kehu.dedup.matching.MatchRule``) of a record
  type, from its ``MatchRule`` row or the shipped default.
* ``match_rule_save(*, by, model_label, rule, enabled, auto_merge)``: validated, audited.
* ``dedup_scan(model_label, job=None, workers=2)``: a full scan of one record type, streamed: the
  records are read in chunks (``values_list`` of the few columns a rule needs, no model instances;
  phones, e-mails and tax numbers from ``MatchKey``, where they are kept normalised), and only their
  blocking keys are kept (``matching.BlockCollector``, ~100 bytes a record); the candidate pairs'
  records are then read again by id and scored. On PostgreSQL outside a transaction, from
  ``PARALLEL_MIN`` records on, `workers` forked processes read and block ranges of ids, each on
  its own connection. At 1M contacts: ~30 s on the shared 2 cores, < 400 MB per process
  (docs/benchmarks.md, "Issue 6: dedup at 1M"). Bulk writers keep ``MatchKey`` in step
  (``services.dedup_reindex``), or the scan sees their old phones and e-mails. Pairs someone
  marked "not duplicates" are dropped; open groups are created or refreshed by their members key
  (idempotent: a second scan changes nothing), open groups that no longer match (a member
  changed, was merged or deleted) are removed (they were never reviewed, so there is no decision
  to keep); today's ``DuplicateStat`` is written; with ``auto_merge`` on, certain
  groups are merged through ``kehu.dedup.merging.records_merge`` (the newest record is kept).
* ``dedup_scan_start(*, by, model_label)``: the same as a background ``core.Job``.
* ``group_dismiss(*, by, group)``: "not duplicates": every pair remembered, the group closed.

Leads belong to a higher app (sales): they are read through ``apps.get_model`` by label, never
imported.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core.errors import ConflictError, DomainError, PermissionDeniedError
from kehu.core.permissions import is_admin

from . import matching, normalisers
from .choices import GroupStatus, MatchLevel
from .models import DuplicateGroup, DuplicateMember, DuplicateStat, MatchRule, NotDuplicate

log = logging.getLogger(__name__)

JOB_KIND = "dedup.scan"
CHUNK = 2000
# The record types a scan covers, in the order pages list them.
SCAN_MODELS = ("customers.account", "customers.contact", "sales.lead")
FIELDS = ("name", "phones", "emails", "company", "tax_number", "address")
FIELD_LABELS = {
    "name": gettext_lazy("name"),
    "phones": gettext_lazy("phones"),
    "emails": gettext_lazy("e-mails"),
    "company": gettext_lazy("company"),
    "tax_number": gettext_lazy("unified social credit code"),
    "address": gettext_lazy("address"),
}
METHOD_LABELS = {
    matching.EXACT: gettext_lazy("exact"),
    matching.NORMALISED: gettext_lazy("normalised"),
    matching.FUZZY: gettext_lazy("fuzzy"),
    matching.DIFFERENT: gettext_lazy("different"),
}


class MatchRuleError(DomainError):
    code = "invalid"


Progress = Callable[..., None]


# --- rules --------------------------------------------------------------------------------------


def rule_to_json(rule: matching.MatchRule) -> dict[str, Any]:
    """The JSON stored in ``MatchRule.rule`` for an engine rule."""
    return {
        "blocking": list(rule.blocking),
        "fields": [
            {
                "field": f.field,
                "method": f.method,
                "weight": f.weight,
                "threshold": f.threshold,
                "penalty": f.penalty,
            }
            for f in rule.fields
        ],
        "possible": rule.possible,
        "certain": rule.certain,
        "max_block": rule.max_block,
    }


def default_rule(model_label: str) -> matching.MatchRule:
    label = model_label.lower()
    if label not in matching.DEFAULT_RULES:
        raise MatchRuleError(
            _("“%(model)s” has no duplicate rule.") % {"model": model_label},
            fields={"model": [_("Unknown record type.")]},
        )
    return matching.DEFAULT_RULES[label]


def _number(
    data: dict[str, Any], key: str, default: float, errors: dict[str, list[str]], where: str
) -> float:
    value = data.get(key, default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        errors.setdefault(where, []).append(_("Enter a number."))
        return default
    if number != number or number in (float("inf"), float("-inf")):
        errors.setdefault(where, []).append(_("Enter a number."))
        return default
    return number


def rule_from_json(model_label: str, data: dict[str, Any]) -> matching.MatchRule:
    """An engine rule from its JSON, validated; raises ``MatchRuleError`` naming each bad value
    (``fields`` keys: ``possible``, ``certain``, ``max_block``, ``blocking``, ``fields``,
    ``fields.<n>.<attribute>``)."""
    base = default_rule(model_label)
    errors: dict[str, list[str]] = {}
    possible = _number(data, "possible", base.possible, errors, "possible")
    certain = _number(data, "certain", base.certain, errors, "certain")
    for key, value in (("possible", possible), ("certain", certain)):
        if not 0 <= value <= 1:
            errors.setdefault(key, []).append(_("Enter a score between 0 and 1."))
    if "possible" not in errors and "certain" not in errors and possible > certain:
        errors.setdefault("certain", []).append(_("The certain score may not be below the possible score."))
    if possible == 0 and "possible" not in errors:
        errors.setdefault("possible", []).append(_("Enter a score above 0."))
    max_block = data.get("max_block", base.max_block)
    if not isinstance(max_block, int) or isinstance(max_block, bool) or not 2 <= max_block <= 10000:
        errors.setdefault("max_block", []).append(_("Enter a whole number between 2 and 10000."))
        max_block = base.max_block
    blocking = data.get("blocking", list(base.blocking))
    if not isinstance(blocking, list | tuple) or not blocking:
        errors.setdefault("blocking", []).append(_("Choose at least one blocking key."))
        blocking = list(base.blocking)
    unknown = [str(b) for b in blocking if b not in matching.BLOCKING_KEYS]
    if unknown:
        errors.setdefault("blocking", []).append(
            _("Unknown blocking keys: %(keys)s.") % {"keys": ", ".join(unknown)}
        )
    raw_fields = data.get("fields", [])
    field_rules: list[matching.FieldRule] = []
    if not isinstance(raw_fields, list | tuple) or not raw_fields:
        errors.setdefault("fields", []).append(_("Compare at least one field."))
        raw_fields = []
    seen: set[str] = set()
    for n, raw in enumerate(raw_fields):
        where = f"fields.{n}"
        if not isinstance(raw, dict):
            errors.setdefault(where, []).append(_("Not a field rule."))
            continue
        name = raw.get("field")
        if name not in FIELDS:
            errors.setdefault(f"{where}.field", []).append(_("Unknown field “%(field)s”.") % {"field": name})
        elif name in seen:
            errors.setdefault(f"{where}.field", []).append(_("This field is compared twice."))
        seen.add(str(name))
        method = raw.get("method", matching.NORMALISED)
        if method not in matching.METHODS:
            errors.setdefault(f"{where}.method", []).append(
                _("Unknown method “%(method)s”.") % {"method": method}
            )
        weight = _number(raw, "weight", 0.0, errors, f"{where}.weight")
        if not 0 < weight <= 1:
            errors.setdefault(f"{where}.weight", []).append(_("Enter a weight above 0 and at most 1."))
        threshold = _number(raw, "threshold", 1.0, errors, f"{where}.threshold")
        if not 0 <= threshold <= 1:
            errors.setdefault(f"{where}.threshold", []).append(_("Enter a similarity between 0 and 1."))
        penalty = _number(raw, "penalty", 0.0, errors, f"{where}.penalty")
        if not 0 <= penalty <= 1:
            errors.setdefault(f"{where}.penalty", []).append(_("Enter a penalty between 0 and 1."))
        field_rules.append(matching.FieldRule(str(name), str(method), weight, threshold, penalty))
    if errors:
        raise MatchRuleError(_("The match rule has errors; correct them and save again."), fields=errors)
    return matching.MatchRule(
        base.model_label, tuple(str(b) for b in blocking), tuple(field_rules), possible, certain, max_block
    )


def match_rule_get(model_label: str) -> matching.MatchRule:
    """The engine rule of a record type: its stored rule, else the default. A stored rule that no
    longer validates (edited in the database) falls back to the default, logged."""
    label = model_label.lower()
    data = MatchRule.objects.filter(model_label=label).values_list("rule", flat=True).first()
    if not data:
        return default_rule(label)
    try:
        return rule_from_json(label, data)
    except MatchRuleError:
        log.warning("stored match rule of %s is invalid; using the default", label)
        return default_rule(label)


def match_rule_settings(model_label: str) -> tuple[bool, bool]:
    """(enabled, auto_merge) of a record type (enabled, no auto-merge without a row)."""
    row = (
        MatchRule.objects.filter(model_label=model_label.lower()).values_list("enabled", "auto_merge").first()
    )
    return (bool(row[0]), bool(row[1])) if row else (True, False)


@transaction.atomic
def match_rule_save(
    *,
    by: Any,
    model_label: str,
    rule: dict[str, Any] | matching.MatchRule,
    enabled: bool = True,
    auto_merge: bool = False,
) -> MatchRule:
    """Store the rule of a record type (administrators only), validated; the change is written
    to the operation log with the old and new values."""
    from kehu.audit.choices import ChangeAction
    from kehu.audit.services import object_change_record

    if not is_admin(by):
        raise PermissionDeniedError(_("Only administrators may change the match rules."))
    label = model_label.lower()
    data = rule_to_json(rule) if isinstance(rule, matching.MatchRule) else rule
    engine = rule_from_json(label, data)
    stored = rule_to_json(engine)
    row = MatchRule.objects.select_for_update().filter(model_label=label).first()
    new = {"rule": stored, "enabled": bool(enabled), "auto_merge": bool(auto_merge)}
    if row is None:
        row = MatchRule.objects.create(model_label=label, updated_by=by, **new)
        object_change_record(
            obj=row, action=ChangeAction.CREATE, changes={k: [None, v] for k, v in new.items()}, by=by
        )
        return row
    old = {"rule": row.rule, "enabled": row.enabled, "auto_merge": row.auto_merge}
    changes = {k: [old[k], v] for k, v in new.items() if old[k] != v}
    if changes:
        for k, v in new.items():
            setattr(row, k, v)
        row.updated_by = by
        row.save(update_fields=["rule", "enabled", "auto_merge", "updated_by", "updated_at"])
        object_change_record(obj=row, action=ChangeAction.UPDATE, changes=changes, by=by)
    return row


# --- reading records ----------------------------------------------------------------------------


def scan_model(model_label: str) -> type[models.Model]:
    label = model_label.lower()
    if label not in SCAN_MODELS:
        raise MatchRuleError(
            _("“%(model)s” has no duplicate rule.") % {"model": model_label},
            fields={"model": [_("Unknown record type.")]},
        )
    return apps.get_model(label)


def _scanned(model_label: str) -> models.QuerySet[Any]:
    """The records a scan covers: every account and contact, leads not yet converted."""
    qs = scan_model(model_label)._default_manager.all()
    if model_label == "sales.lead":
        qs = qs.filter(converted_at__isnull=True)
    return qs


_COLUMNS = {
    "customers.account": ("pk", "kind", "name", "address"),
    "customers.contact": ("pk", "name", "account__name"),
    "sales.lead": ("pk", "name", "company", "address"),
}
# Normalised names (name key, pinyin key) and company keys, kept between readers of one process
# (a scan's worker reads several ranges); pure functions of the text, so never stale.
_CACHE_LIMIT = 400_000
_NAME_CACHE: dict[str, tuple[str, str]] = {}
_COMPANY_CACHE: dict[str, str] = {}
READ_CHUNK = 5000  # records per read of a scan (and their match keys: a second query)


class _Reader:
    """Engine records of one record type read from the database: the plain columns a scan needs
    (``values_list``, no model instances) and the phones, e-mails and tax numbers from ``MatchKey``,
    where they are stored normalised with the record (so the scan neither reads the child tables
    nor normalises a phone again). Names, pinyin and companies are normalised here, with a cache:
    names and companies repeat (张伟; ~5 contacts per account)."""

    def __init__(self, label: str) -> None:
        from django.contrib.contenttypes.models import ContentType

        self.label = label
        self.model = scan_model(label)
        self.ct_id = ContentType.objects.get_for_model(self.model).pk
        self.names = _NAME_CACHE
        self.companies = _COMPANY_CACHE

    def _keys(self, **where: Any) -> tuple[dict[int, Any], dict[int, Any], dict[int, str]]:
        """Phones, e-mails and the tax number of the records `where` selects, by record id: a key
        string per record, or a list of them when it has several."""
        from .models import MatchKey

        rows = MatchKey.objects.filter(content_type_id=self.ct_id, **where)
        out: list[dict[int, Any]] = []
        for kind in ("phone", "email", "tax_number"):
            pairs = list(rows.filter(kind=kind).values_list("object_id", "value"))
            by_id: dict[int, Any] = dict(pairs)  # one key per record: the common case, built in C
            if len(by_id) < len(pairs):  # some records have several
                several: dict[int, list[str]] = {}
                for object_id, value in pairs:
                    several.setdefault(object_id, []).append(value)
                by_id.update((k, v) for k, v in several.items() if len(v) > 1)
            out.append(by_id)
        return out[0], out[1], out[2]

    def _columns(self, rows: list[tuple[Any, ...]]) -> list[tuple[int, str, str, str]]:
        """(id, person name, company, address) of each row."""
        if self.label == "customers.contact":
            return [(pk, name or "", company or "", "") for pk, name, company in rows]
        if self.label == "customers.account":
            return [
                (pk, name, "", address) if kind == "person" else (pk, "", name, address)
                for pk, kind, name, address in rows
            ]
        return [(pk, name or "", company or "", address or "") for pk, name, company, address in rows]

    def records(
        self, rows: list[tuple[Any, ...]], keys: tuple[dict[int, Any], dict[int, Any], dict[int, str]]
    ) -> list[matching.Record]:
        phones, emails, taxes = keys
        names, companies = self.names, self.companies
        if len(names) > _CACHE_LIMIT:
            names.clear()
        if len(companies) > _CACHE_LIMIT:
            companies.clear()
        record, new = matching.Record, tuple.__new__  # a NamedTuple's own __new__ is Python code
        out = []
        for pk, person_name, company, address in self._columns(rows):
            name_keys = names.get(person_name)
            if name_keys is None:
                name_keys = names[person_name] = (
                    normalisers.person_name_key(person_name),
                    normalisers.name_pinyin_key(person_name),
                )
            company_key = companies.get(company)
            if company_key is None:
                company_key = companies[company] = normalisers.company_key(company)
            ph = phones.get(pk, ())
            em = emails.get(pk, ())
            out.append(
                new(
                    record,
                    (
                        pk,
                        name_keys[0],
                        name_keys[1],
                        (ph,) if ph.__class__ is str else tuple(sorted(ph)),
                        (em,) if em.__class__ is str else tuple(sorted(em)),
                        company_key,
                        taxes.get(pk, ""),
                        normalisers.address_key(address) if address else "",
                    ),
                )
            )
        return out

    def chunks(
        self, *, low: int = 0, high: int | None = None, chunk: int = READ_CHUNK
    ) -> Iterator[list[matching.Record]]:
        """The records with ``low < pk <= high`` in keyset chunks of ids."""
        qs = _scanned(self.label).order_by("pk")
        if high is not None:
            qs = qs.filter(pk__lte=high)
        last = low
        while True:
            rows = list(qs.filter(pk__gt=last).values_list(*_COLUMNS[self.label])[:chunk])
            if not rows:
                return
            keys = self._keys(object_id__gt=last, object_id__lte=rows[-1][0])
            last = rows[-1][0]
            yield self.records(rows, keys)

    def range_chunks(
        self, low: int, high: int | None, *, chunk: int = READ_CHUNK
    ) -> Iterator[list[matching.Record]]:
        """The records with ``low < pk <= high`` read in one query (a range of a few ten thousand
        records: PostgreSQL then joins the accounts by hashing, where the keyset chunks of
        ``chunks`` join them record by record, ~10 µs each), given in chunks."""
        qs = _scanned(self.label).filter(pk__gt=low).order_by("pk")
        keys_where: dict[str, Any] = {"object_id__gt": low}
        if high is not None:
            qs = qs.filter(pk__lte=high)
            keys_where["object_id__lte"] = high
        rows = list(qs.values_list(*_COLUMNS[self.label]))
        keys = self._keys(**keys_where)
        for start in range(0, len(rows), chunk):
            yield self.records(rows[start : start + chunk], keys)

    def by_ids(self, ids: list[int]) -> Iterator[matching.Record]:
        from django.db import connection

        qs = _scanned(self.label)
        if connection.vendor == "postgresql":
            # One array parameter instead of thousands of IN (...) placeholders: Django prepares and
            # psycopg parses each placeholder (~20 µs a record read back at 100k records).
            from django.db.models.expressions import RawSQL

            size = READ_CHUNK * 4
            wanted: Callable[[list[int]], Any] = lambda part: RawSQL("SELECT unnest(%s::bigint[])", (part,))  # noqa: E731
        else:
            size = CHUNK
            wanted = list
        for start in range(0, len(ids), size):
            part = ids[start : start + size]
            rows = list(qs.filter(pk__in=wanted(part)).values_list(*_COLUMNS[self.label]))
            yield from self.records(rows, self._keys(object_id__in=wanted(part)))


def iter_records(model_label: str, *, chunk: int = CHUNK) -> Iterator[list[matching.Record]]:
    """The engine records of every scanned record of a type, in keyset chunks of ids (the match
    keys written first: ``dedup_flush``)."""
    from .services import dedup_flush

    dedup_flush()
    yield from _Reader(model_label.lower()).chunks(chunk=chunk)


# Forked scan workers: each reads and blocks one range of ids on its own connection.
PARALLEL_MIN = 50_000
RANGE_SIZE = 50_000  # records a worker reads in one query
_WORKER_LABEL = ""


def _collect(bounds: tuple[int, int | None]) -> tuple[int, dict[str, bytes], dict[str, bytes]]:
    rule = match_rule_get(_WORKER_LABEL)
    collector = matching.BlockCollector(rule)
    for records in _Reader(_WORKER_LABEL).range_chunks(*bounds):
        collector.add(records)
    return collector.state()


def _ranges(label: str, total: int, parts: int) -> list[tuple[int, int | None]]:
    """About `parts` ranges of ids ``(low, high]`` with as many records each (each cut found from
    the previous one: an index walk over one range)."""
    qs = _scanned(label).order_by("pk").values_list("pk", flat=True)
    size = max(1, -(-total // parts))
    cuts = [0]
    while len(cuts) < parts:
        pk = qs.filter(pk__gt=cuts[-1])[size - 1 : size].first()
        if pk is None:
            break
        cuts.append(pk)
    return [(low, high) for low, high in zip(cuts, [*cuts[1:], None], strict=True)]


def _parallel(label: str, total: int, workers: int) -> bool:
    """Fork readers? Not inside a transaction (the workers could not see its writes, and closing
    the connection would end it), not on SQLite, and not from a daemonic process (a worker of a
    process pool may not start processes of its own): then the scan reads in this process."""
    import multiprocessing

    from django.db import connection

    return (
        workers > 1
        and total >= PARALLEL_MIN
        and matching._fork_available()
        and not multiprocessing.current_process().daemon
        and not connection.in_atomic_block
        and connection.vendor == "postgresql"
    )


def collect_blocks(
    label: str, rule: matching.MatchRule, total: int, *, workers: int = 2, progress: Progress | None = None
) -> matching.BlockCollector:
    """Read every scanned record of a type and keep its blocking keys (``BlockCollector``): in
    `workers` forked processes over ranges of ids on PostgreSQL outside a transaction when there
    are at least ``PARALLEL_MIN`` records, else here."""
    global _WORKER_LABEL
    import multiprocessing

    from django.db import connections

    collector = matching.BlockCollector(rule)
    if not _parallel(label, total, workers):
        for records in _Reader(label).chunks():
            collector.add(records)
            if progress is not None:
                progress(min(collector.records, total), total, _("Reading records"))
        return collector
    ranges = _ranges(label, total, max(workers * 4, total // RANGE_SIZE))
    # The workers open their own connections: a forked copy of this one would share its socket.
    connections.close_all()
    _WORKER_LABEL = label
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for state in pool.imap_unordered(_collect, ranges):
                collector.merge_state(state)
                if progress is not None:
                    progress(min(collector.records, total), total, _("Reading records"))
    finally:
        _WORKER_LABEL = ""
    return collector


# --- the scan -----------------------------------------------------------------------------------


def group_key(ids: Iterable[int]) -> str:
    """The members key of a group: its sorted ids joined by commas (a hash for huge groups)."""
    text = ",".join(str(i) for i in sorted(ids))
    if len(text) <= 255:
        return text
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _reason_json(reasons: Iterable[matching.Reason]) -> list[dict[str, Any]]:
    return [{"field": r.field, "how": r.how, "similarity": r.similarity} for r in reasons]


def _members(group: matching.DuplicateGroup) -> dict[int, tuple[float, list[dict[str, Any]]]]:
    """Each member's best pair: its score and reasons, with the other record's id."""
    best: dict[int, tuple[float, list[dict[str, Any]]]] = {}
    for pair in group.pairs:  # best first
        for me, other in ((pair.a, pair.b), (pair.b, pair.a)):
            if me not in best:
                best[me] = (
                    pair.score,
                    [{"with": other, "score": pair.score, "reasons": _reason_json(pair.reasons)}],
                )
            elif len(best[me][1]) < 5:
                best[me][1].append(
                    {"with": other, "score": pair.score, "reasons": _reason_json(pair.reasons)}
                )
    return best


@dataclass
class ScanResult:
    model_label: str
    records: int = 0
    groups: int = 0
    created: int = 0
    refreshed: int = 0
    removed: int = 0
    merged: int = 0
    dismissed_pairs: int = 0
    stats: matching.ScanStats = field(default_factory=matching.ScanStats)


def dedup_scan(
    model_label: str,
    job: Any = None,
    *,
    progress: Progress | None = None,
    today: Any = None,
    workers: int = 2,
) -> ScanResult:
    """Scan every record of a type for duplicates and bring the open groups in line with the
    result (see the module docstring). Safe to run again at any time."""
    label = model_label.lower()
    rule = match_rule_get(label)
    enabled, auto_merge = match_rule_settings(label)
    result = ScanResult(label)
    if not enabled:
        return result
    from .services import dedup_flush

    dedup_flush()
    total = _scanned(label).count()
    collector = collect_blocks(label, rule, total, workers=workers, progress=progress)
    result.records = collector.records
    if progress is not None:
        progress(total, total, _("Comparing records"))
    pairs_found = collector.candidates(result.stats)
    del collector
    result.stats.records = result.records
    try:
        groups = matching.scan_candidates(pairs_found, _Reader(label).by_ids, rule, stats=result.stats)
    finally:
        _NAME_CACHE.clear()  # a long-running worker keeps no scan's caches
        _COMPANY_CACHE.clear()
    del pairs_found
    # Pairs someone said are different customers never come back.
    pairs = [p for g in groups for p in g.pairs]
    remembered = _not_duplicates(label, pairs)
    if remembered:
        kept = [p for p in pairs if (p.a, p.b) not in remembered]
        result.dismissed_pairs = len(pairs) - len(kept)
        groups = matching.group_pairs(kept)
    result.groups = len(groups)
    if progress is not None:
        progress(total, total, _("Saving duplicate groups"))
    _save_groups(label, groups, job, result)
    _write_stat(label, result.records, today=today)
    if auto_merge:
        result.merged = _auto_merge(label)
        if result.merged:
            _write_stat(label, result.records - result.merged, today=today)
    return result


def _not_duplicates(label: str, pairs: list[matching.PairMatch]) -> set[tuple[int, int]]:
    if not pairs:
        return set()
    ids = sorted({p.a for p in pairs})
    out: set[tuple[int, int]] = set()
    for start in range(0, len(ids), CHUNK):
        out.update(
            NotDuplicate.objects.filter(model_label=label, low_id__in=ids[start : start + CHUNK]).values_list(
                "low_id", "high_id"
            )
        )
    return out


@transaction.atomic
def _save_groups(label: str, groups: list[matching.DuplicateGroup], job: Any, result: ScanResult) -> None:
    # The open groups as (id, score, level) by members key, locked; no model instances (a nightly
    # scan at a million records refreshes ~50,000 groups with ~100,000 members).
    existing: dict[str, tuple[int, float, str]] = {
        key: (pk, score, level)
        for key, pk, score, level in DuplicateGroup.objects.select_for_update()
        .filter(model_label=label, status=GroupStatus.OPEN)
        .values_list("key", "pk", "score", "level")
    }
    wanted = {group_key(g.ids): g for g in groups}
    stale = [row[0] for key, row in existing.items() if key not in wanted]
    for start in range(0, len(stale), CHUNK):
        DuplicateGroup.objects.filter(pk__in=stale[start : start + CHUNK]).delete()
    result.removed = len(stale)
    # Refreshed groups: score, level and members' reasons as this scan found them.
    refresh = [(existing[key][0], g) for key, g in wanted.items() if key in existing]
    changed = [
        DuplicateGroup(pk=pk, score=g.score, level=_level(g))
        for key, g in wanted.items()
        if key in existing
        for pk, score, level in (existing[key],)
        if score != g.score or level != _level(g)
    ]
    if changed:
        DuplicateGroup.objects.bulk_update(changed, ["score", "level"], batch_size=500)
    del changed
    for start in range(0, len(refresh), CHUNK):
        by_group = dict(refresh[start : start + CHUNK])
        best_of = {pk: _members(g) for pk, g in by_group.items()}
        updated = []
        for pk, group_id, object_id, old_score, old_reasons in DuplicateMember.objects.filter(
            group_id__in=list(by_group)
        ).values_list("pk", "group_id", "object_id", "score", "reasons"):
            score, reasons = best_of[group_id].get(object_id, (0.0, []))
            if old_score != score or old_reasons != reasons:
                updated.append(DuplicateMember(pk=pk, score=score, reasons=reasons))
        if updated:
            DuplicateMember.objects.bulk_update(updated, ["score", "reasons"], batch_size=500)
    result.refreshed = len(refresh)
    # New groups. A scan running at the same time (the nightly one and "scan now") may have created
    # the same open group a moment ago: the insert skips it (open groups are unique by key) and
    # both scans then fill in the same members.
    new = [(key, g) for key, g in wanted.items() if key not in existing]
    by_key = _insert_groups(label, new, job)
    _insert_members(
        (by_key[key], object_id, score, reasons)
        for key, g in new
        for object_id, (score, reasons) in sorted(_members(g).items())
    )
    result.created = len(new)


# PostgreSQL: new groups and members go in as one JSON array parameter per batch, unpacked by
# the server (jsonb_array_elements). ``bulk_create`` would send them through text arrays (UNNEST),
# which psycopg escapes character by character in Python: the members' reasons (JSON, full of
# quotes) cost ~60 µs each that way, most of the writing at a million records.
WRITE_BATCH = 5000


def _level(g: matching.DuplicateGroup) -> str:
    return MatchLevel.CERTAIN if g.level == matching.CERTAIN else MatchLevel.POSSIBLE


def _insert_groups(label: str, new: list[tuple[str, matching.DuplicateGroup]], job: Any) -> dict[str, int]:
    """Insert the new open groups (those another scan inserted meanwhile are skipped); their ids
    by members key."""
    from django.db import connection

    by_key: dict[str, int] = {}
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(DuplicateGroup._meta.db_table)
        now = timezone.now()
        sql = (
            f'INSERT INTO {table} (model_label, status, level, score, "key", scan_id, created_at) '  # noqa: S608
            "SELECT %s, %s, e->>0, (e->>1)::double precision, e->>2, %s, %s "
            'FROM jsonb_array_elements(%s::jsonb) AS e ON CONFLICT DO NOTHING RETURNING "key", id'
        )
        scan_id = getattr(job, "pk", None)
        for start in range(0, len(new), WRITE_BATCH):
            part = [[_level(g), g.score, key] for key, g in new[start : start + WRITE_BATCH]]
            with connection.cursor() as cur:
                cur.execute(sql, [label, str(GroupStatus.OPEN), scan_id, now, json.dumps(part)])
                by_key.update(cur.fetchall())
    else:
        rows = [
            DuplicateGroup(
                model_label=label, status=GroupStatus.OPEN, level=_level(g), score=g.score, key=key, scan=job
            )
            for key, g in new
        ]
        DuplicateGroup.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    missing = [key for key, _g in new if key not in by_key]
    for start in range(0, len(missing), 500):
        by_key.update(
            DuplicateGroup.objects.filter(
                model_label=label, status=GroupStatus.OPEN, key__in=missing[start : start + 500]
            ).values_list("key", "pk")
        )
    return by_key


def _insert_members(rows: Iterable[tuple[int, int, float, list[dict[str, Any]]]]) -> None:
    """Insert group members (existing ones are skipped: a scan running at the same time may have
    written them)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        members = [DuplicateMember(group_id=g, object_id=o, score=s, reasons=r) for g, o, s, r in rows]
        DuplicateMember.objects.bulk_create(members, batch_size=1000, ignore_conflicts=True)
        return
    table = connection.ops.quote_name(DuplicateMember._meta.db_table)
    sql = (
        f"INSERT INTO {table} (group_id, object_id, score, reasons) "  # noqa: S608
        "SELECT (e->>0)::bigint, (e->>1)::bigint, (e->>2)::double precision, e->3 "
        "FROM jsonb_array_elements(%s::jsonb) AS e ON CONFLICT DO NOTHING"
    )
    pending: list[Any] = []

    def flush() -> None:
        with connection.cursor() as cur:
            cur.execute(sql, [json.dumps(pending)])
        pending.clear()

    for row in rows:
        pending.append(row)
        if len(pending) >= WRITE_BATCH:
            flush()
    if pending:
        flush()


def _write_stat(label: str, records: int, *, today: Any = None) -> DuplicateStat:
    day = today or timezone.localdate()
    open_groups = DuplicateGroup.objects.filter(model_label=label, status=GroupStatus.OPEN)
    duplicates = DuplicateMember.objects.filter(group__in=open_groups).values("object_id").distinct().count()
    stat, _created = DuplicateStat.objects.update_or_create(
        model_label=label,
        day=day,
        defaults={"records": max(0, records), "duplicates": duplicates, "groups": open_groups.count()},
    )
    return stat


def _auto_merge(label: str) -> int:
    """Merge every open certain group (opt-in per type), the newest record kept. A refused merge
    (bad data, the merge service not available) leaves its group in the queue."""
    from . import merging

    merged = 0
    groups = list(
        DuplicateGroup.objects.filter(model_label=label, status=GroupStatus.OPEN, level=MatchLevel.CERTAIN)
    )
    for group in groups:
        ids = sorted(group.members.values_list("object_id", flat=True))
        if len(ids) < 2:
            continue
        master = ids[-1]
        try:
            merging.records_merge(by=None, model_label=label, master_id=master, ids=ids[:-1], group=group)
        except NotImplementedError:
            log.info("auto-merge skipped: the merge service is not available")
            return merged
        except DomainError as exc:
            log.info("auto-merge of group %s refused: %s", group.pk, exc)
            continue
        merged += len(ids) - 1
    return merged


# --- background job -----------------------------------------------------------------------------


def dedup_scan_start(*, by: Any, model_label: str) -> Any:
    """Start a scan of one record type as a background job (administrators only)."""
    from kehu.core.services import job_create

    from . import tasks

    if not is_admin(by):
        raise PermissionDeniedError(_("Only administrators may start a duplicate scan."))
    model = scan_model(model_label)
    job = job_create(
        kind=JOB_KIND,
        owner=by,
        title=_("Duplicate scan: %(model)s") % {"model": model._meta.verbose_name_plural},
        params={"model": model_label.lower()},
    )
    transaction.on_commit(lambda: tasks.dedup_scan_run.delay(job.pk))
    return job


def dedup_scan_job(*, job_id: int, task_id: str = "") -> Any:
    """Run a scan job (the Celery task calls this)."""
    from kehu.core.models import Job
    from kehu.core.services import job_run

    def work(job: Job, progress: Progress) -> dict[str, Any]:
        result = dedup_scan(job.params["model"], job, progress=progress)
        return {
            "message": _("%(records)s records scanned: %(groups)s duplicate groups (%(new)s new).")
            % {"records": result.records, "groups": result.groups, "new": result.created},
            "result": {
                "records": result.records,
                "groups": result.groups,
                "created": result.created,
                "removed": result.removed,
                "merged": result.merged,
            },
        }

    return job_run(job_id, work, task_id=task_id)


def dedup_scan_all() -> dict[str, int]:
    """The scheduled scan: every enabled record type, one after the other (groups per type). A
    type whose scan fails is logged and skipped (-1), so the others still run."""
    out = {}
    for label in SCAN_MODELS:
        try:
            out[label] = dedup_scan(label).groups
        except Exception:
            log.exception("scheduled duplicate scan of %s failed", label)
            out[label] = -1
    return out


# --- review -------------------------------------------------------------------------------------


@transaction.atomic
def group_dismiss(*, by: Any, group: DuplicateGroup) -> DuplicateGroup:
    """ "Not duplicates": every pair of the group's records is remembered (never proposed together
    again) and the group is closed as dismissed. Callers check the user may change the records."""
    locked = DuplicateGroup.objects.select_for_update().get(pk=group.pk)
    if locked.status != GroupStatus.OPEN:
        raise ConflictError(_("This group has already been resolved."), code="group_resolved")
    ids = sorted(locked.members.values_list("object_id", flat=True))
    NotDuplicate.objects.bulk_create(
        [
            NotDuplicate(model_label=locked.model_label, low_id=a, high_id=b, created_by=by)
            for a, b in combinations(ids, 2)
        ],
        ignore_conflicts=True,
    )
    locked.status = GroupStatus.DISMISSED
    locked.resolved_at = timezone.now()
    locked.resolved_by = by
    locked.save(update_fields=["status", "resolved_at", "resolved_by"])
    return locked
