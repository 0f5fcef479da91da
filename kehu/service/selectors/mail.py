"""Reads of the mail area: the received e-mail log (quarantine), one message's headers, and the
contacts a ticket from an unknown sender could belong to."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.html import escape

from kehu.core.choices import Action

from ..choices import InboundStatus
from ..models import InboundEmail, Ticket

# Public mail providers: a shared domain says nothing about the sender's company.
FREE_MAIL_DOMAINS = frozenset(
    {
        "qq.com",
        "foxmail.com",
        "163.com",
        "126.com",
        "yeah.net",
        "sina.com",
        "sina.cn",
        "sohu.com",
        "aliyun.com",
        "139.com",
        "189.cn",
        "gmail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
        "proton.me",
        "protonmail.com",
    }
)
HEADER_LIMIT = 256 * 1024


def inbound_list(
    *, user: Any, status: str = "", mailbox_id: int | None = None, q: str = ""
) -> QuerySet[InboundEmail]:
    """Received e-mail the user may see, newest first, filtered by status, mailbox and a search in
    sender and subject."""
    rows = InboundEmail.objects.restrict(user, Action.VIEW).select_related("mailbox", "ticket")
    if status in InboundStatus.values:
        rows = rows.filter(status=status)
    if mailbox_id:
        rows = rows.filter(mailbox_id=mailbox_id)
    q = (q or "").strip()[:100]
    if q:
        rows = rows.filter(Q(from_email__icontains=q) | Q(subject__icontains=q) | Q(message_id=q))
    return rows.order_by("-id")


def inbound_status_counts(*, user: Any) -> dict[str, int]:
    rows = InboundEmail.objects.restrict(user, Action.VIEW).values("status").annotate(n=Count("id"))
    return {r["status"]: r["n"] for r in rows}


def inbound_headers(inbound: InboundEmail) -> list[tuple[str, str]]:
    """The stored message's headers, decoded (empty when the raw file is gone or unreadable)."""
    try:
        with inbound.raw.open("rb") as fh:
            head = fh.read(HEADER_LIMIT)
    except (OSError, ValueError):
        return []
    end = head.find(b"\r\n\r\n")
    end = head.find(b"\n\n") if end < 0 else end
    head = head[: end if end >= 0 else len(head)]
    try:
        msg = email.message_from_bytes(head, policy=email.policy.default)
        return [(str(k), str(v)) for k, v in msg.items()]
    except Exception:
        return []


@dataclass
class ContactSuggestions:
    """Who a ticket's requester could be: contacts with the same address (`exact`) and, for a
    company domain, contacts and accounts with addresses at that domain (`same_domain`)."""

    email: str
    name: str
    exact: list[Any] = field(default_factory=list)
    same_domain: list[Any] = field(default_factory=list)
    accounts: list[Any] = field(default_factory=list)

    @property
    def domain(self) -> str:
        return self.email.rsplit("@", 1)[-1] if "@" in self.email else ""

    @property
    def is_empty(self) -> bool:
        return not (self.exact or self.same_domain or self.accounts)


def contact_suggestions(*, ticket: Ticket, user: Any, limit: int = 5) -> ContactSuggestions | None:
    """Suggestions for a ticket that has a requester address and no contact yet (None otherwise),
    among the contacts and accounts the user may see."""
    from kehu.customers.models import Account, AccountEmail, Contact, ContactEmail

    address = (ticket.requester_email or "").strip().lower()
    if ticket.contact_id or not address or "@" not in address:
        return None
    result = ContactSuggestions(email=address, name=ticket.requester_name)
    contacts = Contact.objects.restrict(user, Action.VIEW).select_related("account")
    exact_ids = set(ContactEmail.objects.filter(email=address).values_list("contact_id", flat=True)[:50])
    exact_ids |= set(Contact.objects.filter(email=address).values_list("pk", flat=True)[:50])
    result.exact = list(contacts.filter(pk__in=exact_ids).order_by("-id")[:limit])
    domain = result.domain
    if domain and domain not in FREE_MAIL_DOMAINS:
        suffix = "@" + domain
        seen = {c.pk for c in result.exact}
        result.same_domain = [
            c
            for c in contacts.filter(email__endswith=suffix).order_by("-id")[: limit + len(seen)]
            if c.pk not in seen
        ][:limit]
        account_ids = set(
            AccountEmail.objects.filter(email__endswith=suffix).values_list("account_id", flat=True)[:50]
        )
        account_ids |= {c.account_id for c in result.same_domain}
        result.accounts = list(
            Account.objects.restrict(user, Action.VIEW).filter(pk__in=account_ids).order_by("-id")[:limit]
        )
    return result


_CID_SRC = re.compile(r"""(\bsrc\s*=\s*)(["'])cid:([^"'>\s]+)\2""", re.IGNORECASE)


def resolve_inline_images(html: str, attachments: Iterable[Any], url: Callable[[Any], str]) -> str:
    """`html` (a sanitised message body) with its ``src="cid:…"`` images pointing at the ticket
    attachments that carry those Content-IDs (`url(attachment)` gives the address); unknown ids
    stay as they are (the browser shows nothing for them)."""
    by_id = {a.content_id.strip("<>").lower(): a for a in attachments if getattr(a, "content_id", "")}
    if not by_id or "cid:" not in html.lower():
        return html

    def swap(match: re.Match[str]) -> str:
        found = by_id.get(match.group(3).strip("<>").lower())
        if found is None:
            return match.group(0)
        return f"{match.group(1)}{match.group(2)}{escape(url(found))}{match.group(2)}"

    return _CID_SRC.sub(swap, html)
