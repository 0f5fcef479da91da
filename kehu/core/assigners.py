"""Who owns a new record created without a chosen owner.

A lower app's create service (customers' ``account_create``) cannot import the app that decides
(the sales app's assignment rules sit above customers), so the deciding app registers a function
here in its ``ready()``::

    from kehu.core import assigners

    assigners.register_new_record_assigner("customers.account", assign_account)

and the lower service calls ``assigners.assign_new_record(record=..., by=...)`` once, after the
record (and its lists) are saved, when the creator chose no owner. The function gives the record an
owner or puts it in a pool, records which rule fired, and returns whether it did anything (no
matching rule: the record stays with its creator).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

NewRecordAssigner = Callable[..., bool]
_assigners: dict[str, NewRecordAssigner] = {}


def register_new_record_assigner(model_label: str, fn: NewRecordAssigner) -> None:
    """``fn(*, record, by) -> bool`` decides the owner of a new record of the model (one per model;
    registering again replaces it)."""
    _assigners[model_label.lower()] = fn


def unregister_new_record_assigner(model_label: str) -> None:
    _assigners.pop(model_label.lower(), None)


def assign_new_record(*, record: Any, by: Any) -> bool:
    """Run the registered assigner of the record's model: True when it gave the record an owner or
    a pool (the caller reloads the record), False when none is registered or no rule matched."""
    fn = _assigners.get(record._meta.label_lower)
    if fn is None:
        return False
    return bool(fn(record=record, by=by))


# --- pools ----------------------------------------------------------------------------------------
# A bulk writer below the sales app (the import of accounts) puts the records it created into a
# pool the user chose through the function the pools' app registers here.

PoolPutter = Callable[..., int]
_pool_putters: dict[str, PoolPutter] = {}


def register_pool_putter(model_label: str, fn: PoolPutter) -> None:
    """``fn(*, pool_id, ids, by) -> int`` puts the records of the model with these ids into the pool
    (no owner, in the pool, history) and returns how many it put in."""
    _pool_putters[model_label.lower()] = fn


def pool_putter_registered(model_label: str) -> bool:
    return model_label.lower() in _pool_putters


def put_in_pool(*, model_label: str, pool_id: int, ids: list[int], by: Any) -> int:
    """Put the records into the pool through the registered function (0 when none is registered)."""
    fn = _pool_putters.get(model_label.lower())
    if fn is None or not ids:
        return 0
    return int(fn(pool_id=pool_id, ids=ids, by=by))
