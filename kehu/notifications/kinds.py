"""Kinds of notification that users can switch per channel (the preferences matrix).

An app registers each kind it sends in its `AppConfig.ready()`:

    from kehu.notifications.kinds import register_kind
    register_kind("task.reminder", _("Task reminders"), default_channels={"in_app", "email"})

`notify(kind=...)` then honours each recipient's choice for that kind (see `services.notify`).
Kinds nobody registered are always shown in the app and e-mailed only when the caller asks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In Kehu")
    EMAIL = "email", pgettext_lazy("channel", "E-mail")


CHANNELS: tuple[str, ...] = tuple(Channel.values)


@dataclass(frozen=True)
class NotificationKind:
    key: str
    label: Any  # a lazy translation
    default_channels: frozenset[str] = field(default_factory=lambda: frozenset({Channel.IN_APP.value}))
    description: Any = ""
    order: int = 100


_kinds: dict[str, NotificationKind] = {}


def register_kind(
    key: str,
    label: Any,
    *,
    default_channels: Iterable[str] = (Channel.IN_APP,),
    description: Any = "",
    order: int = 100,
) -> NotificationKind:
    """Register (or re-register, idempotent) a kind; `default_channels` applies until a user chooses."""
    channels = frozenset(str(c) for c in default_channels)
    unknown = channels - set(CHANNELS)
    if unknown:
        raise ValueError(f"unknown notification channels: {sorted(unknown)}")
    if len(key) > 64:
        raise ValueError("a notification kind is at most 64 characters")
    kind = NotificationKind(
        key=key, label=label, default_channels=channels, description=description, order=order
    )
    _kinds[key] = kind
    return kind


def get_kind(key: str) -> NotificationKind | None:
    return _kinds.get(key)


def all_kinds() -> list[NotificationKind]:
    """Registered kinds in menu order (then by key)."""
    return sorted(_kinds.values(), key=lambda k: (k.order, k.key))
