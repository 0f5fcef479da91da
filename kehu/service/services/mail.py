"""Email-to-ticket (issue 8): every received e-mail, from the IMAP poller or the MTA pipe command,
goes through `inbound_email_receive`, which

1. stores the raw bytes and their sha256 digest as an `InboundEmail` row (a second delivery of the
   same bytes, or of a Message-ID already turned into a ticket message, returns the existing row);
2. parses them (`kehu.service.mail.parsing`); bytes that are not an e-mail are QUARANTINED;
3. ignores auto-replies and bounces (AUTO_REPLY / BOUNCE: no ticket, no answer);
4. threads a reply into its ticket, by the ticket number in the subject (only when the sender is
   the ticket's requester, an address of its contact, or the from/cc of an earlier customer
   message on it: a stranger quoting a number gets a new ticket), then by In-Reply-To /
   References against the ticket messages' Message-IDs (a merged ticket forwards to the ticket it
   was merged into): THREADED;
5. else creates a ticket (channel e-mail, the mailbox's queue) for the contact with that address,
   or with the sender's name and address as the requester when no single contact has it: CREATED;
6. keeps the attachments within the size/type limits (KEHU_ATTACHMENT_MAX_BYTES/TYPES); refused
   ones leave a note on the message.

Any unexpected error while processing one message quarantines it with the reason: the poller never
stops on a bad message. Quarantined mail is released (processed again, as a customer message even
if it looked automatic) or discarded by an administrator."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import logging
import mimetypes
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.html import linebreaks
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core.errors import ConflictError, DomainError
from kehu.core.richtext import html_to_text, sanitize_html

from ..choices import InboundStatus, MessageKind, TicketChannel
from ..mail.parsing import (
    Attachment,
    MalformedMessage,
    ParsedMessage,
    auto_reply_reason,
    bounce_reason,
    parse_message,
    strip_quoted_reply,
    thread_keys,
    ticket_number_in_subject,
)
from ..models import InboundEmail, Mailbox, Ticket, TicketMessage

logger = logging.getLogger(__name__)


# Reasons stored on InboundEmail.reason: a code (then ": " and details for logs). `reason_text`
# gives the reader's language.
REASON_MALFORMED = "malformed"
REASON_NO_SENDER = "no_sender"
REASON_OWN_ADDRESS = "own_address"
REASON_INTERNAL = "internal_error"
REASON_AUTO_REPLY = "auto_reply"
REASON_BOUNCE = "bounce"
REASON_DUPLICATE = "duplicate"

REASON_LABELS = {
    REASON_MALFORMED: gettext_lazy("Not a readable e-mail message"),
    REASON_NO_SENDER: gettext_lazy("The message has no sender address"),
    REASON_OWN_ADDRESS: gettext_lazy("Sent from one of our own support addresses (a mail loop)"),
    REASON_INTERNAL: gettext_lazy("Processing failed"),
    REASON_AUTO_REPLY: gettext_lazy("Automatic reply"),
    REASON_BOUNCE: gettext_lazy("Delivery failure report"),
    REASON_DUPLICATE: gettext_lazy("Already received"),
}

_MERGE_HOPS = 10


class MailError(ConflictError):
    """A refused mail action (releasing mail that is not quarantined, ...)."""

    code = "mail_state"


def reason_text(reason: str) -> str:
    """The stored reason in the reader's language (its code's label, with the details kept)."""
    if not reason:
        return ""
    code, _sep, detail = reason.partition(": ")
    label = REASON_LABELS.get(code)
    if label is None:
        return reason
    return f"{label} ({detail})" if detail else str(label)


def _digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _clip(value: str, limit: int) -> str:
    return (value or "").replace("\r", " ").replace("\n", " ")[:limit]


# --------------------------------------------------------------------------- receiving


def inbound_email_receive(
    *, raw: bytes, mailbox: Mailbox | None = None, now: dt.datetime | None = None
) -> InboundEmail:
    """Store and process one received message (see the module). Never raises for a bad message:
    the returned row's status says what became of it."""
    if not isinstance(raw, bytes | bytearray):
        raise TypeError("raw must be bytes")
    raw = bytes(raw)
    now = now or timezone.now()
    digest = _digest(raw)
    existing = _existing(mailbox, digest)
    if existing is not None:
        return existing
    try:
        inbound = _store(raw, mailbox, digest)
    except IntegrityError:  # a parallel delivery of the same bytes stored it first
        found = _existing(mailbox, digest)
        if found is None:
            raise
        return found
    return _process(inbound, raw, now=now, forced=False)


def _existing(mailbox: Mailbox | None, digest: str) -> InboundEmail | None:
    rows = InboundEmail.objects.filter(digest=digest)
    rows = rows.filter(mailbox=mailbox) if mailbox is not None else rows.filter(mailbox__isnull=True)
    return rows.first()


def _store(raw: bytes, mailbox: Mailbox | None, digest: str) -> InboundEmail:
    inbound = InboundEmail(mailbox=mailbox, digest=digest, size=len(raw), status=InboundStatus.PENDING)
    inbound.raw.save(f"{digest[:32]}.eml", ContentFile(raw), save=False)
    try:
        with transaction.atomic():
            inbound.save()
    except Exception:
        inbound.raw.storage.delete(inbound.raw.name)
        raise
    return inbound


def inbound_raw(inbound: InboundEmail) -> bytes:
    """The stored raw message."""
    with inbound.raw.open("rb") as fh:
        data = fh.read()
    return data if isinstance(data, bytes) else data.encode()


def _finish(inbound: InboundEmail, status: str, reason: str = "", ticket: Ticket | None = None) -> None:
    inbound.status = status
    inbound.reason = _clip(reason, 500)
    inbound.ticket = ticket
    inbound.processed_at = timezone.now()
    inbound.save(
        update_fields=["status", "reason", "ticket", "processed_at", "message_id", "from_email", "subject"]
    )


def _process(inbound: InboundEmail, raw: bytes, *, now: dt.datetime, forced: bool) -> InboundEmail:
    try:
        parsed = parse_message(raw)
    except MalformedMessage as exc:
        _finish(inbound, InboundStatus.QUARANTINED, f"{REASON_MALFORMED}: {exc.reason}")
        return inbound
    except Exception as exc:  # the parser promises not to, but the poller must go on
        logger.exception("inbound e-mail %s: parser failed", inbound.pk)
        _finish(inbound, InboundStatus.QUARANTINED, f"{REASON_INTERNAL}: {type(exc).__name__}: {exc}")
        return inbound
    inbound.message_id = _clip(parsed.message_id or "", 255)
    inbound.from_email = _clip(parsed.from_address, 255)
    inbound.subject = _clip(parsed.subject, 255)
    try:
        with transaction.atomic():
            status, reason, ticket = _route(inbound, parsed, now=now, forced=forced)
            _finish(inbound, status, reason, ticket)
    except Exception as exc:
        logger.exception("inbound e-mail %s: processing failed", inbound.pk)
        _finish(inbound, InboundStatus.QUARANTINED, f"{REASON_INTERNAL}: {type(exc).__name__}: {exc}")
    return inbound


def _own_addresses() -> set[str]:
    return {e.lower() for e in Mailbox.objects.values_list("email", flat=True) if e}


def _route(
    inbound: InboundEmail, parsed: ParsedMessage, *, now: dt.datetime, forced: bool
) -> tuple[str, str, Ticket | None]:
    if not forced:
        bounce = bounce_reason(parsed)
        if bounce:
            return InboundStatus.BOUNCE, f"{REASON_BOUNCE}: {bounce}", None
        auto = auto_reply_reason(parsed)
        if auto:
            return InboundStatus.AUTO_REPLY, f"{REASON_AUTO_REPLY}: {auto}", None
    if not parsed.from_address or "@" not in parsed.from_address:
        return InboundStatus.QUARANTINED, REASON_NO_SENDER, None
    if not forced and parsed.from_address in _own_addresses():
        return InboundStatus.QUARANTINED, REASON_OWN_ADDRESS, None
    if parsed.message_id:
        _lock_message_id(parsed.message_id)
        done = _already_received(parsed.message_id, exclude=inbound.pk)
        if done is not None:
            return InboundStatus.THREADED, REASON_DUPLICATE, done
    ticket = find_thread(parsed)
    if ticket is not None:
        message = _add_to_ticket(ticket, parsed, inbound=inbound, now=now)
        return InboundStatus.THREADED, "", message.ticket
    message = _create_ticket(parsed, inbound=inbound, now=now)
    return InboundStatus.CREATED, "", message.ticket


def _lock_message_id(message_id: str) -> None:
    """Make two deliveries of one Message-ID (a copy in each of two mailboxes: other bytes, so the
    digest does not match) processed at once run one after the other, so the second finds the
    first's ticket message. PostgreSQL: a transaction-level advisory lock on the Message-ID, held
    until the transaction that adds the message commits. SQLite needs none: its transactions are
    IMMEDIATE (config/settings/base.py), so a second writer waits at BEGIN."""
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"kehu.inbound_message_id:{message_id}"]
        )


def _already_received(message_id: str, *, exclude: int) -> Ticket | None:
    """The ticket a message with this Message-ID was already added to (a second delivery with other
    transport headers, or a copy in a second mailbox)."""
    row = (
        TicketMessage.objects.filter(message_id=message_id, kind=MessageKind.CUSTOMER)
        .select_related("ticket")
        .first()
    )
    return row.ticket if row is not None else None


# --------------------------------------------------------------------------- threading


def _ticket_prefix() -> str:
    from kehu.core.models import Sequence

    prefix = Sequence.objects.filter(key="ticket").values_list("prefix", flat=True).first()
    return prefix or "TK"


def _follow_merges(ticket: Ticket) -> Ticket:
    seen = {ticket.pk}
    for _hop in range(_MERGE_HOPS):
        if not ticket.merged_into_id:
            break
        target = Ticket.objects.filter(pk=ticket.merged_into_id).first()
        if target is None or target.pk in seen:
            break
        seen.add(target.pk)
        ticket = target
    return ticket


def _known_sender(ticket: Ticket, address: str) -> bool:
    """Whether `address` may post into `ticket` by quoting its number: the ticket's requester
    e-mail, any e-mail of its contact, or the from/cc address of an earlier customer message."""
    from kehu.customers.models import Contact, ContactEmail

    address = (address or "").strip().lower()
    if not address:
        return False
    if (ticket.requester_email or "").strip().lower() == address:
        return True
    if ticket.contact_id:
        if Contact.objects.filter(pk=ticket.contact_id, email__iexact=address).exists():
            return True
        if ContactEmail.objects.filter(contact_id=ticket.contact_id, email__iexact=address).exists():
            return True
    customer = TicketMessage.objects.filter(ticket=ticket, kind=MessageKind.CUSTOMER)
    if customer.filter(from_email__iexact=address).exists():
        return True
    for cc in customer.exclude(cc="").values_list("cc", flat=True)[:500]:
        if address in {part.strip().lower() for part in cc.split(",")}:
            return True
    return False


def find_thread(parsed: ParsedMessage) -> Ticket | None:
    """The ticket `parsed` answers: by the ticket number in its subject when the sender is known on
    that ticket (see `_known_sender`; anyone else's mail becomes a new ticket), then by its
    In-Reply-To / References among ticket messages (ours and the customer's); merged tickets
    forward."""
    number = ticket_number_in_subject(parsed.subject, _ticket_prefix())
    if number:
        ticket = Ticket.objects.filter(number__iexact=number).first()
        if ticket is not None and _known_sender(ticket, parsed.from_address):
            return _follow_merges(ticket)
    keys = thread_keys(parsed)[:50]
    if keys:
        by_message = (
            TicketMessage.objects.filter(message_id__in=keys).select_related("ticket").order_by("-id").first()
        )
        if by_message is not None:
            return _follow_merges(by_message.ticket)
        by_inbound = (
            InboundEmail.objects.filter(message_id__in=keys, ticket__isnull=False)
            .select_related("ticket")
            .order_by("-id")
            .first()
        )
        if by_inbound is not None and by_inbound.ticket is not None:
            return _follow_merges(by_inbound.ticket)
    return None


# --------------------------------------------------------------------------- bodies


def _text_html(text: str) -> str:
    return linebreaks(text, autoescape=True) if text.strip() else ""


@dataclass
class Body:
    html: str
    text: str
    notes: list[str] = field(default_factory=list)


def message_body(parsed: ParsedMessage, *, threaded: bool) -> Body:
    """The sanitised HTML and plain text of a customer message. A reply into a ticket loses its
    quoted history (then the text, quoted part cut, is the body)."""
    text = parsed.text or ""
    if threaded:
        stripped = strip_quoted_reply(text)
        if stripped.strip() != text.strip():
            return Body(html=_text_html(stripped), text=stripped)
    if parsed.html:
        clean = sanitize_html(parsed.html)
        if clean.strip():
            return Body(html=clean, text=text.strip() or html_to_text(clean))
    return Body(html=_text_html(text), text=text.strip())


def _append_notes(body: Body) -> None:
    if not body.notes:
        return
    lines = "\n".join(body.notes)
    body.text = f"{body.text}\n\n{lines}".strip()
    items = "".join(f"<li>{html.escape(n)}</li>" for n in body.notes)
    body.html = f"{body.html}<ul>{items}</ul>"


# --------------------------------------------------------------------------- attachments


def _attachment_name(item: Attachment) -> str:
    name = (item.filename or "").replace("/", "_").replace("\\", "_").strip()
    if "." not in name:
        ext = mimetypes.guess_extension(item.content_type or "") or ""
        ext = {".jpe": ".jpg", ".jpeg": ".jpg"}.get(ext, ext)
        name = f"{name or 'attachment'}{ext}"
    return name[-255:]


def attachment_check(item: Attachment) -> str | None:
    """Why an e-mail attachment cannot be kept (the ticket attachment limits), or None."""
    from kehu.core.uploads import attachment_max_bytes, check_upload, size_text

    limit = attachment_max_bytes()
    if item.size > limit:
        return _("The file is too big (%(size)s); the limit is %(limit)s.") % {
            "size": size_text(item.size),
            "limit": size_text(limit),
        }
    try:
        check_upload(ContentFile(item.content, name=_attachment_name(item)))
    except DomainError as exc:
        return str(exc.message)
    return None


def _attachments(parsed: ParsedMessage, body: Body) -> list[Any]:
    """The attachments to keep (as the ticket services take them); a note on `body` for each
    refused one."""
    from .tickets import NewAttachment

    kept = []
    for item in parsed.attachments:
        refused = attachment_check(item)
        if refused:
            body.notes.append(
                _("Attachment %(name)s was not kept: %(reason)s")
                % {"name": item.filename or _attachment_name(item), "reason": refused}
            )
            continue
        kept.append(
            NewAttachment(
                name=_attachment_name(item),
                content=item.content,
                content_type=(item.content_type or "")[:100],
                content_id=(item.content_id or "") if item.inline else "",
            )
        )
    return kept


# --------------------------------------------------------------------------- tickets


def _contact_for(address: str) -> Any:
    """The one contact with this e-mail address (any of their addresses), else None."""
    from kehu.customers.models import Contact, ContactEmail

    if not address:
        return None
    ids = set(ContactEmail.objects.filter(email=address).values_list("contact_id", flat=True)[:5])
    ids |= set(Contact.objects.filter(email=address).values_list("pk", flat=True)[:5])
    if len(ids) != 1:
        return None
    return Contact.objects.filter(pk=ids.pop()).select_related("account").first()


def _meta(parsed: ParsedMessage) -> dict[str, str]:
    return {
        "from_name": _clip(parsed.from_name, 200),
        "from_email": parsed.from_address[:254],
        "subject": _clip(parsed.subject, 255),
        "message_id": _clip(parsed.message_id or "", 255),
        "in_reply_to": _clip(parsed.in_reply_to or "", 255),
        "references": " ".join(parsed.references)[:10000],
    }


def _with_recipients(message: TicketMessage, parsed: ParsedMessage) -> None:
    to, cc = ", ".join(parsed.to), ", ".join(parsed.cc)
    if (message.to, message.cc) != (to, cc):
        message.to, message.cc = to, cc
        message.save(update_fields=["to", "cc"])


def _prepared_body(parsed: ParsedMessage, *, threaded: bool) -> tuple[Body, list[Any]]:
    body = message_body(parsed, threaded=threaded)
    attachments = _attachments(parsed, body)
    _append_notes(body)
    if not body.text.strip() and not attachments:
        body.text = _("(empty message)")
        body.html = _text_html(body.text)
    return body, attachments


def _create_ticket(parsed: ParsedMessage, *, inbound: InboundEmail, now: dt.datetime) -> TicketMessage:
    from . import tickets as ticket_services

    mailbox = inbound.mailbox
    queue = mailbox.queue if mailbox is not None and mailbox.queue_id else None
    if queue is not None and not queue.is_active:
        queue = None
    body, attachments = _prepared_body(parsed, threaded=False)
    contact = _contact_for(parsed.from_address)
    data: dict[str, Any] = {
        "subject": _clip(parsed.subject, 255).strip() or _("(no subject)"),
        "description": body.html,
        "channel": TicketChannel.EMAIL,
        "queue": queue,
        "requester_name": _clip(parsed.from_name, 200),
        "requester_email": parsed.from_address[:254],
    }
    if contact is not None:
        data["contact"] = contact
        if contact.accounts.filter(pk=contact.account_id).exists():
            data["account"] = contact.account
    ticket = ticket_services.ticket_create(
        by=None, data=data, attachments=attachments, message=_meta(parsed), now=now
    )
    message = ticket.messages.filter(kind=MessageKind.CUSTOMER).order_by("id").first()
    if message is None:  # pragma: no cover - ticket_create makes it from `message`
        raise RuntimeError("ticket_create made no customer message")
    _with_recipients(message, parsed)
    return message


def _add_to_ticket(
    ticket: Ticket, parsed: ParsedMessage, *, inbound: InboundEmail, now: dt.datetime
) -> TicketMessage:
    from . import tickets as ticket_services

    body, attachments = _prepared_body(parsed, threaded=True)
    message = ticket_services.ticket_add_customer_message(
        ticket=ticket,
        body=body.html,
        channel=TicketChannel.EMAIL,
        attachments=attachments,
        by=None,
        now=now,
        **_meta(parsed),
    )
    _with_recipients(message, parsed)
    return message


# --------------------------------------------------------------------------- quarantine


RELEASABLE = (InboundStatus.QUARANTINED, InboundStatus.AUTO_REPLY, InboundStatus.BOUNCE)


def inbound_email_release(*, inbound: InboundEmail, by: Any, now: dt.datetime | None = None) -> InboundEmail:
    """Process a quarantined (or ignored) message again, as a customer message even when it looks
    automatic. It may end quarantined again, with the new reason."""
    with transaction.atomic():
        locked = InboundEmail.objects.select_for_update().filter(pk=inbound.pk).first()
        if locked is None or locked.status not in RELEASABLE:
            raise MailError(_("Only quarantined or ignored e-mail can be released."), code="not_releasable")
        locked.status = InboundStatus.RELEASED
        locked.released_by = by if getattr(by, "pk", None) else None
        locked.save(update_fields=["status", "released_by"])
    try:
        raw = inbound_raw(locked)
    except OSError as exc:
        _finish(locked, InboundStatus.QUARANTINED, f"{REASON_INTERNAL}: raw message missing ({exc})")
        return locked
    return _process(locked, raw, now=now or timezone.now(), forced=True)


def inbound_email_discard(*, inbound: InboundEmail, by: Any) -> None:
    """Delete a quarantined or ignored message and its raw file (a message that made or joined a
    ticket stays: it is that ticket's record)."""
    with transaction.atomic():
        locked = InboundEmail.objects.select_for_update().filter(pk=inbound.pk).first()
        if locked is None:
            return
        if locked.status not in RELEASABLE:
            raise MailError(_("Only quarantined or ignored e-mail can be discarded."), code="not_discardable")
        storage, path = locked.raw.storage, locked.raw.name
        locked.delete()
        if path:
            transaction.on_commit(lambda: storage.delete(path))


# --------------------------------------------------------------------------- IMAP polling


@dataclass
class PollResult:
    fetched: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    error: str = ""


def mailbox_poll(*, mailbox: Mailbox, limit: int = 200, now: dt.datetime | None = None) -> PollResult:
    """Fetch the mailbox's unprocessed messages over IMAP, receive each (`inbound_email_receive`) and
    mark it processed on the server (\\Seen, or moved to `processed_folder`). Never raises: a
    connection or server error is kept in `mailbox.last_error` (cleared by the next good poll); a
    message whose storing failed stays unprocessed on the server for the next poll."""
    from ..mail import imap

    result = PollResult()
    try:
        with imap.imap_session(mailbox) as conn:
            moves = bool(mailbox.processed_folder.strip())
            if moves:
                imap.ensure_folder(conn, mailbox.processed_folder.strip())
            for uid in imap.unprocessed_uids(conn, moves=moves)[:limit]:
                raw = imap.fetch(conn, uid)
                if raw is None:
                    continue
                result.fetched += 1
                try:
                    inbound = inbound_email_receive(raw=raw, mailbox=mailbox, now=now)
                except Exception as exc:  # storage down: leave it on the server, try again later
                    logger.exception("mailbox %s: storing UID %s failed", mailbox.pk, uid)
                    result.error = f"{type(exc).__name__}: {exc}"
                    continue
                result.statuses[inbound.status] = result.statuses.get(inbound.status, 0) + 1
                imap.mark_processed(conn, uid, move_to=mailbox.processed_folder.strip())
    except Exception as exc:
        logger.warning("mailbox %s: polling failed: %s", mailbox.pk, exc)
        result.error = f"{type(exc).__name__}: {exc}"
    mailbox.last_polled_at = timezone.now()
    mailbox.last_error = _clip(result.error, 500)
    Mailbox.objects.filter(pk=mailbox.pk).update(
        last_polled_at=mailbox.last_polled_at, last_error=mailbox.last_error
    )
    return result


def mailboxes_poll(*, now: dt.datetime | None = None) -> dict[int, PollResult]:
    """Poll every active mailbox that has an IMAP host (the beat task, every minute)."""
    results: dict[int, PollResult] = {}
    for mailbox in Mailbox.objects.filter(is_active=True).exclude(imap_host="").order_by("id"):
        results[mailbox.pk] = mailbox_poll(mailbox=mailbox, now=now)
    return results


@dataclass
class ConnectionCheck:
    ok: bool
    total: int = 0
    unseen: int = 0
    error: str = ""


def mailbox_test_connection(*, mailbox: Mailbox) -> ConnectionCheck:
    """Connect, log in and open the folder; how many messages it holds, or what went wrong."""
    from ..mail import imap

    try:
        with imap.imap_session(mailbox) as conn:
            total, unseen = imap.message_count(conn)
    except Exception as exc:
        return ConnectionCheck(ok=False, error=_clip(f"{type(exc).__name__}: {exc}", 500))
    return ConnectionCheck(ok=True, total=total, unseen=unseen)
