"""Which models the global search indexes, and how a record becomes tokens.

An app registers its models in ``AppConfig.ready()``::

    from kehu.search.registry import register_indexed

    register_indexed(
        Contact,
        document=contact_document,  # fn(obj) -> kehu.search.tokens.Document
        queryset=lambda qs: qs.select_related("account").prefetch_related("phones"),
        related={"customers.contactphone": "contact_id"},  # child rows that change the document
    )

Registering connects ``post_save``/``post_delete`` of the model (and of the related models) to the
indexer: the changed ids are queued and indexed when the transaction commits (and before any
search in the same transaction). Writes that fire no signals (``QuerySet.update``, ``bulk_create``,
imports, merges) call ``kehu.search.services.search_reindex(model=..., ids=...)`` themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models.signals import post_delete, post_save

from .tokens import Document

DocumentFn = Callable[[Any], Document]
QuerysetFn = Callable[[models.QuerySet[Any]], models.QuerySet[Any]]
# (ids, database alias) -> {id: Document} for the ids that exist: a batch without model instances.
DocumentsFn = Callable[[list[int], str], dict[int, Document]]


@dataclass
class Indexed:
    model: type[models.Model]
    document: DocumentFn
    queryset_fn: QuerysetFn | None = None
    related: dict[str, str] = field(default_factory=dict)
    documents: DocumentsFn | None = None

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    def queryset(self) -> models.QuerySet[Any]:
        qs = self.model._default_manager.all()
        return self.queryset_fn(qs) if self.queryset_fn else qs


_indexed: dict[str, Indexed] = {}


def register_indexed(
    model: type[models.Model],
    *,
    document: DocumentFn,
    queryset: QuerysetFn | None = None,
    related: dict[str, str] | None = None,
    documents: DocumentsFn | None = None,
) -> Indexed:
    """Index `model` (replaces an earlier registration of the same model). `documents`, optional,
    builds a batch's documents from plain column values (much faster for rebuilds than loading
    instances and calling `document` on each); it must give the same documents."""
    from . import services

    entry = Indexed(model, document, queryset, dict(related or {}), documents)
    _indexed[entry.label] = entry
    uid = f"kehu.search:{entry.label}"
    post_save.connect(services.on_saved, sender=model, dispatch_uid=uid + ":save", weak=False)
    post_delete.connect(services.on_saved, sender=model, dispatch_uid=uid + ":delete", weak=False)
    for child_label, fk_attname in entry.related.items():
        child = apps.get_model(child_label)
        handler = services.child_handler(entry.label, fk_attname)
        for signal, kind in ((post_save, "save"), (post_delete, "delete")):
            signal.connect(handler, sender=child, dispatch_uid=f"{uid}:{child_label}:{kind}", weak=False)
    return entry


def indexed(label: str) -> Indexed:
    """The registration for "app_label.model" (KeyError when the model is not indexed)."""
    return _indexed[label.lower()]


def indexed_models() -> list[Indexed]:
    return list(_indexed.values())


def is_indexed(model: type[models.Model] | str) -> bool:
    label = model if isinstance(model, str) else model._meta.label_lower
    return label.lower() in _indexed
