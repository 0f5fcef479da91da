"""Reads of the imports app. CONTRACT (issue 6): see services.py."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models import Q, QuerySet

from kehu.core.choices import Action
from kehu.core.permissions import can

from . import mapping as m
from .models import ImportJob, ImportPreset
from .registry import target_handler


def import_list(*, user: Any) -> QuerySet[ImportJob]:
    """The imports the user may see, newest first: their own (whoever may import sees what they
    imported, like their background jobs) and those `ImportJob.objects.restrict(user, "view")`
    grants through a role."""
    if not (user is not None and getattr(user, "is_authenticated", False) and user.is_active):
        return ImportJob.objects.none()
    scoped = ImportJob.objects.restrict(user, Action.VIEW).values("pk")
    return (
        ImportJob.objects.filter(Q(owner=user.pk) | Q(pk__in=scoped))
        .select_related("owner", "job")
        .order_by("-created_at", "-id")
    )


def import_get(*, user: Any, pk: Any) -> ImportJob | None:
    try:
        key = int(pk)
    except (TypeError, ValueError):
        return None
    return import_list(user=user).filter(pk=key).first()


def import_targets(*, user: Any) -> list[tuple[str, str]]:
    """(model label, translated plural name) of the record types the user may import."""
    found = []
    # customers and sales first, then the targets other apps handle (the catalog's)
    for label in sorted(m.registered_targets(), key=lambda x: (target_handler(x) is not None, x)):
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        handler = target_handler(label)
        if handler.may_import(user) if handler is not None else can(user, model, Action.IMPORT):
            found.append((label, str(model._meta.verbose_name_plural)))
    return found


def may_import_anything(*, user: Any) -> bool:
    return bool(import_targets(user=user))


def import_preview(*, job: ImportJob, rows: int = 20) -> list[dict[str, Any]]:
    """The first rows as the mapping converts them: per row its number, the raw values, the
    converted field values and the errors per field (the wizard's preview and mapping steps)."""
    from .services import read_file

    sniffed = read_file(job)
    target = m.get_target(job.target)
    transforms = job.transforms or {}
    try:
        picklists = m.picklist_mappers(
            target,
            policy=transforms.get("unknown_choices", "reject"),
            mappings=transforms.get("picklists") or {},
        )
    except ValueError:
        picklists = m.picklist_mappers(target)
    options = m.ConvertOptions(
        date_order=transforms.get("date_order", "YMD"),
        region=transforms.get("phone_region", "CN"),
        picklists=picklists,
        separators=transforms.get("separators") or m.t.MULTI_SEPARATORS,
    )
    headers = list(sniffed.headers)
    mapping = {h: (job.mapping or {}).get(h) or None for h in headers}
    found = []
    for raw in sniffed.preview[:rows]:
        cells = dict(zip(headers, raw.values, strict=False))
        values, errors = m.convert_values(target, m.group_row(mapping, cells), options)
        if raw.error:
            errors = {"": [raw.error], **errors}
        found.append(
            {
                "line": raw.line,
                "raw": list(raw.values),
                "values": values,
                "errors": {k: [str(e) for e in v] for k, v in errors.items()},
                "row_error": raw.error,
            }
        )
    return found


def presets_for(*, user: Any, target: str) -> list[ImportPreset]:
    """The user's own and the shared presets of a record type."""
    return list(
        ImportPreset.objects.filter(target=target.lower())
        .filter(Q(owner__isnull=True) | Q(owner=getattr(user, "pk", None)))
        .order_by("name", "id")
    )
