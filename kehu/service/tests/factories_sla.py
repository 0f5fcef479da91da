"""Test helpers of the SLA area: policies on the office calendar, tickets with their timers."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from kehu.service.models import SLAPolicy, Ticket
from kehu.service.services.sla import sla_apply, sla_on_state_change

from .factories import SLAPolicyFactory, TicketFactory, status

SH = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
    """A moment of March 2026 in Shanghai (2 March is a Monday)."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SH)


def policy(**kwargs: Any) -> SLAPolicy:
    users = kwargs.pop("notify_users", [])
    made: Any = SLAPolicyFactory(**kwargs)
    if users:
        made.notify_users.set(users)
    return made


def ticket_at(created: dt.datetime, **kwargs: Any) -> Ticket:
    """A ticket created at `created` with its SLA applied (as ticket_create does)."""
    ticket: Any = TicketFactory(created_at=created, **kwargs)
    fields = sla_apply(ticket=ticket, now=created)
    ticket.save(update_fields=fields or None)
    return ticket


def move(ticket: Ticket, code: str, now: dt.datetime) -> Ticket:
    """A status move as ticket_move does it: state, history row, then the SLA hook."""
    from kehu.service.models import TicketStatusHistory

    new = status(code)
    old_state = ticket.state
    TicketStatusHistory.objects.create(
        ticket=ticket,
        from_status=ticket.status,
        to_status=new,
        from_state=old_state,
        to_state=new.state,
        changed_at=now,
    )
    ticket.status, ticket.state = new, new.state
    fields = sla_on_state_change(ticket=ticket, old_state=old_state, new_state=new.state, now=now)
    if new.state == "resolved":
        ticket.resolved_at = now
        fields.append("resolved_at")
    ticket.save(update_fields=["status", "state", *fields])
    return ticket
