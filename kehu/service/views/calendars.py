"""Settings → Business calendars (工作日历): the list of calendars, and a calendar's page with its
weekly hours, its days of a year (holidays, make-up working days) and a business-time calculator.
Writes go through `services`; the hours and days sections are re-rendered in place with htmx."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kehu.core.businesstime import CalendarError, add_business_seconds, business_seconds
from kehu.core.choices import Action
from kehu.core.errors import DomainError
from kehu.core.generic import get_for_action, is_htmx, success_response
from kehu.core.permissions import can

from .. import selectors, services
from ..data import cn_holidays
from ..forms_calendars import CalculatorForm, CalendarForm, CopyDaysForm, DayForm, HoursForm, LoadHolidaysForm
from ..models import BusinessCalendar, CalendarDay, WorkingHours
from ._common import edit_form_page, form_errors, object_for_edit, require


def _require(request: HttpRequest, action: str) -> None:
    require(request, BusinessCalendar, action)


def _crumbs(*extra: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    return [(_("Administration"), None), (_("Business calendars"), reverse("service:calendar_list")), *extra]


@login_required
@require_GET
def calendar_list_view(request: HttpRequest) -> HttpResponse:
    _require(request, Action.VIEW)
    calendars = selectors.calendar_list(user=request.user)
    return render(
        request,
        "service/calendar_list.html",
        {
            "calendars": calendars,
            "may_add": can(request.user, BusinessCalendar, Action.ADD),
            "breadcrumbs": [*_crumbs()[:1], (_("Business calendars"), None)],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def calendar_edit_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    calendar = object_for_edit(request, BusinessCalendar, pk)
    initial: dict[str, Any] = {"time_zone": BusinessCalendar._meta.get_field("time_zone").get_default()}
    if calendar is not None:
        initial = {f: getattr(calendar, f) for f in ("name", "time_zone", "is_default", "is_active")}

    def save(calendar: BusinessCalendar | None, data: dict[str, Any]) -> BusinessCalendar:
        if calendar is None:
            return services.calendar_create(by=request.user, data=data)
        return services.calendar_update(calendar=calendar, by=request.user, data=data)

    return edit_form_page(
        request,
        obj=calendar,
        form=CalendarForm(request.POST or None, initial=initial),
        save=save,
        saved=_("Calendar “%(name)s” saved."),
        new_title=_("New business calendar"),
        template="service/calendar_form.html",
        name="calendar",
        crumbs=_crumbs,
    )


@login_required
@require_POST
def calendar_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Action.DELETE)
    calendar = get_for_action(BusinessCalendar, request.user, pk, Action.DELETE)
    url = reverse("service:calendar_list")
    try:
        services.calendar_delete(calendar=calendar, by=request.user)
    except DomainError as exc:
        return success_response(
            request, url=calendar.get_absolute_url(), message=str(exc.message), level="error"
        )
    return success_response(request, url=url, message=_("Calendar “%(name)s” deleted.") % {"name": calendar})


def _year(request: HttpRequest) -> int:
    try:
        year = int(request.GET.get("year") or request.POST.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    return min(max(year, 2000), 2100)


def _hours_context(calendar: BusinessCalendar, hours_form: HoursForm | None = None) -> dict[str, Any]:
    week = selectors.calendar_week(calendar)
    return {
        "calendar": calendar,
        "week": week,
        "week_total": sum(day["hours"] for day in week),
        "hours_form": hours_form or HoursForm(initial={"start": "09:00", "end": "18:00"}),
    }


def _days_context(
    request: HttpRequest, calendar: BusinessCalendar, year: int, day_form: DayForm | None = None
) -> dict[str, Any]:
    return {
        "calendar": calendar,
        "year": year,
        "days": list(calendar.days.filter(date__year=year)),
        "day_form": day_form or DayForm(initial={"date": dt.date(year, 1, 1)}),
        "load_form": LoadHolidaysForm(initial={"year": year}),
        "copy_form": CopyDaysForm(
            initial={"year": year},
            calendar=calendar,
            targets=selectors.calendar_list(user=request.user, action=Action.CHANGE),
        ),
        "holiday_years": cn_holidays.available_years(),
        "unconfirmed": not cn_holidays.CONFIRMED.get(year, True),
        "has_table": year in cn_holidays.YEARS,
    }


def _may(request: HttpRequest) -> dict[str, bool]:
    return {
        "may_change": can(request.user, BusinessCalendar, Action.CHANGE),
        "may_delete": can(request.user, BusinessCalendar, Action.DELETE),
    }


@login_required
@require_GET
def calendar_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Action.VIEW)
    calendar = get_for_action(BusinessCalendar, request.user, pk, Action.VIEW)
    year = _year(request)
    context = {
        "calendar": calendar,
        "breadcrumbs": _crumbs((str(calendar), None)),
        "calculator": CalculatorForm(),
        **_hours_context(calendar),
        **_days_context(request, calendar, year),
        **_may(request),
    }
    return render(request, "service/calendar_detail.html", context)


def _section(
    request: HttpRequest, calendar: BusinessCalendar, template: str, context: dict[str, Any]
) -> HttpResponse:
    """The re-rendered section for htmx (errors included: htmx swaps only 2xx answers); a plain
    browser post goes back to the page."""
    if not is_htmx(request):
        url = calendar.get_absolute_url()
        if "year" in context:
            url += f"?year={context['year']}"
        return HttpResponseRedirect(url)
    return render(request, template, {**context, **_may(request)})


@login_required
@require_POST
def hours_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Action.CHANGE)
    calendar = get_for_action(BusinessCalendar, request.user, pk, Action.CHANGE)
    form = HoursForm(request.POST)
    if form.is_valid():
        try:
            services.calendar_add_hours(calendar=calendar, by=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            form = HoursForm(initial=form.cleaned_data)
    return _section(request, calendar, "service/_hours.html", _hours_context(calendar, form))


@login_required
@require_POST
def hours_delete_view(request: HttpRequest, pk: int, hours: int) -> HttpResponse:
    _require(request, Action.CHANGE)
    calendar = get_for_action(BusinessCalendar, request.user, pk, Action.CHANGE)
    row = WorkingHours.objects.filter(calendar=calendar, pk=hours).first()
    if row is not None:
        services.working_hours_delete(hours=row, by=request.user)
    return _section(request, calendar, "service/_hours.html", _hours_context(calendar))


@login_required
@require_POST
def day_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Action.CHANGE)
    calendar = get_for_action(BusinessCalendar, request.user, pk, Action.CHANGE)
    form = DayForm(request.POST)
    shown: DayForm | None = form
    year = _year(request)
    if form.is_valid():
        data = form.cleaned_data
        try:
            day = services.calendar_day_set(
                calendar=calendar,
                date=data["date"],
                kind=data["kind"],
                name=data.get("name") or "",
                works_as=data.get("works_as") or 0,
                by=request.user,
            )
        except DomainError as exc:
            form_errors(form, exc)
        else:
            year, shown = day.date.year, None
    return _section(
        request,
        calendar,
        "service/_days.html",
        _days_context(request, calendar, year, shown),
    )


@login_required
@require_POST
def day_delete_view(request: HttpRequest, pk: int, day: int) -> HttpResponse:
    _require(request, Action.CHANGE)
    calendar = get_for_action(BusinessCalendar, request.user, pk, Action.CHANGE)
    row = CalendarDay.objects.filter(calendar=calendar, pk=day).first()
    year = row.date.year if row is not None else _year(request)
    if row is not None:
        services.calendar_day_delete(day=row, by=request.user)
    return _section(request, calendar, "service/_days.html", _days_context(request, calendar, year))


@login_required
@require_POST
def load_holidays_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Action.CHANGE)
    calendar = get_for_action(BusinessCalendar, request.user, pk, Action.CHANGE)
    form = LoadHolidaysForm(request.POST)
    year = _year(request)
    context = _days_context(request, calendar, year)
    if not form.is_valid():
        context["load_error"] = _("No holiday table for this year.")
    else:
        try:
            count = services.calendar_days_load_holidays(
                calendar=calendar, year=form.cleaned_data["year"], by=request.user
            )
        except DomainError as exc:
            context["load_error"] = str(exc.message)
        else:
            context = _days_context(request, calendar, form.cleaned_data["year"])
            context["loaded"] = count
    return _section(request, calendar, "service/_days.html", context)


@login_required
@require_POST
def days_copy_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Action.VIEW)
    calendar = get_for_action(BusinessCalendar, request.user, pk, Action.VIEW)
    targets = selectors.calendar_list(user=request.user, action=Action.CHANGE)
    form = CopyDaysForm(request.POST, calendar=calendar, targets=targets)
    year = _year(request)
    context = _days_context(request, calendar, year)
    if form.is_valid():
        target = form.cleaned_data["target"]
        count = services.calendar_days_copy(
            source=calendar, target=target, year=form.cleaned_data["year"], by=request.user
        )
        context["copied"] = {"count": count, "target": target}
    else:
        context["copy_form"] = form
    return _section(request, calendar, "service/_days.html", context)


@login_required
@require_GET
def calculator_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Business time between two moments, or the due time after a start and a number of hours."""
    _require(request, Action.VIEW)
    calendar = get_for_action(BusinessCalendar, request.user, pk, Action.VIEW)
    form = CalculatorForm(request.GET)
    result: dict[str, Any] = {}
    incomplete = not request.GET.get("start") or not (request.GET.get("end") or request.GET.get("hours"))
    if is_htmx(request) and incomplete:
        return HttpResponse("")  # still typing: nothing to say yet
    if form.is_valid():
        cal = selectors.work_calendar(calendar, use_cache=True)
        start = form.cleaned_data["start"].replace(tzinfo=None).replace(tzinfo=cal.tz)
        try:
            if form.cleaned_data.get("end") is not None:
                end = form.cleaned_data["end"].replace(tzinfo=None).replace(tzinfo=cal.tz)
                seconds = business_seconds(cal, start, end)
                result = {"seconds": seconds, "hours": round(seconds / 3600, 2)}
            else:
                seconds = int(form.cleaned_data["hours"] * 3600)
                due = add_business_seconds(cal, start, seconds).astimezone(cal.tz)
                result = {"due": due}
        except CalendarError:
            result = {"error": _("This calendar has no working hours.")}
    return render(
        request,
        "service/_calculator_result.html",
        {"form": form, "result": result, "calendar": calendar},
        status=200 if form.is_valid() or is_htmx(request) else 400,
    )
