"""Merging duplicate records (合并): one record survives, the others' related records move to it,
their ids are kept (`MergedRecord`) and everything is audited, in one transaction.

CONTRACT (issue 6): agreed between the merge service (this module, the registry and the API
endpoint POST /api/v1/dedup/merge/) and the review queue UI. Do not change a signature without
saying so.

Apps register what they own that points at a mergeable record (contacts and addresses of an
account, opportunities and leads, interactions and tasks, later quotes, orders and tickets) with
`register_merge_relation` in their `ready()`; the merge re-points every registered relation.

How a relation is re-pointed (``queryset.update``, audited with
``kehu.audit.services.object_changes_record_bulk``):

* unique constraints that include the foreign key (``unique``, ``unique_together``, unconditional
  ``UniqueConstraint``) are read from the related model: a row that would clash with one the
  survivor already has (or with another moved row) is deleted instead of moved (a contact linked
  to both accounts keeps one link, a one-to-one pool record keeps the survivor's);
* a conditional "one primary" constraint (``UniqueConstraint(fields=[fk], condition=Q(flag=True))``)
  keeps the survivor's flagged row, else the first moved one, and clears the flag of the others;
* ``same`` (optional) deduplicates a list by a normalised value (phones, e-mails, addresses);
* ``reset`` sets values on the moved rows (a contact's relation to a merged account stops being
  its direct one);
* a row dropped because the survivor already has one like it passes on what it held: its flag of
  a "one flagged row per <other fields>" constraint that does not name the foreign key (the primary
  contact of an opportunity stays its primary contact), and ``fill`` fields the kept row has empty
  (the contact's role on that opportunity);
* a record's pointer to a record of its own type (an account's parent account) never makes the
  survivor its own parent or its own descendant (`_place_survivor`).

The customers app sits below this one, so its relations (contacts, account-contact relations,
phones, e-mails, addresses, parent accounts) are registered here (`register_builtin_relations`).
Relations by ``(model, object_id)`` (tags, static groups, timeline events, search entries, match
keys, duplicate groups) are handled here as well."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from kehu.core.choices import Action, FieldMode
from kehu.core.errors import DomainError
from kehu.core.text import join_list

from .choices import GroupStatus
from .models import DuplicateGroup, DuplicateMember, MergedRecord, NotDuplicate

MERGEABLE = ("customers.account", "customers.contact", "sales.lead")
MERGED_EVENT = "record.merged"

# Never offered as a per-field choice: kept, derived or maintained by the services.
_NOT_CHOSEN = frozenset(
    {
        "id",
        "version",
        "created_at",
        "updated_at",
        "created_by",
        "department",
        "custom",
        "completeness",
        "last_activity_at",
        "lifecycle_changed_at",
        "owned_since",
        "assignment_rule",
        "is_primary",
        "account",  # a contact keeps its account; the others' accounts become related accounts
        "parent",
        "status",  # a lead keeps its status and conversion
        "converted_at",
        "converted_by",
        "converted_account",
        "converted_contact",
        "converted_opportunity",
    }
)


class DedupError(DomainError):
    """Bad merge input (400), or a record that does not exist or is out of the user's reach (404,
    code "not_found": the same answer for both, so nothing leaks)."""

    code = "invalid"


def _not_found() -> DedupError:
    return DedupError(
        _("Some of these records do not exist or you may not change them."),
        code="not_found",
        status=404,
        fields={"ids": [_("Not found.")]},
    )


@dataclass
class MergeField:
    """One field of the merge preview: each record's value and the value the merge keeps by
    default (the master's, else the newest non-empty)."""

    name: str
    label: str
    values: dict[int, Any]  # record id -> display value
    default_from: int  # the record id whose value is kept by default
    differs: bool


@dataclass
class MergePreview:
    model_label: str
    master_id: int
    records: list[Any]  # model instances, the master first
    fields: list[MergeField] = field(default_factory=list)
    # per relation label: how many related rows each merged record brings
    related: dict[str, dict[int, int]] = field(default_factory=dict)


# --- the registry -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MergeRelation:
    """`related.fk` points at records of `model_label`."""

    model_label: str
    related: type[models.Model]
    fk: str
    same: Callable[[Any], str] | None = None
    reset: tuple[tuple[str, Any], ...] = ()
    fill: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.related._meta.label_lower}.{self.fk}"

    @property
    def label(self) -> str:
        return str(self.related._meta.verbose_name_plural)

    def field(self) -> models.ForeignKey[Any, Any]:
        return self.related._meta.get_field(self.fk)  # type: ignore[return-value]


_relations: dict[str, dict[str, MergeRelation]] = defaultdict(dict)
_builtins_done = False


def register_merge_relation(
    model_label: str,
    related: type[models.Model],
    fk: str,
    *,
    same: Callable[[Any], str] | None = None,
    reset: Mapping[str, Any] | None = None,
    fill: Iterable[str] = (),
) -> None:
    """`related.fk` points at records of `model_label`: re-pointed to the survivor on merge.
    `same(row)`: a normalised value; a moved row equal to one the survivor has is dropped.
    `reset`: values set on the moved rows.
    `fill`: fields of a row the survivor keeps that take the value of the merged record's row it
    replaces (dropped by a unique constraint) when the kept row's is empty."""
    register_builtin_relations()
    label = model_label.lower()
    fk_field = related._meta.get_field(fk)
    target = getattr(fk_field, "related_model", None)
    if not getattr(fk_field, "many_to_one", False) and not getattr(fk_field, "one_to_one", False):
        raise ValueError(f"{related._meta.label_lower}.{fk} is not a foreign key")
    if target is None or target._meta.label_lower != label:
        raise ValueError(f"{related._meta.label_lower}.{fk} does not point at {label}")
    fill = tuple(fill)
    for name in fill:
        related._meta.get_field(name)  # FieldDoesNotExist for a typo
    relation = MergeRelation(
        model_label=label,
        related=related,
        fk=fk,
        same=same,
        reset=tuple(sorted((reset or {}).items())),
        fill=fill,
    )
    _relations[label][relation.key] = relation


MergeHook = Callable[..., None]
_hooks: dict[str, list[MergeHook]] = defaultdict(list)


def register_merge_hook(model_label: str, fn: MergeHook) -> None:
    """`fn(*, master, merged_ids, by)` runs inside the merge after the relations moved and the
    chosen values were saved: an app restores its own invariants (e.g. the sales app keeps a pool
    record's "in the pool" in step with the kept record's owner)."""
    if fn not in _hooks[model_label.lower()]:
        _hooks[model_label.lower()].append(fn)


def merge_relations(model_label: str) -> list[MergeRelation]:
    """Every registered relation pointing at records of `model_label`."""
    register_builtin_relations()
    return list(_relations.get(model_label.lower(), {}).values())


def _phone_key(row: Any) -> str:
    from .normalisers import key_for

    return key_for("phone", row.number) or str(row.number).strip()


def _email_key(row: Any) -> str:
    from .normalisers import key_for

    return key_for("email", row.email) or str(row.email).strip().lower()


def _address_key(row: Any) -> str:
    return " ".join(row.one_line().lower().split())


def register_builtin_relations() -> None:
    """The customers app's relations (it may not import this app) and the merge timeline event.
    Idempotent; runs at the first registration (the sales app's ``ready()``) or first use."""
    global _builtins_done
    if _builtins_done:
        return
    _builtins_done = True
    from kehu.audit import events
    from kehu.audit import selectors as audit_selectors
    from kehu.customers import models as c

    events.register_event(MERGED_EVENT, gettext_lazy("Records merged"), icon="arrows-join")
    audit_selectors.register_former_ids(former_ids)
    account, contact = "customers.account", "customers.contact"
    register_merge_relation(account, c.Account, "parent")
    register_merge_relation(account, c.Contact, "account")
    register_merge_relation(account, c.AccountContactRelation, "account")
    register_merge_relation(account, c.AccountPhone, "account", same=_phone_key)
    register_merge_relation(account, c.AccountEmail, "account", same=_email_key)
    register_merge_relation(account, c.AccountAddress, "account", same=_address_key)
    register_merge_relation(contact, c.AccountContactRelation, "contact", reset={"is_direct": False})
    register_merge_relation(contact, c.ContactPhone, "contact", same=_phone_key)
    register_merge_relation(contact, c.ContactEmail, "contact", same=_email_key)


# --- redirect helper ----------------------------------------------------------------------------


def merged_into(model_label: str, pk: int) -> int | None:
    """The id of the record that record `pk` of `model_label` was merged into (None: never
    merged). Detail views call it on a 404 to redirect old links to the survivor."""
    label = model_label.lower()
    seen: set[int] = set()
    current: int | None = None
    look = int(pk)
    while look not in seen and len(seen) < 20:
        seen.add(look)
        into = (
            MergedRecord.objects.filter(model_label=label, old_id=look)
            .values_list("into_id", flat=True)
            .first()
        )
        if into is None:
            break
        current = look = int(into)
    return current


def former_ids(model_label: str, pk: int) -> list[int]:
    """The ids of the records merged into record `pk` (directly or through earlier merges: the
    merge re-points `MergedRecord.into_id`). Registered with the audit app, so the survivor's
    History and timeline show the change log the merged records left under their old ids."""
    label = model_label.lower()
    if label not in MERGEABLE:
        return []
    return list(
        MergedRecord.objects.filter(model_label=label, into_id=pk)
        .order_by("old_id")
        .values_list("old_id", flat=True)
    )


# --- preview ------------------------------------------------------------------------------------


def _model(model_label: str) -> type[models.Model]:
    label = str(model_label or "").lower()
    if label not in MERGEABLE:
        raise DedupError(
            _("These records cannot be merged."), fields={"model": [_("Choose accounts, contacts or leads.")]}
        )
    return apps.get_model(label)


def _clean_ids(ids: Iterable[Any], master_id: Any) -> list[int]:
    try:
        out = sorted({int(i) for i in ids} | ({int(master_id)} if master_id is not None else set()))
    except (TypeError, ValueError) as exc:
        raise DedupError(_("Record ids must be numbers."), fields={"ids": [_("Not a number.")]}) from exc
    if len(out) < 2:
        raise DedupError(
            _("Choose at least two records to merge."), fields={"ids": [_("Choose at least two records.")]}
        )
    if len(out) > 50:
        raise DedupError(_("Merge at most 50 records at a time."), fields={"ids": [_("Too many records.")]})
    return out


def _check_scope(user: Any, model: type[models.Model], ids: list[int]) -> None:
    allowed = model._default_manager.restrict(user, Action.CHANGE).filter(pk__in=ids).count()  # type: ignore[attr-defined]
    if allowed != len(ids):
        raise _not_found()


def _choice_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    out = []
    for f in model._meta.concrete_fields:
        if f.name in _NOT_CHOSEN or f.primary_key or not f.editable:
            continue
        if f.is_relation and f.name != "owner":
            continue
        out.append(f)
    return out


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _newest_first(records: list[Any]) -> list[Any]:
    return sorted(
        records, key=lambda r: (getattr(r, "created_at", None) or timezone.now(), r.pk), reverse=True
    )


def _default_from(master: Any, others: list[Any], get: Callable[[Any], Any]) -> int:
    if not _is_empty(get(master)):
        return int(master.pk)
    for record in _newest_first(others):
        if not _is_empty(get(record)):
            return int(record.pk)
    return int(master.pk)


def _picklist_codes(model: type[models.Model]) -> dict[str, str]:
    """{standard field name: picklist code} of the model's fields that hold picklist values."""
    from kehu.customfields.registry import picklist_usages

    label = model._meta.label_lower
    return {u.field_name: u.picklist_code for u in picklist_usages() if u.model._meta.label_lower == label}


def _display(record: Any, f: models.Field[Any, Any], items: Mapping[str, Any] | None = None) -> Any:
    """What the merge page shows of a standard field: labels of choices and picklist values (an
    unknown value stays as stored), names of related records, yes / no."""
    if f.is_relation:
        related = getattr(record, f.name)
        return str(related) if related is not None else ""
    if getattr(f, "choices", None):
        return getattr(record, f"get_{f.name}_display")()
    value = getattr(record, f.attname)
    if items is not None and not _is_empty(value):
        item = items.get(value)
        return item.display_label if item is not None else value
    if isinstance(f, models.BooleanField) and value is not None:
        return _("Yes") if value else _("No")
    if f.name in ("phone", "mobile") and value:
        from kehu.core.validators import format_phone

        return format_phone(value)
    return value


def _custom_display(definition: Any, value: Any) -> Any:
    """A custom field's stored value as text: picklist labels for choice fields, formatted dates,
    numbers and yes / no for the others; raw when the field has no definition."""
    from kehu.customfields.validation import display_text, field_items

    if definition is None or _is_empty(value):
        return value
    if definition.is_choice:
        items = {i.value: i for i in field_items(definition)}
        values = value if isinstance(value, list) else [value]
        return join_list(items[v].display_label if v in items else v for v in values)
    return display_text(definition, value)


def _preview_fields(model_label: str, model: type[models.Model], records: list[Any]) -> list[MergeField]:
    from kehu.customfields.selectors import picklist_label_map

    master, others = records[0], records[1:]
    codes = _picklist_codes(model)
    out: list[MergeField] = []
    for f in _choice_fields(model):

        def get(r: Any, f: Any = f) -> Any:
            return getattr(r, f.attname)

        items = picklist_label_map(codes[f.name]) if f.name in codes else None
        raw = {int(r.pk): get(r) for r in records}
        out.append(
            MergeField(
                name=f.name,
                label=str(f.verbose_name),
                values={int(r.pk): _display(r, f, items) for r in records},
                default_from=_default_from(master, others, get),
                differs=len({repr(v) for v in raw.values()}) > 1,
            )
        )
    if any(hasattr(r, "custom") for r in records):
        from kehu.customfields.selectors import custom_fields_for

        definitions = {str(cf.name): cf for cf in custom_fields_for(model_label, active_only=False)}
        names = sorted({k for r in records for k in (getattr(r, "custom", None) or {})})
        for name in names:

            def get_custom(r: Any, name: str = name) -> Any:
                return (r.custom or {}).get(name)

            values = {int(r.pk): get_custom(r) for r in records}
            definition = definitions.get(name)
            out.append(
                MergeField(
                    name=f"custom.{name}",
                    label=definition.display_label if definition is not None else name,
                    values={pk: _custom_display(definition, v) for pk, v in values.items()},
                    default_from=_default_from(master, others, get_custom),
                    differs=len({repr(v) for v in values.values()}) > 1,
                )
            )
    return out


def _related_counts(model_label: str, ids: list[int]) -> dict[str, dict[int, int]]:
    out: dict[str, dict[int, int]] = {}
    for relation in merge_relations(model_label):
        counts = (
            relation.related._default_manager.filter(**{f"{relation.fk}__in": ids})
            .values_list(relation.fk)
            .annotate(n=Count("pk"))
            .order_by()
        )
        found = {int(pk): int(n) for pk, n in counts}
        if found:
            out[relation.key] = {pk: found.get(pk, 0) for pk in ids}
    return out


def merge_preview(
    *, user: Any, model_label: str, ids: list[int], master_id: int | None = None
) -> MergePreview:
    """Side by side: every record must be one the user may change (else 404-style refusal).
    Default master: the given one, else the oldest record."""
    model = _model(model_label)
    label = model._meta.label_lower
    all_ids = _clean_ids(ids, master_id)
    _check_scope(user, model, all_ids)
    by_id = {r.pk: r for r in model._default_manager.filter(pk__in=all_ids)}
    if len(by_id) != len(all_ids):
        raise _not_found()
    master_pk = int(master_id) if master_id is not None else all_ids[0]
    records = [by_id[master_pk], *(by_id[i] for i in all_ids if i != master_pk)]
    return MergePreview(
        model_label=label,
        master_id=master_pk,
        records=records,
        fields=_visible_fields(user, model, _preview_fields(label, model, records)),
        related=_related_counts(label, all_ids),
    )


def _visible_fields(user: Any, model: type[models.Model], fields: list[MergeField]) -> list[MergeField]:
    """The user's field permissions: hidden fields are left out (the master's value is kept),
    masked ones are shown masked (kehu.core.masking)."""
    from kehu.core.masking import guess_kind, mask_value
    from kehu.core.permissions import field_modes

    modes = field_modes(user, model)
    out = []
    for f in fields:
        mode = modes.get(f.name)
        if mode == FieldMode.HIDDEN:
            continue
        if mode == FieldMode.MASKED:
            kind = guess_kind(f.name)
            f.values = {pk: mask_value(v, kind) if v else v for pk, v in f.values.items()}
        out.append(f)
    return out


# --- the merge ----------------------------------------------------------------------------------


def _unique_sets(related: type[models.Model], fk_name: str) -> list[tuple[str, ...]]:
    """Unconditional unique field sets of `related` that include the foreign key."""
    sets: list[tuple[str, ...]] = []
    fk_field = related._meta.get_field(fk_name)
    if getattr(fk_field, "unique", False):
        sets.append((fk_name,))
    for together in related._meta.unique_together:
        if fk_name in together:
            sets.append(tuple(together))
    for constraint in related._meta.constraints:
        if not isinstance(constraint, models.UniqueConstraint) or constraint.condition is not None:
            continue
        if fk_name in constraint.fields:
            sets.append(tuple(constraint.fields))
    return sets


def _primary_flags(related: type[models.Model], fk_name: str) -> list[tuple[str, tuple[str, ...]]]:
    """Conditional "one flagged row per fk (and others)" constraints: (flag, other fields)."""
    out = []
    for constraint in related._meta.constraints:
        if not isinstance(constraint, models.UniqueConstraint) or constraint.condition is None:
            continue
        if fk_name not in constraint.fields:
            continue
        condition = constraint.condition
        children = getattr(condition, "children", [])
        if condition.negated or condition.connector != Q.AND or len(children) != 1:
            continue
        child = children[0]
        if isinstance(child, tuple) and child[1] is True:
            out.append((str(child[0]), tuple(f for f in constraint.fields if f != fk_name)))
    return out


def _attname(model: type[models.Model], name: str) -> str:
    return str(getattr(model._meta.get_field(name), "attname", name))


def _fk_repr(pk: Any, reprs: dict[int, str]) -> dict[str, Any]:
    return {"id": pk, "repr": reprs.get(int(pk), f"#{pk}")}


def _carried_flags(related: type[models.Model], fk_name: str, clash: tuple[str, ...]) -> list[str]:
    """Flags of conditional "one flagged row per <fields>" constraints that a row dropped for
    clashing on the unique set `clash` may hand to the row it clashes with: the constraint does
    not name the foreign key and its fields are part of `clash`, so both rows are in the same
    flagged group (an opportunity's primary contact role)."""
    out = []
    for constraint in related._meta.constraints:
        if not isinstance(constraint, models.UniqueConstraint) or constraint.condition is None:
            continue
        if fk_name in constraint.fields or not set(constraint.fields) <= set(clash) - {fk_name}:
            continue
        condition = constraint.condition
        children = getattr(condition, "children", [])
        if condition.negated or condition.connector != Q.AND or len(children) != 1:
            continue
        child = children[0]
        if isinstance(child, tuple) and child[1] is True:
            out.append(str(child[0]))
    return out


def _parent_of(manager: Any, attname: str, pk: int) -> int | None:
    value = manager.filter(pk=pk).values_list(attname, flat=True).first()
    return int(value) if value is not None else None


def _place_survivor(
    relation: MergeRelation, master_pk: int, merged: list[int], reprs: dict[int, str], by: Any
) -> None:
    """A record pointing at its own type (an account's parent account): the survivor takes the
    first of its own parent, else a merged record's parent (newest merged first), read through the
    merged records (they become the survivor), that is neither the survivor nor one of its
    descendants once the merged records' children point at it; else none. So merging a company
    with its group parent puts the survivor where the parent was, never under itself."""
    from kehu.audit.choices import ChangeAction
    from kehu.audit.services import object_changes_record_bulk

    manager = relation.related._default_manager
    attname = relation.field().attname
    gone = set(merged)
    limit = 100  # hierarchies are shallow; a longer walk means a loop already in the data

    def kept_parent(pk: int | None) -> int | None:
        """Follow `pk` up through merged records to the first kept one (None: none)."""
        seen: set[int] = set()
        while pk is not None and pk in gone and pk not in seen and len(seen) < limit:
            seen.add(pk)
            pk = _parent_of(manager, attname, pk)
        return None if pk is None or pk in gone else pk

    def under_survivor(pk: int) -> bool:
        """`pk` is the survivor or below it once merged records are the survivor."""
        seen: set[int] = set()
        current: int | None = pk
        while current is not None and current not in seen and len(seen) < limit:
            if current == master_pk or current in gone:
                return True
            seen.add(current)
            current = _parent_of(manager, attname, current)
        return current is not None  # a loop in the data: never attach to it

    if any(f.name == "created_at" for f in relation.related._meta.concrete_fields):
        created = dict(manager.filter(pk__in=merged).values_list("pk", "created_at"))
    else:
        created = {}
    newest = sorted(merged, key=lambda pk: (created.get(pk) or timezone.now(), pk), reverse=True)
    before = _parent_of(manager, attname, master_pk)
    chosen: int | None = None
    for candidate in [before, *(_parent_of(manager, attname, pk) for pk in newest)]:
        resolved = kept_parent(candidate)
        if resolved is not None and not under_survivor(resolved):
            chosen = resolved
            break
    if chosen == before:
        return
    manager.filter(pk=master_pk).update(**{attname: chosen})

    def named(pk: int | None) -> Any:
        if pk is None:
            return None
        if pk in reprs:
            return _fk_repr(pk, reprs)
        row = manager.filter(pk=pk).first()
        return {"id": pk, "repr": _short(row) if row is not None else f"#{pk}"}

    object_changes_record_bulk(
        model=relation.related,
        action=ChangeAction.UPDATE,
        rows=[
            (master_pk, reprs.get(master_pk, f"#{master_pk}"), {relation.fk: [named(before), named(chosen)]})
        ],
        by=by,
    )


def _repoint(
    relation: MergeRelation, master_pk: int, merged: list[int], reprs: dict[int, str], by: Any
) -> int:
    """Move the relation's rows from the merged records to the survivor; returns rows moved."""
    from kehu.audit.choices import ChangeAction
    from kehu.audit.services import object_changes_record_bulk

    related, fk = relation.related, relation.fk
    attname = relation.field().attname
    manager = related._default_manager
    order = {pk: i for i, pk in enumerate(merged)}
    moving_qs = manager.filter(**{f"{fk}__in": merged})
    self_ref = related._meta.label_lower == relation.model_label
    if self_ref:  # the merged records themselves are deleted; the survivor must not point at itself
        moving_qs = moving_qs.exclude(pk__in=merged).exclude(pk=master_pk)
        _place_survivor(relation, master_pk, merged, reprs, by)
        # merged records under one another: unlinked, so the delete is not refused (PROTECT)
        manager.filter(pk__in=merged, **{f"{fk}__in": merged}).update(**{attname: None})
    moving = sorted(moving_qs, key=lambda r: (order[getattr(r, attname)], r.pk))
    if not moving:
        return 0
    kept = list(manager.filter(**{attname: master_pk}))
    dropped: set[int] = set()
    # a dropped row -> (the row it clashes with, the unique set it clashes on)
    holders: dict[int, tuple[Any, tuple[str, ...]]] = {}
    for fields in _unique_sets(related, fk):
        names = [_attname(related, f) for f in fields if f != fk]
        taken = {tuple(getattr(r, n) for n in names): r for r in kept}
        for row in moving:
            if row.pk in dropped:
                continue
            key = tuple(getattr(row, n) for n in names)
            if key in taken:
                dropped.add(row.pk)
                holders[row.pk] = (taken[key], fields)
            else:
                taken[key] = row
    if relation.same is not None:
        same_taken = {relation.same(r) for r in kept}
        for row in moving:
            if row.pk in dropped:
                continue
            value = relation.same(row)
            if value and value in same_taken:
                dropped.add(row.pk)
            else:
                same_taken.add(value)
    if dropped:
        manager.filter(pk__in=dropped).delete()
    # what a dropped row held passes to the row it clashes with (after the delete: a flag is
    # unique in its group)
    absorbed: dict[int, dict[str, list[Any]]] = defaultdict(dict)
    absorbers: dict[int, Any] = {}
    for pk, (holder, fields) in holders.items():
        if holder.pk in dropped:
            continue
        row = next(r for r in moving if r.pk == pk)
        for flag in _carried_flags(related, fk, fields):
            if getattr(row, flag) and not getattr(holder, flag):
                absorbed[holder.pk][flag] = [False, True]
                setattr(holder, flag, True)
        for name in relation.fill:
            fill_attname = _attname(related, name)
            if _is_empty(getattr(holder, fill_attname)) and not _is_empty(getattr(row, fill_attname)):
                absorbed[holder.pk][name] = [getattr(holder, fill_attname), getattr(row, fill_attname)]
                setattr(holder, fill_attname, getattr(row, fill_attname))
        if absorbed.get(holder.pk):
            absorbers[holder.pk] = holder
    for pk, changes_ in absorbed.items():
        if changes_:
            manager.filter(pk=pk).update(
                **{_attname(related, name): pair[1] for name, pair in changes_.items()}
            )
    moving = [r for r in moving if r.pk not in dropped]
    moving_pks = {r.pk for r in moving}
    cleared: dict[str, list[int]] = defaultdict(list)
    for flag, others in _primary_flags(related, fk):
        names = [_attname(related, f) for f in others]
        flagged = {tuple(getattr(r, n) for n in names) for r in kept if getattr(r, flag)}
        for row in moving:
            if not getattr(row, flag):
                continue
            key = tuple(getattr(row, n) for n in names)
            if key in flagged:
                cleared[flag].append(row.pk)
            else:
                flagged.add(key)
    for flag, pks in cleared.items():
        manager.filter(pk__in=pks).update(**{flag: False})
    reset = dict(relation.reset)
    manager.filter(pk__in=[r.pk for r in moving]).update(**{attname: master_pk}, **reset)
    rows = []
    for row in moving:
        changes: dict[str, Any] = {fk: [_fk_repr(getattr(row, attname), reprs), _fk_repr(master_pk, reprs)]}
        for name, value in reset.items():
            if getattr(row, name) != value:
                changes[name] = [getattr(row, name), value]
        for flag, pks in cleared.items():
            if row.pk in pks:
                changes[flag] = [True, False]
        changes.update(absorbed.get(row.pk, {}))
        rows.append((row.pk, _short(row), changes))
    rows += [(pk, _short(holder), absorbed[pk]) for pk, holder in absorbers.items() if pk not in moving_pks]
    object_changes_record_bulk(model=related, action=ChangeAction.UPDATE, rows=rows, by=by)
    return len(moving)


def _short(obj: Any) -> str:
    from kehu.audit.values import short_repr

    try:
        return short_repr(obj)
    except Exception:  # a repr that needs a row gone in this merge
        return f"{obj._meta.verbose_name} #{obj.pk}"


def _union_by_object(
    model: type[models.Model], base: Q, group_field: str, master_pk: int, merged: list[int]
) -> int:
    """Rows keyed by (`group_field`, object_id) (tags, static group members): the merged records'
    rows move to the survivor unless it already has that tag or group membership."""
    manager = model._default_manager
    have = set(manager.filter(base, object_id=master_pk).values_list(group_field, flat=True))
    drop, move = [], []
    for pk, group in manager.filter(base, object_id__in=merged).order_by("pk").values_list("pk", group_field):
        if group in have:
            drop.append(pk)
        else:
            have.add(group)
            move.append(pk)
    if drop:
        manager.filter(pk__in=drop).delete()
    if move:
        manager.filter(pk__in=move).update(object_id=master_pk)
    return len(move)


def _snapshot(record: Any) -> dict[str, Any]:
    """The record's values (model_to_dict-like, JSON-safe), kept on its `MergedRecord`."""
    from kehu.audit.values import json_safe

    data = {f.attname: json_safe(getattr(record, f.attname)) for f in record._meta.concrete_fields}
    for name in ("phones", "emails", "addresses"):
        rel = getattr(record, name, None)
        if rel is not None and hasattr(rel, "all"):
            data[name] = [str(row) for row in rel.all()]
    return data


def _apply_values(
    *, model: type[models.Model], master: Any, records: dict[int, Any], chosen: dict[str, int], by: Any
) -> dict[str, list[Any]]:
    """Give the survivor the chosen values (saved through the model, so the change recorder logs
    them and the search index and match keys follow); returns {field: [before, after]}."""
    from kehu.audit.values import json_safe
    from kehu.core import owned

    changes: dict[str, list[Any]] = {}
    update: list[str] = []
    transfer = False
    for name, source_pk in chosen.items():
        source = records[source_pk]
        if source_pk == master.pk:
            continue
        if name.startswith("custom."):
            key = name.split(".", 1)[1]
            custom = dict(master.custom or {})
            before, after = custom.get(key), (source.custom or {}).get(key)
            if before == after:
                continue
            if after is None:
                custom.pop(key, None)
            else:
                custom[key] = after
            master.custom = custom
            update.append("custom")
            changes[name] = [json_safe(before), json_safe(after)]
            continue
        f = model._meta.get_field(name)
        before, after = getattr(master, f.attname), getattr(source, f.attname)  # type: ignore[union-attr]
        if before == after:
            continue
        if name == "owner":
            owner = (
                owned.resolve_owner(by, model, source.owner, obj=master) if by is not None else source.owner
            )
            before_name = str(master.owner) if master.owner_id else ""
            update += owned.set_owner(master, owner)
            transfer = True
            changes[name] = [before_name, str(owner) if owner is not None else ""]
            continue
        setattr(master, f.attname, after)  # type: ignore[union-attr]
        update.append(name)
        changes[name] = [json_safe(before), json_safe(after)]
    if update:
        if hasattr(master, "version"):
            master.version += 1
            update.append("version")
        if hasattr(master, "updated_at"):
            update.append("updated_at")
        owned.full_clean_or_raise(
            master, exclude=[f.name for f in model._meta.fields if f.name not in update]
        )
        master.save(update_fields=sorted(set(update)))
        if by is not None:
            owned.recheck_scope(by, master, Action.CHANGE, transfer=transfer)
    return changes


def _after_contacts(master_pk: int) -> None:
    """A contact's relation to its own account is its direct one (after accounts or contacts merged)."""
    from kehu.customers.models import AccountContactRelation, Contact

    direct = Contact.objects.filter(
        pk=models.OuterRef("contact_id"), account_id=models.OuterRef("account_id")
    )
    AccountContactRelation.objects.filter(Q(account_id=master_pk) | Q(contact_id=master_pk)).update(
        is_direct=models.Exists(direct)
    )


def _sync_primary_rows(label: str, master: Any, by: Any) -> None:
    """The survivor's phone and e-mail fields hold its primary rows' values: after a merge the
    row matching the kept value becomes the primary one."""
    from kehu.audit.choices import ChangeAction
    from kehu.audit.services import object_changes_record_bulk
    from kehu.customers import models as c

    from .normalisers import key_for

    specs: list[tuple[type[models.Model], str, str, str, str]] = []
    if label == "customers.account":
        specs = [(c.AccountPhone, "account_id", "phone", "phone", "number")]
        specs.append((c.AccountEmail, "account_id", "email", "email", "email"))
    elif label == "customers.contact":
        specs = [(c.ContactEmail, "contact_id", "email", "email", "email")]
    for row_model, fk, value_field, kind, row_field in specs:
        value = str(getattr(master, value_field, "") or "")
        if not value:
            continue
        want = key_for(kind, value) or value
        rows = list(row_model._default_manager.filter(**{fk: master.pk}))
        match = next(
            (r for r in rows if (key_for(kind, getattr(r, row_field)) or getattr(r, row_field)) == want), None
        )
        if match is None or getattr(match, "is_primary", False):
            continue
        flipped = [r for r in rows if getattr(r, "is_primary", False)]
        row_model._default_manager.filter(pk__in=[r.pk for r in flipped]).update(is_primary=False)
        row_model._default_manager.filter(pk=match.pk).update(is_primary=True)
        audit_rows = [(r.pk, _short(r), {"is_primary": [True, False]}) for r in flipped]
        audit_rows.append((match.pk, _short(match), {"is_primary": [False, True]}))
        object_changes_record_bulk(model=row_model, action=ChangeAction.UPDATE, rows=audit_rows, by=by)


def _repoint_generic(label: str, master_pk: int, merged: list[int], group: Any, by: Any = None) -> None:
    """Rows that name a record by (model, id): tags and static groups (union), timeline events,
    duplicate groups, "not duplicates" pairs and earlier merges. Another open group left with
    fewer than two records (its records were merged here) is resolved as merged."""
    from kehu.audit.models import TimelineEvent
    from kehu.tags.models import StaticGroupMember, TaggedItem

    _union_by_object(TaggedItem, Q(model=label), "tag_id", master_pk, merged)
    _union_by_object(StaticGroupMember, Q(group__model=label), "group_id", master_pk, merged)
    TimelineEvent.objects.filter(model=label, object_id__in=merged).update(object_id=master_pk)
    if label == "customers.account":
        TimelineEvent.objects.filter(account_id__in=merged).update(account_id=master_pk)
    if label == "customers.contact":
        TimelineEvent.objects.filter(contact_id__in=merged).update(contact_id=master_pk)
    # the survivor takes the merged records' places in other open groups
    members = DuplicateMember.objects.filter(
        group__model_label=label, group__status=GroupStatus.OPEN, object_id__in=merged
    )
    if group is not None:
        members = members.exclude(group=group)
    touched: set[int] = set()
    for member in list(members):
        touched.add(member.group_id)
        if DuplicateMember.objects.filter(group_id=member.group_id, object_id=master_pk).exists():
            member.delete()
        else:
            DuplicateMember.objects.filter(pk=member.pk).update(object_id=master_pk)
    if touched:
        left_alone = (
            DuplicateGroup.objects.filter(pk__in=touched, status=GroupStatus.OPEN)
            .annotate(n=Count("members"))
            .filter(n__lt=2)
            .values_list("pk", flat=True)
        )
        DuplicateGroup.objects.filter(pk__in=list(left_alone)).update(
            status=GroupStatus.CLOSED, resolved_at=timezone.now(), resolved_by=_user(by)
        )
    for pair in list(
        NotDuplicate.objects.filter(Q(low_id__in=merged) | Q(high_id__in=merged), model_label=label)
    ):
        low = master_pk if pair.low_id in merged else pair.low_id
        high = master_pk if pair.high_id in merged else pair.high_id
        low, high = min(low, high), max(low, high)
        exists = NotDuplicate.objects.filter(model_label=label, low_id=low, high_id=high).exclude(pk=pair.pk)
        if low == high or exists.exists():
            pair.delete()
        else:
            NotDuplicate.objects.filter(pk=pair.pk).update(low_id=low, high_id=high)
    MergedRecord.objects.filter(model_label=label, into_id__in=merged).update(into_id=master_pk)


def _reindex(label: str, ids: list[int]) -> None:
    from kehu.search import registry as search_registry
    from kehu.search.services import search_reindex

    from .registry import has_keys
    from .services import dedup_reindex

    if has_keys(label):
        dedup_reindex(model=label, ids=ids)
    if search_registry.is_indexed(label):
        search_reindex(model=label, ids=ids)


def _delete_merged(model: type[models.Model], merged: list[int]) -> None:
    model._default_manager.filter(pk__in=merged).delete()


def _clean_values(
    preview_fields: list[MergeField],
    values: Mapping[str, Any] | None,
    ids: list[int],
    *,
    master_pk: int,
    locked: set[str],
) -> dict[str, int]:
    """Per field, the record whose value is kept. Fields the user's field permissions lock
    (hidden, masked, read-only) keep the master's value unless the chosen value is the same."""
    chosen = {f.name: (master_pk if f.name in locked else f.default_from) for f in preview_fields}
    by_name = {f.name: f for f in preview_fields}
    errors: dict[str, list[str]] = {}
    for name, pk in (values or {}).items():
        if name not in chosen and not str(name).startswith("custom."):
            errors[f"values.{name}"] = [_("This field cannot be chosen.")]
            continue
        try:
            number = int(pk)
        except (TypeError, ValueError):
            errors[f"values.{name}"] = [_("Choose one of the merged records.")]
            continue
        if number not in ids:
            errors[f"values.{name}"] = [_("Choose one of the merged records.")]
            continue
        field_ = by_name.get(str(name))
        if (
            name in locked
            and field_ is not None
            and field_.values.get(number) != field_.values.get(master_pk)
        ):
            errors[f"values.{name}"] = [_("You may not change this field.")]
            continue
        chosen[str(name)] = number
    if errors:
        raise DedupError(_("Some chosen values are not valid."), fields=errors)
    return chosen


@transaction.atomic
def records_merge(
    *,
    by: Any,
    model_label: str,
    master_id: int,
    ids: list[int],
    values: dict[str, int] | None = None,
    group: Any = None,
) -> Any:
    """Merge `ids` into `master_id`: `values` picks, per field, the record whose value survives
    (default: the preview's); re-point every registered relation; keep `MergedRecord` rows
    with each merged record's values; delete the merged records; change-log and timeline entries;
    resolve `group` (a DuplicateGroup) as merged. Atomic; raises DedupError on bad input.

    `by=None` is the system (the opt-in auto-merge of certain duplicates): no scope check."""
    from kehu.audit.services import timeline_record

    model = _model(model_label)
    label = model._meta.label_lower
    all_ids = _clean_ids(ids, master_id)
    master_pk = int(master_id)
    locked = list(model._default_manager.select_for_update().filter(pk__in=all_ids).order_by("pk"))
    if len(locked) != len(all_ids):
        raise _not_found()
    if by is not None:
        _check_scope(by, model, all_ids)
    if group is not None:
        group = DuplicateGroup.objects.select_for_update().filter(pk=getattr(group, "pk", group)).first()
        if group is None or group.model_label != label:
            raise DedupError(
                _("This duplicate group does not exist."),
                code="not_found",
                status=404,
                fields={"group": [_("Not found.")]},
            )
        if group.status != GroupStatus.OPEN:
            raise DedupError(
                _("This duplicate group is already resolved."), code="conflict", status=409, fields={}
            )
    by_id = {int(r.pk): r for r in locked}
    master = by_id[master_pk]
    merged = [pk for pk in all_ids if pk != master_pk]
    ordered = [master, *(by_id[pk] for pk in merged)]
    locked_fields: set[str] = set()
    if by is not None:
        from kehu.core.permissions import readonly_fields

        locked_fields = readonly_fields(by, model)
    chosen = _clean_values(
        _preview_fields(label, model, ordered), values, all_ids, master_pk=master_pk, locked=locked_fields
    )
    reprs = {pk: _short(r) for pk, r in by_id.items()}
    snapshots = {pk: _snapshot(by_id[pk]) for pk in merged}

    moved: dict[str, int] = {}
    for relation in merge_relations(label):
        count = _repoint(relation, master_pk, merged, reprs, by)
        if count:
            moved[relation.key] = count
    _repoint_generic(label, master_pk, merged, group, by)
    MergedRecord.objects.bulk_create(
        [
            MergedRecord(
                model_label=label, old_id=pk, into_id=master_pk, data=snapshots[pk], merged_by=_user(by)
            )
            for pk in merged
        ]
    )
    _delete_merged(model, merged)
    master.refresh_from_db()
    changes = _apply_values(model=model, master=master, records=by_id, chosen=chosen, by=by)
    for hook in _hooks.get(label, ()):
        hook(master=master, merged_ids=merged, by=_user(by))
    if label in ("customers.account", "customers.contact"):
        _after_contacts(master_pk)
        _sync_primary_rows(label, master, _user(by))
    timeline_record(
        event=MERGED_EVENT,
        obj=master,
        by=_user(by),
        data={
            "title": ngettext(
                "%(count)d record merged into this one", "%(count)d records merged into this one", len(merged)
            )
            % {"count": len(merged)},
            "body": join_list(f"{reprs[pk]} (#{pk})" for pk in merged),
            "merged": [{"id": pk, "repr": reprs[pk]} for pk in merged],
            "moved": moved,
            "changes": changes,
        },
        account_id=master_pk if label == "customers.account" else getattr(master, "account_id", None),
        contact_id=master_pk if label == "customers.contact" else None,
    )
    if group is not None:
        group.status = GroupStatus.MERGED
        group.resolved_at = timezone.now()
        group.resolved_by = _user(by)
        group.save(update_fields=["status", "resolved_at", "resolved_by"])
    _reindex(label, all_ids)
    return master


def _user(by: Any) -> Any:
    return by if by is not None and getattr(by, "pk", None) is not None else None


__all__ = [
    "DedupError",
    "MergeField",
    "MergePreview",
    "MergeRelation",
    "former_ids",
    "merge_preview",
    "merge_relations",
    "merged_into",
    "records_merge",
    "register_builtin_relations",
    "register_merge_hook",
    "register_merge_relation",
]
