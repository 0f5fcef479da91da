"""Which models the data quality page measures, and what it checks on them.

Higher apps (or this app for the customers models) register a model with the fields that hold
phone numbers and e-mail addresses, its owner and "last contact" fields, and the name of its list
page (the drill-down links add the list's filters ``?has_owner=false``, ``?no_activity_days=N``,
``?completeness_max=N``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db import models


@dataclass(frozen=True)
class QualityModel:
    label: str  # "customers.account"
    phone_fields: tuple[str, ...] = ()
    email_fields: tuple[str, ...] = ()
    owner_field: str | None = "owner"
    last_activity_field: str | None = "last_activity_at"
    completeness_field: str | None = "completeness"
    list_url_name: str = ""  # e.g. "customers:account_list"
    order: int = 100

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.label)


_models: dict[str, QualityModel] = {}


def register(entry: QualityModel) -> None:
    _models[entry.label] = entry


def unregister(label: str) -> None:
    _models.pop(label, None)


def quality_models() -> list[QualityModel]:
    return sorted(_models.values(), key=lambda m: (m.order, m.label))


def get(label: str) -> QualityModel | None:
    return _models.get(label.lower())
