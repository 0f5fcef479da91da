"""The customer-facing side of tickets (no login): the web form's submission, the signed status
link (``ticket_public_link``; rotating the ticket's ``public_key`` revokes every link), the
customer's reply from the status page, and the rate limits that guard both.

Rules:

* A status token is ``django.core.signing.dumps([ticket id, public_key])`` with the salt
  ``service.ticket-status`` (it carries its signing time): a tampered token or one whose key no
  longer matches is invalid, one older than ``KEHU_TICKET_LINK_MAX_AGE`` days (default 90) has
  expired. Both answer without telling anything about the ticket.
* A web-form ticket is created by the system (``by=None``, channel "web"); the requester is the
  one contact with that e-mail address (and its account) when exactly one has it, else the
  requester fields alone. The acknowledgement e-mail (after commit) is bilingual, the page's
  language first, and carries the status link.
* Rate limits count in the Django cache (``cache.add`` then ``cache.incr``: atomic on the
  local-memory and Redis caches alike), per hashed key, within a one-hour window.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import linebreaks
from django.utils.translation import gettext as _

from kehu.core.choices import Action

from ..choices import TicketChannel
from ..models import Ticket, TicketAttachment, TicketMessage, new_public_key
from .common import ServiceError
from .tickets import NewAttachment, ticket_add_customer_message, ticket_create

log = logging.getLogger(__name__)

SIGNING_SALT = "service.ticket-status"
ATTACHMENT_SALT = "service.ticket-attachment"
DEFAULT_LINK_MAX_AGE_DAYS = 90
FALLBACK_LANGUAGE = "zh-hans"
RATE_WINDOW = 3600


class TicketLinkError(ServiceError):
    """A status link that does not open a ticket: ``invalid`` (tampered, revoked) or ``expired``."""

    INVALID = "invalid_link"
    EXPIRED = "expired_link"


# --- signed links -------------------------------------------------------------------------------


def link_max_age() -> dt.timedelta:
    return dt.timedelta(days=int(getattr(settings, "KEHU_TICKET_LINK_MAX_AGE", DEFAULT_LINK_MAX_AGE_DAYS)))


def ticket_status_token(ticket: Ticket) -> str:
    return signing.dumps([ticket.pk, ticket.public_key], salt=SIGNING_SALT, compress=False)


def ticket_from_token(token: str) -> Ticket:
    """The ticket a status token opens, else TicketLinkError (expired / invalid; never says which
    ticket it was)."""
    try:
        value = signing.loads(token, salt=SIGNING_SALT, max_age=link_max_age())
    except signing.SignatureExpired as exc:
        raise TicketLinkError(_("This link has expired."), code=TicketLinkError.EXPIRED, status=410) from exc
    except signing.BadSignature as exc:
        raise TicketLinkError(_("This link is not valid."), code=TicketLinkError.INVALID, status=404) from exc
    try:
        pk, key = int(value[0]), str(value[1])
    except (TypeError, ValueError, IndexError, KeyError) as exc:
        raise TicketLinkError(_("This link is not valid."), code=TicketLinkError.INVALID, status=404) from exc
    ticket = (
        Ticket.objects.select_related("status", "type", "merged_into").filter(pk=pk, public_key=key).first()
    )
    if ticket is None:
        raise TicketLinkError(_("This link is not valid."), code=TicketLinkError.INVALID, status=404)
    return ticket


def _absolute(path: str) -> str:
    base = str(getattr(settings, "SITE_URL", "") or "").rstrip("/")
    return f"{base}{path}"


def ticket_public_path(ticket: Ticket) -> str:
    return reverse("help:ticket_status", args=[ticket_status_token(ticket)])


def ticket_public_link(*, ticket: Ticket) -> str:
    """The absolute status-page link of a ticket (SITE_URL + /help/tickets/<token>/)."""
    return _absolute(ticket_public_path(ticket))


@transaction.atomic
def ticket_public_key_rotate(*, ticket: Ticket, by: Any) -> Ticket:
    """A new public key: every status link sent so far stops working."""
    if by is not None:
        from kehu.core import owned

        owned.check_action(by, Ticket, Action.CHANGE, obj=ticket)
    ticket.public_key = new_public_key()
    Ticket.objects.filter(pk=ticket.pk).update(public_key=ticket.public_key)
    return ticket


def attachment_token(attachment: TicketAttachment) -> str:
    """A download token for one public attachment, bound to the ticket's current key."""
    return signing.dumps([attachment.pk, attachment.ticket.public_key], salt=ATTACHMENT_SALT, compress=False)


def attachment_from_token(token: str) -> TicketAttachment:
    invalid = TicketLinkError(_("This link is not valid."), code=TicketLinkError.INVALID, status=404)
    try:
        pk, key = signing.loads(token, salt=ATTACHMENT_SALT, max_age=link_max_age())
        pk = int(pk)
    except signing.SignatureExpired as exc:
        raise TicketLinkError(_("This link has expired."), code=TicketLinkError.EXPIRED, status=410) from exc
    except (signing.BadSignature, TypeError, ValueError) as exc:
        raise invalid from exc
    attachment = (
        TicketAttachment.objects.select_related("ticket", "message")
        .filter(pk=pk, is_public=True, ticket__public_key=str(key), content_id="")
        .first()
    )
    if attachment is None or (attachment.message is not None and not attachment.message.is_public):
        raise invalid
    return attachment


# --- rate limits --------------------------------------------------------------------------------


def _hashed(kind: str, value: str) -> str:
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{value}".encode()).hexdigest()[:40]
    return f"kehu:service-public:{kind}:{digest}"


def _count(key: str) -> int:
    """This hour's count for `key` after adding one (atomic increments)."""
    if cache.add(key, 1, timeout=RATE_WINDOW):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=RATE_WINDOW)
        return 1


def _current(key: str) -> int:
    return int(cache.get(key) or 0)


def rate_limited(*, kind: str, values: Sequence[str], limit: int) -> bool:
    """Whether one more action of `kind` for any of `values` (an address, an e-mail) goes over
    `limit` within the hour; when it does not, it is counted."""
    keys = [_hashed(kind, v.strip().lower()) for v in values if v and v.strip()]
    if any(_current(k) >= limit for k in keys):
        return True
    counts = [_count(k) for k in keys]
    return any(c > limit for c in counts)


def submit_limit() -> int:
    return int(getattr(settings, "KEHU_WEB_FORM_PER_HOUR", 5))


def reply_limit() -> int:
    return int(getattr(settings, "KEHU_TICKET_REPLIES_PER_HOUR", 20))


# --- the web form ------------------------------------------------------------------------------


def text_to_html(text: str) -> str:
    """Plain text as escaped HTML paragraphs (blank lines separate paragraphs)."""
    return linebreaks(str(text or "").strip(), autoescape=True)


def _contact_for(address: str) -> Any:
    """The one contact with this address (any of theirs), else None."""
    from kehu.customers.models import Contact, ContactEmail

    if not address:
        return None
    ids = set(ContactEmail.objects.filter(email__iexact=address).values_list("contact_id", flat=True)[:5])
    ids |= set(Contact.objects.filter(email__iexact=address).values_list("pk", flat=True)[:5])
    if len(ids) != 1:
        return None
    return Contact.objects.filter(pk=ids.pop()).select_related("account").first()


def _language(value: str) -> str:
    known = dict(settings.LANGUAGES)
    value = (value or "").lower()
    return value if value in known else FALLBACK_LANGUAGE


@transaction.atomic
def web_ticket_submit(
    *,
    name: str,
    email: str,
    phone: str = "",
    subject: str,
    description: str,
    ticket_type: Any,
    attachments: Sequence[NewAttachment] = (),
    language: str = "",
) -> Ticket:
    """A ticket from the public web form (by the system, channel "web"); the acknowledgement
    e-mail with the status link goes out after commit, from a Celery task (not in the request)."""
    email = email.strip().lower()
    errors: dict[str, list[str]] = {}
    if not email:
        errors["email"] = [_("This field is required.")]
    if not subject.strip():
        errors["subject"] = [_("This field is required.")]
    if not description.strip() and not attachments:
        errors["description"] = [_("Describe your request.")]
    if errors:
        raise ServiceError(next(iter(errors.values()))[0], code="invalid", fields=errors)
    data: dict[str, Any] = {
        "subject": subject.strip()[:255],
        "description": text_to_html(description),
        "type": ticket_type,
        "channel": TicketChannel.WEB,
        "requester_name": name.strip()[:200],
        "requester_email": email,
        "requester_phone": phone.strip()[:32],
    }
    contact = _contact_for(email)
    if contact is not None:
        data["contact"] = contact
        # The contact's primary account only while the contact still belongs to it (else the
        # ticket would be refused with an error the customer cannot fix).
        if contact.account_id and contact.accounts.filter(pk=contact.account_id).exists():
            data["account"] = contact.account
    ticket = ticket_create(
        by=None,
        data=data,
        attachments=attachments,
        message={"from_name": name.strip()[:200], "from_email": email, "subject": subject.strip()[:255]},
    )
    lang = _language(language)
    ticket_id = ticket.pk
    transaction.on_commit(lambda: _schedule_acknowledge(ticket_id, lang))
    return ticket


def _schedule_acknowledge(ticket_id: int, language: str) -> None:
    from ..tasks_public import ticket_acknowledge as task

    task.delay(ticket_id, language)


def _render_ack(ticket: Ticket, language: str, link: str) -> tuple[str, str]:
    with translation.override(language):
        subject = _("We received your request %(number)s") % {"number": ticket.number}
        body = render_to_string(
            "service/public/ticket_ack_email.txt",
            {
                "ticket": ticket,
                "name": ticket.requester_name,
                "link": link,
                "days": link_max_age().days,
                "company": getattr(settings, "KEHU_COMPANY_NAME", "") or "Kehu",
            },
        )
    return subject, body


def ticket_acknowledge(*, ticket_id: int, language: str = FALLBACK_LANGUAGE) -> bool:
    """E-mail the requester that their request arrived, with its status link: the language given
    first, the other below (never raises for a mail failure)."""
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None or not ticket.requester_email:
        return False
    first = _language(language)
    other = "en" if first != "en" else FALLBACK_LANGUAGE
    link = ticket_public_link(ticket=ticket)
    subject, text = _render_ack(ticket, first, link)
    _s, text2 = _render_ack(ticket, other, link)
    message = EmailMessage(
        subject=subject,
        body=f"{text.strip()}\n\n-- \n\n{text2.strip()}\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[ticket.requester_email],
    )
    try:
        message.send(fail_silently=False)
    except Exception:  # a mail failure must not undo the ticket
        log.warning("ticket acknowledgement not sent", extra={"ticket_id": ticket_id})
        return False
    return True


# --- the status page ---------------------------------------------------------------------------


def ticket_public_reply(
    *, ticket: Ticket, body: str, attachments: Sequence[NewAttachment] = ()
) -> TicketMessage:
    """What the customer writes on the status page (plain text): a customer message on the web
    channel (a resolved ticket reopens, as any customer message does)."""
    if not str(body or "").strip() and not attachments:
        raise ServiceError(_("Write a message."), code="invalid", fields={"body": [_("Write a message.")]})
    return ticket_add_customer_message(
        ticket=ticket,
        body=text_to_html(body),
        from_name=ticket.requester_name,
        from_email=ticket.requester_email,
        channel=TicketChannel.WEB,
        attachments=attachments,
        now=timezone.now(),
    )
