"""Registries the higher apps fill in their ``AppConfig.ready()``.

* ``register(model)``: the model is customizable (it inherits ``CustomFieldsModel``); admins may
  define custom fields on it.
* ``register_picklist_usage(model, field_name, picklist_code)``: a STANDARD field of `model` stores
  values of the picklist `picklist_code` (e.g. ``Account.industry`` holds ``industry`` codes), so
  those items count as "in use" and cannot be deleted.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

_models: dict[str, type[models.Model]] = {}


@dataclass(frozen=True)
class PicklistUsage:
    model: type[models.Model]
    field_name: str
    picklist_code: str

    @property
    def label(self) -> str:
        return f"{self.model._meta.label_lower}.{self.field_name}"


_usages: list[PicklistUsage] = []


def register(model: type[models.Model]) -> None:
    """Make `model` customizable. It must have the ``custom`` JSON column (``CustomFieldsModel``)."""
    try:
        field = model._meta.get_field("custom")
    except Exception as exc:  # FieldDoesNotExist
        raise TypeError(f"{model._meta.label} has no 'custom' field: inherit CustomFieldsModel") from exc
    if not isinstance(field, models.JSONField):
        raise TypeError(f"{model._meta.label}.custom is not a JSONField")
    _models[model._meta.label_lower] = model


def unregister(model: type[models.Model]) -> None:
    _models.pop(model._meta.label_lower, None)


def registered_models() -> list[type[models.Model]]:
    return list(_models.values())


def get_model(label: str) -> type[models.Model] | None:
    """The registered model for a label such as "customers.account", or None."""
    return _models.get(label.lower())


def is_registered(model: type[models.Model] | str) -> bool:
    label = model if isinstance(model, str) else model._meta.label_lower
    return label.lower() in _models


def model_label(model: type[models.Model] | str) -> str:
    return model.lower() if isinstance(model, str) else model._meta.label_lower


def register_picklist_usage(model: type[models.Model], field_name: str, picklist_code: str) -> None:
    """Declare that the standard field `field_name` of `model` stores values of picklist `picklist_code`."""
    model._meta.get_field(field_name)  # fail early on a typo
    usage = PicklistUsage(model, field_name, picklist_code)
    if usage not in _usages:
        _usages.append(usage)


def unregister_picklist_usage(model: type[models.Model], field_name: str, picklist_code: str) -> None:
    usage = PicklistUsage(model, field_name, picklist_code)
    if usage in _usages:
        _usages.remove(usage)


def picklist_usages(picklist_code: str | None = None) -> list[PicklistUsage]:
    return [u for u in _usages if picklist_code is None or u.picklist_code == picklist_code]


def usage_labels(picklist_code: str) -> list[str]:
    """Human names of the standard fields that store values of the picklist, e.g. "Accounts: Industry"."""
    out = []
    for usage in picklist_usages(picklist_code):
        meta = usage.model._meta
        field = meta.get_field(usage.field_name)
        model_name = str(meta.verbose_name_plural)
        field_name = str(getattr(field, "verbose_name", usage.field_name))
        out.append(f"{model_name[:1].upper()}{model_name[1:]}: {field_name[:1].upper()}{field_name[1:]}")
    return out
