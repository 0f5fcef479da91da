"""Pools (公海): put in, claim, return, assign, transfer, recycle.

INTERFACE (owned by the pools engineer; lead creation and assignment call ``pool_put``):

* ``pool_put(*, pool, records, by, reason="") -> int``: put leads/accounts into a pool (no owner).
* ``pool_claim(*, pool, ids, by) -> list``; ``pool_return(*, records, by, reason="")``;
  ``pool_assign(*, pool, ids, to, by)``; ``pool_transfer(*, records, to_pool, by, reason="")``;
  ``pool_recycle_due(*, now=None) -> int`` (the scheduled job), ``pool_recycle_preview(*, pool, on)``.

Records are leads (a lead pool, 线索池) or accounts (an account pool, 客户公海); `ids` are the ids of
those records (not of their `PoolItem`). Every move writes a `PoolHistory` row and a timeline event
on the record (``pool.*``); owner changes are saved with ``save(update_fields=...)`` so the change
recorder writes the operation log, except claims and assignments: they update their records with one
UPDATE and write the operation log, the history and the timeline in bulk (``_take``), so claiming
one record costs a fixed number of statements (at most five on PostgreSQL, where the writes go as one
statement; at most nine on SQLite) and claiming many costs no more statements.

Race safety (claims): the claimer's user row is locked first (``FOR NO KEY UPDATE``: parallel claims
of one user queue up, so the "records owned at once" count is exact), then the day's
`PoolClaimCounter` row (counted up and locked by one upsert: the daily limit), then the records
with their `PoolItem` rows, in record id order, in one statement (no ``SKIP LOCKED``: a claim
waiting on a row another claim holds reads it again after that commit and answers "just claimed by
someone else").

Accounts: the account's contacts follow its owner. Put back into a pool (put, return, recycle), the
contacts lose their owner too (the previous owner no longer sees the customer's people); claimed or
assigned, the contacts and every registered owner cascade of ``customers.account`` (e.g. open tasks)
go to the new owner, as "change owner with related records" does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connections, models, router, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kehu.audit import registry as audit_registry
from kehu.audit import values as audit_values
from kehu.audit.models import ObjectChange, TimelineEvent
from kehu.audit.services import new_object_change, object_changes_record_bulk, timeline_record
from kehu.core import owned
from kehu.core.choices import Action
from kehu.core.context import current
from kehu.core.errors import PermissionDeniedError
from kehu.core.owned import owner_cascades
from kehu.core.permissions import can, is_admin
from kehu.core.rows import built as _built
from kehu.core.rows import column as _column
from kehu.core.rows import convert as _convert
from kehu.core.rows import execute_together as _execute_together
from kehu.core.rows import insert_statements as _insert_statements
from kehu.core.rows import instance as _instance
from kehu.core.rows import lock_clause as _lock_clause
from kehu.core.rows import placeholders as _placeholders
from kehu.core.rows import reader as _reader
from kehu.customers.models import Account, Contact
from kehu.users.models import Department

from ..choices import LeadStatus, PoolAction, PoolKind, RecycleReason, StageKind
from ..errors import AlreadyClaimedError, PoolLimitError, SalesError
from ..models import Lead, Pool, PoolClaimCounter, PoolHistory, PoolItem
from ..selectors.pools import member_pool_ids

# Timeline events (registered in kehu/sales/hooks/pools.py).
EVENT_ENTERED = "pool.entered"
EVENT_CLAIMED = "pool.claimed"
EVENT_RETURNED = "pool.returned"
EVENT_ASSIGNED = "pool.assigned"
EVENT_RECYCLED = "pool.recycled"
EVENT_TRANSFERRED = "pool.transferred"
# Notification kinds.
KIND_WARNING = "sales.pool_recycle_warning"
KIND_RECYCLED = "sales.pool_recycled"

MAX_IDS = 200  # records per claim / assign request
OPEN_LEAD_STATUSES = (LeadStatus.NEW, LeadStatus.CONTACTING, LeadStatus.QUALIFIED)

Record = Lead | Account


# --- helpers ----------------------------------------------------------------------------------


def record_model(pool: Pool) -> type[Lead] | type[Account]:
    return Lead if pool.kind == PoolKind.LEAD else Account


def _record_field(model: type[models.Model]) -> str:
    return "lead" if model is Lead else "account"


def _kind_of(record: Any) -> str:
    if isinstance(record, Lead):
        return PoolKind.LEAD
    if isinstance(record, Account):
        return PoolKind.ACCOUNT
    raise SalesError(_("Only leads and accounts can be in a pool."))


def _name(record: Any) -> str:
    return str(record)


def is_pool_admin(user: Any, pool: Pool) -> bool:
    """A system administrator or one of the pool's administrators."""
    if is_admin(user):
        return True
    return bool(getattr(user, "is_authenticated", False)) and pool.admins.filter(pk=user.pk).exists()


def is_member(user: Any, pool: Pool) -> bool:
    return pool.pk in member_pool_ids(user)


def can_assign_from(user: Any, pool: Pool) -> bool:
    """Pool administrators, and members holding the "assign" action on the pool's records."""
    if is_pool_admin(user, pool):
        return True
    return is_member(user, pool) and can(user, record_model(pool), Action.ASSIGN)


def _event(event: str, record: Any, by: Any, data: dict[str, Any], at: dt.datetime) -> None:
    timeline_record(
        event=event,
        obj=record,
        by=by,
        data=data,
        account_id=record.pk if isinstance(record, Account) else None,
        occurred_at=at,
    )


def _history_row(
    pool: Pool,
    record: Any,
    action: str,
    *,
    at: dt.datetime,
    by: Any = None,
    from_user: Any = None,
    to_user: Any = None,
    to_pool: Pool | None = None,
    reason: str = "",
    recycle_reason: str = "",
) -> PoolHistory:
    return PoolHistory(
        pool=pool,
        lead=record if isinstance(record, Lead) else None,
        account=record if isinstance(record, Account) else None,
        action=action,
        from_user_id=getattr(from_user, "pk", from_user),
        to_user_id=getattr(to_user, "pk", to_user),
        to_pool=to_pool,
        reason=reason[:500],
        recycle_reason=recycle_reason,
        by_id=getattr(by, "pk", None),
        at=at,
    )


def _history(pool: Pool, record: Any, action: str, **values: Any) -> PoolHistory:
    row = _history_row(pool, record, action, **values)
    row.save()
    return row


def _contacts_follow(account_ids: list[int], owner: Any, by: Any) -> int:
    """The contacts of these accounts get `owner` (None: no owner) and the owner's department, in
    one UPDATE, recorded in the operation log."""
    if not account_ids:
        return 0
    owner_id = getattr(owner, "pk", None)
    department_id = getattr(owner, "department_id", None) if owner is not None else None
    rows = list(
        Contact.objects.filter(account_id__in=account_ids)
        .exclude(Q(owner_id=owner_id) & Q(department_id=department_id))
        .values_list("pk", "name", "owner_id", "department_id", "account_id")
    )
    if not rows:
        return 0
    Contact.objects.filter(pk__in=[r[0] for r in rows]).update(
        owner_id=owner_id, department_id=department_id, version=F("version") + 1, updated_at=timezone.now()
    )
    audit = []
    for pk, text, old_owner, old_department, account_id in rows:
        changes: dict[str, Any] = {}
        if old_owner != owner_id:
            changes["owner"] = [old_owner, owner_id]
        if old_department != department_id:
            changes["department"] = [old_department, department_id]
        audit.append((pk, text, changes, ("customers.account", account_id)))
    object_changes_record_bulk(model=Contact, action="update", rows=audit, by=by)
    return len(rows)


def _set_record_owner(record: Any, owner: Any, at: dt.datetime) -> None:
    """Owner (and department) of the record; a lead also restarts `owned_since`."""
    changed = owned.set_owner(record, owner)
    if isinstance(record, Lead):
        record.owned_since = at if owner is not None else None
        changed.append("owned_since")
    record.version += 1  # the row is locked by the caller
    record.save(update_fields=[*changed, "version", "updated_at"])


def _lock_records(model: type[Lead] | type[Account], ids: Sequence[int]) -> dict[int, Any]:
    qs = model.objects.select_for_update(no_key=True, of=("self",)).filter(pk__in=list(ids)).order_by("pk")
    return {r.pk: r for r in qs.select_related("owner")}


def _check_ids(ids: Iterable[Any]) -> list[int]:
    try:
        clean = list(dict.fromkeys(int(i) for i in ids))
    except (TypeError, ValueError) as exc:
        raise SalesError(
            _("Give the ids of the records as whole numbers."), fields={"ids": [_("Not a list of ids.")]}
        ) from exc
    if not clean:
        raise SalesError(_("Choose at least one record."), fields={"ids": [_("Choose at least one record.")]})
    if len(clean) > MAX_IDS:
        message = _("At most %(n)d records at once.") % {"n": MAX_IDS}
        raise SalesError(message, fields={"ids": [message]})
    return clean


def _check_active_user(user: Any, field: str = "to") -> None:
    if user is None or not getattr(user, "is_active", False):
        raise SalesError(
            _("Choose an active user."), code="inactive_owner", fields={field: [_("Not an active user.")]}
        )


# --- statements of the claim, built once -------------------------------------------------------
# A claim runs the same few statements every time. Built by the ORM, compiling them cost more CPU
# than PostgreSQL took to run them (issue 5), so the claim's own statements are plain SQL written
# once per database from the models' table and column names, with values as parameters
# (kehu.core.rows: rows read become model instances through the fields' own converters, rows
# written get their values from the fields, as the ORM would). Standard SQL that SQLite and
# PostgreSQL both run; the row locks (`FOR NO KEY UPDATE OF`) only where the database has them
# (SQLite serialises writing transactions instead, as the ORM's `select_for_update` does there).

# --- put --------------------------------------------------------------------------------------


def _put_one(
    pool: Pool,
    record: Any,
    item: PoolItem | None,
    *,
    by: Any,
    at: dt.datetime,
    action: str,
    event: str,
    reason: str = "",
    recycle_reason: str = "",
    from_pool: Pool | None = None,
) -> PoolItem:
    previous_owner = record.owner
    if item is None:
        item = PoolItem(pool=pool, **{_record_field(type(record)): record})
    item.pool = pool
    item.in_pool = True
    item.entered_at = at
    item.claimed_at = None
    item.claimed_by = None
    item.protected_until = None
    item.warned_at = None
    item.save()
    if previous_owner is not None:
        _set_record_owner(record, None, at)
        if isinstance(record, Account):
            _contacts_follow([record.pk], None, by)
    _history(
        from_pool or pool,
        record,
        action,
        at=at,
        by=by,
        from_user=previous_owner,
        to_pool=pool if from_pool is not None else None,
        reason=reason,
        recycle_reason=recycle_reason,
    )
    data: dict[str, Any] = {"pool": pool.name, "pool_id": pool.pk}
    if previous_owner is not None:
        data["changes"] = {"owner": [str(previous_owner), None]}
    if reason:
        data["body"] = reason
    if recycle_reason:
        data["reason"] = str(RecycleReason(recycle_reason).label)
    _event(event, record, by, data, at)
    return item


@transaction.atomic
def pool_put(*, pool: Pool, records: Iterable[Any], by: Any, reason: str = "") -> int:
    """Put leads or accounts into `pool` (their home pool from now on): no owner, in the pool,
    history "put in pool". An internal service (lead creation, assignment rules, imports): the caller
    decides who may do this. Returns how many records were put in."""
    at = timezone.now()
    records = list(records)
    if not records:
        return 0
    for record in records:
        if _kind_of(record) != pool.kind:
            raise SalesError(
                _("%(record)s cannot go into %(pool)s: that pool holds %(kind)s.")
                % {"record": _name(record), "pool": pool.name, "kind": pool.get_kind_display().lower()}
            )
        if isinstance(record, Lead) and record.is_converted:
            raise SalesError(
                _("%(record)s is converted and cannot go into a pool.") % {"record": _name(record)}
            )
    model = type(records[0])
    field = _record_field(model)
    locked = _lock_records(model, [r.pk for r in records])
    items = {
        getattr(i, f"{field}_id"): i
        for i in PoolItem.objects.select_for_update().filter(**{f"{field}_id__in": list(locked)})
    }
    for pk, record in locked.items():
        _put_one(
            pool,
            record,
            items.get(pk),
            by=by,
            at=at,
            action=PoolAction.ENTER,
            event=EVENT_ENTERED,
            reason=reason,
        )
    return len(locked)


# --- claim ------------------------------------------------------------------------------------


def _lock_user(user: Any) -> Any:
    """Serialise one user's claims (and assignments to them): the owned-records count read next is
    then exact. FOR NO KEY UPDATE does not block inserts that reference the user. Returns the user's
    department, read with the lock (its name goes into the records' operation log)."""

    def build(conn: Any) -> str:
        qn = conn.ops.quote_name
        user_model = get_user_model()
        return (
            f"SELECT u.{qn(_column(user_model, 'department'))}, d.{qn(_column(Department, 'name'))} "  # noqa: S608
            f"FROM {qn(user_model._meta.db_table)} u LEFT OUTER JOIN {qn(Department._meta.db_table)} d "
            f"ON d.{qn(Department._meta.pk.column)} = u.{qn(_column(user_model, 'department'))} "
            f"WHERE u.{qn(user_model._meta.pk.column)} = %s{_lock_clause(conn, 'u')}"
        )

    conn = connections[router.db_for_write(get_user_model())]
    with conn.cursor() as cursor:
        cursor.execute(_built(conn, ("lock_user",), build), [user.pk])
        row = cursor.fetchone()
    if row is None or row[0] is None:
        return None
    return Department(pk=row[0], name=row[1])  # its id and name (the log shows the name)


def _owned_sql(conn: Any, kind: str) -> tuple[str, list[Any]]:
    """`owned_count` as a scalar subquery (the user's id first among its parameters)."""
    qn = conn.ops.quote_name
    if kind == PoolKind.LEAD:
        return (
            f"(SELECT COUNT(*) FROM {qn(Lead._meta.db_table)} WHERE {qn(_column(Lead, 'owner'))} = %s "  # noqa: S608
            f"AND {qn(_column(Lead, 'status'))} IN ({_placeholders(len(OPEN_LEAD_STATUSES))}))",
            [str(s) for s in OPEN_LEAD_STATUSES],
        )
    return (
        f"(SELECT COUNT(*) FROM {qn(Account._meta.db_table)} WHERE {qn(_column(Account, 'owner'))} = %s "  # noqa: S608
        f"AND {qn(_column(Account, 'is_active'))} = %s)",
        [True],
    )


def _count_claims(
    pool: Pool, user: Any, day: dt.date, n: int, *, owned: bool = False
) -> tuple[int, int | None]:
    """Add `n` claims to the user's counter of the pool for `day` in one statement,
    ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``: the day's first claim creates the row
    (parallel first claims meet on the unique constraint), and the row stays locked until the
    transaction ends, so one user's parallel claims of the pool queue here and the daily limit is
    exact. A refused claim rolls the count back with its transaction. Returns the day's claims,
    these `n` included, and with `owned` the records the user owns now (`owned_count`, read by the
    same statement: it runs after the user's row was locked, so its snapshot holds every claim of
    theirs that committed before)."""
    conn = connections[router.db_for_write(PoolClaimCounter)]

    def build(conn: Any) -> tuple[str, list[Any]]:
        qn = conn.ops.quote_name
        opts = PoolClaimCounter._meta
        table = qn(opts.db_table)
        column = {f.name: qn(f.column) for f in opts.concrete_fields}
        key = ", ".join(column[name] for name in ("pool", "user", "day"))
        claims = column["claims"]
        extra, extra_params = _owned_sql(conn, pool.kind) if owned else ("", [])
        # names from the model, values as parameters
        sql = (
            f"INSERT INTO {table} ({key}, {claims}) VALUES (%s, %s, %s, %s) "  # noqa: S608
            f"ON CONFLICT ({key}) DO UPDATE SET {claims} = {table}.{claims} + EXCLUDED.{claims} "
            f"RETURNING {claims}{', ' + extra if extra else ''}"
        )
        return sql, extra_params

    sql, extra_params = _built(conn, ("count_claims", pool.kind if owned else ""), build)
    params = [pool.pk, user.pk, conn.ops.adapt_datefield_value(day), n]
    if owned:
        params += [user.pk, *extra_params]
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if not row:
        return n, None
    return int(row[0]), (int(row[1]) if owned else None)


def owned_count(user: Any, kind: str) -> int:
    """Open leads (new, contacting, qualified) or active accounts the user owns now."""
    if kind == PoolKind.LEAD:
        return Lead.objects.filter(owner_id=user.pk, status__in=OPEN_LEAD_STATUSES).count()
    return Account.objects.filter(owner_id=user.pk, is_active=True).count()


def claims_today(pool: Pool, user: Any, day: dt.date | None = None) -> int:
    day = day or timezone.localdate()
    return (
        PoolClaimCounter.objects.filter(pool=pool, user_id=user.pk, day=day)
        .values_list("claims", flat=True)
        .first()
        or 0
    )


def _cooling_off(
    pool: Pool, model: type[Lead] | type[Account], ids: list[int], user: Any, at: dt.datetime
) -> dict[int, dt.datetime]:
    """When `user` may claim each of these records again after it left them (returned, recycled, or
    put back), in one query; records `user` may claim now are left out."""
    if not pool.cooling_off_days:
        return {}
    field = _record_field(model)
    period = dt.timedelta(days=pool.cooling_off_days)
    actions = (PoolAction.RETURN, PoolAction.RECYCLE, PoolAction.ENTER)

    def build(conn: Any) -> tuple[str, str]:
        qn = conn.ops.quote_name
        record, when = qn(_column(PoolHistory, field)), qn(_column(PoolHistory, "at"))
        head = (
            f"SELECT {record}, MAX({when}) FROM {qn(PoolHistory._meta.db_table)} "  # noqa: S608
            f"WHERE {qn(_column(PoolHistory, 'from_user'))} = %s "
            f"AND {qn(_column(PoolHistory, 'action'))} IN ({_placeholders(len(actions))}) "
            f"AND {when} > %s AND {record} IN ("
        )
        return head, f") GROUP BY {record}"

    conn = connections[router.db_for_read(PoolHistory)]
    head, tail = _built(conn, ("cooling_off", field), build)
    with conn.cursor() as cursor:
        cursor.execute(
            head + _placeholders(len(ids)) + tail,
            [user.pk, *(str(a) for a in actions), conn.ops.adapt_datetimefield_value(at - period), *ids],
        )
        rows = cursor.fetchall()
    return {pk: _convert(conn, PoolHistory, "at", last) + period for pk, last in rows}


def _lock_pool_records(
    pool: Pool, model: type[Lead] | type[Account], ids: list[int]
) -> tuple[dict[int, Any], dict[int, PoolItem]]:
    """The records `ids` that belong to `pool` (in it or claimed from it) with their pool items,
    both rows locked, in one statement, in record id order; other ids are left out."""
    conn = connections[router.db_for_write(model)]
    field = _record_field(model)

    def build(conn: Any) -> tuple[str, str, int]:
        qn = conn.ops.quote_name
        record_columns = _reader(conn, model)[0]
        item_columns = _reader(conn, PoolItem)[0]
        pk = qn(model._meta.pk.column)
        head = (
            f"SELECT {', '.join('r.' + qn(c) for c in record_columns)}, "  # noqa: S608
            f"{', '.join('i.' + qn(c) for c in item_columns)} "
            f"FROM {qn(model._meta.db_table)} r INNER JOIN {qn(PoolItem._meta.db_table)} i "
            f"ON i.{qn(_column(PoolItem, field))} = r.{pk} "
            f"WHERE i.{qn(_column(PoolItem, 'pool'))} = %s AND r.{pk} IN ("
        )
        return head, f") ORDER BY r.{pk}{_lock_clause(conn, 'r', 'i')}", len(record_columns)

    head, tail, width = _built(conn, ("lock_pool_records", field), build)
    with conn.cursor() as cursor:
        cursor.execute(head + _placeholders(len(ids)) + tail, [pool.pk, *ids])
        rows = cursor.fetchall()
    records: dict[int, Any] = {}
    items: dict[int, PoolItem] = {}
    for row in rows:
        record = _instance(conn, model, row[:width])
        item = _instance(conn, PoolItem, row[width:])
        record._state.fields_cache["pool_item"] = item  # as select_related("pool_item") leaves it
        records[record.pk], items[record.pk] = record, item
    return records, items


def _check_in_pool(
    pool: Pool, model: type[Lead] | type[Account], ids: list[int], items: dict[int, PoolItem]
) -> None:
    field = _record_field(model)
    for pk in ids:
        item = items.get(pk)
        if item is not None and item.pool_id == pool.pk and item.in_pool:
            continue
        record = model.objects.filter(pk=pk).first()
        if item is None:
            item = PoolItem.objects.filter(**{f"{field}_id": pk}).first()
        if record is None or item is None or item.pool_id != pool.pk:
            message = _("Record %(id)s is not in the pool %(pool)s.") % {"id": pk, "pool": pool.name}
            if record is not None and item is not None and item.in_pool:
                message = _("%(record)s has moved to another pool.") % {"record": _name(record)}
                raise AlreadyClaimedError(message, fields={"ids": [message]})
            raise SalesError(message, code="not_in_pool", fields={"ids": [message]})
        message = _("%(record)s was just claimed by someone else.") % {"record": _name(record)}
        raise AlreadyClaimedError(message, fields={"ids": [message]})


def _check_limits(pool: Pool, user: Any, n: int, done: int, owned: int | None = None) -> None:
    """`done`: the user's claims of the pool today before these `n`; `owned`: the records the user
    owns now, when already read (`_count_claims`)."""
    limit = pool.max_claims_per_day
    if limit is not None and done + n > limit:
        left = max(limit - done, 0)
        message = ngettext(
            "Pool %(pool)s allows %(limit)d claim per user per day; you have claimed %(done)d today "
            "and may claim %(left)d more.",
            "Pool %(pool)s allows %(limit)d claims per user per day; you have claimed %(done)d today "
            "and may claim %(left)d more.",
            limit,
        ) % {"pool": pool.name, "limit": limit, "done": done, "left": left}
        raise PoolLimitError(message, code="pool_daily_limit", fields={"ids": [message]})
    if pool.max_owned is not None:
        current = owned_count(user, pool.kind) if owned is None else owned
        if current + n > pool.max_owned:
            kind = str(PoolKind(pool.kind).label).lower()
            message = _(
                "Pool %(pool)s allows at most %(limit)d %(kind)s owned at once; %(user)s owns %(owned)d."
            ) % {"pool": pool.name, "limit": pool.max_owned, "kind": kind, "user": user, "owned": current}
            raise PoolLimitError(message, code="pool_owned_limit", fields={"ids": [message]})


def _event_row(event: str, record: Any, by: Any, data: dict[str, Any], at: dt.datetime) -> TimelineEvent:
    """The timeline event `timeline_record` writes, unsaved (for one bulk insert); `by` is a user."""
    ctx = current()
    return TimelineEvent(
        occurred_at=at,
        event=event[:64],
        model=record._meta.label_lower,
        object_id=record.pk,
        object_repr=audit_values.short_repr(record),
        account_id=record.pk if isinstance(record, Account) else None,
        actor_id=by.pk,
        actor_name=audit_values.short_repr(by)[:150],
        data=audit_values.json_safe(data),
        request_id=(ctx.request_id or "")[:64],
    )


def _update_items(
    conn: Any, item_ids: list[int], *, to: Any, at: dt.datetime, protected_until: dt.datetime | None
) -> tuple[str, list[Any]]:
    """The pool items leave the pool for `to` (one UPDATE, to run)."""

    def build(conn: Any) -> str:
        qn = conn.ops.quote_name
        sets = ", ".join(
            f"{qn(_column(PoolItem, name))} = %s"
            for name in ("in_pool", "claimed_at", "claimed_by", "protected_until", "warned_at")
        )
        return f"UPDATE {qn(PoolItem._meta.db_table)} SET {sets} WHERE {qn(PoolItem._meta.pk.column)} IN ("  # noqa: S608

    adapt = conn.ops.adapt_datetimefield_value
    return (
        _built(conn, ("update_items",), build) + _placeholders(len(item_ids)) + ")",
        [False, adapt(at), to.pk, adapt(protected_until), None, *item_ids],
    )


def _update_owner(
    conn: Any,
    model: type[Lead] | type[Account],
    ids: list[int],
    *,
    to: Any,
    now: dt.datetime,
    at: dt.datetime,
) -> tuple[str, list[Any]]:
    """The records get `to` and `to`'s department as owner, a new version (a lead: `owned_since`):
    one UPDATE, to run."""

    def build(conn: Any) -> str:
        qn = conn.ops.quote_name
        version = qn(_column(model, "version"))
        names = ["owner", "department", "updated_at", *(["owned_since"] if model is Lead else [])]
        sets = ", ".join(f"{qn(_column(model, name))} = %s" for name in names)
        return (
            f"UPDATE {qn(model._meta.db_table)} SET {sets}, {version} = {version} + 1 "  # noqa: S608
            f"WHERE {qn(model._meta.pk.column)} IN ("
        )

    adapt = conn.ops.adapt_datetimefield_value
    params = [to.pk, getattr(to, "department_id", None), adapt(now)]
    if model is Lead:
        params.append(adapt(at))
    return (
        _built(conn, ("update_owner", model._meta.label_lower), build) + _placeholders(len(ids)) + ")",
        [*params, *ids],
    )


def _take(
    pool: Pool,
    records: dict[int, Any],
    items: dict[int, PoolItem],
    *,
    to: Any,
    department: Any,
    by: Any,
    at: dt.datetime,
    action: str,
    event: str,
) -> list[Any]:
    """Give the locked `records` of the pool to `to` (`department`: `to`'s, for the operation log)
    with a fixed number of statements whatever their number: one UPDATE of the pool items, one of
    the records, and bulk inserts of the operation log, the pool history and the timeline events.
    The records are updated without ``save()``: the operation log is written here as the change
    recorder would write it (from the locked rows, without reading them again), and neither the
    search index nor the duplicate keys hold the owner, so nothing there needs indexing again."""
    if not records:
        return []
    ids = list(records)
    model = type(records[ids[0]])
    protected_until = at + dt.timedelta(days=pool.protection_days) if pool.protection_days else None
    conn = connections[router.db_for_write(model)]
    writes = [
        _update_items(conn, [items[pk].pk for pk in ids], to=to, at=at, protected_until=protected_until)
    ]
    now = timezone.now()
    entry = audit_registry.get(model)
    log: list[ObjectChange] = []
    history: list[PoolHistory] = []
    events: list[TimelineEvent] = []
    data = {"pool": pool.name, "pool_id": pool.pk, "changes": {"owner": [None, str(to)]}}
    by_user = by is not None and getattr(by, "is_authenticated", False) and by.pk is not None
    for pk in ids:
        record, item = records[pk], items[pk]
        item.in_pool, item.claimed_at, item.claimed_by = False, at, to
        item.protected_until, item.warned_at = protected_until, None
        before = audit_registry.snapshot(record) if entry is not None else None
        owned.set_owner(record, to)
        if department is not None and record.department_id == department.pk:
            record.department = department  # its name for the log without a query
        if isinstance(record, Lead):
            record.owned_since = at
        record.version += 1  # the row is locked
        record.updated_at = now
        if entry is not None and before is not None:
            changes = audit_registry.diff(record, before)
            if changes:
                parent_label, parent_id = entry.parent_of(record)
                log.append(
                    new_object_change(
                        model_label=entry.label,
                        object_id=pk,
                        object_repr=audit_values.short_repr(record),
                        action="update",
                        changes=changes,
                        by=by,
                        parent=(parent_label, parent_id) if parent_label else None,
                        time=now,
                    )
                )
        history.append(_history_row(pool, record, action, at=at, by=by, to_user=to))
        if by_user:
            events.append(_event_row(event, record, by, data, at))
        else:
            _event(event, record, by, data, at)
    writes.append(_update_owner(conn, model, ids, to=to, now=now, at=at))
    for written, rows in ((ObjectChange, log), (PoolHistory, history), (TimelineEvent, events)):
        writes += _insert_statements(conn, written, rows)
    # PostgreSQL: the five writes in one statement (one round trip); SQLite: one after another
    _execute_together(conn, writes)
    if pool.kind == PoolKind.ACCOUNT:
        _contacts_follow(ids, to, by)
        for cascade in owner_cascades("customers.account"):
            cascade.fn(parent_ids=ids, owner=to, by=by)
    return [records[pk] for pk in ids]


def pool_claim(*, pool: Pool, ids: Iterable[Any], by: Any) -> list[Any]:
    """Claim (领取) the records `ids` of `pool` for `by`: all or none. Refused for non-members, beyond
    the daily claim limit or the records-owned limit, during the cooling-off period of a previous
    owner, and for a record no longer in the pool (409: just claimed by someone else)."""
    return pool_claim_counted(pool=pool, ids=ids, by=by)[0]


@transaction.atomic
def pool_claim_counted(*, pool: Pool, ids: Iterable[Any], by: Any) -> tuple[list[Any], int]:
    """`pool_claim`, also returning how many records `by` has claimed from `pool` today (these
    included). Locks, in this order: the user, the day's claim counter, then each record with its
    pool item (in record id order). Statements: lock the user; count the claim (with the records the
    user owns); lock the records; the cooling-off look-up; the writes (one statement on PostgreSQL,
    five on SQLite). Claiming more records at once adds none."""
    clean = _check_ids(ids)
    model = record_model(pool)
    if not pool.is_active or not is_member(by, pool) or not can(by, model, Action.VIEW):
        raise PermissionDeniedError(_("You are not a member of the pool %(pool)s.") % {"pool": pool.name})
    at = timezone.now()
    department = _lock_user(by)
    today, owned_now = _count_claims(
        pool, by, timezone.localdate(at), len(clean), owned=pool.max_owned is not None
    )
    records, items = _lock_pool_records(pool, model, clean)
    _check_in_pool(pool, model, clean, items)
    cooling = _cooling_off(pool, model, clean, by, at)
    for pk in clean:
        until = cooling.get(pk)
        if until is not None:
            message = _(
                "%(record)s left you recently; pool %(pool)s lets you claim it again from %(date)s."
            ) % {
                "record": _name(records[pk]),
                "pool": pool.name,
                "date": timezone.localtime(until).strftime("%Y-%m-%d %H:%M"),
            }
            raise PoolLimitError(message, code="pool_cooling_off", fields={"ids": [message]})
    _check_limits(pool, by, len(clean), today - len(clean), owned_now)
    out = _take(
        pool,
        records,
        items,
        to=by,
        department=department,
        by=by,
        at=at,
        action=PoolAction.CLAIM,
        event=EVENT_CLAIMED,
    )
    return out, today


# --- assign -----------------------------------------------------------------------------------


@transaction.atomic
def pool_assign(*, pool: Pool, ids: Iterable[Any], to: Any, by: Any) -> list[Any]:
    """Give records of the pool to `to` (分配): pool administrators, or members holding "assign".
    Limits of members (daily claims, owned records, cooling-off) do not bind an assignment; `to`
    must be an active user who may view the pool's kind of records."""
    clean = _check_ids(ids)
    model = record_model(pool)
    if not can_assign_from(by, pool):
        raise PermissionDeniedError(
            _("You may not assign records from the pool %(pool)s.") % {"pool": pool.name}
        )
    _check_active_user(to)
    if not can(to, model, Action.VIEW):
        message = _("%(user)s may not see %(kind)s.") % {
            "user": to,
            "kind": str(PoolKind(pool.kind).label).lower(),
        }
        raise SalesError(message, fields={"to": [message]})
    at = timezone.now()
    department = _lock_user(to)
    records, items = _lock_pool_records(pool, model, clean)
    _check_in_pool(pool, model, clean, items)
    return _take(
        pool,
        records,
        items,
        to=to,
        department=department,
        by=by,
        at=at,
        action=PoolAction.ASSIGN,
        event=EVENT_ASSIGNED,
    )


# --- return -----------------------------------------------------------------------------------


def _may_return(by: Any, record: Any, pool: Pool) -> bool:
    if record.owner_id is not None and record.owner_id == getattr(by, "pk", None):
        return True
    if is_pool_admin(by, pool):
        return True
    model = type(record)
    return model.objects.restrict(by, Action.ASSIGN).filter(pk=record.pk).exists()


@transaction.atomic
def pool_return(*, records: Iterable[Any], by: Any, reason: str = "", pool: Pool | None = None) -> int:
    """Return (退回) owned records to their home pool (`pool`: the pool for records that never were in
    one; records of another pool are then refused):
    the owner, pool administrators or users who may assign the record. A reason is required when the
    pool says so. Returns how many records went back."""
    records = list(records)
    reason = (reason or "").strip()
    if not records:
        raise SalesError(_("Choose at least one record."), fields={"ids": [_("Choose at least one record.")]})
    model = type(records[0])
    if any(type(r) is not model for r in records):
        raise SalesError(_("Return leads and accounts separately."))
    field = _record_field(model)
    at = timezone.now()
    locked = _lock_records(model, [r.pk for r in records])
    items = _locked_items_any(field, list(locked))
    count = 0
    for pk, record in locked.items():
        item = items.get(pk)
        home = item.pool if item is not None else pool
        if pool is not None and item is not None and item.pool_id != pool.pk:
            message = _("%(record)s belongs to the pool %(pool)s.") % {
                "record": _name(record),
                "pool": item.pool.name,
            }
            raise SalesError(message, code="other_pool", fields={"ids": [message]})
        if home is None:
            message = _("%(record)s has no pool: choose the pool to return it to.") % {
                "record": _name(record)
            }
            raise SalesError(message, code="no_pool", fields={"pool": [message]})
        if home.kind != _kind_of(record):
            raise SalesError(
                _("%(record)s cannot go into %(pool)s: that pool holds %(kind)s.")
                % {"record": _name(record), "pool": home.name, "kind": home.get_kind_display().lower()}
            )
        if item is not None and item.in_pool:
            message = _("%(record)s is already in the pool %(pool)s.") % {
                "record": _name(record),
                "pool": home.name,
            }
            raise AlreadyClaimedError(message, code="already_in_pool", fields={"ids": [message]})
        if isinstance(record, Lead) and record.is_converted:
            message = _("%(record)s is converted and cannot go back to a pool.") % {"record": _name(record)}
            raise SalesError(message, code="lead_converted", fields={"ids": [message]})
        if not _may_return(by, record, home):
            raise PermissionDeniedError(
                _("Only the owner or a manager may return %(record)s to the pool.")
                % {"record": _name(record)}
            )
        if home.return_reason_required and not reason:
            message = _("Pool %(pool)s needs a reason for a return.") % {"pool": home.name}
            raise SalesError(
                message, code="reason_required", fields={"reason": [_("This field is required.")]}
            )
        _put_one(
            home, record, item, by=by, at=at, action=PoolAction.RETURN, event=EVENT_RETURNED, reason=reason
        )
        count += 1
    return count


def _locked_items_any(field: str, ids: list[int]) -> dict[int, PoolItem]:
    qs = (
        PoolItem.objects.select_for_update(no_key=True)
        .filter(**{f"{field}_id__in": ids})
        .select_related("pool")
    )
    return {getattr(i, f"{field}_id"): i for i in qs.order_by("pk")}


# --- transfer ---------------------------------------------------------------------------------


@transaction.atomic
def pool_transfer(*, records: Iterable[Any], to_pool: Pool, by: Any, reason: str = "") -> int:
    """Move records that are in a pool to another pool of the same kind (it becomes their home
    pool): administrators of the source pool (or system administrators)."""
    records = list(records)
    if not records:
        raise SalesError(_("Choose at least one record."), fields={"ids": [_("Choose at least one record.")]})
    model = type(records[0])
    field = _record_field(model)
    if not to_pool.is_active:
        message = _("The pool %(pool)s is not active.") % {"pool": to_pool.name}
        raise SalesError(message, fields={"to_pool": [message]})
    at = timezone.now()
    locked = _lock_records(model, [r.pk for r in records])
    items = _locked_items_any(field, list(locked))
    count = 0
    for pk, record in locked.items():
        item = items.get(pk)
        if item is None or not item.in_pool:
            message = _("%(record)s is not in a pool.") % {"record": _name(record)}
            raise AlreadyClaimedError(message, code="not_in_pool", fields={"ids": [message]})
        source = item.pool
        if to_pool.kind != source.kind:
            message = _("%(pool)s holds %(kind)s.") % {
                "pool": to_pool.name,
                "kind": to_pool.get_kind_display().lower(),
            }
            raise SalesError(message, fields={"to_pool": [message]})
        if not is_pool_admin(by, source):
            raise PermissionDeniedError(
                _("Only administrators of the pool %(pool)s may transfer its records.")
                % {"pool": source.name}
            )
        if source.pk == to_pool.pk:
            continue
        _put_one(
            to_pool,
            record,
            item,
            by=by,
            at=at,
            action=PoolAction.TRANSFER,
            event=EVENT_TRANSFERRED,
            reason=reason.strip(),
            from_pool=source,
        )
        count += 1
    return count


# --- recycling --------------------------------------------------------------------------------


@dataclass
class RecycleDue:
    """A record that will be recycled: when, and why."""

    item: PoolItem
    record: Any
    owner: Any
    due_at: dt.datetime
    reason: str  # RecycleReason
    start: dt.datetime  # when the current ownership began
    last_follow_up: dt.datetime | None

    @property
    def reason_label(self) -> str:
        return str(RecycleReason(self.reason).label)


def _won_since(account_ids: list[int]) -> dict[int, dt.datetime]:
    """The latest won close date of each account's opportunities."""
    from ..models import Opportunity

    rows = (
        Opportunity.objects.filter(account_id__in=account_ids, status=StageKind.WON)
        .values("account_id")
        .annotate(last=models.Max("closed_at"))
    )
    return {r["account_id"]: r["last"] for r in rows if r["last"] is not None}


def _candidates(pool: Pool, horizon: dt.datetime, only: int | None = None) -> list[PoolItem]:
    """Owned records of the pool that may be due by `horizon` (a database pre-filter; the exact due
    date is computed in Python)."""
    n, m = pool.recycle_no_follow_up_days, pool.recycle_not_converted_days
    if n is None and m is None:
        return []
    field = "lead" if pool.kind == PoolKind.LEAD else "account"
    start = (
        Coalesce(f"{field}__owned_since", "claimed_at")
        if field == "lead"
        else Coalesce("claimed_at", "entered_at")
    )
    qs = (
        PoolItem.objects.filter(pool=pool, in_pool=False, **{f"{field}__owner__isnull": False})
        .annotate(start=start, follow=Greatest(Coalesce(f"{field}__last_activity_at", start), start))
        .exclude(start__isnull=True)
    )
    if field == "lead":
        qs = qs.exclude(lead__status=LeadStatus.CONVERTED)
    if only is not None:  # one pool item (the recheck under the row locks)
        qs = qs.filter(pk=only)
    q = Q(pk__in=[])
    if n is not None:
        q |= Q(follow__lte=horizon - dt.timedelta(days=n))
    if m is not None:
        q |= Q(start__lte=horizon - dt.timedelta(days=m))
    return list(qs.filter(q).select_related(field, f"{field}__owner").order_by("pk"))


def _due(pool: Pool, horizon: dt.datetime, only: int | None = None) -> list[RecycleDue]:
    items = _candidates(pool, horizon, only)
    if not items:
        return []
    won = _won_since([i.account_id for i in items if i.account_id]) if pool.kind == PoolKind.ACCOUNT else {}
    out = []
    for item in items:
        record: Any = item.lead or item.account
        start: dt.datetime = item.start  # type: ignore[attr-defined]
        last = record.last_activity_at
        follow = max(last, start) if last is not None else start
        dues: list[tuple[dt.datetime, str]] = []
        if pool.recycle_no_follow_up_days is not None:
            dues.append(
                (follow + dt.timedelta(days=pool.recycle_no_follow_up_days), RecycleReason.NO_FOLLOW_UP)
            )
        if pool.recycle_not_converted_days is not None:
            won_at = won.get(record.pk)
            if won_at is None or won_at < start:
                dues.append(
                    (start + dt.timedelta(days=pool.recycle_not_converted_days), RecycleReason.NOT_CONVERTED)
                )
        if not dues:
            continue
        due_at, reason = min(dues, key=lambda d: d[0])
        if item.protected_until is not None and item.protected_until > due_at:
            due_at = item.protected_until
        if due_at <= horizon:
            out.append(RecycleDue(item, record, record.owner, due_at, str(reason), start, last))
    return sorted(out, key=lambda d: (d.due_at, d.item.pk))


def pool_recycle_preview(*, pool: Pool, on: dt.date) -> list[RecycleDue]:
    """What the job recycles from `pool` by the end of day `on` (local time), and why; records
    already overdue are included (the next run takes them)."""
    end = timezone.make_aware(dt.datetime.combine(on + dt.timedelta(days=1), dt.time.min))
    return _due(pool, end)


def _recycle_one(pool: Pool, due: RecycleDue, now: dt.datetime) -> bool:
    """Recycle one record in its own transaction, after checking again under the row locks (the
    record, then its pool item: the order of every other move)."""
    model = type(due.record)
    field = _record_field(model)
    with transaction.atomic():
        record = _lock_records(model, [due.record.pk]).get(due.record.pk)
        item = (
            PoolItem.objects.select_for_update(no_key=True)
            .filter(pk=due.item.pk, in_pool=False, pool=pool, **{f"{field}_id": due.record.pk})
            .first()
        )
        if item is None or record is None or record.owner_id is None:
            return False
        if not _due(pool, now, only=item.pk):
            return False
        owner = record.owner
        _put_one(
            pool,
            record,
            item,
            by=None,
            at=now,
            action=PoolAction.RECYCLE,
            event=EVENT_RECYCLED,
            recycle_reason=due.reason,
        )
        _notify_recycled(owner, record, pool, due.reason)  # a row in this transaction; e-mail after commit
    return True


def _in_language(user: Any) -> Any:
    from django.conf import settings

    return translation.override(getattr(user, "language", "") or settings.LANGUAGE_CODE)


def _notify_recycled(owner: Any, record: Any, pool: Pool, reason: str) -> None:
    from kehu.notifications.services import notify

    with _in_language(owner):
        notify(
            recipients=[owner],
            kind=KIND_RECYCLED,
            title=_("%(record)s went back to the pool %(pool)s")
            % {"record": _name(record), "pool": pool.name},
            body=_("Recycled because: %(reason)s.") % {"reason": RecycleReason(reason).label},
            url=pool.get_absolute_url(),
            level="warning",
            target=record,
        )


def _warn(pool: Pool, due: RecycleDue, now: dt.datetime) -> bool:
    from kehu.notifications.services import notify

    updated = PoolItem.objects.filter(pk=due.item.pk, warned_at__isnull=True, in_pool=False).update(
        warned_at=now
    )
    if not updated:
        return False
    with _in_language(due.owner):
        notify(
            recipients=[due.owner],
            kind=KIND_WARNING,
            title=_("%(record)s goes back to the pool %(pool)s on %(date)s")
            % {
                "record": _name(due.record),
                "pool": pool.name,
                "date": timezone.localtime(due.due_at).strftime("%Y-%m-%d"),
            },
            body=_("Reason: %(reason)s. Log a follow-up or make progress to keep it.")
            % {"reason": due.reason_label},
            url=due.record.get_absolute_url(),
            level="warning",
            target=due.record,
        )
    return True


def pool_recycle_due(*, now: dt.datetime | None = None) -> int:
    """The scheduled job: recycle every record that is due (no follow-up for N days, not converted or
    won within M days, past its protection period) back to its home pool, and warn owners K days
    ahead (once per ownership). Idempotent. Returns how many records were recycled."""
    now = now or timezone.now()
    recycled = 0
    for pool in Pool.objects.filter(is_active=True).order_by("pk"):
        for due in _due(pool, now):
            if _recycle_one(pool, due, now):
                recycled += 1
        if pool.recycle_warning_days:
            horizon = now + dt.timedelta(days=pool.recycle_warning_days)
            for due in _due(pool, horizon):
                if due.due_at > now and due.item.warned_at is None:
                    with transaction.atomic():
                        _warn(pool, due, now)
    return recycled


# --- pool configuration (administration) ------------------------------------------------------

POOL_FIELDS = (
    "name",
    "kind",
    "description",
    "is_active",
    "order",
    "max_claims_per_day",
    "max_owned",
    "protection_days",
    "recycle_no_follow_up_days",
    "recycle_not_converted_days",
    "recycle_warning_days",
    "cooling_off_days",
    "return_reason_required",
)
POOL_M2M = ("member_users", "member_departments", "admins")


def _pool_values(pool: Pool, data: dict[str, Any]) -> list[str]:
    unknown = set(data) - set(POOL_FIELDS) - set(POOL_M2M)
    if unknown:
        raise SalesError(
            _("Unknown fields: %(names)s.") % {"names": ", ".join(sorted(unknown))},
            fields={name: [_("Unknown field.")] for name in sorted(unknown)},
        )
    changed = owned.apply_values(pool, data, POOL_FIELDS)
    if "name" in data:
        pool.name = (pool.name or "").strip()
    owned.full_clean_or_raise(pool)
    n, m, k = pool.recycle_no_follow_up_days, pool.recycle_not_converted_days, pool.recycle_warning_days
    if k is not None and n is None and m is None:
        message = _("Set a recycling rule first: a warning needs something to warn about.")
        raise SalesError(message, fields={"recycle_warning_days": [message]})
    for value, field in ((n, "recycle_no_follow_up_days"), (m, "recycle_not_converted_days")):
        if value is not None and value < 1:
            message = _("At least 1 day (leave empty for no recycling).")
            raise SalesError(message, fields={field: [message]})
    return changed


def _pool_m2m(pool: Pool, data: dict[str, Any]) -> None:
    for name in POOL_M2M:
        if name in data:
            getattr(pool, name).set(list(data[name] or []))


@transaction.atomic
def pool_create(*, by: Any, data: dict[str, Any]) -> Pool:
    """A new pool with its members, administrators and rules (``sales.pool`` "add")."""
    owned.check_action(by, Pool, Action.ADD)
    pool = Pool()
    _pool_values(pool, data)
    pool.save()
    _pool_m2m(pool, data)
    return pool


@transaction.atomic
def pool_update(*, pool: Pool, by: Any, data: dict[str, Any]) -> Pool:
    """Change a pool's rules, members or administrators (``sales.pool`` "change"). What a pool holds
    cannot change once records have been in it."""
    owned.check_action(by, Pool, Action.CHANGE)
    current = Pool.objects.select_for_update().get(pk=pool.pk)
    before_kind = current.kind
    changed = _pool_values(current, data)
    if current.kind != before_kind and PoolItem.objects.filter(pool=current).exists():
        message = _("This pool has records: what it holds cannot change.")
        raise SalesError(message, fields={"kind": [message]})
    if changed:
        current.save()
    _pool_m2m(current, data)
    return current


@transaction.atomic
def pool_delete(*, pool: Pool, by: Any) -> None:
    """Delete a pool that never held a record (otherwise: make it inactive)."""
    owned.check_action(by, Pool, Action.DELETE)
    if PoolItem.objects.filter(pool=pool).exists() or PoolHistory.objects.filter(pool=pool).exists():
        raise SalesError(
            _("The pool %(pool)s has records or history: make it inactive instead.") % {"pool": pool.name},
            code="pool_in_use",
        )
    pool.delete()
