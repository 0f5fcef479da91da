"""Data collection standards (数据采集规范): per model, admins mark standard or custom fields as
required, give them a validation pattern, demand uniqueness, and weight them for the completeness
score. Forms, the API and imports all apply them through the model's services, which call:

    rules_check(model=Account, values=data, instance=account)   # raises on violations
    account.completeness = completeness(model=Account, obj=account)

INTERFACE STUB: the signatures are fixed; the implementation (FieldRule model, admin screens) is
being built. Until then nothing is enforced and completeness counts filled standard fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models


def rules_check(
    *,
    model: type[models.Model],
    values: Mapping[str, Any],
    instance: models.Model | None = None,
    partial: bool = False,
) -> None:
    """Check `values` (standard field names -> cleaned values; custom values under "custom" as a
    dict) against the model's collection standards. `instance` is the stored record (None when
    creating): unchanged fields of it count as given, and uniqueness ignores the record itself.
    `partial` (PATCH): only the given fields are checked. Raises `kehu.core.errors.DomainError`
    (code "invalid", status 400) with `fields` keyed by field name ("custom.<name>" for custom
    fields) and translated messages."""
    return None


def completeness(*, model: type[models.Model], obj: models.Model) -> int:
    """0..100: the weighted share of the model's scored fields that `obj` has filled."""
    return 0
