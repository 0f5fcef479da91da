"""Outbound e-mail of tickets: replies sent by SMTP with the ticket number in the subject and
threading headers (Message-ID, In-Reply-To, References).

`ticket_message_send` is the body of the Celery task `kehu.service.tasks.ticket_message_send`; the
ticket services queue a reply (delivery "queued") and schedule the task on commit. The message row
is locked while sending and marked sent in the same transaction, so a retried or duplicated task
never sends it twice; a failure marks it "failed" with the error (`ticket_message_resend` queues it
again)."""

from __future__ import annotations

import email.utils
import logging
import re
from email.mime.base import MIMEBase
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.audit.services import timeline_record
from kehu.core.richtext import html_to_text

from ..choices import DeliveryStatus, MessageKind
from ..models import Mailbox, Ticket, TicketMessage

logger = logging.getLogger(__name__)

EVENT_EMAIL_SENT = "ticket.email_sent"
EVENT_EMAIL_FAILED = "ticket.email_failed"
MAX_REFERENCES = 20
_REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|回复|答复|转发)\s*[:：]\s*)+", re.IGNORECASE)


def _domain(address: str) -> str:
    _name, addr = email.utils.parseaddr(address or "")
    return addr.rsplit("@", 1)[-1].strip().lower() if "@" in addr else ""


def sender_for(ticket: Ticket) -> tuple[str, str]:
    """(From, Reply-To) of a ticket's e-mail: the support mailbox of its queue, else the queue's
    address, else DEFAULT_FROM_EMAIL (then no Reply-To)."""
    mailbox = None
    if ticket.queue_id:
        mailbox = (
            Mailbox.objects.filter(queue_id=ticket.queue_id, is_active=True).order_by("id").first()
            or Mailbox.objects.filter(queue_id=ticket.queue_id).order_by("id").first()
        )
    if mailbox is not None:
        address = email.utils.formataddr((mailbox.name, mailbox.email))
        return address, mailbox.email
    queue_email = ticket.queue.email if ticket.queue_id and ticket.queue else ""
    if queue_email:
        return email.utils.formataddr((str(ticket.queue), queue_email)), queue_email
    return settings.DEFAULT_FROM_EMAIL, ""


def new_message_id(from_address: str) -> str:
    """A fresh Message-ID (without angle brackets, as ticket messages store them)."""
    domain = _domain(from_address) or _domain(settings.DEFAULT_FROM_EMAIL) or "kehu.localhost"
    return email.utils.make_msgid(domain=domain).strip("<>")


def reply_subject(ticket: Ticket, subject: str = "", *, is_reply: bool = True) -> str:
    """ "Re: [TK-2026-00001] subject": the ticket number once, the subject without old prefixes."""
    base = _REPLY_PREFIX.sub("", subject or ticket.subject or "").strip()
    base = base.replace(f"[{ticket.number}]", "").strip()
    text = f"[{ticket.number}] {base}".strip()
    text = f"Re: {text}" if is_reply else text
    return text.replace("\r", " ").replace("\n", " ")


def _answered(message: TicketMessage) -> TicketMessage | None:
    """The customer message this reply answers: the latest one before it that has a Message-ID."""
    return (
        TicketMessage.objects.filter(ticket_id=message.ticket_id, kind=MessageKind.CUSTOMER)
        .exclude(message_id="")
        .filter(id__lt=message.pk)
        .order_by("-created_at", "-id")
        .first()
    )


def _split(value: str) -> list[str]:
    return [a.strip() for a in re.split(r"[,;\n]", value or "") if a.strip()]


def _recipients(message: TicketMessage, ticket: Ticket) -> list[str]:
    to = _split(message.to)
    if to:
        return to
    if ticket.contact_id and ticket.contact and ticket.contact.email:
        return [ticket.contact.email]
    return [ticket.requester_email] if ticket.requester_email else []


def _attach(mail: EmailMultiAlternatives, message: TicketMessage) -> None:
    for attachment in message.attachments.all():
        if not attachment.is_public or not attachment.file:
            continue
        with attachment.file.open("rb") as fh:
            content = fh.read()
        content_type = attachment.content_type or "application/octet-stream"
        if attachment.content_id:
            maintype, _sep, subtype = content_type.partition("/")
            part = MIMEBase(maintype or "application", subtype or "octet-stream")
            part.set_payload(content)
            from email import encoders

            encoders.encode_base64(part)
            part.add_header("Content-ID", f"<{attachment.content_id}>")
            part.add_header("Content-Disposition", "inline", filename=attachment.name)
            mail.attach(part)
        else:
            mail.attach(attachment.name, content, content_type)


def build_email(message: TicketMessage, *, connection: Any = None) -> EmailMultiAlternatives:
    """The e-mail of an agent reply (sets message_id, in_reply_to and references on `message`)."""
    ticket = message.ticket
    from_address, reply_to = sender_for(ticket)
    answered = _answered(message)
    if not message.message_id:
        message.message_id = new_message_id(from_address)
    references: list[str] = []
    if answered is not None:
        references = [r for r in (answered.references or "").split() if r]
        references.append(answered.message_id)
        message.in_reply_to = answered.message_id
    message.references = " ".join(references[-MAX_REFERENCES:])
    subject = reply_subject(ticket, message.subject or ticket.subject, is_reply=answered is not None)
    text = message.body_text or html_to_text(message.body)
    headers = {"Message-ID": f"<{message.message_id}>", "Auto-Submitted": "no"}
    if message.in_reply_to:
        headers["In-Reply-To"] = f"<{message.in_reply_to}>"
    if message.references:
        headers["References"] = " ".join(f"<{r}>" for r in message.references.split())
    mail = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=from_address,
        to=_recipients(message, ticket),
        cc=_split(message.cc),
        reply_to=[reply_to] if reply_to else None,
        headers=headers,
        connection=connection,
    )
    if message.body:
        mail.attach_alternative(message.body, "text/html")
    _attach(mail, message)
    return mail


def ticket_message_send(*, message_id: int) -> None:
    """Send one reply (TicketMessage of kind "reply" with delivery "queued"); idempotent: a message
    already sent is not sent again."""
    with transaction.atomic():
        message = (
            TicketMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, kind=MessageKind.REPLY, delivery=DeliveryStatus.QUEUED)
            .first()
        )
        if message is None:
            return None
        ticket = Ticket.objects.select_related("queue", "contact").get(pk=message.ticket_id)
        message.ticket = ticket
        error = ""
        mail = None
        try:
            mail = build_email(message)
            if not mail.to:
                error = _("The ticket has no e-mail address to reply to.")
            else:
                mail.send(fail_silently=False)
        except Exception as exc:
            logger.exception("ticket reply %s: sending failed", message_id)
            error = f"{type(exc).__name__}: {exc}"
        now = timezone.now()
        if error:
            message.delivery = DeliveryStatus.FAILED
            message.delivery_error = error[:500]
        else:
            message.delivery = DeliveryStatus.SENT
            message.delivery_error = ""
            message.sent_at = now
            if mail is not None and not message.to:
                message.to = ", ".join(mail.to)
        if not message.subject and mail is not None:
            message.subject = mail.subject[:255]
        message.save(
            update_fields=[
                "delivery",
                "delivery_error",
                "sent_at",
                "message_id",
                "in_reply_to",
                "references",
                "to",
                "subject",
            ]
        )
        timeline_record(
            event=EVENT_EMAIL_FAILED if error else EVENT_EMAIL_SENT,
            obj=ticket,
            by=message.author,
            account_id=ticket.account_id,
            contact_id=ticket.contact_id,
            data={
                "title": message.subject or ticket.subject,
                "body": error[:500] if error else (message.body_text or "")[:500],
                "to": message.to,
                "number": ticket.number,
                "message_id": message.pk,
            },
        )
    return None


def ticket_message_resend(*, message: TicketMessage, by: Any) -> TicketMessage:
    """Queue a failed reply again (the task is scheduled after the commit)."""
    from ..services.mail import MailError

    with transaction.atomic():
        locked = TicketMessage.objects.select_for_update().get(pk=message.pk)
        if locked.kind != MessageKind.REPLY or locked.delivery != DeliveryStatus.FAILED:
            raise MailError(_("Only a reply that could not be sent can be sent again."), code="not_failed")
        locked.delivery = DeliveryStatus.QUEUED
        locked.delivery_error = ""
        locked.save(update_fields=["delivery", "delivery_error"])
        transaction.on_commit(lambda: _schedule(locked.pk))
    return locked


def _schedule(message_id: int) -> None:
    from ..tasks import ticket_message_send as task

    task.delay(message_id)
