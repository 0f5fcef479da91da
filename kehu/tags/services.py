"""Writes of tags, tag groups and static groups. Every function is keyword-only, typed and atomic.

Permissions:

* managing tags and tag groups needs the role permission on ``tags.tag`` (administrators hold it):
  **add** creates tags (also by typing a new name in a tag picker), **change** edits tags and tag
  groups and merges tags, **delete** deletes them;
* putting tags on a record or taking them off needs **change** on that record (every id is
  re-filtered through ``Model.objects.restrict(by, "change")``, whatever the caller checked);
* a static group is managed by its owner (and administrators); its members must be records the
  owner may view.

Tag changes land in each record's History (``ObjectChange`` with ``{"tags": [before, after]}``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from kehu.audit import registry as audit_registry
from kehu.audit.choices import ChangeAction
from kehu.audit.services import object_change_record, object_changes_record_bulk
from kehu.audit.values import short_repr
from kehu.core import owned
from kehu.core.choices import Action
from kehu.core.errors import DomainError, PermissionDeniedError
from kehu.core.permissions import can, is_admin

from . import registry
from .choices import TagColour
from .models import StaticGroup, StaticGroupMember, Tag, TaggedItem, TagGroup

CHUNK = 500
TAG_FIELDS = ("name", "group", "colour", "description", "order", "is_active")
GROUP_FIELDS = ("name", "colour", "description", "exclusive", "order", "model_labels")
STATIC_GROUP_FIELDS = ("name", "description", "is_shared")


class TagsError(DomainError):
    code = "tags_invalid"


TagRef = Tag | int | str


# --- helpers ---------------------------------------------------------------------------------


def _chunks(ids: Iterable[Any], size: int = CHUNK) -> Iterator[list[int]]:
    batch: list[int] = []
    seen: set[int] = set()
    for raw in ids:
        try:
            pk = int(raw)
        except (TypeError, ValueError):
            continue
        if pk in seen:
            continue
        seen.add(pk)
        batch.append(pk)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _taggable(model: type[models.Model] | str) -> tuple[str, type[models.Model]]:
    label = registry.label_of(model)
    cls = registry.get_model(label)
    if cls is None:
        raise TagsError(_("Records of this kind cannot be tagged."), fields={"model": [_("Not taggable.")]})
    return label, cls


def _require(by: Any, action: str) -> None:
    if not can(by, Tag, action):
        raise PermissionDeniedError(_("You may not manage tags."))


def may_manage_tags(user: Any, action: str = Action.CHANGE) -> bool:
    return can(user, Tag, action)


def _restricted_ids(model: type[models.Model], by: Any, action: str, ids: Sequence[int]) -> list[int]:
    qs = model._default_manager.restrict(by, action)  # type: ignore[attr-defined]
    return list(qs.filter(pk__in=ids).values_list("pk", flat=True))


def _clean_name(value: Any, *, field: str = "name", max_length: int = 50) -> str:
    name = " ".join(str(value or "").split())
    if not name:
        raise TagsError(_("Enter a name."), fields={field: [_("This field is required.")]})
    if len(name) > max_length:
        msg = _("At most %(n)d characters.") % {"n": max_length}
        raise TagsError(msg, fields={field: [msg]})
    return name


def _clean_colour(value: Any) -> str:
    if value in (None, ""):
        return TagColour.BLUE
    if value not in TagColour.values:
        msg = _("Choose one of the palette's colours.")
        raise TagsError(msg, fields={"colour": [msg]})
    return str(value)


def _clean_order(value: Any) -> int:
    try:
        order = int(value)
    except (TypeError, ValueError):
        order = -1
    if not 0 <= order < 2**31:
        msg = _("Enter a whole number of 0 or more.")
        raise TagsError(msg, fields={"order": [msg]})
    return order


def _check_unknown(data: Mapping[str, Any], allowed: Iterable[str]) -> None:
    unknown = set(data) - set(allowed) - {"version"}
    if unknown:
        raise TagsError(_("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))})


# --- putting tags on records -----------------------------------------------------------------


def _resolve_tags(
    refs: Iterable[TagRef], *, label: str, by: Any, current: set[int], allow_create: bool
) -> list[Tag]:
    """Tags from objects, ids and (when allowed) names; names that do not exist are created when
    the user may add tags. Inactive tags may stay where they are but not be added."""
    wanted: dict[int, Tag] = {}
    ids: list[int] = []
    names: list[str] = []
    for ref in refs:
        if isinstance(ref, Tag):
            ids.append(ref.pk)
        elif isinstance(ref, bool):
            raise TagsError(_("Unknown tag."), fields={"tags": [_("Unknown tag.")]})
        elif isinstance(ref, int):
            ids.append(ref)
        elif isinstance(ref, str) and allow_create:
            names.append(_clean_name(ref, field="tags"))
        else:
            raise TagsError(_("Unknown tag."), fields={"tags": [_("Unknown tag.")]})
    if ids:
        found = {t.pk: t for t in Tag.objects.select_related("group").filter(pk__in=ids)}
        missing = set(ids) - set(found)
        if missing:
            raise TagsError(_("Unknown tag."), fields={"tags": [_("Unknown tag.")]})
        wanted.update(found)
    if names:
        candidates = [
            t for t in Tag.objects.select_related("group").filter(is_active=True) if t.applies_to(label)
        ]
        by_name: dict[str, Tag] = {}
        for t in sorted(candidates, key=lambda t: (t.group_id is not None, t.pk)):
            by_name.setdefault(t.name.casefold(), t)
        for name in names:
            tag = by_name.get(name.casefold())
            if tag is None:
                if not can(by, Tag, Action.ADD):
                    msg = _("There is no tag “%(name)s”, and you may not create tags.") % {"name": name}
                    raise TagsError(msg, fields={"tags": [msg]}, code="tag_create_denied")
                tag = _tag_insert(name=name, group=None, colour=TagColour.BLUE, description="", order=None)
                by_name[name.casefold()] = tag
            wanted[tag.pk] = tag
    for tag in wanted.values():
        if not tag.applies_to(label):
            msg = _("The tag “%(name)s” is not used for these records.") % {"name": tag.name}
            raise TagsError(msg, fields={"tags": [msg]})
        if not tag.is_active and tag.pk not in current:
            msg = _("The tag “%(name)s” is inactive.") % {"name": tag.name}
            raise TagsError(msg, fields={"tags": [msg]})
    return list(wanted.values())


def _check_exclusive(tags: Iterable[Tag]) -> None:
    seen: dict[int, Tag] = {}
    for tag in tags:
        if tag.group is not None and tag.group.exclusive:
            other = seen.get(tag.group_id)  # type: ignore[arg-type]
            if other is not None and other.pk != tag.pk:
                msg = _(
                    "“%(a)s” and “%(b)s” are both in the group “%(g)s”, which allows one tag per record."
                ) % {
                    "a": other.name,
                    "b": tag.name,
                    "g": tag.group.name,
                }
                raise TagsError(msg, fields={"tags": [msg]}, code="tags_exclusive")
            seen[tag.group_id] = tag  # type: ignore[index]


def _apply(
    *,
    label: str,
    model: type[models.Model],
    object_ids: Sequence[int],
    add: Sequence[Tag],
    remove: Iterable[int],
    by: Any,
) -> tuple[int, int]:
    """Add `add` to and remove the tags `remove` from records `object_ids` (already allowed), keeping
    exclusive groups to one tag; record the changes. Returns (rows added, rows removed)."""
    if not object_ids:
        return 0, 0
    add_ids = {t.pk for t in add}
    remove_ids = set(remove) - add_ids
    exclusive_groups = {t.group_id for t in add if t.group is not None and t.group.exclusive}
    if exclusive_groups:
        # Serialise writers of the same records (in id order: no deadlocks), so that two people
        # adding different tags of one exclusive group at once cannot leave both on a record.
        list(
            model._base_manager.filter(pk__in=object_ids).order_by("pk").select_for_update().values_list("pk")
        )
        remove_ids |= set(
            Tag.objects.filter(group_id__in=exclusive_groups)
            .exclude(pk__in=add_ids)
            .values_list("pk", flat=True)
        )
    before: dict[int, set[int]] = defaultdict(set)
    names: dict[int, str] = {t.pk: t.name for t in add}
    for oid, tid, tname in TaggedItem.objects.filter(model=label, object_id__in=object_ids).values_list(
        "object_id", "tag_id", "tag__name"
    ):
        before[oid].add(tid)
        names[tid] = tname
    removed = 0
    if remove_ids and any(before[oid] & remove_ids for oid in object_ids):
        removed, _detail = TaggedItem.objects.filter(
            model=label, object_id__in=object_ids, tag_id__in=remove_ids
        ).delete()
    user = by if getattr(by, "pk", None) else None
    new_rows = [
        TaggedItem(tag_id=tid, model=label, object_id=oid, created_by=user)
        for oid in object_ids
        for tid in sorted(add_ids)
        if tid not in before[oid]
    ]
    if new_rows:
        TaggedItem.objects.bulk_create(new_rows, ignore_conflicts=True, batch_size=CHUNK)
    after = {oid: (before[oid] - remove_ids) | add_ids for oid in object_ids}
    changed = [oid for oid in object_ids if after[oid] != before[oid]]
    if changed:
        _record(label=label, model=model, changed=changed, before=before, after=after, names=names, by=by)
    return len(new_rows), removed


def _as_list(tag_ids: set[int], names: dict[int, str]) -> list[dict[str, Any]]:
    return [
        {"id": tid, "repr": names.get(tid, f"#{tid}")}
        for tid in sorted(tag_ids, key=lambda t: names.get(t, ""))
    ]


def _record(
    *,
    label: str,
    model: type[models.Model],
    changed: list[int],
    before: dict[int, set[int]],
    after: dict[int, set[int]],
    names: dict[int, str],
    by: Any,
) -> None:
    entry = audit_registry.get(label)
    objects = {obj.pk: obj for obj in model._base_manager.filter(pk__in=changed)}
    rows = []
    for oid in changed:
        obj = objects.get(oid)
        parent = None
        if obj is not None and entry is not None:
            parent_label, parent_id = entry.parent_of(obj)
            parent = (parent_label, parent_id) if parent_label else None
        changes = {"tags": [_as_list(before[oid], names), _as_list(after[oid], names)]}
        rows.append((oid, short_repr(obj) if obj is not None else f"#{oid}", changes, parent))
    object_changes_record_bulk(model=label, action=ChangeAction.UPDATE, rows=rows, by=by)


@transaction.atomic
def tags_set(*, obj: models.Model, tags: Iterable[TagRef], by: Any) -> None:
    """Make `tags` the record's tags. Strings are tag names: an unknown name creates the tag when
    the user may add tags (else an error on "tags")."""
    label, model = _taggable(type(obj))
    if not _restricted_ids(model, by, Action.CHANGE, [obj.pk]):
        raise PermissionDeniedError(_("You may not change this record."))
    _set(obj=obj, label=label, model=model, tags=tags, by=by)


@transaction.atomic
def tags_set_new(*, obj: models.Model, tags: Iterable[TagRef], by: Any) -> None:
    """The tags of a record `by` is creating: for create services only (``account_create(...,
    tags=...)``), inside their transaction, right after the record is saved and before assignment
    rules run (a rule may match on tags, and may hand the record to someone outside the creator's
    data scope). The permission is the creator's at creation time: ``add`` on the model (and, for
    new tag names, on tags), not ``change`` on the record. Existing records: `tags_set`."""
    label, model = _taggable(type(obj))
    if not can(by, model, Action.ADD) or getattr(obj, "created_by_id", by.pk) != by.pk:
        raise PermissionDeniedError(_("You may not change this record."))
    _set(obj=obj, label=label, model=model, tags=tags, by=by)


def _set(
    *, obj: models.Model, label: str, model: type[models.Model], tags: Iterable[TagRef], by: Any
) -> None:
    current = set(TaggedItem.objects.filter(model=label, object_id=obj.pk).values_list("tag_id", flat=True))
    wanted = _resolve_tags(tags, label=label, by=by, current=current, allow_create=True)
    _check_exclusive(wanted)
    wanted_ids = {t.pk for t in wanted}
    _apply(
        label=label,
        model=model,
        object_ids=[obj.pk],
        add=[t for t in wanted if t.pk not in current],
        remove=current - wanted_ids,
        by=by,
    )
    obj.__dict__.pop("_kehu_tags", None)


@transaction.atomic
def tags_add(*, model: type[models.Model], ids: Iterable[int], tags: Iterable[Tag | int], by: Any) -> int:
    """Put `tags` on the records `ids` the user may change. A tag of an exclusive group replaces the
    group's other tag. Idempotent; returns the number of tags newly put on records."""
    label, cls = _taggable(model)
    wanted = _resolve_tags(tags, label=label, by=by, current=set(), allow_create=False)
    _check_exclusive(wanted)
    if not wanted:
        return 0
    added = 0
    for chunk in _chunks(ids):
        allowed = _restricted_ids(cls, by, Action.CHANGE, chunk)
        added += _apply(label=label, model=cls, object_ids=allowed, add=wanted, remove=(), by=by)[0]
    return added


@transaction.atomic
def tags_remove(*, model: type[models.Model], ids: Iterable[int], tags: Iterable[Tag | int], by: Any) -> int:
    """Take `tags` off the records `ids` the user may change. Returns the number of tags removed."""
    label, cls = _taggable(model)
    tag_ids: set[int] = set()
    for ref in tags:
        if isinstance(ref, Tag):
            tag_ids.add(ref.pk)
        elif isinstance(ref, int) and not isinstance(ref, bool):
            tag_ids.add(ref)
        else:
            raise TagsError(_("Unknown tag."), fields={"tags": [_("Unknown tag.")]})
    if not tag_ids:
        return 0
    removed = 0
    for chunk in _chunks(ids):
        allowed = _restricted_ids(cls, by, Action.CHANGE, chunk)
        removed += _apply(label=label, model=cls, object_ids=allowed, add=(), remove=tag_ids, by=by)[1]
    return removed


@transaction.atomic
def tags_forget(*, model: type[models.Model] | str, ids: Iterable[int]) -> int:
    """Drop the tags and group memberships of deleted records (bulk deletes fire no signals)."""
    label = registry.label_of(model)
    count = 0
    for chunk in _chunks(ids):
        count += TaggedItem.objects.filter(model=label, object_id__in=chunk).delete()[0]
        StaticGroupMember.objects.filter(group__model=label, object_id__in=chunk).delete()
    return count


# --- tags ------------------------------------------------------------------------------------


def _next_order(qs: models.QuerySet[Any]) -> int:
    return (qs.aggregate(m=Max("order"))["m"] or 0) + 1


def _check_tag_name_free(name: str, group: TagGroup | None, *, exclude: int | None = None) -> None:
    qs = Tag.objects.filter(name__iexact=name, group=group)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    if qs.exists():
        msg = (
            _("The group already has a tag with this name.")
            if group is not None
            else _("There is already an ungrouped tag with this name.")
        )
        raise TagsError(msg, fields={"name": [msg]}, code="tag_name_taken")


def _tag_insert(
    *,
    name: str,
    group: TagGroup | None,
    colour: str,
    description: str,
    order: int | None,
    is_active: bool = True,
) -> Tag:
    _check_tag_name_free(name, group)
    if order is None:
        order = _next_order(Tag.objects.filter(group=group))
    try:
        with transaction.atomic():
            return Tag.objects.create(
                name=name,
                group=group,
                colour=colour,
                description=description,
                order=order,
                is_active=is_active,
            )
    except IntegrityError as exc:
        msg = _("There is already a tag with this name.")
        raise TagsError(msg, fields={"name": [msg]}, code="tag_name_taken") from exc


def _clean_group_ref(value: Any) -> TagGroup | None:
    if value in (None, ""):
        return None
    if isinstance(value, TagGroup):
        return value
    try:
        return TagGroup.objects.get(pk=int(value))
    except (TypeError, ValueError, TagGroup.DoesNotExist) as exc:
        msg = _("Unknown tag group.")
        raise TagsError(msg, fields={"group": [msg]}) from exc


@transaction.atomic
def tag_create(*, by: Any, data: Mapping[str, Any]) -> Tag:
    """data: name, group (TagGroup, id or None), colour, description, order, is_active."""
    _require(by, Action.ADD)
    _check_unknown(data, TAG_FIELDS)
    group = _clean_group_ref(data.get("group"))
    return _tag_insert(
        name=_clean_name(data.get("name")),
        group=group,
        colour=_clean_colour(data.get("colour") or (group.colour if group else "")),
        description=str(data.get("description") or "")[:500],
        order=_clean_order(data["order"]) if data.get("order") not in (None, "") else None,
        is_active=bool(data.get("is_active", True)),
    )


@transaction.atomic
def tag_update(*, tag: Tag, by: Any, data: Mapping[str, Any], version: int | None = None) -> Tag:
    """Apply `data` (the fields to change). `version`: the one the user started from (a stale edit
    is refused, `StaleObjectError`)."""
    _require(by, Action.CHANGE)
    _check_unknown(data, TAG_FIELDS)
    tag = Tag.objects.select_for_update().get(pk=tag.pk)
    owned.check_version(tag, version)
    values: dict[str, Any] = {}
    if "name" in data:
        values["name"] = _clean_name(data["name"])
    if "group" in data:
        values["group"] = _clean_group_ref(data["group"])
    if "colour" in data:
        values["colour"] = _clean_colour(data["colour"])
    if "description" in data:
        values["description"] = str(data["description"] or "")[:500]
    if "order" in data:
        values["order"] = _clean_order(data["order"])
    if "is_active" in data:
        values["is_active"] = bool(data["is_active"])
    group = values.get("group", tag.group)
    if "name" in values or "group" in values:
        _check_tag_name_free(values.get("name", tag.name), group, exclude=tag.pk)
    if "group" in values and group is not None and group.exclusive and group.pk != tag.group_id:
        _check_group_exclusive_ok(group, extra_tag=tag)
    changed = owned.apply_values(tag, values, values.keys())
    if changed:
        tag.version += 1
        try:
            with transaction.atomic():
                tag.save(update_fields=[*changed, "version", "updated_at"])
        except IntegrityError as exc:
            msg = _("There is already a tag with this name.")
            raise TagsError(msg, fields={"name": [msg]}, code="tag_name_taken") from exc
    return tag


def _items_by_model(tag_ids: Iterable[int]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for label, oid in (
        TaggedItem.objects.filter(tag_id__in=list(tag_ids))
        .values_list("model", "object_id")
        .distinct()
        .order_by()
    ):
        out[label].append(oid)
    return out


def _strip_tags(tag_ids: set[int], *, add: Sequence[Tag] = (), by: Any) -> None:
    """Take tags off every record carrying them (and put `add` on instead), recording each record's
    change; records of models no longer registered simply lose the rows."""
    for label, oids in _items_by_model(tag_ids).items():
        model = registry.get_model(label)
        if model is None:
            TaggedItem.objects.filter(model=label, tag_id__in=tag_ids).delete()
            continue
        for chunk in _chunks(oids):
            _apply(label=label, model=model, object_ids=chunk, add=add, remove=tag_ids, by=by)


@transaction.atomic
def tag_delete(*, tag: Tag, by: Any) -> None:
    """Delete the tag; it disappears from every record (recorded in their history)."""
    _require(by, Action.DELETE)
    _strip_tags({tag.pk}, by=by)
    tag.delete()


@transaction.atomic
def tag_merge(*, source: Tag, target: Tag, by: Any) -> int:
    """Replace `source` by `target` on every record, then delete `source`. Returns the number of
    records that got `target`."""
    _require(by, Action.CHANGE)
    _require(by, Action.DELETE)
    if source.pk == target.pk:
        msg = _("Choose another tag to merge into.")
        raise TagsError(msg, fields={"target": [msg]})
    target = Tag.objects.select_related("group").get(pk=target.pk)
    count = 0
    for label, oids in _items_by_model({source.pk}).items():
        model = registry.get_model(label)
        if model is None:
            continue
        for chunk in _chunks(oids):
            if target.group is not None and not target.group.applies_to(label):
                count += _apply(
                    label=label, model=model, object_ids=chunk, add=(), remove={source.pk}, by=by
                )[0]
            else:
                count += _apply(
                    label=label, model=model, object_ids=chunk, add=[target], remove={source.pk}, by=by
                )[0]
    TaggedItem.objects.filter(tag=source).delete()
    Tag.objects.filter(pk=source.pk).delete()
    return count


@transaction.atomic
def tags_reorder(*, ids: Sequence[int], by: Any, group: TagGroup | None = None) -> None:
    """Order of tags (within their group) as listed."""
    _require(by, Action.CHANGE)
    tags = {t.pk: t for t in Tag.objects.filter(pk__in=list(ids))}
    changed = []
    for position, pk in enumerate(ids, start=1):
        tag = tags.get(int(pk))
        if tag is not None and tag.order != position:
            tag.order = position
            changed.append(tag)
    for tag in changed:
        tag.save(update_fields=["order", "updated_at"])


# --- tag groups ------------------------------------------------------------------------------


def _clean_model_labels(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [value]
    labels = []
    for item in value:
        label = str(item).lower()
        if not registry.is_taggable(label):
            msg = _("“%(m)s” cannot be tagged.") % {"m": item}
            raise TagsError(msg, fields={"model_labels": [msg]})
        if label not in labels:
            labels.append(label)
    return labels


def _check_group_name_free(name: str, *, exclude: int | None = None) -> None:
    qs = TagGroup.objects.filter(name__iexact=name)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    if qs.exists():
        msg = _("There is already a tag group with this name.")
        raise TagsError(msg, fields={"name": [msg]}, code="tag_group_name_taken")


def _check_group_exclusive_ok(group: TagGroup, *, extra_tag: Tag | None = None) -> None:
    """Making a group exclusive (or moving a tag into one) must not leave records with two of its tags."""
    tag_ids = set(group.tags.values_list("pk", flat=True))
    if extra_tag is not None:
        tag_ids.add(extra_tag.pk)
    if len(tag_ids) < 2:
        return
    clash = (
        TaggedItem.objects.filter(tag_id__in=tag_ids)
        .values("model", "object_id")
        .annotate(n=models.Count("id"))
        .filter(n__gt=1)
        .exists()
    )
    if clash:
        msg = _("Some records carry more than one tag of this group: remove the extra tags first.")
        raise TagsError(msg, fields={"exclusive": [msg]}, code="tags_exclusive")


@transaction.atomic
def tag_group_create(*, by: Any, data: Mapping[str, Any]) -> TagGroup:
    """data: name, colour, description, exclusive, order, model_labels (list of model labels)."""
    _require(by, Action.CHANGE)
    _check_unknown(data, GROUP_FIELDS)
    name = _clean_name(data.get("name"), max_length=100)
    _check_group_name_free(name)
    order = data.get("order")
    try:
        with transaction.atomic():
            return TagGroup.objects.create(
                name=name,
                colour=_clean_colour(data.get("colour")),
                description=str(data.get("description") or "")[:500],
                exclusive=bool(data.get("exclusive", False)),
                order=_clean_order(order) if order not in (None, "") else _next_order(TagGroup.objects.all()),
                model_labels=_clean_model_labels(data.get("model_labels")),
            )
    except IntegrityError as exc:
        msg = _("There is already a tag group with this name.")
        raise TagsError(msg, fields={"name": [msg]}, code="tag_group_name_taken") from exc


@transaction.atomic
def tag_group_update(
    *, group: TagGroup, by: Any, data: Mapping[str, Any], version: int | None = None
) -> TagGroup:
    """Apply `data` (the fields to change); `version` as for `tag_update`."""
    _require(by, Action.CHANGE)
    _check_unknown(data, GROUP_FIELDS)
    group = TagGroup.objects.select_for_update().get(pk=group.pk)
    owned.check_version(group, version)
    values: dict[str, Any] = {}
    if "name" in data:
        values["name"] = _clean_name(data["name"], max_length=100)
        _check_group_name_free(values["name"], exclude=group.pk)
    if "colour" in data:
        values["colour"] = _clean_colour(data["colour"])
    if "description" in data:
        values["description"] = str(data["description"] or "")[:500]
    if "exclusive" in data:
        values["exclusive"] = bool(data["exclusive"])
        if values["exclusive"] and not group.exclusive:
            _check_group_exclusive_ok(group)
    if "order" in data:
        values["order"] = _clean_order(data["order"])
    if "model_labels" in data:
        values["model_labels"] = _clean_model_labels(data["model_labels"])
    changed = owned.apply_values(group, values, values.keys())
    if changed:
        group.version += 1
        try:
            with transaction.atomic():
                group.save(update_fields=[*changed, "version", "updated_at"])
        except IntegrityError as exc:
            msg = _("There is already a tag group with this name.")
            raise TagsError(msg, fields={"name": [msg]}, code="tag_group_name_taken") from exc
    return group


@transaction.atomic
def tag_group_delete(*, group: TagGroup, by: Any, delete_tags: bool = False) -> None:
    """Delete the group. Its tags become ungrouped, or are deleted with `delete_tags`."""
    _require(by, Action.DELETE)
    tags = list(group.tags.all())
    if delete_tags:
        _strip_tags({t.pk for t in tags}, by=by)
        Tag.objects.filter(group=group).delete()
    else:
        for tag in tags:
            _check_tag_name_free(tag.name, None)
        for tag in tags:
            tag.group = None
            tag.save(update_fields=["group", "updated_at"])
    group.delete()


@transaction.atomic
def tag_groups_reorder(*, ids: Sequence[int], by: Any) -> None:
    _require(by, Action.CHANGE)
    groups = {g.pk: g for g in TagGroup.objects.filter(pk__in=list(ids))}
    for position, pk in enumerate(ids, start=1):
        group = groups.get(int(pk))
        if group is not None and group.order != position:
            group.order = position
            group.save(update_fields=["order", "updated_at"])


# --- static groups ---------------------------------------------------------------------------


def may_manage_group(user: Any, group: StaticGroup) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and (group.owner_id == user.pk or is_admin(user))


def _require_group_manager(by: Any, group: StaticGroup) -> None:
    if not may_manage_group(by, group):
        raise PermissionDeniedError(_("Only the group's owner may change it."))


@transaction.atomic
def static_group_create(*, by: Any, data: Mapping[str, Any]) -> StaticGroup:
    """data: name, model (label such as "customers.account"), description, is_shared."""
    _check_unknown(data, (*STATIC_GROUP_FIELDS, "model"))
    label, model = _taggable(str(data.get("model") or ""))
    if not can(by, model, Action.VIEW):
        raise PermissionDeniedError(_("You may not view these records."))
    group = StaticGroup(
        name=_clean_name(data.get("name"), max_length=100),
        model=label,
        description=str(data.get("description") or ""),
        is_shared=bool(data.get("is_shared", False)),
        owner=by,
    )
    group.save()
    return group


@transaction.atomic
def static_group_update(
    *, group: StaticGroup, by: Any, data: Mapping[str, Any], version: int | None = None
) -> StaticGroup:
    _check_unknown(data, STATIC_GROUP_FIELDS)
    group = StaticGroup.objects.select_for_update().get(pk=group.pk)
    _require_group_manager(by, group)
    owned.check_version(group, version)
    values: dict[str, Any] = {}
    if "name" in data:
        values["name"] = _clean_name(data["name"], max_length=100)
    if "description" in data:
        values["description"] = str(data["description"] or "")
    if "is_shared" in data:
        values["is_shared"] = bool(data["is_shared"])
    changed = owned.apply_values(group, values, values.keys())
    if changed:
        group.version += 1
        group.save(update_fields=[*changed, "version", "updated_at"])
    return group


@transaction.atomic
def static_group_delete(*, group: StaticGroup, by: Any) -> None:
    _require_group_manager(by, group)
    group.delete()


def _record_members(group: StaticGroup, by: Any, key: str, count: int) -> None:
    if count:
        object_change_record(obj=group, action=ChangeAction.UPDATE, changes={key: [None, count]}, by=by)


@transaction.atomic
def static_group_add(*, group: StaticGroup, ids: Iterable[int], by: Any) -> int:
    """Add the records `ids` the owner may view. Idempotent; returns the number newly added."""
    _require_group_manager(by, group)
    model = registry.get_model(group.model)
    if model is None:
        raise TagsError(_("Records of this kind cannot be grouped."))
    user = by if getattr(by, "pk", None) else None
    added = 0
    for chunk in _chunks(ids):
        allowed = _restricted_ids(model, by, Action.VIEW, chunk)
        if not allowed:
            continue
        present = set(
            StaticGroupMember.objects.filter(group=group, object_id__in=allowed).values_list(
                "object_id", flat=True
            )
        )
        rows = [
            StaticGroupMember(group=group, object_id=oid, added_by=user)
            for oid in allowed
            if oid not in present
        ]
        StaticGroupMember.objects.bulk_create(rows, ignore_conflicts=True, batch_size=CHUNK)
        added += len(rows)
    _record_members(group, by, "members_added", added)
    return added


@transaction.atomic
def static_group_remove(*, group: StaticGroup, ids: Iterable[int], by: Any) -> int:
    """Remove records from the group; returns the number removed."""
    _require_group_manager(by, group)
    removed = 0
    for chunk in _chunks(ids):
        removed += StaticGroupMember.objects.filter(group=group, object_id__in=chunk).delete()[0]
    _record_members(group, by, "members_removed", removed)
    return removed
