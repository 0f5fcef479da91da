"""Settings → Received e-mail: the log of every received message with a status filter, a message's
page (headers, what became of it, the raw .eml), and releasing (processing again) or discarding
quarantined mail. Also: a mailbox's "Test connection" fragment for the settings list, and the
"who is this sender?" partial of a ticket from an unknown address (link to a contact)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kehu.core.choices import Action
from kehu.core.errors import DomainError
from kehu.core.generic import get_for_action, success_response
from kehu.core.permissions import can

from ..choices import InboundStatus
from ..models import InboundEmail, Mailbox, Ticket
from ..selectors import mail as selectors
from ..services import mail as services

PER_PAGE = 50


def _require(request: HttpRequest, model: type[Any], action: str) -> None:
    """The mail log has no data scope: without the permission, 403."""
    if not can(request.user, model, action):
        raise PermissionDenied


def _crumbs(*extra: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    return [(_("Administration"), None), (_("Received e-mail"), reverse("service:inbound_list")), *extra]


def _status_badge(status: str) -> str:
    badges: dict[str, str] = {
        InboundStatus.CREATED: "bg-green-lt",
        InboundStatus.THREADED: "bg-azure-lt",
        InboundStatus.AUTO_REPLY: "bg-secondary-lt",
        InboundStatus.BOUNCE: "bg-orange-lt",
        InboundStatus.QUARANTINED: "bg-red-lt",
        InboundStatus.RELEASED: "bg-yellow-lt",
        InboundStatus.PENDING: "bg-secondary-lt",
    }
    return badges.get(status, "bg-secondary-lt")


@login_required
@require_GET
def inbound_list_view(request: HttpRequest) -> HttpResponse:
    _require(request, InboundEmail, Action.VIEW)
    status = request.GET.get("status", "")
    status = status if status in InboundStatus.values else ""
    mailbox_id = request.GET.get("mailbox", "")
    q = request.GET.get("q", "")
    rows = selectors.inbound_list(
        user=request.user, status=status, mailbox_id=int(mailbox_id) if mailbox_id.isdigit() else None, q=q
    )
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    for row in page.object_list:
        row.badge = _status_badge(row.status)
        row.reason_text = services.reason_text(row.reason)
    counts = selectors.inbound_status_counts(user=request.user)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "service/mail/inbound_list.html",
        {
            "page": page,
            "status": status,
            "q": q,
            "mailbox_id": mailbox_id,
            "mailboxes": Mailbox.objects.order_by("name"),
            "statuses": [(value, label, counts.get(value, 0)) for value, label in InboundStatus.choices],
            "total": sum(counts.values()),
            "query": query.urlencode(),
            "breadcrumbs": [(_("Administration"), None), (_("Received e-mail"), None)],
        },
    )


def _inbound(request: HttpRequest, pk: int, action: str) -> InboundEmail:
    _require(request, InboundEmail, action)
    return get_for_action(InboundEmail, request.user, pk, action)


@login_required
@require_GET
def inbound_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    inbound = _inbound(request, pk, Action.VIEW)
    return render(
        request,
        "service/mail/inbound_detail.html",
        {
            "inbound": inbound,
            "badge": _status_badge(inbound.status),
            "reason_text": services.reason_text(inbound.reason),
            "headers": selectors.inbound_headers(inbound),
            "may_release": inbound.status in services.RELEASABLE
            and can(request.user, InboundEmail, Action.CHANGE),
            "may_discard": inbound.status in services.RELEASABLE
            and can(request.user, InboundEmail, Action.DELETE),
            "breadcrumbs": _crumbs((f"#{inbound.pk}", None)),
        },
    )


@login_required
@require_GET
def inbound_raw_view(request: HttpRequest, pk: int) -> FileResponse:
    inbound = _inbound(request, pk, Action.VIEW)
    try:
        handle = inbound.raw.open("rb")
    except (OSError, ValueError) as exc:
        raise Http404(_("The raw message is no longer stored.")) from exc
    return FileResponse(
        handle, as_attachment=True, filename=f"inbound-{inbound.pk}.eml", content_type="message/rfc822"
    )


@login_required
@require_POST
def inbound_release_view(request: HttpRequest, pk: int) -> HttpResponse:
    inbound = _inbound(request, pk, Action.CHANGE)
    url = reverse("service:inbound_detail", args=[inbound.pk])
    try:
        result = services.inbound_email_release(inbound=inbound, by=request.user)
    except DomainError as exc:
        return success_response(request, url=url, message=str(exc.message), level="warning")
    if result.status == InboundStatus.QUARANTINED:
        message = _("The e-mail was processed again and is still quarantined: %(reason)s") % {
            "reason": services.reason_text(result.reason)
        }
        return success_response(request, url=url, message=message, level="warning")
    number = result.ticket.number if result.ticket is not None else ""
    return success_response(
        request, url=url, message=_("The e-mail was released to ticket %(number)s.") % {"number": number}
    )


@login_required
@require_POST
def inbound_discard_view(request: HttpRequest, pk: int) -> HttpResponse:
    inbound = _inbound(request, pk, Action.DELETE)
    try:
        services.inbound_email_discard(inbound=inbound, by=request.user)
    except DomainError as exc:
        return success_response(
            request,
            url=reverse("service:inbound_detail", args=[inbound.pk]),
            message=str(exc.message),
            level="warning",
        )
    return success_response(
        request, url=reverse("service:inbound_list"), message=_("The e-mail was discarded.")
    )


# --- mailboxes: test connection ------------------------------------------------------------------


@login_required
@require_POST
def mailbox_test_view(request: HttpRequest, pk: int) -> HttpResponse:
    """An htmx fragment: whether the mailbox's IMAP settings work (the settings list shows it)."""
    _require(request, Mailbox, Action.CHANGE)
    mailbox = get_for_action(Mailbox, request.user, pk, Action.CHANGE)
    check = services.mailbox_test_connection(mailbox=mailbox)
    return render(request, "service/mail/_mailbox_test_result.html", {"check": check, "mailbox": mailbox})


# --- tickets from unknown senders ----------------------------------------------------------------


@login_required
@require_GET
def contact_suggestions_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The "who is this sender?" card of a ticket (empty when the ticket has a contact)."""
    ticket = get_for_action(Ticket, request.user, pk, Action.VIEW)
    return render(
        request,
        "service/mail/_contact_suggestions.html",
        {
            "ticket": ticket,
            "suggestions": selectors.contact_suggestions(ticket=ticket, user=request.user),
            "may_change": can(request.user, Ticket, Action.CHANGE),
        },
    )


@login_required
@require_POST
def contact_link_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Make a suggested contact the ticket's contact (through the ticket services)."""
    from kehu.customers.models import Contact

    from ..services import tickets as ticket_services

    ticket = get_for_action(Ticket, request.user, pk, Action.CHANGE)
    url = ticket.get_absolute_url()
    raw = request.POST.get("contact", "")
    contact = (
        Contact.objects.restrict(request.user, Action.VIEW).filter(pk=int(raw)).first()
        if raw.isdigit()
        else None
    )
    if contact is None:
        return success_response(request, url=url, message=_("Choose a contact you can see."), level="warning")
    data: dict[str, Any] = {"contact": contact}
    if contact.accounts.filter(pk=contact.account_id).exists():
        data["account"] = contact.account
    try:
        ticket_services.ticket_update(ticket=ticket, by=request.user, data=data)
    except DomainError as exc:
        return success_response(request, url=url, message=str(exc.message), level="warning")
    return success_response(
        request, url=url, message=_("%(contact)s is now the ticket's contact.") % {"contact": contact}
    )


@login_required
@require_POST
def message_resend_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Send again a reply whose e-mail failed (the ticket page shows the button by a failed reply)."""
    from ..mail.outbound import ticket_message_resend
    from ..models import TicketMessage

    message = TicketMessage.objects.filter(pk=pk).select_related("ticket").first()
    if message is None:
        raise Http404
    ticket = get_for_action(Ticket, request.user, message.ticket_id, Action.CHANGE)
    url = ticket.get_absolute_url()
    try:
        ticket_message_resend(message=message, by=request.user)
    except DomainError as exc:
        return success_response(request, url=url, message=str(exc.message), level="warning")
    return success_response(request, url=url, message=_("The reply will be e-mailed again."))


urlpatterns = [
    path("mail/", inbound_list_view, name="inbound_list"),
    path("mail/<int:pk>/", inbound_detail_view, name="inbound_detail"),
    path("mail/<int:pk>/raw/", inbound_raw_view, name="inbound_raw"),
    path("mail/<int:pk>/release/", inbound_release_view, name="inbound_release"),
    path("mail/<int:pk>/discard/", inbound_discard_view, name="inbound_discard"),
    path("mailboxes/<int:pk>/test/", mailbox_test_view, name="mailbox_test"),
    path(
        "tickets/<int:pk>/contact-suggestions/", contact_suggestions_view, name="ticket_contact_suggestions"
    ),
    path("tickets/<int:pk>/contact-link/", contact_link_view, name="ticket_contact_link"),
    path("tickets/messages/<int:pk>/resend/", message_resend_view, name="ticket_message_resend"),
]
