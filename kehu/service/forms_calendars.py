"""Forms of the business-calendar settings pages (input shape only; the rules live in services)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import DayKind, Weekday
from .data import cn_holidays
from .models import BusinessCalendar, validate_time_zone


class CalendarForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    time_zone = forms.CharField(
        label=_("Time zone"),
        max_length=64,
        validators=[validate_time_zone],
        help_text=_("An IANA time zone name, e.g. Asia/Shanghai."),
    )
    is_default = forms.BooleanField(label=_("Default calendar"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class HoursForm(forms.Form):
    weekday = forms.TypedChoiceField(label=_("Weekday"), choices=Weekday.choices, coerce=int)
    start = forms.TimeField(label=_("Start"), widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(
        label=_("End"),
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text=_("00:00 means until midnight."),
    )


class DayForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=_("Kind"), choices=DayKind.choices)
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    works_as = forms.TypedChoiceField(
        label=_("Works as"), choices=Weekday.choices, coerce=int, initial=Weekday.MONDAY, required=False
    )


class LoadHolidaysForm(forms.Form):
    year = forms.TypedChoiceField(label=_("Year"), coerce=int, choices=())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(y, str(y)) for y in cn_holidays.available_years()]  # type: ignore[attr-defined]


class CopyDaysForm(forms.Form):
    target = forms.ModelChoiceField(label=_("Copy to"), queryset=BusinessCalendar.objects.none())
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)

    def __init__(self, *args: Any, calendar: BusinessCalendar, targets: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = targets.exclude(pk=calendar.pk)  # type: ignore[attr-defined]


class CalculatorForm(forms.Form):
    """Two moments (→ business time between them) or a start and hours (→ the due time), as wall
    times of the calendar's time zone."""

    start = forms.DateTimeField(
        label=_("Start"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    end = forms.DateTimeField(
        label=_("End"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    hours = forms.DecimalField(
        label=_("Business hours"), required=False, min_value=0, max_value=100000, decimal_places=2
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("end") is None and data.get("hours") is None:
            raise forms.ValidationError(_("Enter an end time or a number of business hours."))
        return data

    @staticmethod
    def naive(value: dt.datetime) -> dt.datetime:
        return value.replace(tzinfo=None)
