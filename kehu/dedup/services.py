"""Duplicate detection (查重) — first part: normalisers and the exact-key collision check (撞单检查).

INTERFACE (owned by the dedup engineer; others call these names):

* ``collision_check(*, model_label, values, exclude_pk=None, user) -> list[CollisionMatch]``:
  the existing leads, contacts and accounts whose normalised phone, e-mail, company name or tax
  number equals one in ``values`` (a mapping of the record's field values, e.g. the cleaned form
  or API data of a lead being created or edited); ``exclude_pk`` is the record being edited.
* ``collision_policy(model_label) -> str``: "block" or "warn" (admin setting per model).
* ``collision_enforce(*, model_label, values, exclude_pk=None, user, confirmed=False)``:
  runs the check; under "block" any match raises ``kehu.dedup.errors.CollisionError`` (409, with the
  matches in its fields); under "warn" a match raises it too unless ``confirmed`` (the user saw the
  matches and chose to save anyway); returns the matches.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CollisionMatch:
    """One existing record that matches. ``visible`` is False when the user may not see it: then
    ``label`` and ``owner_name`` are masked and ``url`` is empty."""

    model_label: str  # "sales.lead", "customers.contact", "customers.account"
    pk: int
    label: str
    owner_name: str
    matched_on: str  # "phone" | "email" | "company" | "tax_number"
    visible: bool
    url: str = ""


def collision_policy(model_label: str) -> str:
    return "warn"


def collision_check(
    *, model_label: str, values: Mapping[str, Any], exclude_pk: int | None = None, user: Any
) -> list[CollisionMatch]:
    return []


def collision_enforce(
    *,
    model_label: str,
    values: Mapping[str, Any],
    exclude_pk: int | None = None,
    user: Any,
    confirmed: bool = False,
) -> list[CollisionMatch]:
    return collision_check(model_label=model_label, values=values, exclude_pk=exclude_pk, user=user)
