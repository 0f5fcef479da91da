"""Business calendars (工作日历): the working hours per weekday, time zone, public holidays and
make-up working days (调休) that SLA timers count in. `selectors.work_calendar` turns the records
into the `kehu.core.businesstime.WorkCalendar` value the arithmetic uses.

Working hours are `start`–`end` wall times on one weekday; `end` 00:00 means "until midnight"
(the end of the day), so a whole day is 00:00–00:00. Intervals of a weekday never overlap."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStampedModel
from kehu.core.permissions import RestrictedManager

from ..choices import DayKind, Weekday


def validate_time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            _("“%(value)s” is not a known time zone (use an IANA name such as Asia/Shanghai)."),
            code="invalid_time_zone",
            params={"value": value},
        ) from None


def default_time_zone() -> str:
    return str(settings.TIME_ZONE)


def minutes(moment: dt.time, *, end: bool = False) -> int:
    """Minutes after local midnight; an end of 00:00 is the next midnight (1440)."""
    value = moment.hour * 60 + moment.minute
    return 1440 if end and value == 0 else value


class BusinessCalendar(TimeStampedModel):
    """A business calendar. Exactly one is the default (the one SLA policies use unless they name
    another); the services keep it so."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=default_time_zone, validators=[validate_time_zone]
    )
    is_default = models.BooleanField(_("default"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="service_one_default_calendar"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("service:calendar_detail", args=[self.pk])


class WorkingHours(models.Model):
    """One working interval of a weekday (a weekday may have several: 09:00–12:00, 13:30–18:00)."""

    calendar = models.ForeignKey(
        BusinessCalendar, verbose_name=_("calendar"), on_delete=models.CASCADE, related_name="hours"
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"), help_text=_("00:00 means until midnight."))

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["calendar", "weekday", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="service_hours_weekday"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"

    def interval(self) -> tuple[int, int]:
        return minutes(self.start), minutes(self.end, end=True)


class CalendarDay(models.Model):
    """A public holiday (节假日) or a make-up working day (调休上班) of a calendar."""

    calendar = models.ForeignKey(
        BusinessCalendar, verbose_name=_("calendar"), on_delete=models.CASCADE, related_name="days"
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=16, choices=DayKind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)
    works_as = models.PositiveSmallIntegerField(
        _("works as"),
        choices=Weekday.choices,
        default=Weekday.MONDAY,
        help_text=_("For a make-up working day: the weekday whose hours apply."),
    )

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["calendar", "date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="service_calendar_day_unique"),
            models.CheckConstraint(condition=Q(works_as__lte=6), name="service_day_works_as"),
        ]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.get_kind_display()} {self.name}".strip()
