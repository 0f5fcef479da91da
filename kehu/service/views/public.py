"""Customer-facing ticket pages under /help/ (no login, `public_urlpatterns`):

* ``tickets/new/``: the web form (honeypot and minimum fill time: a bot is told "thank you" and
  nothing is created; at most ``KEHU_WEB_FORM_PER_HOUR`` tickets per address and per e-mail);
* ``tickets/thanks/``: the thank-you page with the ticket number (from the session);
* ``tickets/<token>/``: the status page of the signed link, with the customer's reply form;
* ``tickets/files/<token>/``: a public attachment through its own signed token.

Every write calls one service of ``services.public``."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kehu.core.errors import DomainError
from kehu.core.middleware import client_ip

from ..choices import TicketState
from ..forms_public import PublicReplyForm, WebTicketForm
from ..models import Ticket
from ..selectors import public as selectors
from ..services import public as services

SESSION_KEY = "kehu_web_ticket"


def _apply_errors(form: Any, exc: DomainError) -> None:
    for name, messages in (exc.fields or {}).items():
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message)
    if not exc.fields:
        form.add_error(None, str(exc.message))


def _form_page(request: HttpRequest, form: WebTicketForm, status: int = 200) -> HttpResponse:
    return render(request, "service/public/ticket_new.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def ticket_new_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _form_page(request, WebTicketForm())
    form = WebTicketForm(request.POST, request.FILES)
    if form.is_spam:
        request.session[SESSION_KEY] = {}
        return HttpResponseRedirect(reverse("help:ticket_thanks"))
    if not form.is_valid():
        return _form_page(request, form, status=400)
    data = form.cleaned_data
    if services.rate_limited(
        kind="submit", values=[client_ip(request) or "unknown", data["email"]], limit=services.submit_limit()
    ):
        form.add_error(None, _("Too many requests from you within the hour: please try again later."))
        return _form_page(request, form, status=429)
    try:
        ticket = services.web_ticket_submit(
            name=data.get("name") or "",
            email=data["email"],
            phone=data.get("phone") or "",
            subject=data["subject"],
            description=data["description"],
            ticket_type=data["type"],
            attachments=form.uploads,
            language=translation.get_language() or "",
        )
    except DomainError as exc:
        _apply_errors(form, exc)
        return _form_page(request, form, status=400)
    request.session[SESSION_KEY] = {"number": ticket.number, "path": services.ticket_public_path(ticket)}
    return HttpResponseRedirect(reverse("help:ticket_thanks"))


@require_GET
def ticket_thanks_view(request: HttpRequest) -> HttpResponse:
    submitted = request.session.get(SESSION_KEY)
    if submitted is None:
        return HttpResponseRedirect(reverse("help:ticket_new"))
    return render(request, "service/public/ticket_thanks.html", {"submitted": submitted})


def _link_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    expired = exc.code == services.TicketLinkError.EXPIRED
    return render(
        request,
        "service/public/ticket_link_error.html",
        {"expired": expired, "message": exc.message},
        status=exc.status,
    )


def _status_page(
    request: HttpRequest, ticket: Ticket, token: str, form: PublicReplyForm, status: int = 200
) -> HttpResponse:
    messages = selectors.public_messages(ticket)
    for message in messages:
        for attachment in message.attachments:
            attachment.download_token = services.attachment_token(attachment)  # type: ignore[attr-defined]
    loose = selectors.loose_attachments(ticket)
    for attachment in loose:
        attachment.download_token = services.attachment_token(attachment)  # type: ignore[attr-defined]
    response = render(
        request,
        "service/public/ticket_status.html",
        {
            "ticket": ticket,
            "token": token,
            "conversation": messages,
            "loose_attachments": loose,
            "state_label": TicketState(ticket.state).label if ticket.state in TicketState.values else "",
            "is_done": not ticket.is_open,
            "form": form,
            "sent": request.GET.get("sent") == "1",
        },
        status=status,
    )
    # the link is the customer's key: links in replies must not pass it on to other sites
    response["Referrer-Policy"] = "same-origin"
    return response


@require_http_methods(["GET", "POST"])
def ticket_status_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        ticket = services.ticket_from_token(token)
    except services.TicketLinkError as exc:
        return _link_error(request, exc)
    if request.method != "POST":
        return _status_page(request, ticket, token, PublicReplyForm())
    form = PublicReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _status_page(request, ticket, token, form, status=400)
    if services.rate_limited(
        kind="reply", values=[client_ip(request) or "unknown", f"t{ticket.pk}"], limit=services.reply_limit()
    ):
        form.add_error(None, _("Too many messages within the hour: please try again later."))
        return _status_page(request, ticket, token, form, status=429)
    try:
        services.ticket_public_reply(ticket=ticket, body=form.cleaned_data["body"], attachments=form.uploads)
    except DomainError as exc:
        _apply_errors(form, exc)
        return _status_page(request, ticket, token, form, status=400)
    return HttpResponseRedirect(reverse("help:ticket_status", args=[token]) + "?sent=1#conversation")


@require_GET
def ticket_attachment_view(request: HttpRequest, token: str) -> FileResponse:
    try:
        attachment = services.attachment_from_token(token)
    except services.TicketLinkError as exc:
        raise Http404(str(exc.message)) from exc
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404 from exc
    response = FileResponse(handle, as_attachment=True, filename=attachment.name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


urlpatterns: list[URLPattern] = []

public_urlpatterns: list[URLPattern] = [
    path("tickets/new/", ticket_new_view, name="ticket_new"),
    path("tickets/thanks/", ticket_thanks_view, name="ticket_thanks"),
    path("tickets/files/<str:token>/", ticket_attachment_view, name="ticket_attachment"),
    path("tickets/<str:token>/", ticket_status_view, name="ticket_status"),
]
