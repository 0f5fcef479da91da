"""SLA timers of tickets (服务级别): choosing a ticket's policy, its due times in business time,
pausing while waiting on the customer, and the sweep that warns and escalates.

The ticket services call the `sla_on_*` functions with the ticket row locked; each sets fields on
the ticket instance and returns the names it changed (the caller saves them)."""

from __future__ import annotations

import datetime as dt

from ..models import Ticket


def sla_apply(*, ticket: Ticket, now: dt.datetime) -> list[str]:
    """Choose the ticket's policy (the first active one whose conditions it meets) and compute its
    due times from `ticket.created_at`; on a change of priority, type, account or queue, again
    (due times keep counting from creation, time already spent waiting excluded)."""
    return []


def sla_on_state_change(*, ticket: Ticket, old_state: str, new_state: str, now: dt.datetime) -> list[str]:
    """Pause on entering "waiting", resume (moving due times by the business time waited) on
    leaving it; stop resolution on resolved/closed; restart it on reopening."""
    return []


def sla_on_agent_reply(*, ticket: Ticket, now: dt.datetime) -> list[str]:
    """A reply to the customer: the first response is done (`first_responded_at`), the next
    response timer stops until the customer writes again."""
    return []


def sla_on_customer_message(*, ticket: Ticket, now: dt.datetime) -> list[str]:
    """The customer wrote again: the next-response timer starts (when the policy has one)."""
    return []
