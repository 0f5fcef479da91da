"""Fuzzy duplicate detection: match rules, the full scan and the single-record check. Pure Python
over already-normalised keys (``kehu.dedup.normalisers``); no database, so the scheduled scan, the
import preview and the benchmark share one engine, and services feed it records read from
``MatchKey`` or from the model rows.

How a scan works (Fellegi–Sunter-like, kept explainable):

1. **Blocking.** Each record gives a few blocking keys per kind of the rule (``"phone"``,
   ``"email"``, ``"name+company"``, ``"pinyin+company"``, ``"name_typo+company"`` …, see
   ``BLOCKING_KEYS``). Only records sharing a key are compared, so the work grows with the
   number of duplicates, not with n². A block larger than ``MatchRule.max_block`` (a switchboard
   number on 3,000 contacts, "张伟" at a big company) is skipped and counted in ``ScanStats``:
   it would cost O(size²) and such a key tells nothing by itself.
2. **Scoring.** Each candidate pair is compared field by field (``FieldRule``): ``exact`` (the
   stored keys are equal), ``normalised`` (equal after a looser form: a company without its region
   prefix when the regions agree, a name or its pinyin, a phone's last nine digits) or ``fuzzy``
   (rapidfuzz Indel similarity at least ``threshold``). An agreeing field adds
   ``weight × similarity``; a disagreeing one subtracts ``penalty × (1 − similarity)``; a field
   missing on either side counts nothing. The score is clamped to [0, 1]; a pair at ``possible``
   or above is reported, at ``certain`` or above it is a certain duplicate.
3. **Grouping.** Reported pairs are joined by union–find into ``DuplicateGroup`` s; each keeps its
   pairs with their score and reasons (which field matched and how).

``scan(..., workers=2)`` forks worker processes (blocking per kind, then scoring shares of the
candidate pairs); the records are shared copy-on-write, only pair numbers travel. Measured at
1M contacts on the shared 2-core machine it was slower than one process (18 s against 11 s:
the workers touch every record, so the 2 GB heap is copied page by page), because one process
already does the heavy parts (key columns, counting) in C; use it where cores are idle and the
record set is small enough to copy cheaply. The keys themselves parallelise well (see the
benchmark).
"""

from __future__ import annotations

import gc
import multiprocessing
import sys
from array import array
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain, repeat
from operator import attrgetter
from typing import NamedTuple, Protocol

from rapidfuzz.distance import Indel

from .normalisers import (
    address_key,
    company_core_key,
    company_key,
    email_key,
    name_pinyin_key,
    person_name_key,
    phone_key,
    tax_number_key,
)

EXACT = "exact"
NORMALISED = "normalised"
FUZZY = "fuzzy"
DIFFERENT = "different"  # a reason: both records have the field and it disagrees
METHODS = (EXACT, NORMALISED, FUZZY)

POSSIBLE = "possible"
CERTAIN = "certain"


class Record(NamedTuple):
    """One record's normalised keys (what ``MatchKey`` stores); ``""``/``()`` when missing."""

    id: int
    name: str = ""  # person_name_key
    pinyin: str = ""  # name_pinyin_key
    phones: tuple[str, ...] = ()  # phone_key of each phone
    emails: tuple[str, ...] = ()  # email_key of each address
    company: str = ""  # company_key (a contact's account, an account's own name)
    tax_number: str = ""
    address: str = ""


def make_record(
    id: int,
    *,
    name: str | None = "",
    phones: Iterable[str | None] = (),
    emails: Iterable[str | None] = (),
    company: str | None = "",
    tax_number: str | None = "",
    address: str | None = "",
) -> Record:
    """A ``Record`` from raw values (what a form or an import row holds): every key normalised."""
    return Record(
        id=id,
        name=person_name_key(name),
        pinyin=name_pinyin_key(name),
        phones=tuple(dict.fromkeys(k for k in map(phone_key, phones) if k)),
        emails=tuple(dict.fromkeys(k for k in map(email_key, emails) if k)),
        company=company_key(company),
        tax_number=tax_number_key(tax_number),
        address=address_key(address),
    )


# --- rules --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldRule:
    """How one field of two records is compared and what an agreement or a disagreement is worth."""

    field: str  # name, phones, emails, company, tax_number, address
    method: str = NORMALISED  # exact | normalised | fuzzy
    weight: float = 0.0
    threshold: float = 1.0  # fuzzy: the least similarity (0..1) that counts as agreement
    # Subtracted, times (1 − similarity), when both records have the field and it disagrees: a
    # clearly different value costs the whole penalty, a near miss (a typo below the threshold) little.
    penalty: float = 0.0


@dataclass(frozen=True)
class MatchRule:
    """The duplicate rule of one model: blocking keys, compared fields, score thresholds."""

    model_label: str
    blocking: tuple[str, ...]
    fields: tuple[FieldRule, ...]
    possible: float = 0.6
    certain: float = 0.9
    max_block: int = 100  # blocks with more records are skipped (see the module docstring)

    def level(self, score: float) -> str:
        """``"certain"``, ``"possible"`` or ``""`` for a pair's score."""
        return CERTAIN if score >= self.certain else POSSIBLE if score >= self.possible else ""


# Defaults: a shared phone or e-mail is strong evidence (0.6 alone is "possible"); an equal name
# (or pinyin) with the same company is too (0.4 + 0.2). A clearly different name takes up to 0.3
# off, so two colleagues sharing an office line (phone + company − name = 0.53) are not reported,
# while a mistyped name with the same e-mail and company still is. Different phones or e-mails
# cost nothing: people have several.
_PERSON_FIELDS = (
    FieldRule("phones", NORMALISED, weight=0.6),
    FieldRule("emails", NORMALISED, weight=0.6),
    FieldRule("name", FUZZY, weight=0.4, threshold=0.8, penalty=0.3),
    FieldRule("company", FUZZY, weight=0.2, threshold=0.9),
)
# Blocking: a pair only one name key brings (no shared phone or e-mail) can reach "possible" only
# with an equal name or pinyin and the same company, so "name_typo+company" (one-edit neighbours,
# ~4 keys a record) is left to rules that weigh the name more.
_PERSON_BLOCKING = ("phone", "email", "name+company", "pinyin+company")

DEFAULT_RULES: dict[str, MatchRule] = {
    "customers.contact": MatchRule("customers.contact", _PERSON_BLOCKING, _PERSON_FIELDS),
    "sales.lead": MatchRule("sales.lead", _PERSON_BLOCKING, _PERSON_FIELDS),
    "customers.account": MatchRule(
        "customers.account",
        ("tax_number", "company", "company_core", "phone", "email", "name"),
        (
            # Two valid, different tax numbers are two legal entities, whatever the name says.
            FieldRule("tax_number", EXACT, weight=0.9, penalty=0.6),
            FieldRule("company", FUZZY, weight=0.5, threshold=0.9),
            FieldRule("name", FUZZY, weight=0.5, threshold=0.85, penalty=0.2),  # person accounts
            FieldRule("phones", NORMALISED, weight=0.3),
            FieldRule("emails", NORMALISED, weight=0.3),
            FieldRule("address", FUZZY, weight=0.2, threshold=0.85),
        ),
    ),
}


# --- blocking keys ------------------------------------------------------------------------------

BlockKey = Hashable


def _typo_keys(r: Record) -> tuple[BlockKey, ...]:
    """The name with each one character deleted, with the company: names one edit apart share one."""
    if not r.name or not r.company:
        return ()
    compact = r.name.replace(" ", "")
    core = company_core_key(r.company)
    return tuple({(compact[:i] + compact[i + 1 :], core) for i in range(len(compact))})


def _one(value: str) -> tuple[BlockKey, ...]:
    return (value,) if value else ()


def _with_company(value: str, company: str) -> tuple[BlockKey, ...]:
    return ((value, company_core_key(company)),) if value and company else ()


# The blocking keys of one record, per kind. Keys with a company use the company without its
# region prefix (北京字节跳动 and 字节跳动（北京）meet).
BLOCKING_KEYS: dict[str, Callable[[Record], tuple[BlockKey, ...]]] = {
    "phone": lambda r: r.phones,
    "email": lambda r: r.emails,
    "tax_number": lambda r: _one(r.tax_number),
    "company": lambda r: _one(r.company),
    "company_core": lambda r: _one(company_core_key(r.company) if r.company else ""),
    "name": lambda r: _one(r.name),
    "pinyin": lambda r: _one(r.pinyin),
    "address": lambda r: _one(r.address),
    "name+company": lambda r: _with_company(r.name, r.company),
    "pinyin+company": lambda r: _with_company(r.pinyin, r.company),
    "name_chars+company": lambda r: _with_company("".join(sorted(r.name.replace(" ", ""))), r.company),
    "name_typo+company": _typo_keys,
}


def _paired(first: list[str], second: list[str]) -> list[BlockKey]:
    cores = list(map(company_core_key, second))
    return [(a, b) if a and b else "" for a, b in zip(first, cores, strict=True)]


def _single_column(kind: str, records: Sequence[Record]) -> list[BlockKey] | None:
    """The one key per record of the common single-valued kinds, built by C-level map/zip (the
    blocking of a million records is mostly this); ``""`` for no key. None for other kinds."""
    if kind in ("tax_number", "company", "name", "pinyin", "address"):
        return list(map(attrgetter(kind), records))
    if kind == "company_core":
        return [company_core_key(c) if c else "" for c in map(attrgetter("company"), records)]
    if kind in ("name+company", "pinyin+company"):
        field_name = kind.partition("+")[0]
        return _paired(list(map(attrgetter(field_name), records)), list(map(attrgetter("company"), records)))
    return None


def _key_columns(kind: str, records: Sequence[Record]) -> tuple[list[BlockKey], Iterable[int]]:
    """Every (key, record position) of one blocking kind, as two parallel columns."""
    single = _single_column(kind, records)
    if single is not None:
        return single, range(len(records))
    if kind in ("phone", "email"):
        values = list(map(attrgetter(f"{kind}s"), records))
        keys: list[BlockKey] = list(chain.from_iterable(values))
        return keys, chain.from_iterable(map(repeat, range(len(records)), map(len, values)))
    keys_of = BLOCKING_KEYS[kind]
    keys, positions = [], []
    for position, record in enumerate(records):
        for key in keys_of(record):
            keys.append(key)
            positions.append(position)
    return keys, positions


def _shared_blocks(kind: str, records: Sequence[Record]) -> list[list[int]]:
    """The blocks of one kind that hold two records or more (positions, ascending)."""
    keys, positions = _key_columns(kind, records)
    shared = {key for key, count in Counter(keys).items() if count > 1 and key}
    blocks: dict[BlockKey, list[int]] = {}
    for key, position in zip(keys, positions, strict=False):
        if key in shared:
            members = blocks.get(key)
            if members is None:
                blocks[key] = [position]
            elif members[-1] != position:
                members.append(position)
    return [members for members in blocks.values() if len(members) > 1]


# --- comparing ----------------------------------------------------------------------------------


class Reason(NamedTuple):
    """Why a pair scored: a field, how it compared (exact, normalised, fuzzy, different) and the
    similarity (1.0 for equal keys)."""

    field: str
    how: str
    similarity: float


class PairMatch(NamedTuple):
    a: int  # record ids, a < b in a scan; in check_one, a is the checked record
    b: int
    score: float
    level: str
    reasons: tuple[Reason, ...]


def _sim(a: str, b: str) -> float:
    return 1.0 if a == b else Indel.normalized_similarity(a, b)


def _phone_tail(key: str) -> str:
    return key[-9:]


def _email_loose(key: str) -> str:
    local, _, domain = key.partition("@")
    return f"{local.split('+', 1)[0].replace('.', '')}@{domain}"


_LOOSE: dict[str, Callable[[str], str]] = {
    "phones": _phone_tail,
    "emails": _email_loose,
}


def _region_of(company: str, core: str) -> str:
    return company[: len(company) - len(core)].removesuffix("市").removesuffix("省")


def _loose_equal(field_name: str, a: str, b: str) -> bool:
    """Single-valued fields, ``normalised``: a company equal without its leading region when the
    regions agree or one side has none (北京字节跳动 = 字节跳动 = 字节跳动（北京）, but 海南航空 ≠
    上海航空); other fields have no looser form than their key."""
    if field_name != "company":
        return False
    core_a, core_b = company_core_key(a), company_core_key(b)
    if core_a != core_b:
        return False
    region_a, region_b = _region_of(a, core_a), _region_of(b, core_b)
    return not region_a or not region_b or region_a == region_b


def _compare(field_name: str, method: str, a: Record, b: Record) -> tuple[str, float] | None:
    """How `field_name` of two records compares: (how, similarity), or None if one lacks it.
    ``how`` is the method that found the agreement, or the best similarity's method."""
    if field_name == "name":
        if not (a.name or a.pinyin) or not (b.name or b.pinyin):
            return None
        if a.name and a.name == b.name:
            return EXACT, 1.0
        if method == EXACT:
            return DIFFERENT, 0.0
        if a.pinyin and a.pinyin == b.pinyin:
            return NORMALISED, 1.0
        if method == NORMALISED:
            return DIFFERENT, 0.0
        best = _sim(a.name, b.name) if a.name and b.name else 0.0
        if a.pinyin and b.pinyin:
            best = max(best, Indel.normalized_similarity(a.pinyin, b.pinyin))
        return FUZZY, best
    if field_name in ("phones", "emails"):
        va: tuple[str, ...] = getattr(a, field_name)
        vb: tuple[str, ...] = getattr(b, field_name)
        if not va or not vb:
            return None
        if not set(va).isdisjoint(vb):
            return EXACT, 1.0
        if method == EXACT:
            return DIFFERENT, 0.0
        loose = _LOOSE[field_name]
        if not {loose(v) for v in va}.isdisjoint(loose(v) for v in vb):
            return NORMALISED, 1.0
        if method == NORMALISED:
            return DIFFERENT, 0.0
        return FUZZY, max(Indel.normalized_similarity(x, y) for x in va for y in vb)
    sa: str = getattr(a, field_name)
    sb: str = getattr(b, field_name)
    if not sa or not sb:
        return None
    if sa == sb:
        return EXACT, 1.0
    if method == EXACT:
        return DIFFERENT, 0.0
    if _loose_equal(field_name, sa, sb):
        return NORMALISED, 1.0
    if method == NORMALISED:
        return DIFFERENT, 0.0
    return FUZZY, Indel.normalized_similarity(sa, sb)


def score_pair(a: Record, b: Record, rule: MatchRule) -> tuple[float, tuple[Reason, ...]]:
    """The score of two records under `rule` (0..1) and the reasons, field by field."""
    total = 0.0
    reasons: list[Reason] = []
    for f in rule.fields:
        result = _compare(f.field, f.method, a, b)
        if result is None:
            continue
        how, similarity = result
        threshold = f.threshold if how == FUZZY else 1.0
        if how != DIFFERENT and similarity >= threshold:
            total += f.weight * similarity
            reasons.append(Reason(f.field, how, round(similarity, 3)))
        else:
            total -= f.penalty * (1.0 - similarity)
            reasons.append(Reason(f.field, DIFFERENT, round(similarity, 3)))
    return min(1.0, max(0.0, round(total, 4))), tuple(reasons)


# --- scan ---------------------------------------------------------------------------------------


@dataclass
class DuplicateGroup:
    """Records that are duplicates of each other, directly or through a chain of reported pairs.
    ``score`` is the best pair's; ``level`` is "certain" when some pair is certain."""

    ids: tuple[int, ...]
    score: float
    level: str
    pairs: tuple[PairMatch, ...]


@dataclass
class ScanStats:
    """What a scan did: blocks per kind, skipped (too large) blocks, candidate and reported pairs."""

    records: int = 0
    blocks: dict[str, int] = field(default_factory=dict)
    skipped_blocks: dict[str, int] = field(default_factory=dict)
    candidate_pairs: int = 0
    reported_pairs: int = 0


# The forked workers read the records and rule from here (set before the pool starts).
_SHARED: tuple[Sequence[Record], MatchRule] | None = None


def _blocks_of(kind: str, records: Sequence[Record]) -> dict[BlockKey, list[int]]:
    """Every block of one kind (also single records): the index of ``check_one``."""
    keys, positions = _key_columns(kind, records)
    blocks: dict[BlockKey, list[int]] = {}
    for key, position in zip(keys, positions, strict=False):
        if key:
            members = blocks.get(key)
            if members is None:
                blocks[key] = [position]
            elif members[-1] != position:
                members.append(position)
    return blocks


def _candidates(kind: str, records: Sequence[Record], max_block: int) -> tuple[str, array, int, int]:
    """Candidate pairs of one blocking kind as ``i * n + j`` (positions, i < j)."""
    n = len(records)
    pairs: array = array("q")
    used = skipped = 0
    for members in _shared_blocks(kind, records):
        size = len(members)
        if size > max_block:
            skipped += 1
            continue
        used += 1
        for x in range(size - 1):
            base = members[x] * n
            pairs.extend(base + members[y] for y in range(x + 1, size))
    return kind, pairs, used, skipped


def _candidates_shared(kind: str) -> tuple[str, array, int, int]:
    assert _SHARED is not None
    records, rule = _SHARED
    return _candidates(kind, records, rule.max_block)


def _score_pairs(records: Sequence[Record], rule: MatchRule, pairs: Iterable[int]) -> list[PairMatch]:
    n = len(records)
    found = []
    for code in pairs:
        i, j = divmod(code, n)
        a, b = records[i], records[j]
        score, reasons = score_pair(a, b, rule)
        if score >= rule.possible:
            first, second = (a.id, b.id) if a.id < b.id else (b.id, a.id)
            found.append(PairMatch(first, second, score, rule.level(score), reasons))
    return found


def _score_shared(pairs: array) -> list[PairMatch]:
    assert _SHARED is not None
    records, rule = _SHARED
    return _score_pairs(records, rule, pairs)


def _chunks(values: list[int], parts: int) -> Iterator[array]:
    size = max(1, -(-len(values) // parts))
    for start in range(0, len(values), size):
        yield array("q", values[start : start + size])


def _fork_available() -> bool:
    return sys.platform != "win32" and "fork" in multiprocessing.get_all_start_methods()


def scan(
    records: Iterable[Record],
    rule: MatchRule,
    *,
    workers: int = 1,
    stats: ScanStats | None = None,
) -> list[DuplicateGroup]:
    """Every group of duplicates among `records` under `rule`, best score first.

    ``workers > 1`` forks that many processes (POSIX) for the blocking and the scoring; the
    result is the same as with one. `stats`, when given, is filled in."""
    with _no_cyclic_gc():
        return _scan(records, rule, workers, stats if stats is not None else ScanStats())


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """The cyclic collector paused: blocking makes millions of short-lived tuples and no cycles,
    and each collection would walk the whole record heap (a third of the time at 1M records)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _scan(records: Iterable[Record], rule: MatchRule, workers: int, stats: ScanStats) -> list[DuplicateGroup]:
    global _SHARED
    rows = records if isinstance(records, list) else list(records)
    stats.records = len(rows)
    candidate: set[int] = set()
    parallel = workers > 1 and _fork_available()
    if parallel:
        _SHARED = (rows, rule)
        gc.freeze()  # the forked workers then leave the records' pages shared
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                for kind, pairs, used, skipped in pool.imap_unordered(_candidates_shared, rule.blocking):
                    candidate.update(pairs)
                    stats.blocks[kind], stats.skipped_blocks[kind] = used, skipped
                ordered = sorted(candidate)
                found = [m for part in pool.map(_score_shared, _chunks(ordered, workers * 4)) for m in part]
        finally:
            _SHARED = None
            gc.unfreeze()
    else:
        for kind in rule.blocking:
            _, pairs, used, skipped = _candidates(kind, rows, rule.max_block)
            candidate.update(pairs)
            stats.blocks[kind], stats.skipped_blocks[kind] = used, skipped
        found = _score_pairs(rows, rule, sorted(candidate))
    stats.candidate_pairs = len(candidate)
    stats.reported_pairs = len(found)
    return group_pairs(found)


class BlockCollector:
    """Streaming blocking for scans that cannot hold every record (``kehu.dedup.scanning`` at a
    million rows): records are added chunk by chunk and only their blocking keys are kept, as one
    64-bit hash and one record id per key (16 bytes, in ``array`` columns per kind), so memory
    grows by ~100 bytes a record instead of the whole ``Record``. ``candidates()`` then gives the
    pairs of record ids sharing a block, and ``scan_candidates`` scores them on the few records
    they name, read again. A hash collision only adds a candidate pair (scored like any other);
    hashes are those of this interpreter, so collectors built in forked workers merge, collectors
    from separate processes do not."""

    def __init__(self, rule: MatchRule) -> None:
        self.rule = rule
        self.records = 0
        self.hashes: dict[str, array] = {kind: array("q") for kind in rule.blocking}
        self.ids: dict[str, array] = {kind: array("q") for kind in rule.blocking}

    def add(self, records: Sequence[Record]) -> None:
        self.records += len(records)
        record_ids = [r.id for r in records]
        for kind in self.rule.blocking:
            keys, positions = _key_columns(kind, records)
            # hash("") == 0: a record without this key (ignored in ``candidates``)
            self.hashes[kind].extend(map(hash, keys))
            if isinstance(positions, range):
                self.ids[kind].extend(record_ids)
            else:
                self.ids[kind].extend(map(record_ids.__getitem__, positions))

    def merge(self, other: BlockCollector) -> None:
        self.records += other.records
        for kind in self.rule.blocking:
            self.hashes[kind].extend(other.hashes[kind])
            self.ids[kind].extend(other.ids[kind])

    def state(self) -> tuple[int, dict[str, bytes], dict[str, bytes]]:
        """Picklable as bytes (what a forked worker sends back)."""
        return (
            self.records,
            {k: v.tobytes() for k, v in self.hashes.items()},
            {k: v.tobytes() for k, v in self.ids.items()},
        )

    def merge_state(self, state: tuple[int, dict[str, bytes], dict[str, bytes]]) -> None:
        records, hashes, ids = state
        self.records += records
        for kind in self.rule.blocking:
            self.hashes[kind].frombytes(hashes[kind])
            self.ids[kind].frombytes(ids[kind])

    def candidates(self, stats: ScanStats | None = None) -> set[tuple[int, int]]:
        """Pairs of record ids (smaller first) sharing a block of at most ``max_block`` records;
        the collected keys are released kind by kind."""
        pairs: set[tuple[int, int]] = set()
        max_block = self.rule.max_block
        with _no_cyclic_gc():
            for kind in self.rule.blocking:
                hashes, ids = self.hashes.pop(kind), self.ids.pop(kind)
                shared = {h for h, count in Counter(hashes).items() if count > 1 and h}
                blocks: dict[int, list[int]] = {}
                for h, record_id in zip(hashes, ids, strict=True):
                    if h in shared:
                        members = blocks.get(h)
                        if members is None:
                            blocks[h] = [record_id]
                        elif record_id not in members[-1:]:
                            members.append(record_id)
                del hashes, ids, shared
                used = skipped = 0
                for members in blocks.values():
                    size = len(members)
                    if size < 2:
                        continue
                    if size > max_block:
                        skipped += 1
                        continue
                    used += 1
                    members.sort()
                    for x in range(size - 1):
                        a = members[x]
                        pairs.update((a, b) for b in members[x + 1 :] if b != a)
                if stats is not None:
                    stats.blocks[kind], stats.skipped_blocks[kind] = used, skipped
        return pairs


def scan_candidates(
    pairs: Iterable[tuple[int, int]],
    records: Callable[[list[int]], Iterable[Record]],
    rule: MatchRule,
    *,
    stats: ScanStats | None = None,
) -> list[DuplicateGroup]:
    """Score candidate pairs of record ids (``BlockCollector.candidates``) on the records
    ``records(ids)`` gives for the ids they name, and group the reported ones: the same groups as
    ``scan`` over all the records."""
    pairs = sorted(pairs)
    wanted = sorted({x for pair in pairs for x in pair})
    by_id = {r.id: r for r in records(wanted)}
    found = []
    for i, j in pairs:
        a, b = by_id.get(i), by_id.get(j)
        if a is None or b is None:  # deleted between the two reads
            continue
        score, reasons = score_pair(a, b, rule)
        if score >= rule.possible:
            found.append(PairMatch(i, j, score, rule.level(score), reasons))
    if stats is not None:
        stats.candidate_pairs = len(pairs)
        stats.reported_pairs = len(found)
    return group_pairs(found)


def group_pairs(pairs: Iterable[PairMatch]) -> list[DuplicateGroup]:
    """Reported pairs joined into groups (union–find), best score first, then by smallest id."""
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    pairs = list(pairs)
    for p in pairs:
        ra, rb = root(p.a), root(p.b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    members: dict[int, list[int]] = {}
    for x in parent:
        members.setdefault(root(x), []).append(x)
    by_root: dict[int, list[PairMatch]] = {}
    for p in pairs:
        by_root.setdefault(root(p.a), []).append(p)
    groups = []
    for r, its_pairs in by_root.items():
        its_pairs.sort(key=lambda p: (-p.score, p.a, p.b))
        best = its_pairs[0].score
        level = CERTAIN if any(p.level == CERTAIN for p in its_pairs) else POSSIBLE
        groups.append(DuplicateGroup(tuple(sorted(members[r])), best, level, tuple(its_pairs)))
    groups.sort(key=lambda g: (-g.score, g.ids[0]))
    return groups


# --- the single-record check --------------------------------------------------------------------


class CandidateSource(Protocol):
    """Where ``check_one`` finds the records that share a blocking key with the checked one: the
    in-memory ``Index`` here; a database-backed source (a later service) looks the same keys up in
    ``MatchKey`` and loads those records' keys."""

    rule: MatchRule

    def candidates(self, record: Record) -> Iterable[Record]: ...


@dataclass
class Index:
    """Blocking keys → record positions, for checking one record against many (``check_one``)."""

    rule: MatchRule
    records: list[Record]
    blocks: dict[str, dict[BlockKey, list[int]]]

    def candidates(self, record: Record) -> Iterable[Record]:
        """The records sharing a blocking key with `record`; an oversized block is skipped as in
        a scan (the checked record would make it one more)."""
        seen: set[int] = set()
        for kind in self.rule.blocking:
            blocks = self.blocks[kind]
            for key in BLOCKING_KEYS[kind](record):
                members = blocks.get(key, ())
                if len(members) < self.rule.max_block:
                    seen.update(members)
        return [self.records[position] for position in sorted(seen)]


def build_index(records: Iterable[Record], rule: MatchRule) -> Index:
    """The blocks of `records` under `rule`, for ``check_one``."""
    rows = list(records)
    with _no_cyclic_gc():
        return Index(rule, rows, {kind: _blocks_of(kind, rows) for kind in rule.blocking})


def check_one(record: Record, index: CandidateSource) -> list[PairMatch]:
    """The candidate records that `record` duplicates (score ≥ possible), best first; the record
    itself (same id, e.g. when an edit is checked) is never a match. This is the real-time check
    on create: a few key look-ups and a few dozen pair scores."""
    rule = index.rule
    found = []
    for other in index.candidates(record):
        if other.id == record.id:
            continue
        score, reasons = score_pair(record, other, rule)
        if score >= rule.possible:
            found.append(PairMatch(record.id, other.id, score, rule.level(score), reasons))
    found.sort(key=lambda m: (-m.score, m.b))
    return found
