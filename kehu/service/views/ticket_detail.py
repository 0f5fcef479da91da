"""Web views of the service app: one ticket — its page, the new-ticket / edit form, the reply box
and the actions (assign, move, resolve/reopen, merge, split, escalate, watch), attachment downloads.

Who sees what:

* out of the user's view scope → 404 on every URL here (`generic.get_for_action` answers 403 only
  to users who see the ticket but may not change it);
* users who **work** the ticket (``change`` in their scope — the assignee, their department's
  managers, the queue's members) see everything and get the actions and the reply box;
* users who may only **read** it (an account's sales rep through the account scope extension, a
  view-only role) get a read-only page: customer messages, replies and system lines, but **no
  internal notes** (nor the files of notes or those not visible to the customer), no actions and
  no reply box. Internal notes are the agents' working talk; a rep reads what the customer was told.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.urls import URLPattern, path, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from kehu.core import generic
from kehu.core.choices import Action
from kehu.core.errors import DomainError
from kehu.core.search import clean_query

from ..forms_tickets import (
    AssignForm,
    EscalateForm,
    MergeForm,
    MoveForm,
    NoteForm,
    ReplyForm,
    SplitForm,
    TicketForm,
    new_attachments,
)
from ..models import Ticket, TicketMessage
from ..selectors import ticket_detail as selectors
from ..services import tickets as services

SLA_PARTIAL = "service/sla/_timers.html"
MAIL_PARTIAL = "service/mail/_contact_suggestions.html"


def template_exists(name: str) -> bool:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


def _csat(ticket: Ticket) -> Any:
    try:
        from ..selectors import surveys
    except ImportError:  # pragma: no cover - the surveys area is optional
        return None
    fn = getattr(surveys, "ticket_csat", None)
    return fn(ticket) if fn is not None else None


def _mail_suggestions(user: Any, ticket: Ticket, works: bool) -> dict[str, Any]:
    """The mail area's "who is this sender?" card (requester address without a contact)."""
    if not works or not template_exists(MAIL_PARTIAL):
        return {"mail_partial": ""}
    from ..selectors import mail

    fn = getattr(mail, "contact_suggestions", None)
    found = fn(ticket=ticket, user=user) if fn is not None else None
    return {"mail_partial": MAIL_PARTIAL if found else "", "suggestions": found}


def _escalate_fn() -> Any:
    from ..services import sla

    return getattr(sla, "ticket_escalate", None)


def _canned(user: Any, ticket: Ticket) -> list[Any]:
    from ..selectors import queues

    fn = getattr(queues, "canned_responses_for", None)
    if fn is None:
        return []
    return list(fn(user=user, ticket=ticket)[:200])


def _reverse_or_empty(name: str) -> str:
    from django.urls import NoReverseMatch

    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


def reply_context(request: HttpRequest, ticket: Ticket, form: ReplyForm | None = None) -> dict[str, Any]:
    statuses = services.allowed_next(ticket)
    return {
        "ticket": ticket,
        "reply_form": form or ReplyForm(statuses=statuses, prefix="reply"),
        "canned_responses": _canned(request.user, ticket),
        "kb_suggest_url": _reverse_or_empty("service:article_suggest"),
    }


# --- the page ---------------------------------------------------------------------------------


def _file_url(ticket: Ticket) -> Any:
    return lambda a: reverse("service:ticket_attachment", args=[ticket.pk, a.pk])


def _conversation_tab(request: HttpRequest, obj: Ticket) -> dict[str, Any]:
    rights = selectors.ticket_rights(request.user, obj)
    context: dict[str, Any] = {
        "messages_list": selectors.conversation(obj, notes=rights.works, file_url=_file_url(obj)),
        "loose_attachments": selectors.loose_attachments(obj, notes=rights.works),
    }
    if rights.works:
        context.update(reply_context(request, obj, getattr(request, "_ticket_reply_form", None)))
    return context


def _details_tab(request: HttpRequest, obj: Ticket) -> dict[str, Any]:
    from kehu.customfields.selectors import custom_fields_for

    shown = set(obj.type.fields or []) if obj.type_id else set()
    custom = []
    for definition in custom_fields_for(Ticket):
        if shown and definition.name not in shown and definition.name not in (obj.custom or {}):
            continue
        value = (obj.custom or {}).get(definition.name)
        custom.append({"label": definition.display_label, "value": value})
    lines = list(obj.order_lines.select_related("order_line", "order_line__product").order_by("id"))
    return {"custom_rows": custom, "order_lines": lines}


def _status_tab(request: HttpRequest, obj: Ticket) -> dict[str, Any]:
    rows = selectors.status_history(obj)
    for row in rows:
        row.duration_text = selectors.format_duration(row.duration)  # type: ignore[attr-defined]
    return {"status_rows": rows}


def _related_tab(request: HttpRequest, obj: Ticket) -> dict[str, Any]:
    return {"related": selectors.related_tickets(request.user, obj)}


class TicketDetailView(generic.ObjectDetailView):
    """The ticket page (see the module doc for who sees what)."""

    model = Ticket
    template_name = "service/tickets/detail.html"
    tabs = [
        generic.Tab(
            "conversation",
            pgettext_lazy("tab", "Conversation"),
            "service/tickets/_conversation.html",
            context=_conversation_tab,
            icon="messages",
            order=0,
        ),
        generic.Tab(
            "details",
            pgettext_lazy("tab", "Details"),
            "service/tickets/detail_details.html",
            context=_details_tab,
            icon="list-details",
            order=10,
        ),
        generic.Tab(
            "status",
            pgettext_lazy("tab", "Status history"),
            "service/tickets/detail_status_history.html",
            context=_status_tab,
            icon="timeline-event",
            order=20,
        ),
        generic.Tab(
            "related",
            pgettext_lazy("tab", "Related tickets"),
            "service/tickets/detail_related.html",
            context=_related_tab,
            icon="link",
            order=30,
            visible=lambda request, obj: bool(obj.account_id),
        ),
    ]

    def list_crumb(self) -> tuple[str, str | None]:
        return generic.verbose(Ticket, plural=True), _reverse_or_empty("service:ticket_list") or None

    def get_object(self) -> Any:
        found = selectors.ticket_for_page(self.request.user, self.kwargs["pk"])
        if found is None:
            raise Http404
        return found

    def get_extra_context(self, obj: Ticket) -> dict[str, Any]:
        user: Any = self.request.user
        rights = selectors.ticket_rights(user, obj)
        watching = obj.watcher_links.filter(user_id=user.pk).exists()
        return {
            "ticket": obj,
            "rights": rights,
            "can_change": rights.works,
            "can_delete": False,
            "edit_url": reverse("service:ticket_edit", args=[obj.pk]) if rights.works else None,
            "next_statuses": services.allowed_next(obj) if rights.works else [],
            "watchers": list(obj.watcher_links.select_related("user").order_by("id")),
            "watching": watching,
            "sla_partial": SLA_PARTIAL if template_exists(SLA_PARTIAL) else "",
            **_mail_suggestions(user, obj, rights.works),
            "csat": _csat(obj),
            "can_escalate": rights.works and _escalate_fn() is not None and obj.is_open,
            "account_url": obj.account.get_absolute_url() if obj.account_id and obj.account else "",
        }


def _render_page(request: HttpRequest, pk: int, *, status: int = 200) -> HttpResponse:
    view = TicketDetailView()
    view.setup(request, pk=pk)
    response = view.get(request, pk=pk)
    response.status_code = status
    return response


# --- create and edit --------------------------------------------------------------------------


class TicketEditView(generic.ObjectEditView):
    """New ticket (``?account=``, ``?contact=``, ``?order=`` prefill) and edit (optimistic lock)."""

    model = Ticket
    form_class = TicketForm
    template_name = "service/tickets/form.html"
    modal_template_name = "service/tickets/form.html"

    def list_crumb(self) -> tuple[str, str | None]:
        return generic.verbose(Ticket, plural=True), _reverse_or_empty("service:ticket_list") or None

    def get_object(self) -> Any:
        pk = self.kwargs.get("pk")
        if pk is None:
            return super().get_object()
        return generic.get_for_action(Ticket, self.request.user, pk, Action.CHANGE)

    def get_initial(self, obj: Any) -> dict[str, Any]:
        initial = super().get_initial(obj)
        if obj is not None:
            return initial
        from kehu.commerce.models import Order
        from kehu.customers.models import Contact

        user = self.request.user
        order_id = initial.get("order")
        if order_id and str(order_id).isdigit() and not initial.get("account"):
            order = Order.objects.restrict(user, Action.VIEW).filter(pk=order_id).first()
            if order is not None:
                initial["account"] = order.account_id
                if order.contact_id:
                    initial.setdefault("contact", order.contact_id)
        contact_id = initial.get("contact")
        if contact_id and str(contact_id).isdigit():
            contact = Contact.objects.restrict(user, Action.VIEW).filter(pk=contact_id).first()
            if contact is not None:
                initial.setdefault("requester_name", contact.name)
                initial.setdefault("requester_email", getattr(contact, "email", "") or "")
                if not initial.get("account"):
                    first = contact.accounts.order_by("pk").first() if hasattr(contact, "accounts") else None
                    if first is not None:
                        initial["account"] = first.pk
        return initial

    def get_form(self, obj: Any, data: Any = None) -> Any:
        files = self.request.FILES if data is not None else None
        return self.form_class(
            data, files, instance=obj, initial=self.get_initial(obj), user=self.request.user
        )

    def render_form(self, form: Any, obj: Any, status: int = 200) -> HttpResponse:
        title = _("Edit ticket") if obj is not None else _("New ticket")
        crumbs: list[tuple[str, str | None]] = [self.list_crumb()]
        if obj is not None:
            crumbs.append((str(obj), obj.get_absolute_url()))
        crumbs.append((title, None))
        values = form.data if form.is_bound else {}
        order = form["order"].value() if "order" in form.fields else None
        chosen = form.chosen_type()
        context = {
            "form": form,
            "object": obj,
            "title": title,
            "action_url": self.request.get_full_path(),
            "cancel_url": obj.get_absolute_url()
            if obj is not None
            else _reverse_or_empty("service:ticket_list") or "/",
            "breadcrumbs": crumbs,
            "custom_rows": form.custom_rows(),
            **(
                order_lines_context(self.request.user, order, chosen.pk if chosen else None, values)
                if obj is None
                else {}
            ),
        }
        return render(self.request, self.template_name, context, status=status)

    def save(self, form: TicketForm, obj: Ticket | None) -> Ticket:
        user = self.request.user
        data = form.service_data()
        with transaction.atomic():  # (the ticket's service and the tags': one transaction)
            if obj is None:
                ticket = services.ticket_create(
                    by=user,
                    data=data,
                    assignee=form.cleaned_data.get("assignee"),
                    watchers=list(form.cleaned_data.get("watchers") or []),
                    order_lines=form.order_line_values,
                    attachments=new_attachments(form.cleaned_data.get("attachments") or []),
                )
                form.save_tags(ticket)
                return ticket
            changed = form.changed_data
            ticket = services.ticket_edit(
                ticket=obj,
                by=user,
                data=data,
                version=form.version,
                assignee=form.cleaned_data.get("assignee") if "assignee" in changed else services.UNCHANGED,
                watchers=list(form.cleaned_data.get("watchers") or []) if "watchers" in changed else None,
            )
            form.save_tags(ticket)
            return ticket


def order_lines_context(user: Any, order_id: Any, type_id: Any, values: Any) -> dict[str, Any]:
    """The order's lines with what was entered for each (``line_<id>``), when the type is an
    after-sales one."""
    from kehu.commerce.models import Order, OrderLine

    from ..models import TicketType

    order_id, type_id = str(order_id or ""), str(type_id or "")
    order = (
        Order.objects.restrict(user, Action.VIEW).filter(pk=order_id).first() if order_id.isdigit() else None
    )
    ticket_type = TicketType.objects.filter(pk=type_id).first() if type_id.isdigit() else None
    lines = []
    if order is not None and ticket_type is not None and ticket_type.after_sales_action:
        lines = list(
            OrderLine.objects.filter(order=order).select_related("product").order_by("position", "id")
        )
        for line in lines:
            line.entered = values.get(f"line_{line.pk}", "")  # type: ignore[attr-defined]
    return {"lines": lines, "ticket_type": ticket_type, "order": order}


@login_required
def order_lines_view(request: HttpRequest) -> HttpResponse:
    """The order's lines with a quantity box each (the new-ticket form of an after-sales type)."""
    context = order_lines_context(
        request.user, request.GET.get("order"), request.GET.get("type"), request.GET
    )
    return render(request, "service/tickets/form_order_lines.html", context)


@login_required
def order_autocomplete_view(request: HttpRequest) -> JsonResponse:
    """Orders the user may view (``?account=`` narrows), by number."""
    from kehu.commerce.models import Order

    qs = Order.objects.restrict(request.user, Action.VIEW).select_related("account")
    account = request.GET.get("account", "")
    if account.isdigit():
        qs = qs.filter(account_id=account)
    q = clean_query(request.GET.get("q"))
    if q:
        qs = qs.filter(number__icontains=q)
    rows = qs.order_by("-pk")[:20]
    return JsonResponse({"results": [{"id": o.pk, "text": f"{o.number} · {o.account.name}"} for o in rows]})


# --- reply ------------------------------------------------------------------------------------


def _message_html(request: HttpRequest, ticket: Ticket, message: TicketMessage) -> str:
    found = [
        m
        for m in selectors.conversation(ticket, notes=True, file_url=_file_url(ticket))
        if m.pk == message.pk
    ]
    if not found:
        return ""
    return render_to_string(
        "service/tickets/_conversation_message.html", {"m": found[0], "ticket": ticket}, request=request
    )


@login_required
@require_POST
def reply_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Post a reply or an internal note. htmx: the new message (appended to the conversation) and
    a fresh reply box (out of band); on error the box comes back with its text and the errors.
    A plain post redirects to the page, or shows it again with the errors (400)."""
    ticket = generic.get_for_action(Ticket, request.user, pk, Action.CHANGE)
    form = ReplyForm(request.POST, request.FILES, statuses=services.allowed_next(ticket), prefix="reply")
    message = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            files = new_attachments(data["attachments"], public=not form.is_note)
            if form.is_note:
                message = services.ticket_add_note(
                    ticket=ticket,
                    by=request.user,
                    body=data["body"],
                    attachments=files,
                    status=data.get("status"),
                )
            else:
                from ..models import Article

                articles = list(
                    Article.objects.restrict(request.user, Action.VIEW).filter(
                        pk__in=data.get("articles") or []
                    )
                )
                message = services.ticket_reply(
                    ticket=ticket,
                    by=request.user,
                    body=data["body"],
                    cc=data.get("cc") or "",
                    articles=articles,
                    attachments=files,
                    status=data.get("status"),
                )
        except DomainError as exc:
            _show_errors(form, exc)
            message = None
    if message is None:
        if generic.is_htmx(request):
            ticket.refresh_from_db()
            context = reply_context(request, ticket, form)
            response = render(request, "service/tickets/_reply_form.html", context)
            response["HX-Retarget"] = "#ticket-reply"
            response["HX-Reswap"] = "outerHTML"
            return response
        request._ticket_reply_form = form  # type: ignore[attr-defined]
        return _render_page(request, pk, status=400)
    done = _("Internal note added.") if form.is_note else _("Reply sent.")
    if not generic.is_htmx(request):
        from django.contrib import messages as flash

        flash.success(request, done)
        from django.http import HttpResponseRedirect

        return HttpResponseRedirect(ticket.get_absolute_url())
    ticket = selectors.ticket_for_page(request.user, pk) or ticket
    html = _message_html(request, ticket, message)
    # a fresh box, still on the kind the agent chose (several notes in a row stay notes)
    blank = ReplyForm(
        statuses=services.allowed_next(ticket), prefix="reply", initial={"kind": form.cleaned_data["kind"]}
    )
    fresh = render_to_string(
        "service/tickets/_reply_form.html",
        {**reply_context(request, ticket, blank), "oob": True},
        request=request,
    )
    badge = render_to_string("service/tickets/detail_status_badge.html", {"ticket": ticket, "oob": True})
    response = HttpResponse(html + fresh + badge)
    response["HX-Trigger"] = json.dumps({"kehu:toast": {"message": str(done), "level": "success"}})
    return response


# --- actions ----------------------------------------------------------------------------------


def _action_form(
    request: HttpRequest, ticket: Ticket, *, form: Any, title: str, url: str, status: int = 200
) -> HttpResponse:
    context = {
        "form": form,
        "title": title,
        "action_url": url,
        "cancel_url": ticket.get_absolute_url(),
        "breadcrumbs": [(str(ticket), ticket.get_absolute_url()), (title, None)],
    }
    if generic.is_htmx(request):
        return render(request, "core/_object_form_modal.html", context)
    return render(request, "core/object_edit.html", context, status=status)


def _show_errors(form: Any, exc: DomainError) -> None:
    shown = False
    for name, messages in (exc.fields or {}).items():
        for message in messages:
            if name in form.fields:
                form.add_error(name, message)
                shown = True
    if not shown:
        form.add_error(None, str(exc.message))


def _done(request: HttpRequest, ticket: Ticket, message: str) -> HttpResponse:
    url = ticket.get_absolute_url()
    if not Ticket.objects.restrict(request.user, Action.VIEW).filter(pk=ticket.pk).exists():
        url = _reverse_or_empty("service:ticket_list") or "/"
        message = _("%(message)s The ticket is now outside your data scope.") % {"message": message}
    return generic.success_response(request, url=url, message=message)


def _refused(request: HttpRequest, ticket: Ticket, exc: DomainError) -> HttpResponse:
    return generic.success_response(
        request, url=ticket.get_absolute_url(), message=str(exc.message), level="error"
    )


Run = Callable[[HttpRequest, Ticket, dict[str, Any]], Ticket]
FormKwargs = Callable[[HttpRequest, Ticket], dict[str, Any]]


def _form_action(
    request: HttpRequest,
    pk: int,
    *,
    form_class: Any,
    title: str | Promise,
    url_name: str,
    run: Run,
    done: str | Promise,
    form_kwargs: FormKwargs | None = None,
) -> HttpResponse:
    """One ticket action behind a form: the ticket the user may change (else 404/403); GET shows the
    form (a modal under htmx, ``?field=`` prefills); POST runs ``run(request, ticket, data)`` and
    answers :func:`_done`, or shows the form again with the refusal (400)."""
    ticket = generic.get_for_action(Ticket, request.user, pk, Action.CHANGE)
    kwargs = form_kwargs(request, ticket) if form_kwargs is not None else {}
    url = reverse(url_name, args=[ticket.pk])
    if request.method != "POST":
        form = form_class(initial=request.GET.dict(), **kwargs)
        return _action_form(request, ticket, form=form, title=str(title), url=url)
    form = form_class(request.POST, **kwargs)
    if form.is_valid():
        try:
            result = run(request, ticket, form.cleaned_data)
        except DomainError as exc:
            _show_errors(form, exc)
        else:
            return _done(request, result if isinstance(result, Ticket) else ticket, str(done))
    return _action_form(request, ticket, form=form, title=str(title), url=url, status=400)


def _action_view(
    *,
    form_class: Any,
    title: Promise,
    url_name: str,
    run: Run,
    done: Promise,
    form_kwargs: FormKwargs | None = None,
) -> Callable[[HttpRequest, int], HttpResponse]:
    """A sign-in-only view running :func:`_form_action` with these settings (``title`` and ``done``
    lazy: translated per request)."""

    @login_required
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        return _form_action(
            request,
            pk,
            form_class=form_class,
            title=title,
            url_name=url_name,
            run=run,
            done=done,
            form_kwargs=form_kwargs,
        )

    view.__name__ = view.__qualname__ = url_name.split(":")[-1].removeprefix("ticket_") + "_view"
    return view


@login_required
def assign_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Assign (form), or POST ``me=1`` (to me) / ``auto=1`` (the queue's assignment chooses)."""
    if request.method == "POST" and (request.POST.get("me") or request.POST.get("quick_auto")):
        ticket = generic.get_for_action(Ticket, request.user, pk, Action.CHANGE)
        try:
            if request.POST.get("me"):
                services.ticket_assign(ticket=ticket, by=request.user, assignee=request.user)
            else:
                services.ticket_assign(ticket=ticket, by=request.user, auto=True)
        except DomainError as exc:
            return _refused(request, ticket, exc)
        return _done(request, ticket, _("Ticket assigned."))
    return _form_action(
        request,
        pk,
        form_class=AssignForm,
        title=_("Assign ticket"),
        url_name="service:ticket_assign",
        run=lambda request, ticket, data: services.ticket_assign(
            ticket=ticket,
            by=request.user,
            assignee=None if data.get("auto") else data.get("assignee"),
            queue=data.get("queue"),
            auto=bool(data.get("auto")),
        ),
        done=_("Ticket assigned."),
        form_kwargs=lambda request, ticket: {"ticket": ticket},
    )


move_view = _action_view(
    form_class=MoveForm,
    title=gettext_lazy("Change status"),
    url_name="service:ticket_move",
    run=lambda request, ticket, data: services.ticket_move(
        ticket=ticket, by=request.user, status=data["status"], note=data.get("note") or ""
    ),
    done=gettext_lazy("Status changed."),
    form_kwargs=lambda request, ticket: {"statuses": services.allowed_next(ticket)},
)

resolve_view = _action_view(
    form_class=NoteForm,
    title=gettext_lazy("Resolve ticket"),
    url_name="service:ticket_resolve",
    run=lambda request, ticket, data: services.ticket_resolve(
        ticket=ticket, by=request.user, note=data.get("note") or ""
    ),
    done=gettext_lazy("Ticket resolved."),
)

reopen_view = _action_view(
    form_class=NoteForm,
    title=gettext_lazy("Reopen ticket"),
    url_name="service:ticket_reopen",
    run=lambda request, ticket, data: services.ticket_reopen(
        ticket=ticket, by=request.user, note=data.get("note") or ""
    ),
    done=gettext_lazy("Ticket reopened."),
)

merge_view = _action_view(
    form_class=MergeForm,
    title=gettext_lazy("Merge into another ticket"),
    url_name="service:ticket_merge",
    run=lambda request, ticket, data: services.ticket_merge(
        source=ticket, target=data["target"], by=request.user, note=data.get("note") or ""
    ),
    done=gettext_lazy("Tickets merged."),
    form_kwargs=lambda request, ticket: {"ticket": ticket, "user": request.user},
)


@login_required
def merge_targets_view(request: HttpRequest, pk: int) -> JsonResponse:
    ticket = generic.get_for_action(Ticket, request.user, pk, Action.CHANGE)
    rows = selectors.merge_targets(request.user, ticket, clean_query(request.GET.get("q")) or "")
    return JsonResponse({"results": [{"id": t.pk, "text": f"{t.number} · {t.subject}"} for t in rows]})


split_view = _action_view(
    form_class=SplitForm,
    title=gettext_lazy("Split into a new ticket"),
    url_name="service:ticket_split",
    run=lambda request, ticket, data: services.ticket_split(
        ticket=ticket, by=request.user, messages=list(data["messages"]), subject=data.get("subject") or ""
    ),
    done=gettext_lazy("New ticket split off."),
    form_kwargs=lambda request, ticket: {"ticket": ticket},
)


@login_required
def escalate_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Only when the SLA area (``ticket_escalate``) is there; 404 otherwise."""
    escalate = _escalate_fn()
    if escalate is None:
        raise Http404

    def run(request: HttpRequest, ticket: Ticket, data: dict[str, Any]) -> Ticket:
        escalate(ticket=ticket, by=request.user, reason=data["reason"], to_queue=data.get("to_queue"))
        return ticket

    return _form_action(
        request,
        pk,
        form_class=EscalateForm,
        title=_("Escalate ticket"),
        url_name="service:ticket_escalate",
        run=run,
        done=_("Ticket escalated."),
    )


@login_required
@require_POST
def watch_view(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = get_object_or_404(Ticket.objects.restrict(request.user, Action.VIEW), pk=pk)
    try:
        if request.POST.get("stop"):
            services.ticket_unwatch(ticket=ticket, by=request.user)
            done = _("You no longer watch this ticket.")
        else:
            services.ticket_watch(ticket=ticket, by=request.user)
            done = _("You watch this ticket.")
    except DomainError as exc:
        return _refused(request, ticket, exc)
    return generic.success_response(request, url=ticket.get_absolute_url(), message=done)


@login_required
def attachment_view(request: HttpRequest, pk: int, attachment: int) -> FileResponse:
    """The file, for users who may view the ticket (files not visible to the customer: only for
    those who work it); images open inline, other files download."""
    found = selectors.attachment_for_download(request.user, pk, attachment)
    if found is None:
        raise Http404
    try:
        handle = found.file.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    inline = found.content_type.startswith("image/") and found.content_type != "image/svg+xml"
    response = FileResponse(
        handle, as_attachment=not inline, filename=found.name, content_type=found.content_type or None
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
@require_POST
def attachment_delete_view(request: HttpRequest, pk: int, attachment: int) -> HttpResponse:
    ticket = generic.get_for_action(Ticket, request.user, pk, Action.CHANGE)
    found = get_object_or_404(ticket.attachments, pk=attachment)
    try:
        services.ticket_attachment_delete(attachment=found, by=request.user)
    except DomainError as exc:
        return _refused(request, ticket, exc)
    return generic.success_response(request, url=ticket.get_absolute_url(), message=_("Attachment removed."))


urlpatterns: list[URLPattern] = [
    path("tickets/add/", TicketEditView.as_view(), name="ticket_add"),
    path("tickets/order-lines/", order_lines_view, name="ticket_order_lines"),
    path("tickets/orders/autocomplete/", order_autocomplete_view, name="ticket_order_autocomplete"),
    path("tickets/<int:pk>/", TicketDetailView.as_view(), name="ticket_detail"),
    path("tickets/<int:pk>/edit/", TicketEditView.as_view(), name="ticket_edit"),
    path("tickets/<int:pk>/reply/", reply_view, name="ticket_reply"),
    path("tickets/<int:pk>/assign/", assign_view, name="ticket_assign"),
    path("tickets/<int:pk>/move/", move_view, name="ticket_move"),
    path("tickets/<int:pk>/resolve/", resolve_view, name="ticket_resolve"),
    path("tickets/<int:pk>/reopen/", reopen_view, name="ticket_reopen"),
    path("tickets/<int:pk>/merge/", merge_view, name="ticket_merge"),
    path("tickets/<int:pk>/merge/targets/", merge_targets_view, name="ticket_merge_targets"),
    path("tickets/<int:pk>/split/", split_view, name="ticket_split"),
    path("tickets/<int:pk>/escalate/", escalate_view, name="ticket_escalate"),
    path("tickets/<int:pk>/watch/", watch_view, name="ticket_watch"),
    path("tickets/<int:pk>/attachments/<int:attachment>/", attachment_view, name="ticket_attachment"),
    path(
        "tickets/<int:pk>/attachments/<int:attachment>/delete/",
        attachment_delete_view,
        name="ticket_attachment_delete",
    ),
]
