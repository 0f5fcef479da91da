"""A process-wide cache of configuration that many requests read and few writes change (the
grants and field permissions of role sets, department subtrees), exact across processes.

Every entry is kept under the current *configuration token*: a random number stored in the
database (the `core.Sequence` row `kehu-config-cache`), which every write of such configuration
replaces, in the write's own transaction (`bump()`; the users app does it from signals, so the
services, the admin and direct ORM writes all count). A request reads the token once (one tiny
query, or none: `kehu.users.backends.user_roles` reads it with the user's roles) and uses only
entries made under it; another gunicorn worker's change gives a new token, so nothing stale is
served. The token is random, not a counter: a rolled-back transaction (a test) leaves the token of
before, under which only values of before were kept.

Outside a request (tasks, commands, the shell) the token is read at every use: nothing is saved,
the data's own query is just replaced by the token's.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from .context import request_memo, request_memo_forget, request_memo_set

KEY = "kehu-config-cache"
_MEMO = "confcache"
T = TypeVar("T")


class ConfigCache:
    """The entries of one process under one token (a second instance stands for another worker
    in the tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._token: int | None = None
        self._store: dict[Any, Any] = {}

    def get(self, key: Any, compute: Callable[[], T], token: int | None = None) -> T:
        token = current_token() if token is None else token
        with self._lock:
            if self._token != token:
                self._token, self._store = token, {}
            if key in self._store:
                return self._store[key]
        value = compute()
        with self._lock:
            if self._token == token:
                self._store[key] = value
        return value

    def clear(self) -> None:
        with self._lock:
            self._token, self._store = None, {}


cache = ConfigCache()


def _read_token() -> int:
    from .models import Sequence

    value = Sequence.objects.filter(key=KEY).values_list("last_value", flat=True).first()
    return int(value or 0)


def token_subquery() -> Any:
    """The token as a subquery, to read it along with another query (`remember_token`)."""
    from .models import Sequence

    return Sequence.objects.filter(key=KEY).values("last_value")[:1]


def remember_token(token: int | None) -> None:
    """The token read by another query of this request (see `token_subquery`)."""
    request_memo_set((_MEMO,), int(token or 0))


def current_token() -> int:
    """The configuration token of this request (read once per request)."""
    return int(request_memo((_MEMO,), _read_token))


# Bumps made by this process: a token remembered elsewhere (on a user object) before a bump is
# not used after it (the bump may still roll back, and the old token come back).
_bumps = [0]


def generation() -> int:
    return _bumps[0]


def bump() -> None:
    """A new token: call in the transaction that changes cached configuration."""
    from .models import Sequence

    _bumps[0] += 1
    token = secrets.randbits(62) + 1
    if not Sequence.objects.filter(key=KEY).update(last_value=token):
        Sequence.objects.get_or_create(key=KEY, defaults={"last_value": token, "prefix": ""})
        Sequence.objects.filter(key=KEY).update(last_value=token)
    request_memo_forget(_MEMO)


def cached(key: Any, compute: Callable[[], T], token: tuple[int, int] | None = None) -> T:
    """`compute()`, kept in this process while the configuration token stays the same.
    `token`: (token, generation()) read along with another query, used unless a bump came since."""
    if token is not None and token[1] == _bumps[0]:
        return cache.get(key, compute, token=token[0])
    return cache.get(key, compute)
