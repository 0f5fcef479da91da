from __future__ import annotations

from typing import Any

from kehu.service import services
from kehu.service.models import BusinessCalendar

OFFICE_HOURS = [("09:00", "12:00"), ("13:30", "18:00")]  # 7.5 h a day


def office(
    by: Any, *, name: str = "上海办公室", time_zone: str = "Asia/Shanghai", **data: Any
) -> BusinessCalendar:
    """Mon–Fri 09:00–12:00 and 13:30–18:00 in Shanghai."""
    calendar = services.calendar_create(by=by, data={"name": name, "time_zone": time_zone, **data})
    for weekday in range(5):
        services.calendar_set_hours(calendar=calendar, weekday=weekday, intervals=OFFICE_HOURS, by=by)
    calendar.refresh_from_db()
    return calendar
