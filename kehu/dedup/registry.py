"""Which records have match keys, and where their phones, e-mails, company names and tax numbers are.

Customers' accounts and contacts are registered by this app (``DedupConfig.ready``); higher apps
register theirs in their own ``ready()`` (the sales app its leads)::

    from kehu.dedup.registry import register_keys

    register_keys(
        Lead,
        fields={"phone": ("phone", "mobile"), "email": ("email",), "company": ("company",),
                "tax_number": ("tax_number",)},
        active=lambda lead: lead.status != "converted",  # converted leads are never matched
        watch=("status",),  # saves that change it re-key the record
    )

``fields`` maps a key kind (``kehu.dedup.normalisers.KINDS``) to the names that hold its values in
a record's values mapping: a plain name (``"phone"``) holds one value, a dotted one
(``"phones.number"``) a list of rows (the record's related rows, or dicts / strings in a service's
data). ``when`` may skip a kind for some records (a person account's name is no company).
``related``: child models whose saves and deletes change the parent's keys, ``{label: fk_attname}``.

Registering connects ``post_save``/``post_delete`` of the model and of the related models to the
key maintenance in ``kehu.dedup.services`` (queued per connection, written when the transaction
commits and before any collision check on that connection). Writes that fire no signals
(``QuerySet.update``, ``bulk_create``, imports, merges) call
``kehu.dedup.services.dedup_reindex(model=..., ids=...)`` themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models.signals import post_delete, post_save

from .normalisers import KINDS, key_for

ValuesFn = Callable[[Any], Mapping[str, Any]]


@dataclass
class KeySource:
    model: type[models.Model]
    fields: dict[str, tuple[str, ...]]
    when: dict[str, Callable[[Mapping[str, Any]], bool]] = field(default_factory=dict)
    related: dict[str, str] = field(default_factory=dict)
    active: Callable[[Any], bool] | None = None
    watch: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    @property
    def plain_names(self) -> set[str]:
        return {n for names in self.fields.values() for n in names if "." not in n}

    @property
    def list_names(self) -> set[str]:
        return {n.split(".", 1)[0] for names in self.fields.values() for n in names if "." in n}

    @property
    def watched(self) -> frozenset[str]:
        """Fields whose change can change the keys (saves with other ``update_fields`` are skipped)."""
        return frozenset(self.plain_names | set(self.watch))

    def queryset(self) -> models.QuerySet[Any]:
        qs = self.model._default_manager.all()
        return qs.prefetch_related(*sorted(self.list_names)) if self.list_names else qs

    def values_of(self, obj: Any) -> dict[str, Any]:
        """The values mapping of a saved record (its related rows read through the prefetch)."""
        out: dict[str, Any] = {n: getattr(obj, n, "") for n in self.plain_names | set(self.watch)}
        for names in self.fields.values():
            for name in names:
                if "." in name:
                    rel, attr = name.split(".", 1)
                    out[name] = [getattr(row, attr) for row in getattr(obj, rel).all()]
        return out

    def keys_of(self, obj: Any) -> set[tuple[str, str]]:
        if self.active is not None and not self.active(obj):
            return set()
        return set(self.keys_from_values(self.values_of(obj)))

    def keys_from_values(self, values: Mapping[str, Any]) -> dict[tuple[str, str], set[str]]:
        """``{(kind, key): {field names}}`` of a values mapping: a record's own (``values_of``) or a
        service's data, where a list field (``"phones"``) holds dicts or strings."""
        out: dict[tuple[str, str], set[str]] = {}
        for kind in KINDS:
            names = self.fields.get(kind, ())
            if not names or (kind in self.when and not self.when[kind](values)):
                continue
            for name in names:
                for raw in _raw_values(values, name):
                    key = key_for(kind, raw)
                    if key:
                        out.setdefault((kind, key), set()).add(name.split(".", 1)[0])
        return out


def _raw_values(values: Mapping[str, Any], name: str) -> Iterable[str]:
    if name in values:  # a plain value, or a record's rows already read (values_of)
        value = values[name]
        if isinstance(value, list | tuple):
            return [str(v) for v in value if v]
        return [str(value)] if value else []
    if "." not in name:
        return []
    rel, attr = name.split(".", 1)
    rows = values.get(rel)
    if not rows:
        return []
    out = []
    for row in rows:
        value = row.get(attr) if isinstance(row, Mapping) else getattr(row, attr, row)
        if value:
            out.append(str(value))
    return out


_sources: dict[str, KeySource] = {}


def register_keys(
    model: type[models.Model],
    *,
    fields: Mapping[str, Sequence[str]],
    when: Mapping[str, Callable[[Mapping[str, Any]], bool]] | None = None,
    related: Mapping[str, str] | None = None,
    active: Callable[[Any], bool] | None = None,
    watch: Sequence[str] = (),
) -> KeySource:
    """Keep match keys for `model` (replaces an earlier registration of the same model)."""
    from . import services

    unknown = set(fields) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown key kinds: {sorted(unknown)}")
    source = KeySource(
        model=model,
        fields={k: tuple(v) for k, v in fields.items()},
        when=dict(when or {}),
        related=dict(related or {}),
        active=active,
        watch=tuple(watch),
    )
    _sources[source.label] = source
    uid = f"kehu.dedup:{source.label}"
    post_save.connect(services.on_saved, sender=model, dispatch_uid=uid + ":save", weak=False)
    post_delete.connect(services.on_deleted, sender=model, dispatch_uid=uid + ":delete", weak=False)
    for child_label, fk_attname in source.related.items():
        child = apps.get_model(child_label)
        handler = services.child_handler(source.label, fk_attname)
        for signal, kind in ((post_save, "save"), (post_delete, "delete")):
            signal.connect(handler, sender=child, dispatch_uid=f"{uid}:{child_label}:{kind}", weak=False)
    return source


def key_source(label: str) -> KeySource:
    """The registration of "app_label.model" (KeyError when it has no keys)."""
    return _sources[label.lower()]


def key_sources() -> list[KeySource]:
    return list(_sources.values())


def has_keys(label: str) -> bool:
    return label.lower() in _sources
