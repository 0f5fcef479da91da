"""Each user's default task reminder (默认提醒), kept as a `core.UserPreference`.

A task created without a "remind before" of its own (a form left empty, an API call without the
field, the follow-up task of an interaction's "next follow-up") gets its assignee's default:

* a task with a due time: ``before_minutes`` before it (default 30; ``None``: no reminder);
* an all-day task: at ``all_day_at`` on its day (default 09:00; ``None``: no reminder), stored as
  minutes before the end of that day, which is how an all-day task's reminder counts (see
  `kehu.activities.reminders.reminder_anchor`).

Site defaults: ``KEHU_REMINDER_DEFAULT_MINUTES`` (30) and ``KEHU_REMINDER_DEFAULT_ALL_DAY_AT``
("09:00"); either may be None (no default reminder unless the user chooses one).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from kehu.core.errors import DomainError
from kehu.core.models import UserPreference
from kehu.core.services import user_preference_set

PREFERENCE_KEY = "activities.reminder-defaults"
MINUTES_PER_DAY = 24 * 60
MAX_BEFORE_MINUTES = 525_600  # a year, like the task field's API limit


class ReminderPreferenceError(DomainError):
    code = "reminder_preference_invalid"


def _parse_time(value: Any) -> dt.time | None:
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0)
    if not value:
        return None
    try:
        return dt.time.fromisoformat(str(value)).replace(second=0, microsecond=0)
    except ValueError:
        return None


def _site_minutes() -> int | None:
    value = getattr(settings, "KEHU_REMINDER_DEFAULT_MINUTES", 30)
    return None if value is None else int(value)


def _site_all_day_at() -> dt.time | None:
    return _parse_time(getattr(settings, "KEHU_REMINDER_DEFAULT_ALL_DAY_AT", "09:00"))


@dataclass(frozen=True)
class ReminderDefaults:
    before_minutes: int | None
    all_day_at: dt.time | None
    chosen: bool = False  # False: the site defaults (the user has not chosen yet)

    def remind_before(self, *, all_day: bool) -> int | None:
        """The "remind before" (minutes) a new task gets: before its due time, or for an all-day
        task before the end of its day (09:00 → 900)."""
        if not all_day:
            return self.before_minutes
        if self.all_day_at is None:
            return None
        return MINUTES_PER_DAY - (self.all_day_at.hour * 60 + self.all_day_at.minute)

    def as_value(self) -> dict[str, Any]:
        return {
            "before_minutes": self.before_minutes,
            "all_day_at": self.all_day_at.strftime("%H:%M") if self.all_day_at else None,
        }


def site_reminder_defaults() -> ReminderDefaults:
    return ReminderDefaults(before_minutes=_site_minutes(), all_day_at=_site_all_day_at())


def reminder_defaults(*, user: Any) -> ReminderDefaults:
    """The user's default reminder (the site's until they choose). One query."""
    site = site_reminder_defaults()
    if user is None or getattr(user, "pk", None) is None:
        return site
    value = (
        UserPreference.objects.filter(user_id=user.pk, key=PREFERENCE_KEY)
        .values_list("value", flat=True)
        .first()
    )
    if not isinstance(value, dict):
        return site
    minutes = value.get("before_minutes", site.before_minutes)
    if minutes is not None and not (isinstance(minutes, int) and 0 <= minutes <= MAX_BEFORE_MINUTES):
        minutes = site.before_minutes  # a damaged row falls back to the site default
    return ReminderDefaults(
        before_minutes=minutes,
        all_day_at=_parse_time(value.get("all_day_at")) if "all_day_at" in value else site.all_day_at,
        chosen=True,
    )


def reminder_defaults_set(
    *, user: Any, before_minutes: int | None, all_day_at: dt.time | None
) -> ReminderDefaults:
    """Store the user's default reminder; None switches that default off."""
    if before_minutes is not None and not 0 <= before_minutes <= MAX_BEFORE_MINUTES:
        message = _("Enter a number of minutes from 0 to %(max)s.") % {"max": MAX_BEFORE_MINUTES}
        raise ReminderPreferenceError(message, fields={"before_minutes": [message]})
    defaults = ReminderDefaults(
        before_minutes=before_minutes, all_day_at=_parse_time(all_day_at), chosen=True
    )
    user_preference_set(user=user, key=PREFERENCE_KEY, value=defaults.as_value())
    return defaults


def default_remind_before(*, owner: Any, due_at: dt.datetime | None, all_day: bool) -> int | None:
    """The "remind before" a new task of `owner` (its assignee) gets when none was given."""
    if due_at is None or owner is None:
        return None
    return reminder_defaults(user=owner).remind_before(all_day=all_day)
