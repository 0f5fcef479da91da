"""Reads of tags and static groups."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connections, models
from django.db.models import Count, Q, QuerySet

from kehu.core import confcache
from kehu.core import rows as plain_rows
from kehu.core.choices import Action
from kehu.core.permissions import can, is_admin

from . import registry
from .models import StaticGroup, StaticGroupMember, Tag, TaggedItem, TagGroup

PREFETCH_ATTR = "_kehu_tags"


def _sort_key(tag: Tag) -> tuple[Any, ...]:
    group = tag.group
    return (
        group is None,
        group.order if group else 0,
        group.name if group else "",
        tag.order,
        tag.name,
        tag.pk,
    )


def all_tags() -> dict[int, Tag]:
    """{id: tag} of every tag, with its group: kept per process while the configuration token stays
    (`kehu.core.confcache`; every save or delete of a tag or tag group replaces the token, see
    apps.py), so a list page or API list reads only its records' (record, tag) pairs. The tags are
    shared by the requests of a process: read them, never change them."""
    return confcache.cached(("tags.all",), lambda: {t.pk: t for t in Tag.objects.select_related("group")})


def _pairs(label: str, pks: list[Any]) -> list[tuple[Any, Any]]:
    """(object id, tag id) of the records `pks` of model `label`: what
    `TaggedItem.objects.filter(model=label, object_id__in=pks).values_list("object_id", "tag_id")`
    reads, by a plain statement built once per number of records up to a page's (a list page asks
    on every request; the ORM's compile of it cost more than the database's run)."""
    conn = connections[TaggedItem.objects.db]
    object_id: Any = TaggedItem._meta.get_field("object_id")

    def head(c: Any) -> str:
        qn = c.ops.quote_name
        return (
            f"SELECT {qn(object_id.column)}, {qn(plain_rows.column(TaggedItem, 'tag'))} "  # noqa: S608
            f"FROM {qn(TaggedItem._meta.db_table)} WHERE {qn(plain_rows.column(TaggedItem, 'model'))} = %s "
            f"AND {qn(object_id.column)}"
        )

    values = [object_id.get_db_prep_value(pk, conn) for pk in pks]
    found = plain_rows.select_in(conn, ("tags.pairs",), head, values, before=[label])
    if found is None:
        return list(
            TaggedItem.objects.filter(model=label, object_id__in=pks).values_list("object_id", "tag_id")
        )
    return found


def tags_for(objs: Sequence[models.Model] | Iterable[models.Model]) -> dict[Any, list[Tag]]:
    """{pk: [tags]} for records of one model (one query), in display order. Also keeps each record's
    tags on it, so `{% tag_chips obj %}` needs no query of its own."""
    objs = [o for o in objs if o is not None and o.pk is not None]
    if not objs:
        return {}
    label = objs[0]._meta.label_lower
    pks = [o.pk for o in objs]
    out: dict[Any, list[Tag]] = defaultdict(list)
    pairs = _pairs(label, pks)
    tags = all_tags()
    missing = {tag_id for _, tag_id in pairs if tag_id not in tags}
    if missing:  # made by another process after this request read the configuration token
        tags = {**tags, **{t.pk: t for t in Tag.objects.select_related("group").filter(pk__in=missing)}}
    for object_id, tag_id in pairs:
        out[object_id].append(tags[tag_id])
    result = {pk: sorted(out.get(pk, []), key=_sort_key) for pk in pks}
    for obj in objs:
        obj.__dict__[PREFETCH_ATTR] = result[obj.pk]
    return result


def tags_of(obj: models.Model) -> list[Tag]:
    """The record's tags (prefetched by `tags_for` when available)."""
    cached = obj.__dict__.get(PREFETCH_ATTR)
    if cached is not None:
        return list(cached)
    return tags_for([obj]).get(obj.pk, [])


def applicable_tags(model: type[models.Model] | str, *, active_only: bool = True) -> list[Tag]:
    """Tags that may go on records of `model` (ungrouped ones and those of groups for it)."""
    label = registry.label_of(model)
    qs = Tag.objects.select_related("group")
    if active_only:
        qs = qs.filter(is_active=True)
    return sorted((t for t in qs if t.applies_to(label)), key=_sort_key)


def tag_usage_counts(tag_ids: Iterable[int] | None = None) -> dict[int, int]:
    """{tag id: number of records carrying it} (every record; for the settings pages)."""
    qs = TaggedItem.objects.all()
    if tag_ids is not None:
        qs = qs.filter(tag_id__in=list(tag_ids))
    return dict(qs.values_list("tag_id").annotate(n=Count("id")).order_by().values_list("tag_id", "n"))


def tag_groups_with_tags() -> list[TagGroup]:
    """Groups in order with `tag_list` (their tags in order) and the ungrouped tags last as a
    group-less entry (pk None). Each tag carries `usage` (records carrying it)."""
    groups = list(TagGroup.objects.all())
    tags = list(Tag.objects.select_related("group").order_by("order", "name", "id"))
    counts = tag_usage_counts()
    by_group: dict[int | None, list[Tag]] = defaultdict(list)
    for tag in tags:
        tag.usage = counts.get(tag.pk, 0)  # type: ignore[attr-defined]
        by_group[tag.group_id].append(tag)
    for group in groups:
        group.tag_list = by_group.get(group.pk, [])  # type: ignore[attr-defined]
    ungrouped = TagGroup(pk=None, name="")
    ungrouped.tag_list = by_group.get(None, [])  # type: ignore[attr-defined]
    return [*groups, ungrouped]


def tag_search(*, model: type[models.Model] | str | None, q: str = "", limit: int = 50) -> list[Tag]:
    """Active tags for a picker: applicable to `model` (any when None), names containing `q`."""
    label = registry.label_of(model) if model is not None else None
    qs = Tag.objects.select_related("group").filter(is_active=True)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(group__name__icontains=q))
    tags = [t for t in qs if label is None or t.applies_to(label)]
    return sorted(tags, key=_sort_key)[:limit]


# --- static groups ---------------------------------------------------------------------------


def static_groups_visible(user: Any) -> QuerySet[StaticGroup]:
    """Groups the user may see: their own, shared ones of models they may view (admins: all)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return StaticGroup.objects.none()
    if is_admin(user):
        return StaticGroup.objects.all()
    labels = [m._meta.label_lower for m in registry.taggable_models() if can(user, m, Action.VIEW)]
    return StaticGroup.objects.filter(Q(owner=user) | Q(is_shared=True, model__in=labels))


def static_groups_for(user: Any, model: type[models.Model] | str) -> QuerySet[StaticGroup]:
    """The user's own groups of `model` and the shared ones (when they may view the model)."""
    label = registry.label_of(model)
    cls = registry.get_model(label)
    if cls is None or not can(user, cls, Action.VIEW):
        return StaticGroup.objects.none()
    return static_groups_visible(user).filter(model=label).select_related("owner").order_by("name", "id")


def static_groups_manageable(user: Any, model: type[models.Model] | str) -> QuerySet[StaticGroup]:
    """Groups of `model` the user may add records to (their own; admins any)."""
    qs = static_groups_for(user, model)
    return qs if is_admin(user) else qs.filter(owner=user)


def static_group_member_counts(user: Any, groups: Iterable[StaticGroup]) -> dict[int, int]:
    """{group id: members the user may view}, one query per model."""
    by_model: dict[str, list[int]] = defaultdict(list)
    for group in groups:
        by_model[group.model].append(group.pk)
    out: dict[int, int] = {}
    for label, ids in by_model.items():
        cls = registry.get_model(label)
        if cls is None:
            continue
        visible = cls._default_manager.restrict(user, Action.VIEW).values("pk")  # type: ignore[attr-defined]
        rows = (
            StaticGroupMember.objects.filter(group_id__in=ids, object_id__in=visible)
            .values_list("group_id")
            .annotate(n=Count("id"))
            .order_by()
            .values_list("group_id", "n")
        )
        out.update(dict(rows))
    return out


def static_groups_of(user: Any, obj: models.Model) -> list[StaticGroup]:
    """The groups visible to the user that contain `obj`."""
    label = obj._meta.label_lower
    member_of = StaticGroupMember.objects.filter(object_id=obj.pk).values("group_id")
    return list(static_groups_for(user, label).filter(pk__in=member_of))
