"""Satisfaction surveys: CSAT invitations after resolution, NPS runs, answers."""

from __future__ import annotations

from ..models import Ticket


def csat_on_ticket_resolved(*, ticket: Ticket) -> None:
    """Called (after commit) when a ticket is resolved: invite its requester to rate it, once per
    ticket, when a CSAT survey sends on resolve and the ticket has an address."""
    return None
