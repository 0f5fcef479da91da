"""Reads of the dedup app: the collision check's matches, the keys of a record, the policies.

Cost of ``collision_matches``: index look-ups only, at most ``2 + 2 × (models matched)`` queries
(the record's own keys when editing; the keys by ``(kind, value)``; per matched model its rows by
primary key and the user's visible subset by primary key), whatever the table sizes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.urls import NoReverseMatch

from kehu.core.choices import Action
from kehu.core.masking import mask_text

from .choices import PolicyMode
from .models import CollisionPolicy, MatchKey
from .normalisers import KINDS
from .registry import KeySource, has_keys, key_source, key_sources
from .services import CollisionMatch, dedup_flush

# At most this many key rows are read (a key shared by thousands of records is not news).
MAX_KEY_ROWS = 60
MAX_MATCHES = 20
_KIND_ORDER = {k: i for i, k in enumerate(KINDS)}
# Leads first (a collision is mostly about leads), then accounts, then contacts.
_MODEL_ORDER = {"sales.lead": 0, "customers.account": 1, "customers.contact": 2}


def _owner_name(obj: Any) -> str:
    owner = getattr(obj, "owner", None)
    return str(owner) if owner is not None else ""


def _url(obj: Any) -> str:
    try:
        return str(obj.get_absolute_url())
    except (AttributeError, NoReverseMatch):  # a model without pages (yet)
        return ""


def _restricted_ids(model: type[Any], user: Any, ids: list[int]) -> set[int]:
    if user is None:  # a system caller (import, task): everything is visible
        return set(ids)
    manager = model._default_manager
    if not hasattr(manager, "restrict"):
        return set()
    return set(manager.restrict(user, Action.VIEW).filter(pk__in=ids).values_list("pk", flat=True))


def collision_matches(
    *, model_label: str, values: Mapping[str, Any], exclude_pk: int | None = None, user: Any
) -> list[CollisionMatch]:
    """See ``kehu.dedup.services.collision_check``."""
    label = model_label.lower()
    if not has_keys(label):
        raise ValueError(f"{model_label} has no match keys (kehu.dedup.registry.register_keys)")
    dedup_flush()
    source = key_source(label)
    wanted = source.keys_from_values(values)
    if not wanted:
        return []
    own_ct = ContentType.objects.get_for_model(source.model)
    if exclude_pk is not None:
        own = set(
            MatchKey.objects.filter(content_type=own_ct, object_id=exclude_pk).values_list("kind", "value")
        )
        wanted = {k: names for k, names in wanted.items() if k not in own}
        if not wanted:
            return []
    by_kind: dict[str, list[str]] = defaultdict(list)
    for kind, value in wanted:
        by_kind[kind].append(value)
    q = Q()
    for kind, vals in by_kind.items():
        q |= Q(kind=kind, value__in=vals)
    rows = MatchKey.objects.filter(q)
    if exclude_pk is not None:
        rows = rows.exclude(content_type=own_ct, object_id=exclude_pk)
    hits: dict[tuple[int, int], set[tuple[str, str]]] = defaultdict(set)
    for ct_id, object_id, kind, value in rows.values_list("content_type_id", "object_id", "kind", "value")[
        :MAX_KEY_ROWS
    ]:
        hits[(ct_id, object_id)].add((kind, value))
    if not hits:
        return []
    by_ct: dict[int, list[int]] = defaultdict(list)
    for ct_id, object_id in hits:
        by_ct[ct_id].append(object_id)
    matches: list[CollisionMatch] = []
    for ct_id, ids in by_ct.items():
        model = ContentType.objects.get_for_id(ct_id).model_class()
        if model is None or not has_keys(model._meta.label_lower):
            continue
        other = key_source(model._meta.label_lower)
        matches.extend(_matches_of(other, ct_id, ids, hits, wanted, user))
    matches.sort(key=lambda m: (_KIND_ORDER[m.matched_on], _MODEL_ORDER.get(m.model_label, 9), -m.pk))
    return matches[:MAX_MATCHES]


def _matches_of(
    source: KeySource,
    ct_id: int,
    ids: list[int],
    hits: dict[tuple[int, int], set[tuple[str, str]]],
    wanted: dict[tuple[str, str], set[str]],
    user: Any,
) -> list[CollisionMatch]:
    model = source.model
    qs = model._default_manager.filter(pk__in=ids)
    if any(f.name == "owner" for f in model._meta.concrete_fields):
        qs = qs.select_related("owner")
    objects = [obj for obj in qs if source.active is None or source.active(obj)]
    if not objects:
        return []
    visible = _restricted_ids(model, user, [o.pk for o in objects])
    name = str(model._meta.verbose_name)
    out = []
    for obj in objects:
        keys = hits[(ct_id, obj.pk)]
        kinds = tuple(sorted({k for k, _v in keys}, key=_KIND_ORDER.__getitem__))
        fields = tuple(sorted({f for key in keys for f in wanted.get(key, ())}))
        shown = obj.pk in visible
        owner = _owner_name(obj)
        out.append(
            CollisionMatch(
                model_label=source.label,
                pk=obj.pk,
                label=str(obj) if shown else mask_text(str(obj)),
                owner_name=owner if shown else mask_text(owner),
                matched_on=kinds[0],
                visible=shown,
                url=_url(obj) if shown else "",
                kinds=kinds,
                fields=fields,
                model_name=name,
                in_pool=getattr(obj, "owner_id", 0) is None,
            )
        )
    return out


def record_keys(obj: Any) -> set[tuple[str, str]]:
    """The stored keys of a record ``{(kind, value)}`` (after writing what is queued)."""
    dedup_flush()
    ct = ContentType.objects.get_for_model(type(obj))
    return set(MatchKey.objects.filter(content_type=ct, object_id=obj.pk).values_list("kind", "value"))


def collision_policies() -> list[dict[str, Any]]:
    """Every model with match keys and its policy (warn when never set), for the settings page."""
    stored = dict(CollisionPolicy.objects.values_list("model_label", "mode"))
    rows = []
    for source in sorted(key_sources(), key=lambda s: _MODEL_ORDER.get(s.label, 9)):
        rows.append(
            {
                "model": source.label,
                "name": str(source.model._meta.verbose_name_plural),
                "mode": stored.get(source.label, PolicyMode.WARN),
                "kinds": [k for k in KINDS if k in source.fields],
            }
        )
    return rows
