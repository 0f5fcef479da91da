"""Which models take tags and static groups. Higher apps register theirs in ``AppConfig.ready()``::

    from kehu.tags.registry import register_taggable
    register_taggable(Account)

The model must offer ``objects.restrict(user, action)`` (it is re-checked on every write) and a
bigint/integer primary key. When a record is deleted one by one (``Model.delete()``) its tags and
group memberships go with it (a generic clean-up, like the change recorder); services that delete
in bulk call `kehu.tags.services.tags_forget` themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models
from django.db.models.signals import post_delete

_models: dict[str, type[models.Model]] = {}
_callbacks: list[Callable[[type[models.Model]], None]] = []


def register_taggable(model: type[models.Model]) -> None:
    if not hasattr(model._default_manager, "restrict"):
        raise TypeError(f"{model._meta.label} has no restrict(): it cannot be tagged")
    label = model._meta.label_lower
    _models[label] = model
    post_delete.connect(_forget_deleted, sender=model, dispatch_uid=f"kehu.tags.forget.{label}")
    for callback in _callbacks:
        callback(model)


def unregister_taggable(model: type[models.Model]) -> None:
    label = model._meta.label_lower
    _models.pop(label, None)
    post_delete.disconnect(sender=model, dispatch_uid=f"kehu.tags.forget.{label}")


def taggable_models() -> list[type[models.Model]]:
    return list(_models.values())


def get_model(label: str) -> type[models.Model] | None:
    """The registered model for "customers.account", or None."""
    return _models.get(str(label).lower())


def is_taggable(model: type[models.Model] | str) -> bool:
    label = model if isinstance(model, str) else model._meta.label_lower
    return label.lower() in _models


def label_of(model: type[models.Model] | models.Model | str) -> str:
    if isinstance(model, str):
        return model.lower()
    return model._meta.label_lower


def model_choices() -> list[tuple[str, str]]:
    """(label, verbose name plural) of every taggable model, for forms."""
    return [(label, str(m._meta.verbose_name_plural)) for label, m in sorted(_models.items())]


def on_register(callback: Callable[[type[models.Model]], None]) -> None:
    """Call `callback(model)` for every taggable model, now and when one registers later (the web
    layer adds its "Add to group" button this way; the registry itself imports no views)."""
    _callbacks.append(callback)
    for model in list(_models.values()):
        callback(model)


def _forget_deleted(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    from .models import StaticGroupMember, TaggedItem

    label = sender._meta.label_lower
    TaggedItem.objects.filter(model=label, object_id=instance.pk).delete()
    StaticGroupMember.objects.filter(group__model=label, object_id=instance.pk).delete()
