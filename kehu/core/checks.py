"""Checks that higher apps run on writes of lower apps' records.

A lower app's service cannot import the app that checks it (the dedup app's collision check
撞单检查 sits above customers), so the checking app registers a function here in its ``ready()``::

    from kehu.core import checks

    checks.register_write_check("customers.account", collision_enforce)

and the lower service calls ``checks.run_write_checks(...)`` once per create/update path, before it
saves. A check raises a ``DomainError`` to refuse the write. Some refusals are warnings the user may
override: forms post ``confirm_collisions`` (a "save anyway" checkbox) and API clients send
``"confirm_collisions": true``; the view passes ``confirmed`` on to the service
(``is_confirmed(request.data)``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

CONFIRM_FIELD = "confirm_collisions"

WriteCheck = Callable[..., Any]
_checks: dict[str, dict[str, WriteCheck]] = {}


def register_write_check(model_label: str, fn: WriteCheck, *, key: str | None = None) -> None:
    """Run ``fn(*, model_label, values, exclude_pk, user, confirmed)`` on every create/update of the
    model (`key`: one registration per key, re-registering replaces it)."""
    _checks.setdefault(model_label.lower(), {})[key or f"{fn.__module__}.{fn.__qualname__}"] = fn


def unregister_write_check(model_label: str, key: str) -> None:
    _checks.get(model_label.lower(), {}).pop(key, None)


def run_write_checks(
    *, model_label: str, values: Mapping[str, Any], exclude_pk: int | None, by: Any, confirmed: bool = False
) -> None:
    """Run the registered checks of a write: `values` are the record's values being written (on an
    edit, the changed ones), `exclude_pk` the record being edited (None on create)."""
    for fn in list(_checks.get(model_label.lower(), {}).values()):
        fn(
            model_label=model_label.lower(),
            values=values,
            exclude_pk=exclude_pk,
            user=by,
            confirmed=confirmed,
        )


def is_confirmed(data: Any) -> bool:
    """Whether request data (a form's POST or an API body) confirms the warnings: ``true``, ``1``,
    ``on`` or ``yes``."""
    if not hasattr(data, "get"):
        return False
    value = data.get(CONFIRM_FIELD)
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in {"1", "true", "on", "yes"}
