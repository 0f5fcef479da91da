"""The import engine's second half: one batch of `PreparedRow`s written in ONE transaction.

A batch commits its records, their detail rows (phones, e-mails, the contact's direct
`AccountContactRelation`, the account's primary address), their dedup match keys, one
`audit.ObjectChange` per created or updated record (``request_id = job.audit_tag``, ``bulk``) and
its `ImportBatch` row together, or nothing at all: a worker killed in the middle leaves whole
batches, and the resumed run starts after the last `ImportBatch`.

Speed: new records get their ids from the table's sequence first (PostgreSQL ``nextval`` over
``generate_series``; SQLite the next free ids inside the IMMEDIATE transaction, which holds the
write lock), so parents and children are written without reading anything back: PostgreSQL
``COPY ... FROM STDIN`` (psycopg 3 ``cursor.copy``), SQLite one ``executemany`` per table. Bulk
writes fire no signals, so the match keys and the change log are written here explicitly and the
search index is rebuilt by a second phase of the job (`search_phase`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.utils import timezone

from kehu.core.context import acting_as
from kehu.customfields.rules import completeness_score

from .engine import CREATE, UPDATE, PreparedRow
from .models import ImportBatch, ImportJob

REPR_MAX = 200

# Rows of higher apps that the import itself makes for the records it creates (an account put into
# a pool gets its pool item and history): undo deletes them with the records. Registered by the
# owning app: ``register_undo_cascade("customers.account", PoolItem, "account")``. Any other row
# that points at a created record makes undo refuse (the record is in use).
UNDO_CASCADE: dict[str, list[tuple[type[models.Model], str]]] = {}


def register_undo_cascade(target: str, model: type[models.Model], field: str) -> None:
    entries = UNDO_CASCADE.setdefault(target, [])
    if (model, field) not in entries:
        entries.append((model, field))


def _sql_value(value: Any) -> Any:
    """A Python value as the SQLite driver stores it the way Django does."""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _pg_value(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def insert_rows(
    table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, plain: bool = False
) -> int:
    """Insert rows (values in `columns` order) into `table`: COPY on PostgreSQL, executemany on
    SQLite. `plain`: on PostgreSQL the values are written as given (the caller already turned
    JSON values into text). Returns the number of rows."""
    count = 0
    with connection.cursor() as wrapper:
        if connection.vendor == "postgresql":
            cur: Any = wrapper.cursor
            names = ", ".join(connection.ops.quote_name(c) for c in columns)
            with cur.copy(f"COPY {connection.ops.quote_name(table)} ({names}) FROM STDIN") as copy:
                write = copy.write_row
                for row in rows:
                    write(row if plain else [_pg_value(v) for v in row])
                    count += 1
        else:
            names = ", ".join(connection.ops.quote_name(c) for c in columns)
            marks = ", ".join("?" for _ in columns)
            data = [[_sql_value(v) for v in row] for row in rows]
            wrapper.cursor.executemany(
                f"INSERT INTO {connection.ops.quote_name(table)} ({names}) VALUES ({marks})",  # noqa: S608 - model table and column names
                data,
            )
            count = len(data)
    return count


def allocate_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` new primary keys of `model`, taken before writing (inside the batch transaction)."""
    if count <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [int(r[0]) for r in cur.fetchall()]
        cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")  # noqa: S608 - a model table
        top = int(cur.fetchone()[0])
        cur.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        found = cur.fetchone()
        top = max(top, int(found[0]) if found else 0)
    return list(range(top + 1, top + 1 + count))


def _field_defaults(model: type[models.Model]) -> list[tuple[str, Callable[[], Any] | Any, bool]]:
    """(column, default, callable?) of every concrete field but the primary key."""
    out = []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        if f.has_default():
            default = f.default
            out.append((f.column, default, callable(default)))
        elif f.null:
            out.append((f.column, None, False))
        else:
            out.append((f.column, "" if isinstance(f, models.CharField | models.TextField) else None, False))
    return out


class BatchWriter:
    """Writes the batches of one import job (contacts or accounts)."""

    def __init__(self, job: ImportJob, *, by: Any) -> None:
        from kehu.customers.models import (
            Account,
            AccountAddress,
            AccountContactRelation,
            AccountEmail,
            AccountPhone,
            Contact,
            ContactEmail,
            ContactPhone,
        )
        from kehu.customfields.standards import field_specs

        self.job, self.by = job, by
        self.is_contact = job.target == "customers.contact"
        self.model: type[models.Model] = Contact if self.is_contact else Account
        self.label = self.model._meta.label_lower
        self.phone_model = ContactPhone if self.is_contact else AccountPhone
        self.email_model = ContactEmail if self.is_contact else AccountEmail
        self.parent_fk = "contact_id" if self.is_contact else "account_id"
        self.relation_model = AccountContactRelation
        self.address_model = AccountAddress
        self.defaults = _field_defaults(self.model)
        self.attnames = {f.column: f.attname for f in self.model._meta.concrete_fields}
        self.specs = field_specs(self.model)
        self.content_type_id = ContentType.objects.get_for_model(self.model).pk
        self._tag_ids: dict[str, int] = {}  # folded name -> tag id

    # --- one batch ----------------------------------------------------------------------------

    def write(
        self, *, number: int, first_row: int, last_row: int, rows: list[PreparedRow]
    ) -> ImportBatch | None:
        """Write one batch (idempotent: a batch already committed is not written again)."""
        counts = {"created": 0, "updated": 0, "skipped": 0, "errors": 0}
        for r in rows:
            key = {"create": "created", "update": "updated", "skip": "skipped", "error": "errors"}[r.action]
            counts[key] += 1
        with (
            acting_as(getattr(self.by, "pk", None), source="import", request_id=self.job.audit_tag),
            transaction.atomic(),
        ):
            if ImportBatch.objects.filter(job=self.job, number=number).exists():
                return None
            created = [r for r in rows if r.action == CREATE]
            updated = [r for r in rows if r.action == UPDATE]
            if created:
                self._create(created)
            if updated:
                self._update(updated)
            return ImportBatch.objects.create(
                job=self.job, number=number, first_row=first_row, last_row=last_row, **counts
            )

    def _create(self, rows: list[PreparedRow]) -> None:
        now = timezone.now()
        ids = allocate_ids(self.model, len(rows))
        by_id = getattr(self.by, "pk", None)
        columns = ["id", *(c for c, _d, _c in self.defaults)]
        json_columns = {i for i, c in enumerate(columns) if c == "custom"}
        score_index = columns.index("completeness")
        score = self._fast_scorer(columns)
        records = []
        audit: list[tuple[int, str, str, Any]] = []
        dumps = json.dumps
        for pk, r in zip(ids, rows, strict=True):
            r.existing_id = pk
            values = r.values
            values["custom"] = r.custom
            values["created_by_id"] = by_id
            record: list[Any] = [pk]
            for column, default, is_callable in self.defaults:
                attname = self.attnames[column]
                if attname in values:
                    record.append(values[attname])
                elif column in ("created_at", "updated_at"):
                    record.append(now)
                else:
                    record.append(default() if is_callable else default)
            record[score_index] = (
                score(record, r.custom)
                if score is not None
                else completeness_score(self.specs, _Row(columns, record))  # type: ignore[arg-type]
            )
            for i in json_columns:
                record[i] = dumps(record[i], ensure_ascii=False)
            records.append(record)
            changes = {k: [None, v] for k, v in values.items() if v or (v == 0 and v is not False)}
            if r.tags:
                changes["tags"] = [None, r.tags]
            text = values.get("name") or ""
            audit.append(
                (pk, text, dumps(changes, ensure_ascii=False, default=str), values.get("account_id"))
            )
        insert_rows(self.model._meta.db_table, columns, records, plain=True)
        self._children(rows, now)
        self._match_keys(rows)
        self._put_tags([(r.existing_id, r.tags) for r in rows if r.tags], now, fresh=True)
        self._change_log("create", audit, now)
        if not self.is_contact and self.job.owner_mode == "rules":
            self._assign(ids)
        elif self.job.owner_mode == "pool":
            self._to_pool(ids)

    def _fast_scorer(self, columns: list[str]) -> Callable[[list[Any], dict[str, Any]], int] | None:
        """The completeness score (`kehu.customfields.rules.completeness_score`) read straight from
        a new record's column list and custom dict; None when a field has its own reader."""
        from kehu.customfields.standards import MAX_WEIGHT, is_empty

        plan: list[tuple[int, int, str]] = []  # (weight, column index or -1 for custom, custom name)
        for spec in self.specs:
            weight = max(0, min(MAX_WEIGHT, spec.weight))
            if not weight:
                continue
            if spec.reader is not None:
                return None
            if spec.is_custom:
                plan.append((weight, -1, spec.name))
            elif spec.model_field is not None and spec.model_field.column in columns:
                plan.append((weight, columns.index(spec.model_field.column), ""))
            else:
                return None
        total = sum(w for w, _i, _n in plan)

        def score(record: list[Any], custom: dict[str, Any]) -> int:
            if not total:
                return 100
            filled = sum(w for w, i, n in plan if not is_empty(custom.get(n) if i < 0 else record[i]))
            return round(100 * filled / total)

        return score

    def _assign(self, ids: list[int]) -> None:
        """Owner mode "rules": the assignment rules a higher app registered for accounts
        (`kehu.core.assigners`; one call per record, as the create service makes: the rules
        API has no bulk form yet). No rule, or none that matches: the importer keeps them."""
        from kehu.core import assigners

        for obj in self.model._default_manager.filter(pk__in=ids).order_by("pk"):
            assigners.assign_new_record(record=obj, by=self.by)

    def _to_pool(self, ids: list[int]) -> None:
        """Owner mode "pool": the new records go into the chosen pool through the function the
        pools' app registered (`kehu.core.assigners.put_in_pool`: no owner, in the pool, pool
        history, their change log under the import's audit tag, so undo knows the version)."""
        from kehu.core import assigners

        pool_id = self.job.pool_id
        if pool_id is not None:
            assigners.put_in_pool(model_label=self.label, pool_id=pool_id, ids=ids, by=self.by)

    def _change_log(self, action: str, rows: list[tuple[int, str, str, Any]], now: dt.datetime) -> None:
        """The change-log rows of the batch: the columns the audit service fills
        (`kehu.audit.services.new_object_change`: who, request id = the import's audit tag,
        source, bulk), written with the batch's COPY/executemany instead of one model
        instance and a JSON walk per row (`changes` are already JSON: `rows` hold
        (pk, repr, changes JSON, parent account id or None))."""
        from kehu.audit.models import ObjectChange
        from kehu.audit.services import new_object_change
        from kehu.audit.values import clean_text

        template = new_object_change(
            model_label=self.label, object_id=None, object_repr="", action=action, changes={}, by=self.by,
            bulk=True, time=now,
        )  # fmt: skip
        parent_model = "customers.account" if self.is_contact else ""
        head = (now, template.user_id, template.user_name, template.request_id, template.ip, template.source)
        columns = [
            "time", "user_id", "user_name", "request_id", "ip", "source", "model", "object_id",
            "object_repr", "action", "bulk", "changes", "parent_model", "parent_id",
        ]  # fmt: skip
        insert_rows(
            ObjectChange._meta.db_table,
            columns,
            (
                (
                    *head,
                    self.label,
                    pk,
                    clean_text(text)[:REPR_MAX],
                    action,
                    True,
                    changes,
                    parent_model if parent else "",
                    parent if parent_model else None,
                )
                for pk, text, changes, parent in rows
            ),
            plain=True,
        )

    def _children(self, rows: list[PreparedRow], now: dt.datetime) -> None:
        fk = self.parent_fk
        insert_rows(
            self.phone_model._meta.db_table,
            [fk, "kind", "number", "is_primary"],
            ((r.existing_id, k, n, p) for r in rows for k, n, p in r.phones),
            plain=True,
        )
        insert_rows(
            self.email_model._meta.db_table,
            [fk, "kind", "email", "is_primary"],
            ((r.existing_id, k, e, p) for r in rows for k, e, p in r.emails),
            plain=True,
        )
        if self.is_contact:
            insert_rows(
                self.relation_model._meta.db_table,
                ["account_id", "contact_id", "role", "is_direct", "start_date", "end_date", "created_at"],
                ((r.values["account_id"], r.existing_id, "", True, None, None, now) for r in rows),
                plain=True,
            )
        else:
            insert_rows(
                self.address_model._meta.db_table,
                [
                    "account_id",
                    "kind",
                    "country",
                    "province",
                    "city",
                    "district",
                    "street",
                    "postcode",
                    "is_primary",
                ],
                (
                    (
                        r.existing_id,
                        "office",
                        "",
                        "",
                        "",
                        "",
                        r.values["address"][:300],
                        r.lookups.get("postcode", "")[:16],
                        True,
                    )
                    for r in rows
                    if r.values.get("address")
                ),
            )

    def tag_ids(self, names: Iterable[str]) -> dict[str, int]:
        """``{folded name: tag id}`` of `names`: the active tag for these records, or a new tag
        (`kehu.tags.services.tag_create`; the preparer refused names the user may not create)."""
        from kehu.tags.models import Tag
        from kehu.tags.services import tag_create

        wanted = {n.casefold(): n for n in names}
        missing = [k for k in wanted if k not in self._tag_ids]
        if missing:
            candidates = sorted(
                (
                    t
                    for t in Tag.objects.select_related("group").filter(is_active=True)
                    if t.applies_to(self.label)
                ),
                key=lambda t: (t.group_id is not None, t.pk),
            )
            for tag in candidates:
                self._tag_ids.setdefault(tag.name.casefold(), tag.pk)
            for key in missing:
                if key not in self._tag_ids:
                    self._tag_ids[key] = tag_create(by=self.by, data={"name": wanted[key]}).pk
        return {k: self._tag_ids[k] for k in wanted}

    def _put_tags(self, rows: list[tuple[Any, list[str]]], now: dt.datetime, *, fresh: bool) -> None:
        """Tag records: (record id, tag names). `fresh`: new records (no tag on them yet)."""
        if not rows:
            return
        from kehu.tags.models import TaggedItem

        ids = self.tag_ids({n for _pk, names in rows for n in names})
        items = {(ids[n.casefold()], pk) for pk, names in rows for n in names}
        by_id = getattr(self.by, "pk", None)
        if fresh:
            insert_rows(
                TaggedItem._meta.db_table,
                ["tag_id", "model", "object_id", "created_by_id", "created_at"],
                ((tag, self.label, pk, by_id, now) for tag, pk in sorted(items)),
            )
        else:
            TaggedItem.objects.bulk_create(
                [
                    TaggedItem(tag_id=tag, model=self.label, object_id=pk, created_by_id=by_id)
                    for tag, pk in items
                ],
                ignore_conflicts=True,
                batch_size=1000,
            )

    def _match_keys(self, rows: list[PreparedRow]) -> None:
        from kehu.dedup.models import MatchKey

        ct = self.content_type_id
        insert_rows(
            MatchKey._meta.db_table,
            ["content_type_id", "object_id", "kind", "value"],
            ((ct, r.existing_id, kind, value) for r in rows for kind, value in sorted(r.keys)),
            plain=True,
        )

    def _update(self, rows: list[PreparedRow]) -> None:
        """Update matched records with the row's non-empty values (empty cells keep what is
        stored); the change log keeps each changed field's value before and after, and the
        version (undo refuses when a record moved on since)."""
        from kehu.dedup.services import dedup_reindex

        now = timezone.now()
        skip = {"owner_id", "department_id", "created_by_id"}
        if self.job.owner_mode == "mapped":
            skip = {"created_by_id"}
        wanted = {a for r in rows for a in r.values if a not in skip} | {"custom"}
        ids = [r.existing_id for r in rows]
        current = {
            d["pk"]: d
            for d in self.model._default_manager.filter(pk__in=ids).values("pk", "version", *sorted(wanted))
        }
        planned: list[tuple[int, dict[str, list[Any]]]] = []
        audit = []
        fields: set[str] = set()
        tagged = self._tags_of([r.existing_id for r in rows if r.tags and r.existing_id])
        new_tags: list[tuple[Any, list[str]]] = []
        numbers = self._details_of(self.phone_model, "number", [r.existing_id for r in rows if r.phones])
        addresses = self._details_of(self.email_model, "email", [r.existing_id for r in rows if r.emails])
        new_phones: list[tuple[Any, str, str, bool]] = []
        new_emails: list[tuple[Any, str, str, bool]] = []
        for r in rows:
            before = current.get(r.existing_id)
            if before is None or r.existing_id is None:
                continue
            derived = r.lookups.get("_derived", "").split()
            after = {
                a: v
                for a, v in r.values.items()
                if a not in skip and a not in derived and v not in (None, "")
            }
            if r.custom:
                after["custom"] = {**(before.get("custom") or {}), **r.custom}
            changes = {a: [before.get(a), v] for a, v in after.items() if before.get(a) != v}
            had = tagged.get(r.existing_id, [])
            added = [n for n in r.tags if n.casefold() not in {h.casefold() for h in had}]
            if added:
                changes["tags"] = [had, had + added]
                new_tags.append((r.existing_id, added))
            # Further phones and e-mails of the row join the record's (the primary one is the
            # record's `phone`/`email` column above); "phones"/"emails" log the lists.
            for name, details, known, out in (
                ("phones", r.phones, numbers, new_phones),
                ("emails", r.emails, addresses, new_emails),
            ):
                have = known.get(r.existing_id, [])
                primary = changes.get(name[:-1], [None, None])[1]
                # a new primary value replaces the primary row's (below); with no row yet, it is one
                extra = [(k, v) for k, v, _p in details if v not in have and (v != primary or not have)]
                if extra:
                    changes[name] = [have, have + [v for _k, v in extra]]
                    out.extend((r.existing_id, k, v, not have and i == 0) for i, (k, v) in enumerate(extra))
            if not changes:
                continue
            changes["version"] = [before["version"], before["version"] + 1]
            fields.update(a for a in changes if a not in ("tags", "phones", "emails"))
            planned.append((r.existing_id, changes))
            audit.append(
                (
                    r.existing_id,
                    str(r.values.get("name") or ""),
                    json.dumps(changes, ensure_ascii=False, default=str),
                    None,
                )
            )
            for kind_field, attr in (("phone", "number"), ("email", "email")):
                if kind_field in changes:
                    model = self.phone_model if kind_field == "phone" else self.email_model
                    model._default_manager.filter(
                        **{self.parent_fk: r.existing_id, "is_primary": True}
                    ).update(**{attr: changes[kind_field][1]})
        if not planned:
            return
        self._put_tags(new_tags, now, fresh=False)
        fk = self.parent_fk
        insert_rows(
            self.phone_model._meta.db_table,
            [fk, "kind", "number", "is_primary"],
            new_phones,
        )
        insert_rows(
            self.email_model._meta.db_table,
            [fk, "kind", "email", "is_primary"],
            new_emails,
        )
        objs = []
        for pk, changes in planned:
            before = current[pk]
            obj = self.model(pk=pk)
            for a in fields:
                setattr(obj, a, changes[a][1] if a in changes else before.get(a))
            obj.updated_at = now  # type: ignore[attr-defined]
            objs.append(obj)
        self.model._default_manager.bulk_update(objs, [*sorted(fields), "updated_at"], batch_size=500)
        dedup_reindex(model=self.label, ids=[o.pk for o in objs])
        self._change_log("update", audit, now)

    def _details_of(self, model: Any, column: str, ids: list[Any]) -> dict[int, list[str]]:
        """The phone numbers or e-mail addresses of records `ids`, primary first."""
        found: dict[int, list[str]] = {}
        if ids:
            for pk, value in (
                model._default_manager.filter(**{f"{self.parent_fk}__in": ids})
                .order_by(self.parent_fk, "-is_primary", "pk")
                .values_list(self.parent_fk, column)
            ):
                found.setdefault(pk, []).append(value)
        return found

    def _tags_of(self, ids: list[Any]) -> dict[int, list[str]]:
        """The tag names on records `ids` (for the change log of an update)."""
        from kehu.tags.models import TaggedItem

        found: dict[int, list[str]] = {}
        if ids:
            for pk, name in (
                TaggedItem.objects.filter(model=self.label, object_id__in=ids)
                .order_by("tag__name")
                .values_list("object_id", "tag__name")
            ):
                found.setdefault(pk, []).append(name)
        return found


def detail_models(model: type[models.Model]) -> tuple[Any, Any, str]:
    """(phone model, e-mail model, foreign key attname) of contacts or accounts."""
    from kehu.customers.models import AccountEmail, AccountPhone, Contact, ContactEmail, ContactPhone

    if model is Contact:
        return ContactPhone, ContactEmail, "contact_id"
    return AccountPhone, AccountEmail, "account_id"


class _Row:
    """A record's column values read like a model instance (for the completeness score)."""

    __slots__ = ("_values",)

    def __init__(self, columns: list[str], record: list[Any]) -> None:
        self._values = dict(zip(columns, record, strict=True))

    def __getattr__(self, name: str) -> Any:
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        if name + "_id" in values:
            return values[name + "_id"]
        raise AttributeError(name)
