from __future__ import annotations

import itertools
from typing import Any

import factory
from django.utils import timezone

from kehu.service import services
from kehu.service.models import (
    BusinessCalendar,
    Queue,
    QueueMember,
    SLAPolicy,
    Ticket,
    TicketStatus,
    TicketType,
)

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


# --- tickets ------------------------------------------------------------------------------------
# Rows written directly (no SLA, numbering or history): tests of those go through the services.

_numbers = itertools.count(1)


def status(code: str = "new") -> TicketStatus:
    """A default status (seeded by migration 0003): new, assigned, in_progress, waiting, resolved, closed."""
    return TicketStatus.objects.get(code=code)


def ticket_type(code: str = "request") -> TicketType:
    """A default type: request, complaint, inquiry, return, exchange, repair."""
    return TicketType.objects.get(code=code)


class QueueFactory(factory.django.DjangoModelFactory[Queue]):
    class Meta:
        model = Queue

    name = factory.Sequence(lambda n: f"服务组 {n}")
    name_en = factory.Sequence(lambda n: f"Queue {n}")


def queue_with(*members: Any, **kwargs: Any) -> Queue:
    queue: Any = QueueFactory(**kwargs)
    for user in members:
        QueueMember.objects.create(queue=queue, user=user)
    return queue


class TicketFactory(factory.django.DjangoModelFactory[Ticket]):
    """`TicketFactory(assignee=rep1, queue=q, account=acc)`; the department follows the assignee."""

    class Meta:
        model = Ticket

    number = factory.LazyFunction(lambda: f"TK-T-{next(_numbers):06d}")
    subject = factory.Sequence(lambda n: f"工单 {n}")
    type = factory.LazyFunction(ticket_type)
    status = factory.LazyFunction(status)
    state = factory.LazyAttribute(lambda o: o.status.state)

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Ticket:
        assignee = kwargs.get("assignee")
        kwargs.setdefault("department_id", getattr(assignee, "department_id", None))
        created_at = kwargs.pop("created_at", None)
        ticket = model_class._default_manager.create(*args, **kwargs)
        if created_at is not None:
            model_class._default_manager.filter(pk=ticket.pk).update(created_at=created_at)
            ticket.created_at = created_at
        return ticket


class SLAPolicyFactory(factory.django.DjangoModelFactory[SLAPolicy]):
    class Meta:
        model = SLAPolicy

    name = factory.Sequence(lambda n: f"SLA {n}")
    first_response_minutes = 60
    resolution_minutes = 480


def now() -> Any:
    return timezone.now()
