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
from collections import OrderedDict
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


# --- per user ---------------------------------------------------------------------------------
# What one user's pages read on every request and only that user's actions change: their list
# preferences, their saved views, their unread notifications. Kept per user under a *user token*
# (the `core.Sequence` row `kehu-user-cache:<id>`, read with the user's roles, replaced by
# `bump_user()` in each write's transaction, from services and signals), and under the
# configuration token (shared saved views and grants bump that one).

USER_KEY = "kehu-user-cache:{}"
_USER_MAX = 4096
_user_lock = threading.Lock()
# {user id: ((user token, configuration token), {key: value})}, least recently used first
_user_store: OrderedDict[int, tuple[tuple[int, int], dict[Any, Any]]] = OrderedDict()
_user_bumps = [0]


def user_token_subquery(user_id: int) -> Any:
    """The user's token as a subquery (read with the roles: `kehu.users.backends.user_roles`)."""
    from .models import Sequence

    return Sequence.objects.filter(key=USER_KEY.format(user_id)).values("last_value")[:1]


def remember_user_token(user: Any, token: int | None) -> None:
    user._kehu_user_token = (int(token or 0), _user_bumps[0], generation())


def bump_user(user_ids: Any) -> None:
    """New tokens for these users (an id or several): call in the transaction that changes what
    `user_cached` keeps for them. One UPDATE (and, the first time for a user, their row)."""
    from .models import Sequence

    ids = [user_ids] if isinstance(user_ids, int) else sorted({int(i) for i in user_ids if i is not None})
    if not ids:
        return
    _user_bumps[0] += 1
    keys = [USER_KEY.format(user_id) for user_id in ids]
    token = secrets.randbits(62) + 1
    if Sequence.objects.filter(key__in=keys).update(last_value=token) < len(keys):
        existing = set(Sequence.objects.filter(key__in=keys).values_list("key", flat=True))
        Sequence.objects.bulk_create(
            [Sequence(key=key, last_value=token, prefix="") for key in keys if key not in existing],
            ignore_conflicts=True,
        )
        # rows another transaction created meanwhile keep their token: replace it
        Sequence.objects.filter(key__in=keys).exclude(last_value=token).update(last_value=token)


def user_cached(user: Any, key: Any, compute: Callable[[], T]) -> T:
    """`compute()`, kept in this process for `user` while their token and the configuration token
    stay the same. Computed afresh where the tokens were not read with the roles (outside a
    request) or a bump came since."""
    remembered = getattr(user, "_kehu_user_token", None)
    config = getattr(user, "_kehu_token", None)
    if (
        remembered is None
        or config is None
        or remembered[1] != _user_bumps[0]
        or remembered[2] != _bumps[0]
        or config[1] != _bumps[0]
    ):
        return compute()
    tokens = (remembered[0], config[0])
    with _user_lock:
        entry = _user_store.get(user.pk)
        if entry is not None and entry[0] == tokens:
            _user_store.move_to_end(user.pk)
            if key in entry[1]:
                return entry[1][key]
    value = compute()
    with _user_lock:
        entry = _user_store.get(user.pk)
        if entry is None or entry[0] != tokens:
            entry = (tokens, {})
            _user_store[user.pk] = entry
            while len(_user_store) > _USER_MAX:
                _user_store.popitem(last=False)
        entry[1][key] = value
    return value


def user_cache_clear() -> None:
    with _user_lock:
        _user_store.clear()
