"""Per-request (or per-task) context: who is acting, from where, under which request id.

Set by middleware for web requests and by `acting_as()` in Celery tasks and management commands;
read by logging and the audit recorder.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ActorContext:
    user_id: int | None = None
    request_id: str = ""
    ip: str | None = None
    source: str = "web"  # web / api / task / command


_EMPTY = ActorContext()  # frozen: safe to share
_current: ContextVar[ActorContext] = ContextVar("kehu_actor", default=_EMPTY)


def current() -> ActorContext:
    return _current.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


def set_context(ctx: ActorContext) -> Any:
    return _current.set(ctx)


def reset_context(token: Any) -> None:
    _current.reset(token)


@contextlib.contextmanager
def acting_as(
    user_id: int | None, *, source: str = "task", request_id: str | None = None, ip: str | None = None
) -> Iterator[ActorContext]:
    ctx = ActorContext(user_id=user_id, request_id=request_id or new_request_id(), ip=ip, source=source)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


# --- per-request memo ---------------------------------------------------------------------------
# Reads that several parts of one request repeat (custom field definitions: the table, the
# FilterSet and the serializer each ask) are computed once per request. Only inside a
# `request_memo_scope()` (RequestIdMiddleware opens one per request); elsewhere (tasks, commands,
# the shell) nothing is kept. Writers clear their keys (`request_memo_forget`).
_memo: ContextVar[dict[Any, Any] | None] = ContextVar("kehu_request_memo", default=None)


@contextlib.contextmanager
def request_memo_scope() -> Iterator[None]:
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def request_memo(key: Any, compute: Any) -> Any:
    """`compute()`, once per request for `key` (every call outside a request computes)."""
    memo = _memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def request_memo_set(key: Any, value: Any) -> None:
    """Remember `value` for `key` for the rest of the request (nothing outside a request)."""
    memo = _memo.get()
    if memo is not None:
        memo[key] = value


def request_memo_forget(prefix: str) -> None:
    """Drop the memoised values whose key is a tuple starting with `prefix`."""
    memo = _memo.get()
    if memo:
        for key in [k for k in memo if isinstance(k, tuple) and k and k[0] == prefix]:
            del memo[key]
