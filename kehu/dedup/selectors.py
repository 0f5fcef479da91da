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


# --- the review queue (duplicate groups) and the duplicate rate ----------------------------------


def scan_models_for(user: Any) -> list[tuple[str, str]]:
    """(label, plural name) of the scanned record types the user may view."""
    from kehu.core.permissions import can

    from .scanning import SCAN_MODELS, scan_model

    out = []
    for label in SCAN_MODELS:
        model = scan_model(label)
        if can(user, model, Action.VIEW):
            out.append((label, str(model._meta.verbose_name_plural)))
    return out


def _visible_groups(user: Any, label: str, action: str = Action.VIEW, *, to_review: bool = False) -> Any:
    """The groups of a type whose every live record the user may `action` (one query, a NOT
    EXISTS). `to_review`: only those still holding two live records (open groups to review)."""
    from django.db.models import Exists, OuterRef

    from kehu.core.permissions import scope_q

    from .models import DuplicateGroup, DuplicateMember
    from .scanning import scan_model

    model = scan_model(label)
    groups = DuplicateGroup.objects.filter(model_label=label)
    q = scope_q(user, model, action)
    if q is None:
        return groups.none()
    live = model._base_manager.values("pk")
    if q:
        # a record deleted since the scan is no hidden record: only live ones count
        allowed = model._default_manager.filter(q).values("pk")
        hidden = DuplicateMember.objects.filter(group=OuterRef("pk"), object_id__in=live).exclude(
            object_id__in=allowed
        )
        groups = groups.filter(~Exists(hidden))
    return groups.filter(pk__in=_with_two_live(label, live)) if to_review else groups


def _with_two_live(label: str, live: Any) -> Any:
    """Ids of the groups of `label` that still hold two live records (a record deleted since the
    scan leaves its group with fewer: nothing to review until the next scan closes it)."""
    from django.db.models import Count

    from .models import DuplicateMember

    return (
        DuplicateMember.objects.filter(group__model_label=label, object_id__in=live)
        .values("group")
        .annotate(n=Count("pk"))
        .filter(n__gte=2)
        .values("group")
    )


def duplicate_group_list(*, user: Any, filters: Mapping[str, str] | None = None) -> Any:
    """The review queue: groups of the record types the user may view whose records they may all
    view, filtered by ``model``, ``level`` and ``status`` (default: open), best score first."""
    from .choices import GroupStatus, MatchLevel
    from .models import DuplicateGroup

    filters = filters or {}
    labels = [label for label, _name in scan_models_for(user)]
    model = filters.get("model") or ""
    if model:
        labels = [label for label in labels if label == model]
    if not labels:
        return DuplicateGroup.objects.none()
    status = filters.get("status") or GroupStatus.OPEN
    to_review = status == GroupStatus.OPEN
    qs = _visible_groups(user, labels[0], to_review=to_review)
    for label in labels[1:]:
        qs = qs | _visible_groups(user, label, to_review=to_review)
    if status in GroupStatus.values:
        qs = qs.filter(status=status)
    level = filters.get("level") or ""
    if level in MatchLevel.values:
        qs = qs.filter(level=level)
    return qs.order_by("-score", "-id")


def queue_rows(groups: list[Any]) -> list[dict[str, Any]]:
    """The queue's rows for one page of groups: each group with its members' names (two queries
    per record type on the page, whatever the page size)."""
    from .models import DuplicateMember
    from .scanning import scan_model

    members: dict[int, list[int]] = defaultdict(list)
    for group_id, object_id in DuplicateMember.objects.filter(group__in=[g.pk for g in groups]).values_list(
        "group_id", "object_id"
    ):
        members[group_id].append(object_id)
    names: dict[str, dict[int, str]] = {}
    by_label: dict[str, set[int]] = defaultdict(set)
    for g in groups:
        by_label[g.model_label].update(members[g.pk])
    for label, wanted in by_label.items():
        model = scan_model(label)
        names[label] = dict(model._default_manager.filter(pk__in=wanted).values_list("pk", "name"))
    rows = []
    for g in groups:
        ids = sorted(members[g.pk])
        rows.append(
            {
                "group": g,
                "model_name": str(scan_model(g.model_label)._meta.verbose_name),
                "names": [names[g.model_label].get(i, f"#{i}") for i in ids],
                "count": len(ids),
            }
        )
    return rows


# The fields shown side by side per record type (model field names; "phones"/"emails" add the
# child tables of accounts and contacts).
GROUP_FIELDS = {
    "customers.account": ("name", "kind", "tax_number", "phones", "emails", "address", "owner", "created_at"),
    "customers.contact": ("name", "account", "title", "phones", "emails", "owner", "created_at"),
    "sales.lead": (
        "name",
        "company",
        "title",
        "phones",
        "emails",
        "tax_number",
        "address",
        "status",
        "owner",
        "created_at",
    ),
}


def duplicate_group_get(*, user: Any, pk: int, action: str = Action.VIEW) -> Any:
    """A group whose every record the user may `action`; ``DoesNotExist`` otherwise (404)."""
    from .models import DuplicateGroup

    label = DuplicateGroup.objects.filter(pk=pk).values_list("model_label", flat=True).first()
    if label is None or label not in [lbl for lbl, _n in scan_models_for(user)]:
        raise DuplicateGroup.DoesNotExist
    return _visible_groups(user, label, action).get(pk=pk)


def _values(record: Any, name: str) -> str:
    from django.utils import formats, timezone

    if name in ("phones", "emails"):
        single = ("mobile", "phone") if name == "phones" else ("email",)
        values = [getattr(record, f, "") for f in single]
        related = getattr(record, name, None)
        if related is not None and hasattr(related, "all"):
            column = "number" if name == "phones" else "email"
            values.extend(getattr(r, column) for r in related.all())
        return ", ".join(dict.fromkeys(v for v in values if v))
    value: Any = getattr(record, name, "")
    display = getattr(record, f"get_{name}_display", None)
    if callable(display):
        return str(display())
    if name == "created_at" and value:
        return str(formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT"))
    return "" if value is None else str(value)


def duplicate_group_detail(*, user: Any, group: Any) -> dict[str, Any]:
    """A group side by side: its records (the user's masked/hidden fields respected), one row per
    field with each record's display value and whether they differ, and the pairs' reasons."""
    from kehu.core.permissions import field_modes

    from .scanning import FIELD_LABELS, METHOD_LABELS, scan_model

    model = scan_model(group.model_label)
    members = list(group.members.all())
    ids = sorted(m.object_id for m in members)
    qs = model._default_manager.filter(pk__in=ids)
    related = [n for n in ("phones", "emails") if hasattr(model, n)]
    selected = [n for n in ("owner", "account") if any(f.name == n for f in model._meta.concrete_fields)]
    records = list(qs.select_related(*selected).prefetch_related(*related).order_by("pk"))
    modes = field_modes(user, model)
    rows = []
    for name in GROUP_FIELDS[group.model_label]:
        if name in FIELD_LABELS:  # phones / e-mails: several fields and child tables
            label = str(FIELD_LABELS[name])
        else:
            label = str(getattr(model._meta.get_field(name), "verbose_name", name))
        hidden = modes.get(name) == "hidden" or (name == "phones" and modes.get("phone") == "hidden")
        masked = modes.get(name) == "masked" or (
            name in ("phones", "emails") and modes.get(name[:-1]) in ("masked", "hidden")
        )
        if hidden:
            continue
        values = [_values(r, name) for r in records]
        if masked:
            values = [mask_text(v) if v else v for v in values]
        rows.append(
            {
                "name": name,
                "label": label[:1].upper() + label[1:],
                "values": values,
                # the owner and creation time always differ and say nothing about the customer
                "differs": name not in ("owner", "created_at") and len({v for v in values if v}) > 1,
            }
        )
    names = {r.pk: str(r) for r in records}
    pairs: dict[tuple[int, int], dict[str, Any]] = {}
    for m in members:
        for entry in m.reasons or []:
            other = int(entry.get("with", 0))
            key = (min(m.object_id, other), max(m.object_id, other))
            if key in pairs:
                continue
            pairs[key] = {
                "a": key[0],
                "b": key[1],
                "a_name": names.get(key[0], ""),
                "b_name": names.get(key[1], ""),
                "score": entry.get("score", 0),
                "reasons": [
                    {
                        "field": str(FIELD_LABELS.get(r.get("field"), r.get("field"))),
                        "how": str(METHOD_LABELS.get(r.get("how"), r.get("how"))),
                        "agrees": r.get("how") != "different",
                        "similarity": round(100 * float(r.get("similarity", 0))),
                    }
                    for r in entry.get("reasons", [])
                ],
            }
    return {
        "model_name": str(model._meta.verbose_name),
        "records": records,
        "urls": [_url(r) for r in records],
        "missing": [i for i in ids if i not in {r.pk for r in records}],
        "rows": rows,
        "pairs": sorted(pairs.values(), key=lambda p: (-p["score"], p["a"], p["b"])),
    }


def duplicate_rates(*, user: Any, days: int = 90, today: Any = None) -> list[dict[str, Any]]:
    """Per record type the user may view: the latest duplicate rate (records in open groups over
    records, from the last scan's statistics) and its daily trend. Company-wide figures, so the
    figures are shown only to users who see every record of the type."""
    import datetime as dt

    from django.utils import timezone

    from kehu.core.permissions import scope_q

    from .models import DuplicateStat
    from .scanning import scan_model

    today = today or timezone.localdate()
    since = today - dt.timedelta(days=days)
    out = []
    for label, name in scan_models_for(user):
        q = scope_q(user, scan_model(label), Action.VIEW)
        sees_all = q is not None and not q
        stats = list(DuplicateStat.objects.filter(model_label=label, day__gt=since).order_by("day"))
        trend = [
            {
                "day": s.day.isoformat(),
                "rate": round(100 * s.duplicates / s.records, 2) if s.records else 0.0,
                "groups": s.groups,
            }
            for s in stats
        ]
        last = stats[-1] if stats and sees_all else None
        out.append(
            {
                "model": label,
                "name": name[:1].upper() + name[1:],
                "records": last.records if last else None,
                "duplicates": last.duplicates if last else None,
                "groups": last.groups if last else None,
                "rate": trend[-1]["rate"] if trend and sees_all else None,
                "day": last.day if last else None,
                "trend": trend if sees_all else [],
                "sees_all": sees_all,
            }
        )
    return out
