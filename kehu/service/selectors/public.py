"""Reads of the customer-facing pages (no login): the ticket types the web form offers and what a
ticket's status page shows — the public conversation (customer messages and agent replies, never
internal notes or system lines), agents by first name only, and the public attachments."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from ..choices import MessageKind, TicketKind
from ..models import Ticket, TicketAttachment, TicketMessage, TicketType

PUBLIC_KINDS = (MessageKind.CUSTOMER, MessageKind.REPLY)


def public_ticket_types() -> QuerySet[TicketType]:
    """Active types customers may choose (not after-sales: those need an order); all active
    types when no other kind is set up."""
    active = TicketType.objects.filter(is_active=True).order_by("position", "pk")
    chosen = active.exclude(kind=TicketKind.AFTER_SALES)
    return chosen if chosen.exists() else active


def agent_first_name(user: Any) -> str:
    """How an agent signs on the status page: their first name (or the first word of their
    display name), never the full name or the login."""
    if user is None:
        return _("Support team")
    first = str(getattr(user, "first_name", "") or "").strip()
    if first:
        return first
    display = str(getattr(user, "display_name", "") or "").strip()
    if display:
        return display.split()[0]
    return _("Support team")


@dataclass
class PublicMessage:
    pk: int
    is_customer: bool
    author: str
    body: str  # sanitised HTML
    created_at: Any
    attachments: list[TicketAttachment] = field(default_factory=list)


def public_messages(ticket: Ticket) -> list[PublicMessage]:
    """The conversation the customer sees, oldest first."""
    rows = list(
        TicketMessage.objects.filter(ticket=ticket, kind__in=PUBLIC_KINDS)
        .select_related("author")
        .order_by("created_at", "id")
    )
    files: dict[int, list[TicketAttachment]] = {}
    for attachment in public_attachments(ticket).filter(message__isnull=False):
        files.setdefault(attachment.message_id or 0, []).append(attachment)
    out = []
    for row in rows:
        customer = row.kind == MessageKind.CUSTOMER
        out.append(
            PublicMessage(
                pk=row.pk,
                is_customer=customer,
                author=(row.from_name or ticket.requester_name or _("You"))
                if customer
                else agent_first_name(row.author),
                body=row.body,
                created_at=row.created_at,
                attachments=files.get(row.pk, []),
            )
        )
    return out


def public_attachments(ticket: Ticket) -> QuerySet[TicketAttachment]:
    """Files the customer may download: public, not inline images, on no message or on a public one."""
    return (
        TicketAttachment.objects.filter(ticket=ticket, is_public=True, content_id="")
        .exclude(message__kind__in=(MessageKind.NOTE, MessageKind.SYSTEM))
        .select_related("ticket")
        .order_by("id")
    )


def loose_attachments(ticket: Ticket) -> list[TicketAttachment]:
    """Public files added to the ticket outside a message."""
    return list(public_attachments(ticket).filter(message__isnull=True))
