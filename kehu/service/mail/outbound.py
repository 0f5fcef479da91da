"""Outbound e-mail of tickets: replies sent by SMTP with the ticket number in the subject and
threading headers (Message-ID, In-Reply-To, References)."""

from __future__ import annotations


def ticket_message_send(*, message_id: int) -> None:
    """Send one reply (TicketMessage of kind "reply" with delivery "queued"); idempotent: a message
    already sent is not sent again."""
    return None
