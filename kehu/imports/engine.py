"""The import engine's first half: file rows become `PreparedRow`s (issue 6, dry run and run).

Per batch of rows (``BATCH_SIZE``):

1. each row's cells are grouped by the mapping and converted (`mapping.convert_values`, the
   transforms of `transforms.py`: the same phone/e-mail normalisers as forms and API); then the
   row is checked with the shared rules: the model's own limits (required, max length, choices),
   the tax number check (`kehu.customers.validators`), regions (`kehu.customers.regions`),
   custom fields (`kehu.customfields.services.custom_values_clean`) and the data collection
   standards (`kehu.customfields.standards.field_specs`: required and pattern per row, unique per
   batch with one query per standard);
2. the related records and matches are looked up for the whole batch at once (accounts by
   external id or name, owners by username or e-mail, existing records by external id and by
   their dedup match keys `kehu.dedup.models.MatchKey`), never one query per row;
3. each row gets its action: create, update, skip or error, with a reason code and message.

Matching. The import's `match_key` (email, phone, mobile, tax_number, external_id or a unique
custom field ``custom.<name>``) decides which record a row is; with no match key a *create* import
still looks for duplicates on the external id and on every dedup key of the row (phones, e-mails,
tax number), and `on_duplicate` says what a match does (skip, update, create anyway). A row that
repeats the key of an earlier row of the file is skipped (``duplicate_in_file``) unless the user
chose "create anyway".

A contact's account: the mapped ``account`` column is looked up first as an account's external id,
then as an account's exact name. An unknown account or a name several accounts share is a per-row
error (the error file asks for the external id); accounts are never created implicitly, so a
typo cannot spawn a company. Import the accounts first (or in the same file's account import).
"""

from __future__ import annotations

import re
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import connection, models
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Lower
from django.utils.text import capfirst
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from kehu.core import assigners
from kehu.core.bulksql import select_rows, values_in
from kehu.core.errors import DomainError
from kehu.core.text import label_value

from . import transforms as t
from .choices import DuplicateAction, ImportMode, OwnerMode
from .mapping import ConvertOptions, ImportTarget, convert_values, get_target, picklist_mappers
from .models import ImportJob
from .parsing import RawRow

BATCH_SIZE = 2000
CREATE, UPDATE, SKIP, ERROR = "create", "update", "skip", "error"
TARGETS = ("customers.contact", "customers.account")
MATCH_KEYS = ("external_id", "email", "phone", "mobile", "tax_number")


class ImportRunError(DomainError):
    """The import cannot run as set up (codes below); nothing was written."""

    code = "import_invalid"

    UNSUPPORTED_TARGET = "import_unsupported_target"
    BAD_MATCH_KEY = "import_bad_match_key"
    NO_PERMISSION = "import_permission_denied"
    POOL_UNSUPPORTED = "import_pool_unsupported"
    BAD_STATUS = "import_bad_status"
    NO_OWNER = "import_no_owner"
    CHANGED_SINCE = "import_changed_since"
    IN_USE = "import_records_in_use"


@dataclass(slots=True)
class PreparedRow:
    """One file row, converted, checked and matched.

    `values`: model column values (attnames: ``account_id``, ``owner_id``); `custom`: the custom
    dict; `phones`/`emails`: detail rows (kind, value, primary) in display order; `keys`: the dedup
    match keys (kind, value); `existing_id`: the record an update changes; `reason`: why a row is
    skipped or fails (a code) and `message` (translated)."""

    raw: RawRow
    action: str = CREATE
    values: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    phones: list[tuple[str, str, bool]] = field(default_factory=list)
    emails: list[tuple[str, str, bool]] = field(default_factory=list)
    keys: set[tuple[str, str]] = field(default_factory=set)
    existing_id: int | None = None
    reason: str = ""
    message: str = ""
    lookups: dict[str, str] = field(default_factory=dict)  # FK texts to resolve: account, owner, parent
    tags: list[str] = field(default_factory=list)  # tag names (existing or to create)

    @property
    def line(self) -> int:
        return self.raw.line

    def fail(self, reason: str, message: str) -> None:
        self.action, self.reason = ERROR, reason
        self.message = f"{self.message} {message}".strip() if self.message else message


def _messages(errors: Mapping[str, Iterable[Any]], labels: Mapping[str, str]) -> str:
    return " ".join(
        label_value(capfirst(labels.get(name, name)), " ".join(str(m) for m in msgs))
        for name, msgs in errors.items()
    )


@lru_cache(maxsize=4096)
def _url_ok(value: str) -> bool:
    try:
        URLValidator()(value)
    except ValidationError:
        return False
    return True


def _region(
    country: str, province: str, city: str, district: str
) -> tuple[tuple[str, str, str, str], dict[str, list[str]]]:
    return _region_in(country, province, city, district, get_language() or "")


@lru_cache(maxsize=8192)
def _region_in(
    country: str, province: str, city: str, district: str, language: str
) -> tuple[tuple[str, str, str, str], dict[str, list[str]]]:
    """The region's codes from a file's codes or names (中国/China/CN, 浙江省/浙江/Zhejiang/330000,
    our exports' "杭州市 (Hangzhou)"), and the field errors of `region_errors`."""
    from kehu.customers.regions import CHINA, country_code, division_code, region_errors

    country = country_code(country) or country.strip().upper()
    if province and not country:
        country = CHINA
    province = division_code(province, level="province") or province.strip()
    city = division_code(city, level="city", parent=province) or city.strip()
    district = division_code(district, level="district", parent=city or province) or district.strip()
    errors = region_errors(country=country, province=province, city=city, district=district)
    return (country, province, city, district), {k: [str(m) for m in v] for k, v in errors.items()}


class LineMemory:
    """What earlier rows of the file held: key -> the first line that had it, keeping only the
    key's 64-bit hash (two different keys sharing one, odds ~1e-7 at 3 million keys, would make the
    later row a duplicate of the earlier one). A million-row file has ~3 million keys: as tuples of
    strings they held ~500 MB, in a dict of hashes ~320 MB; here they sit in an open-addressing
    table of two flat arrays (8-byte hash, 4-byte line; linear probing, at most 60 % full):
    ~12-24 bytes a key."""

    __slots__ = ("_count", "_hashes", "_lines", "_mask")

    def __init__(self, capacity: int = 1024) -> None:
        self._count = 0
        self._allocate(1 << max(4, capacity.bit_length()))

    def _allocate(self, size: int) -> None:
        self._hashes = array("q", bytes(8 * size))  # 0: an empty slot
        self._lines = array("i", bytes(4 * size))
        self._mask = size - 1

    @staticmethod
    def _hash(key: Any) -> int:
        return hash(key) or 1

    def _slot(self, h: int) -> int:
        """The slot holding `h`, or the empty slot where it would go."""
        hashes, mask = self._hashes, self._mask
        i = h & mask
        while True:
            found = hashes[i]
            if found == h or not found:
                return i
            i = (i + 1) & mask

    def get(self, key: Any) -> int | None:
        i = self._slot(self._hash(key))
        return self._lines[i] if self._hashes[i] else None

    def setdefault(self, key: Any, line: int) -> int:
        h = self._hash(key)
        i = self._slot(h)
        if self._hashes[i]:
            return self._lines[i]
        self._hashes[i] = h
        self._lines[i] = line
        self._count += 1
        if self._count * 5 > 3 * (self._mask + 1):
            self._grow()
        return line

    def _grow(self) -> None:
        hashes, lines = self._hashes, self._lines
        self._allocate(2 * (self._mask + 1))
        new_hashes, new_lines, slot = self._hashes, self._lines, self._slot
        for h, line in zip(hashes, lines, strict=True):
            if h:
                i = slot(h)
                new_hashes[i] = h
                new_lines[i] = line

    def __len__(self) -> int:
        return self._count


class Preparer:
    """Turns file rows into `PreparedRow`s for one import job (see the module docstring). Holds
    the per-job caches: converters, the standards, users, accounts and the keys of earlier rows."""

    def __init__(self, job: ImportJob, *, by: Any) -> None:
        if job.target not in TARGETS:
            raise ImportRunError(
                _("Importing into “%(target)s” is not available yet.") % {"target": job.target},
                code=ImportRunError.UNSUPPORTED_TARGET,
            )
        if job.owner_mode == OwnerMode.POOL and not assigners.pool_putter_registered(job.target):
            raise ImportRunError(
                _("Contacts cannot be imported into a pool; choose an owner or the rules."),
                code=ImportRunError.POOL_UNSUPPORTED,
            )
        self._setup(job, by=by)
        self.is_contact = job.target == "customers.contact"

    def _setup(self, job: ImportJob, *, by: Any) -> None:
        """What every preparer holds for a job: the target, converters, columns, the match key and
        the standards (`_required` says which required fields a row must fill)."""
        from kehu.customfields.selectors import custom_fields_for
        from kehu.customfields.standards import field_specs

        self.job = job
        self.by = by
        self.target: ImportTarget = get_target(job.target)
        self.model: type[models.Model] = self.target.model
        self.labels = {f.name: self.target.label(f) for f in self.target.fields}
        transforms = job.transforms or {}
        self.options = ConvertOptions(
            date_order=transforms.get("date_order") or "YMD",
            region=transforms.get("phone_region") or "CN",
            picklists=picklist_mappers(
                self.target,
                policy=str(transforms.get("unknown_choices") or t.UnknownPolicy.REJECT),
                mappings=transforms.get("picklists") or {},
            ),
            separators=transforms.get("separators") or t.MULTI_SEPARATORS,
        )
        self.headers = list(job.headers)
        columns = [(i, job.mapping.get(h) or "") for i, h in enumerate(self.headers)]
        self.columns = [(i, name) for i, name in columns if name and self.target.get(name)]
        self.mode = job.mode
        self.match_key = job.match_key or ""
        if self.mode != ImportMode.CREATE and not self.match_key:
            raise ImportRunError(
                _("Choose the field that finds existing records."), code=ImportRunError.BAD_MATCH_KEY
            )
        if self.match_key and not (self.match_key in MATCH_KEYS or self.match_key.startswith("custom.")):
            raise ImportRunError(
                _("Records cannot be matched on “%(field)s”.") % {"field": self.match_key},
                code=ImportRunError.BAD_MATCH_KEY,
            )
        self.custom_defs = {f.name: f for f in custom_fields_for(job.target)}
        specs = field_specs(self.model)
        self.required_specs = [s for s in specs if s.required and not s.is_custom and self._required(s)]
        self.pattern_specs = [(s, re.compile(s.pattern)) for s in specs if s.pattern and s.pattern_applies]
        self.unique_specs = [s for s in specs if s.unique]
        self.max_lengths = {
            f.name: f.max_length
            for f in self.model._meta.concrete_fields
            if isinstance(f, models.CharField) and f.max_length
        }
        self.default_owner_id, self.default_department_id = self._default_owner()
        self._start_file()

    def _required(self, spec: Any) -> bool:
        """Whether a row must fill required field `spec` (every required one here)."""
        return True

    def _start_file(self) -> None:
        """The state of one pass over the file: what earlier rows hold, and per-job look-ups."""
        self.seen = LineMemory()  # key of an earlier row -> its line
        # values of unique standards written by earlier rows of the file -> their line (the
        # database only knows them once their batch committed)
        self.unique_seen = LineMemory()
        self.external_ids = LineMemory()  # external id of an earlier written row -> its line
        self._users: dict[str, tuple[int, int | None] | None] = {}
        self._tag_check: TagCheck | None = None
        self._accounts: dict[str, int | str | None] = {}

    # --- owners -------------------------------------------------------------------------------

    def _default_owner(self) -> tuple[int | None, int | None]:
        job = self.job
        user = job.assign_to if job.owner_mode == OwnerMode.OWNER else self.by
        if job.owner_mode == OwnerMode.OWNER and user is None:
            raise ImportRunError(_("Choose the owner of the new records."), code=ImportRunError.NO_OWNER)
        if user is None:
            return None, None
        return user.pk, getattr(user, "department_id", None)

    # --- stage 1: one row -----------------------------------------------------------------------

    def convert(self, raw: RawRow) -> PreparedRow:
        row = PreparedRow(raw)
        if raw.error:
            row.fail(raw.code or "unreadable_row", raw.error)
            return row
        cells = raw.values
        grouped: dict[str, list[str]] = {}
        for i, name in self.columns:
            if i < len(cells):
                value = cells[i]
                if value and not value.isspace():
                    if value[0] == "'":  # our exports' guard against formulas ("'=x" -> "=x")
                        value = t.strip_formula_guard(value) or ""
                    grouped.setdefault(name, []).append(value)
        values, errors = convert_values(self.target, grouped, self.options)
        if errors:
            row.fail("invalid_value", _messages(errors, self.labels))
        self._shape(row, values)
        if row.action != ERROR:
            self._check(row)
        return row

    def _shape(self, row: PreparedRow, values: dict[str, Any]) -> None:
        """Converted values -> model columns, detail rows and look-ups (like the customers
        services do with their data: the primary phone/e-mail is denormalised)."""
        out = row.values
        custom: dict[str, Any] = {}
        phone = mobile = email = None
        extra_phones: list[tuple[str, str]] = []
        extra_emails: list[tuple[str, str]] = []
        for name, value in values.items():
            if name.startswith("custom."):
                custom[name[7:]] = value
            elif name == "phone":
                phone = value
            elif name == "mobile":
                mobile = value
            elif name == "email":
                email = value
            elif name.startswith("phones."):
                kind = name[7:]
                extra_phones.extend((kind, v) for v in value)
            elif name.startswith("emails."):
                extra_emails.extend(("other", v) for v in value)
            elif name in ("account", "owner", "parent"):
                row.lookups[name] = value
            elif name == "tags":
                row.tags = _unique_names(value)
            elif name in ("first_name", "last_name", "middle_name"):
                continue
            elif name == "notes":
                out["notes"] = "\n".join(value) if isinstance(value, list) else value
            elif name == "postcode":
                row.lookups["postcode"] = value
            else:
                out[name] = value
        if not self.is_contact and extra_phones:
            mobiles = [v for k, v in extra_phones if k == "mobile"]
            extra_phones = [(k, v) for k, v in extra_phones if k != "mobile"]
            extra_phones = [("mobile", v) for v in mobiles] + extra_phones
        phones: list[tuple[str, str, bool]] = []
        seen: set[str] = set()
        if phone:
            # our exports repeat a contact's primary mobile in its phone column: keep it a mobile
            phones.append(("mobile" if phone == mobile else "work", phone, True))
            seen.add(phone)
        if mobile and mobile not in seen:
            phones.append(("mobile", mobile, not phones))
            seen.add(mobile)
        for kind, number in extra_phones:
            if number not in seen:
                phones.append((kind, number, not phones))
                seen.add(number)
        emails: list[tuple[str, str, bool]] = []
        if email:
            emails.append(("work", email, True))
        for kind, address in extra_emails:
            if all(address != e[1] for e in emails):
                emails.append((kind, address, not emails))
        row.phones, row.emails, row.custom = phones, emails, custom
        out["phone"] = next((n for _k, n, p in phones if p), "")
        if self.is_contact:
            out["mobile"] = next((n for k, n, _p in phones if k == "mobile"), "")
        out["email"] = email or (emails[0][1] if emails else "")
        # The record's primary phone/e-mail taken from a further column ("phones.home") sets it on
        # new records only: an update does not let a home phone replace the stored primary one.
        derived = [n for n, given in (("phone", phone or mobile), ("email", email)) if out[n] and not given]
        if derived:
            row.lookups["_derived"] = " ".join(derived)

    def _check(self, row: PreparedRow) -> None:
        """The shared rules of forms and API, without a query per row."""
        v = row.values
        errors: dict[str, list[str]] = {}
        if not self.is_contact:
            if v.get("tax_number"):
                from kehu.customers.validators import normalise_tax_number

                try:
                    v["tax_number"] = normalise_tax_number(v["tax_number"])
                except ValidationError as exc:
                    errors["tax_number"] = [str(m) for m in exc.messages]
            if v.get("website") and not _url_ok(v["website"]):
                errors["website"] = [_("Enter a valid URL.")]
            if any(v.get(n) for n in ("country", "province", "city", "district")):
                region, problems = _region(
                    str(v.get("country", "")),
                    str(v.get("province", "")),
                    str(v.get("city", "")),
                    str(v.get("district", "")),
                )
                if problems:
                    errors.update(problems)
                else:
                    v["country"], v["province"], v["city"], v["district"] = region
            for name in ("industry", "source", "level"):
                if v.get(name) and name not in self.options.picklists:
                    errors[name] = [_("Choose a value from the list.")]
        for name, value in v.items():
            limit = self.max_lengths.get(name)
            if limit and isinstance(value, str) and len(value) > limit and name not in errors:
                errors[name] = [
                    _("At most %(limit)d characters (this has %(count)d).")
                    % {"limit": limit, "count": len(value)}
                ]
        if self.is_contact and not row.lookups.get("account"):
            errors["account"] = [_("This field is required.")]
        for spec in self.required_specs:
            if spec.key in ("account", "owner", "department", "created_by"):
                continue
            value = v.get(spec.key)
            if value is None or value == "" or value == []:
                if spec.model_field is not None and spec.model_field.has_default() and spec.key not in v:
                    default = spec.model_field.get_default()
                    if default not in (None, "", []):
                        continue
                errors[spec.key] = [_("This field is required.")]
        for spec, pattern in self.pattern_specs:
            value = row.custom.get(spec.name) if spec.is_custom else v.get(spec.key)
            if value not in (None, "") and pattern.search(str(value)) is None:
                errors[spec.key] = [spec.pattern_message or _("Enter a value in the required format.")]
        if self.custom_defs:
            from kehu.customfields.services import custom_values_clean

            try:
                row.custom = custom_values_clean(model=self.job.target, values=row.custom)
            except DomainError as exc:
                errors.update(exc.fields)
        if errors:
            row.fail("invalid_value", _messages(errors, self.labels))

    # --- stage 2: the batch ---------------------------------------------------------------------

    def prepare(self, raws: list[RawRow]) -> list[PreparedRow]:
        """Convert, check, look up and decide a batch of rows (in file order)."""
        rows = [self.convert(raw) for raw in raws]
        live = [r for r in rows if r.action != ERROR]
        self._resolve_users(live)
        if self.is_contact:
            self._resolve_accounts(live)
        else:
            self._resolve_parents(live)
        self._check_tags([r for r in live if r.tags])
        live = [r for r in live if r.action != ERROR]
        self._unique(live)
        self._keys(live)
        self._decide([r for r in live if r.action != ERROR])
        return rows

    def _resolve_users(self, rows: list[PreparedRow]) -> None:
        mapped = self.job.owner_mode == OwnerMode.MAPPED
        wanted = {r.lookups["owner"] for r in rows if mapped and r.lookups.get("owner")}
        missing = [w for w in wanted if w.casefold() not in self._users]
        if missing:
            User = get_user_model()
            folded = {w.casefold() for w in missing}
            # the user name or e-mail first; else the display name our exports show (one user only)
            exact: dict[str, set[tuple[int, int | None]]] = defaultdict(set)
            shown: dict[str, set[tuple[int, int | None]]] = defaultdict(set)
            qs = User._default_manager.filter(is_active=True).annotate(
                lu=Lower("username"), le=Lower("email"), ld=Lower("display_name")
            )
            match = models.Q(lu__in=folded) | models.Q(le__in=folded) | models.Q(ld__in=folded)
            for pk, dept, lu, le, ld in qs.filter(match).values_list("pk", "department_id", "lu", "le", "ld"):
                for key in {lu, le} & folded:
                    exact[key].add((pk, dept))
                if ld in folded:
                    shown[ld].add((pk, dept))
            for key in folded:
                hits = exact.get(key) or shown.get(key) or set()
                self._users[key] = next(iter(hits)) if len(hits) == 1 else None
        for r in rows:
            text = r.lookups.get("owner") if mapped else None
            if text:
                hit = self._users.get(text.casefold())
                if hit is None:
                    r.fail(
                        "unknown_owner",
                        _("No single active user has the user name, display name or e-mail “%(value)s”.")
                        % {"value": text[:80]},
                    )
                    continue
                r.values["owner_id"], r.values["department_id"] = hit
            else:
                r.values["owner_id"], r.values["department_id"] = (
                    self.default_owner_id,
                    self.default_department_id,
                )

    def _check_tags(self, rows: list[PreparedRow]) -> None:
        """Tags are put on by name: an active tag for these records, or a new one when the user
        may create tags (the writer creates it); else a row error, as the tag picker refuses."""
        if not rows:
            return
        if self._tag_check is None:
            self._tag_check = TagCheck(self.job.target, self.by)
        check = self._tag_check
        for r in rows:
            found = [p for p in map(check.problem, r.tags) if p]
            if found:
                r.fail("invalid_tag", " ".join(found))

    def _account_ids(self, texts: set[str]) -> None:
        from kehu.customers.models import Account

        missing = [x for x in texts if x not in self._accounts]
        if not missing:
            return
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            by_ext = dict(Account.objects.filter(external_id__in=chunk).values_list("external_id", "pk"))
            by_name: dict[str, list[int]] = defaultdict(list)
            for name, pk in Account.objects.filter(name__in=chunk).values_list("name", "pk"):
                by_name[name].append(pk)
            for text in chunk:
                if text in by_ext:
                    self._accounts[text] = by_ext[text]
                elif len(by_name.get(text, [])) == 1:
                    self._accounts[text] = by_name[text][0]
                elif by_name.get(text):
                    self._accounts[text] = "ambiguous"
                else:
                    self._accounts[text] = None

    def _resolve_accounts(self, rows: list[PreparedRow]) -> None:
        self._account_ids({r.lookups["account"] for r in rows if r.lookups.get("account")})
        for r in rows:
            text = r.lookups.get("account", "")
            hit = self._accounts.get(text)
            if hit == "ambiguous":
                r.fail(
                    "ambiguous_account",
                    _("Several accounts are named “%(value)s”: give the account's external ID instead.")
                    % {"value": text[:80]},
                )
            elif hit is None:
                r.fail(
                    "unknown_account",
                    _("No account has the external ID or name “%(value)s”. Import the account first.")
                    % {"value": text[:80]},
                )
            else:
                r.values["account_id"] = hit

    def _resolve_parents(self, rows: list[PreparedRow]) -> None:
        self._account_ids({r.lookups["parent"] for r in rows if r.lookups.get("parent")})
        for r in rows:
            text = r.lookups.get("parent")
            if not text:
                continue
            hit = self._accounts.get(text)
            if not isinstance(hit, int):
                r.fail("unknown_parent", _("No single account is named “%(value)s”.") % {"value": text[:80]})
            else:
                r.values["parent_id"] = hit

    def _unique(self, rows: list[PreparedRow]) -> None:
        """Unique standards: one query per unique field and batch (case-insensitive for text)."""
        for spec in self.unique_specs:

            def value_of(r: PreparedRow, spec: Any = spec) -> Any:
                return r.custom.get(spec.name) if spec.is_custom else r.values.get(spec.key)

            texts = {str(value_of(r)).strip().casefold() for r in rows if value_of(r) not in (None, "")}
            if not texts:
                continue
            # a custom value as the JSON value's text (a cast keeps its quotes on PostgreSQL)
            column = KT(f"custom__{spec.name}") if spec.is_custom else Cast(spec.key, models.CharField())
            qs = self.model._default_manager.annotate(_u=Lower(column))
            taken = dict(qs.filter(_u__in=list(texts)).values_list("_u", "pk"))
            for r in rows:
                value = value_of(r)
                if value in (None, ""):
                    continue
                pk = taken.get(str(value).strip().casefold())
                if pk is not None and not (self.mode != ImportMode.CREATE and pk == r.existing_id):
                    r.lookups.setdefault("_unique_conflicts", "")
                    r.lookups["_unique_conflicts"] += f"{spec.key}={pk};"

    def _keys(self, rows: list[PreparedRow]) -> None:
        """The dedup match keys of each row, by the model's registration (`kehu.dedup.registry`)."""
        from kehu.dedup.registry import has_keys, key_source

        if not has_keys(self.job.target):
            return
        source = key_source(self.job.target)
        plain = tuple(source.plain_names | set(source.watch))
        for r in rows:
            values = r.values
            data: dict[str, Any] = {n: values[n] for n in plain if n in values}
            data["phones"] = [{"number": n} for _k, n, _p in r.phones]
            data["emails"] = [{"email": e} for _k, e, _p in r.emails]
            r.keys = set(source.keys_from_values(data))

    def _match_values(self, r: PreparedRow) -> list[tuple[str, str]]:
        """The (kind, value) pairs that identify the row's record: the match key, or with none
        (create mode) the external id and every dedup key."""
        key = self.match_key
        if key == "external_id":
            return [("external_id", r.values["external_id"])] if r.values.get("external_id") else []
        if key == "email":
            return sorted((k, x) for k, x in r.keys if k == "email")
        if key in ("phone", "mobile"):
            return sorted((k, x) for k, x in r.keys if k == "phone")
        if key == "tax_number":
            return [(k, x) for k, x in r.keys if k == "tax_number"]
        if key.startswith("custom."):
            value = r.custom.get(key[7:])
            return [(key, str(value).strip().casefold())] if value not in (None, "") else []
        found = [("external_id", r.values["external_id"])] if r.values.get("external_id") else []
        return found + sorted(r.keys)

    def _find_existing(self, rows: list[PreparedRow]) -> dict[tuple[str, str], set[int]]:
        from django.contrib.contenttypes.models import ContentType

        from kehu.dedup.models import MatchKey
        from kehu.dedup.services import dedup_flush

        dedup_flush()  # keys queued by saves on this connection (as the collision check does)
        wanted: dict[str, set[str]] = defaultdict(set)
        for r in rows:
            for kind, value in self._match_values(r):
                wanted[kind].add(value)
        hits: dict[tuple[str, str], set[int]] = defaultdict(set)
        manager = self.model._default_manager
        quote = connection.ops.quote_name
        if wanted.get("external_id"):
            where, params = values_in("external_id", wanted.pop("external_id"))
            table = quote(self.model._meta.db_table)
            for ext, pk in select_rows(f"SELECT external_id, id FROM {table} WHERE {where}", params):  # noqa: S608 - model table
                hits[("external_id", ext)].add(pk)
        for kind in [k for k in wanted if k.startswith("custom.")]:
            texts = list(wanted.pop(kind))
            qs = manager.annotate(_u=Lower(KT(f"custom__{kind[7:]}")))
            for value, pk in qs.filter(_u__in=texts).values_list("_u", "pk"):
                hits[(kind, value)].add(pk)
        if wanted:
            ct = ContentType.objects.get_for_model(self.model)
            table = quote(MatchKey._meta.db_table)
            for kind, values in wanted.items():  # one query per kind: the (kind, value) index
                where, params = values_in("value", values)
                sql = (
                    f"SELECT value, object_id FROM {table} "  # noqa: S608 - model table
                    f"WHERE content_type_id = %s AND kind = %s AND {where}"
                )
                for value, pk in select_rows(sql, [ct.pk, kind, *params]):
                    hits[(kind, value)].add(pk)
        return hits

    def _decide(self, rows: list[PreparedRow]) -> None:
        hits = self._find_existing(rows)
        mode, on_dup = self.mode, self.job.on_duplicate
        for r in rows:
            keys = self._match_values(r)
            earlier = next((line for line in map(self.seen.get, keys) if line is not None), None)
            matched: set[int] = set()
            for k in keys:
                matched |= hits.get(k, set())
            if earlier is not None and on_dup != DuplicateAction.CREATE:
                r.action, r.reason = SKIP, "duplicate_in_file"
                r.message = _("Same %(key)s as row %(row)d of the file.") % {
                    "key": self._key_label(keys),
                    "row": earlier,
                }
                continue
            if mode == ImportMode.CREATE:
                if matched and on_dup == DuplicateAction.SKIP:
                    r.action, r.reason = SKIP, "matches_existing"
                    r.message = _("A record with the same %(key)s exists (#%(id)s).") % {
                        "key": self._key_label(keys),
                        "id": min(matched),
                    }
                elif matched and on_dup == DuplicateAction.UPDATE:
                    self._to_update(r, matched, keys)
                else:
                    r.action = CREATE
            elif matched:
                self._to_update(r, matched, keys)
            elif mode == ImportMode.UPDATE:
                r.action, r.reason = SKIP, "no_match"
                r.message = _("No record has this %(key)s.") % {"key": self._key_label(keys)}
            else:
                r.action = CREATE
            if (
                r.action == CREATE
                and r.values.get("external_id")
                and hits.get(("external_id", r.values["external_id"]))
            ):
                r.fail("external_id_taken", _("Another record already has this external ID."))
            conflicts = r.lookups.get("_unique_conflicts", "")
            if r.action in (CREATE, UPDATE) and conflicts:
                others = [c for c in conflicts.split(";") if c and int(c.split("=")[1]) != r.existing_id]
                if others:
                    r.fail(
                        "not_unique",
                        _("Another record already has the value of %(fields)s.")
                        % {
                            "fields": ", ".join(
                                sorted({self.labels.get(c.split("=")[0], c.split("=")[0]) for c in others})
                            )
                        },
                    )
            ext = r.values.get("external_id")
            if r.action in (CREATE, UPDATE) and ext:
                first = self.external_ids.setdefault(ext, r.line)
                if first != r.line:  # unique in the table: two rows cannot both have it
                    r.fail(
                        "external_id_repeated",
                        _("Row %(row)d of the file has the same external ID.") % {"row": first},
                    )
            if r.action in (CREATE, UPDATE):
                self._unique_in_file(r)
            if r.action in (CREATE, UPDATE):
                for k in keys:
                    self.seen.setdefault(k, r.line)

    def _unique_in_file(self, r: PreparedRow) -> None:
        """A unique standard's value may appear on one row of the file only."""
        values = []
        for spec in self.unique_specs:
            value = r.custom.get(spec.name) if spec.is_custom else r.values.get(spec.key)
            if value in (None, ""):
                continue
            key = (spec.key, str(value).strip().casefold())
            first = self.unique_seen.get(key)
            if first is not None and first != r.line:
                r.fail(
                    "not_unique_in_file",
                    _("Row %(row)d of the file has the same %(field)s.")
                    % {"row": first, "field": self.labels.get(spec.key, spec.key)},
                )
                return
            values.append(key)
        for key in values:
            self.unique_seen.setdefault(key, r.line)

    def _to_update(self, r: PreparedRow, matched: set[int], keys: list[tuple[str, str]]) -> None:
        if len(matched) > 1:
            r.fail(
                "several_matches",
                _("%(count)d records have this %(key)s; the row cannot tell which one to update.")
                % {"count": len(matched), "key": self._key_label(keys)},
            )
            return
        r.action, r.existing_id = UPDATE, next(iter(matched))

    def _key_label(self, keys: list[tuple[str, str]]) -> str:
        if self.match_key:
            return self.labels.get(self.match_key, self.match_key)
        kinds = sorted({k for k, _v in keys})
        return "/".join(self.labels.get(k, k) for k in kinds) or pgettext("import match", "key")


def _unique_names(values: Iterable[Any]) -> list[str]:
    seen: set[str] = set()
    out = []
    for value in values:
        name = str(value).strip()[:50]
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            out.append(name)
    return out


class TagCheck:
    """Which tag names an import of `label` by `by` can put on records: an active tag for these
    records, or a new name when `by` may create tags (the writer creates it). `problem(name)` is
    the translated reason a name cannot be used, or ``""``."""

    def __init__(self, label: str, by: Any) -> None:
        from kehu.core.choices import Action
        from kehu.core.permissions import can
        from kehu.tags.models import Tag

        self.usable: set[str] = set()
        self.unusable: dict[str, str] = {}
        for tag in Tag.objects.select_related("group"):
            key = tag.name.casefold()
            if tag.is_active and tag.applies_to(label):
                self.usable.add(key)
            elif not tag.applies_to(label):
                self.unusable.setdefault(key, _("The tag “%(name)s” is not used for these records."))
            else:
                self.unusable.setdefault(key, _("The tag “%(name)s” is inactive."))
        self.may_create = can(by, Tag, Action.ADD)

    def problem(self, name: str) -> str:
        key = name.casefold()
        if key in self.usable:
            return ""
        if key in self.unusable:
            return self.unusable[key] % {"name": name}
        if self.may_create:
            return ""
        return _("There is no tag “%(name)s”, and you may not create tags.") % {"name": name}


def batches(rows: Iterable[RawRow], size: int = BATCH_SIZE) -> Iterator[list[RawRow]]:
    """The file rows in lists of `size`."""
    batch: list[RawRow] = []
    for raw in rows:
        batch.append(raw)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
