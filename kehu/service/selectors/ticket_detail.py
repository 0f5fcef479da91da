"""Reads of the ticket page: the conversation (with or without internal notes), status history
with durations, related tickets, the attachment a user may download, and what the user may do."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from kehu.core.choices import Action
from kehu.core.permissions import can

from ..choices import MessageKind
from ..models import Ticket, TicketAttachment, TicketMessage, TicketStatusHistory
from .tickets import system_line_text


@dataclass(frozen=True)
class TicketRights:
    """What the user may do on the ticket page. `works` (change in scope): actions, reply box,
    internal notes; `assign`: give it to others."""

    works: bool
    assign: bool
    add: bool


def ticket_rights(user: Any, ticket: Ticket) -> TicketRights:
    works = Ticket.objects.restrict(user, Action.CHANGE).filter(pk=ticket.pk).exists()
    assign = works and Ticket.objects.restrict(user, Action.ASSIGN).filter(pk=ticket.pk).exists()
    return TicketRights(works=works, assign=assign, add=can(user, Ticket, Action.ADD))


def ticket_for_page(user: Any, pk: Any) -> Ticket | None:
    return (
        Ticket.objects.restrict(user, Action.VIEW)
        .select_related(
            "type",
            "status",
            "category",
            "account",
            "contact",
            "product",
            "order",
            "queue",
            "assignee",
            "created_by",
            "sla_policy",
            "merged_into",
            "split_from",
        )
        .filter(pk=pk)
        .first()
    )


def conversation(ticket: Ticket, *, notes: bool, file_url: Any = None) -> list[TicketMessage]:
    """The ticket's messages, oldest first, each with `files`, `images` (thumbnails),
    `attachments_shown`, `is_note`, and `system_text` for system lines. Without `notes`, internal
    notes and the files that are not visible to the customer are left out. `file_url(attachment)`
    (the download view's address) replaces an e-mail's inline images (``cid:``) in the body;
    those are then not repeated as thumbnails."""
    files = TicketAttachment.objects.order_by("id")
    if not notes:
        files = files.filter(is_public=True)
    qs: QuerySet[TicketMessage] = (
        TicketMessage.objects.filter(ticket=ticket)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=files, to_attr="files"), "articles")
        .order_by("created_at", "id")
    )
    if not notes:
        qs = qs.exclude(kind=MessageKind.NOTE)
    out = list(qs)
    for m in out:
        m.system_text = system_line_text(m) if m.kind == MessageKind.SYSTEM else ""  # type: ignore[attr-defined]
        m.is_note = m.kind == MessageKind.NOTE  # type: ignore[attr-defined]
        inline: set[int] = set()
        if file_url is not None and "cid:" in m.body:
            for a in m.files:  # type: ignore[attr-defined]
                cid = a.content_id.strip("<>")
                if cid and f"cid:{cid}" in m.body:
                    m.body = m.body.replace(f"cid:{cid}", file_url(a))
                    inline.add(a.pk)
        kept: list[TicketAttachment] = [a for a in m.files if a.pk not in inline]  # type: ignore[attr-defined]
        m.images = [a for a in kept if a.content_type.startswith("image/")]  # type: ignore[attr-defined]
        m.attachments_shown = [a for a in kept if not a.content_type.startswith("image/")]  # type: ignore[attr-defined]
    return out


def loose_attachments(ticket: Ticket, *, notes: bool) -> list[TicketAttachment]:
    """Files on the ticket that belong to no message (added on the page or by the API)."""
    qs = TicketAttachment.objects.filter(ticket=ticket, message__isnull=True).order_by("id")
    if not notes:
        qs = qs.filter(is_public=True)
    return list(qs)


def attachment_for_download(user: Any, ticket_id: int, pk: int) -> TicketAttachment | None:
    """The attachment, if the user may view its ticket; files not visible to the customer (those
    of internal notes) only for users who work the ticket."""
    ticket = Ticket.objects.restrict(user, Action.VIEW).filter(pk=ticket_id).first()
    if ticket is None:
        return None
    found = TicketAttachment.objects.filter(ticket=ticket, pk=pk).select_related("message").first()
    if found is None:
        return None
    hidden = not found.is_public or (found.message is not None and found.message.kind == MessageKind.NOTE)
    if hidden and not Ticket.objects.restrict(user, Action.CHANGE).filter(pk=ticket.pk).exists():
        return None
    return found


def status_history(ticket: Ticket) -> list[TicketStatusHistory]:
    """Status moves, oldest first, each with `duration` (a timedelta): the time spent in the status
    it moved to (until the next move, or until now for the current one)."""
    rows = list(
        TicketStatusHistory.objects.filter(ticket=ticket)
        .select_related("from_status", "to_status", "changed_by")
        .order_by("changed_at", "id")
    )
    now = timezone.now()
    for i, row in enumerate(rows):
        end = rows[i + 1].changed_at if i + 1 < len(rows) else now
        row.duration = max(end - row.changed_at, dt.timedelta(0))  # type: ignore[attr-defined]
        row.is_current = i + 1 == len(rows)  # type: ignore[attr-defined]
    return rows


def related_tickets(user: Any, ticket: Ticket, limit: int = 50) -> list[Ticket]:
    """Other tickets of the same account the user may view, newest first."""
    if not ticket.account_id:
        return []
    return list(
        Ticket.objects.restrict(user, Action.VIEW)
        .filter(account_id=ticket.account_id)
        .exclude(pk=ticket.pk)
        .select_related("status", "assignee", "type")
        .order_by("-id")[:limit]
    )


def merge_targets(user: Any, ticket: Ticket, q: str = "", limit: int = 20) -> list[Ticket]:
    """Tickets the user may change that this one may be merged into (same account, not merged)."""
    qs = (
        Ticket.objects.restrict(user, Action.CHANGE)
        .exclude(pk=ticket.pk)
        .filter(merged_into__isnull=True)
        .order_by("-id")
    )
    if ticket.account_id:
        qs = qs.filter(account_id=ticket.account_id)
    if q:
        from django.db.models import Q

        qs = qs.filter(Q(number__icontains=q) | Q(subject__icontains=q))
    return list(qs[:limit])


def format_duration(delta: dt.timedelta) -> str:
    """ "3d 4h", "2h 05m", "7m" (compact; units translated)."""
    from django.utils.translation import gettext as _

    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return _("%(d)dd %(h)dh") % {"d": days, "h": hours}
    if hours:
        return _("%(h)dh %(m)02dm") % {"h": hours, "m": minutes}
    return _("%(m)dm") % {"m": minutes}
