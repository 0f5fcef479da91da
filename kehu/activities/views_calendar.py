"""Calendar pages (month and week), the feed subscription page and the iCalendar feed itself."""

from __future__ import annotations

import calendar as pycalendar
import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from kehu.core import generic
from kehu.core.choices import Action
from kehu.core.permissions import can

from . import calendar, ical
from .models import Interaction, Task

VIEWS = ("month", "week")


@dataclass
class Day:
    date: dt.date
    in_month: bool
    is_today: bool
    items: list[calendar.CalendarItem] = field(default_factory=list)


def _first_weekday() -> int:
    """Python weekday (Monday 0) the week starts on in the active language (Sunday in English,
    Monday in Chinese)."""
    return (int(formats.get_format("FIRST_DAY_OF_WEEK")) - 1) % 7


def _week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=(day.weekday() - _first_weekday()) % 7)


def _add_months(day: dt.date, months: int) -> dt.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, 1)


def _aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _parse_date(value: str | None, default: dt.date) -> dt.date:
    try:
        parsed = dt.date.fromisoformat(value or "")
    except ValueError:
        return default
    return parsed if 1900 <= parsed.year <= 2999 else default


class CalendarView(generic.KehuView):
    """`/activities/calendar/?view=month|week&date=YYYY-MM-DD&user=me|all|<id>...`"""

    model = Task

    def get(self, request: HttpRequest) -> HttpResponse:
        user: Any = request.user
        if not (can(user, Task, Action.VIEW) or can(user, Interaction, Action.VIEW)):
            raise PermissionDenied
        today = timezone.localdate()
        view = str(request.GET.get("view")) if request.GET.get("view") in VIEWS else "month"
        anchor = _parse_date(request.GET.get("date"), today)
        if view == "month":
            first = anchor.replace(day=1)
            last = first.replace(day=pycalendar.monthrange(first.year, first.month)[1])
            grid_start = _week_start(first)
            grid_end = _week_start(last) + dt.timedelta(days=7)
            prev_date, next_date = _add_months(first, -1), _add_months(first, 1)
            heading = formats.date_format(first, "YEAR_MONTH_FORMAT")
        else:
            first = grid_start = _week_start(anchor)
            grid_end = grid_start + dt.timedelta(days=7)
            last = grid_end - dt.timedelta(days=1)
            prev_date, next_date = grid_start - dt.timedelta(days=7), grid_end
            heading = "{} – {}".format(
                formats.date_format(grid_start, "MONTH_DAY_FORMAT"),
                formats.date_format(last, "MONTH_DAY_FORMAT"),
            )
            if grid_start.year != last.year or grid_start.year != today.year:
                heading += f" {last.year}"
        start, end = _aware(grid_start), _aware(grid_end)

        chosen = request.GET.getlist("user") or ["me"]
        people = calendar.calendar_people(user=user, start=start, end=end)
        if "all" in chosen:
            owner_ids: list[int] | None = None
            selected: set[int] = set()
        else:
            selected = {user.pk if c == "me" else int(c) for c in chosen if c == "me" or c.isdigit()} or {
                user.pk
            }
            owner_ids = sorted(selected)
        items = calendar.calendar_items(user=user, start=start, end=end, owner_ids=owner_ids)

        days: dict[dt.date, Day] = {}
        d = grid_start
        while d < grid_end:
            days[d] = Day(date=d, in_month=first <= d <= last, is_today=d == today)
            d += dt.timedelta(days=1)
        for item in items:
            local_day = item.local_start.date()
            if local_day in days:
                days[local_day].items.append(item)
            elif local_day < grid_start and item.local_end.date() >= grid_start:
                days[grid_start].items.append(item)  # a meeting running past midnight into the grid
        day_list = list(days.values())
        weeks = [day_list[i : i + 7] for i in range(0, len(day_list), 7)]

        def link(**changes: Any) -> str:
            params: list[tuple[str, str]] = [("view", view), ("date", anchor.isoformat())]
            params += [("user", c) for c in chosen]
            merged = dict(params[:2])
            merged.update({k: v for k, v in changes.items() if k != "user"})
            users = changes.get("user", chosen)
            return "?" + urlencode([*merged.items(), *[("user", u) for u in users]])

        context = {
            "title": _("Calendar"),
            "view": view,
            "heading": heading,
            "weeks": weeks,
            "days": day_list,
            "weekday_names": [formats.date_format(day.date, "D") for day in day_list[:7]],
            "today": today,
            "anchor": anchor,
            "prev_url": link(date=prev_date.isoformat()),
            "next_url": link(date=next_date.isoformat()),
            "today_url": link(date=today.isoformat()),
            "month_url": link(view="month"),
            "week_url": link(view="week"),
            "people": people,
            "selected": selected,
            "show_all": owner_ids is None,
            "show_owner": owner_ids is None or len(owner_ids) > 1,
            "item_count": len(items),
            "time_zone": timezone.get_current_timezone_name(),
            "chosen": chosen,
            "breadcrumbs": [(_("Calendar"), None)],
        }
        template = "activities/_calendar_body.html" if request.htmx else "activities/calendar.html"  # type: ignore[attr-defined]
        return render(request, template, context)


# --- the feed subscription page and the feed -----------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def calendar_feed_page(request: HttpRequest) -> HttpResponse:
    """Create (or regenerate) and revoke the secret iCalendar URL; the URL is shown once."""
    if not (can(request.user, Task, Action.VIEW) or can(request.user, Interaction, Action.VIEW)):
        raise PermissionDenied
    new_url = ""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create":
            _feed, token = calendar.calendar_feed_create(user=request.user)
            new_url = settings.SITE_URL.rstrip("/") + reverse("activities:calendar_feed_ics", args=[token])
        elif action == "revoke":
            calendar.calendar_feed_revoke(user=request.user)
        if not request.htmx and not new_url:  # type: ignore[attr-defined]
            return redirect("activities:calendar_feed")
    feed = calendar.calendar_feed_for_user(user=request.user)
    context = {
        "feed": feed,
        "active": feed is not None and feed.revoked_at is None,
        "new_url": new_url,
        "webcal_url": new_url.replace("https://", "webcal://").replace("http://", "webcal://")
        if new_url
        else "",
        "title": _("Calendar subscription"),
        "breadcrumbs": [(_("Calendar"), reverse("activities:calendar")), (_("Calendar subscription"), None)],
    }
    template = "activities/_calendar_feed_card.html" if request.htmx else "activities/calendar_feed.html"  # type: ignore[attr-defined]
    response = render(request, template, context)
    if new_url:
        response["Cache-Control"] = "no-store"
    return response


@never_cache
@require_safe
def calendar_feed_ics(request: HttpRequest, token: str) -> HttpResponse:
    """The iCalendar feed. No sign-in: the secret token in the URL is the key. Unknown, replaced
    or revoked tokens answer 404."""
    feed = calendar.calendar_feed_by_token(token=token)
    if feed is None:
        raise Http404
    body = ical.feed_ics(user=feed.user)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="kehu.ics"'
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
