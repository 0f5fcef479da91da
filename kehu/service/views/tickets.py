"""Ticket lists: the list (table, column chooser, saved views, bulk actions, export), "my tickets"
(assigned to me and open), the queue switcher (the list filtered by one of my queues, with their
open counts), and the kanban by status, whose drops call `services.tickets.ticket_move`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views import View

from kehu.core import generic
from kehu.core.choices import Action
from kehu.core.errors import DomainError
from kehu.core.permissions import can
from kehu.core.tables import esc

from ..filtersets_tickets import TicketFilterSet
from ..models import Ticket, TicketStatus
from ..selectors import ticket_lists as selectors
from ..services import tickets as services
from ..tables_tickets import TicketTable, priority_badge, sla_badge, status_badge

MY_TICKETS_QUERY = "assignee=me&open=true"


def _add_url(user: Any) -> str | None:
    if not can(user, Ticket, Action.ADD):
        return None
    try:
        return reverse("service:ticket_add")
    except NoReverseMatch:
        return None


def _list_context(request: HttpRequest, mode: str) -> dict[str, Any]:
    queues = selectors.user_queues(user=request.user)
    current = request.GET.getlist("queue")
    return {
        "list_mode": mode,
        "kanban_url": reverse("service:ticket_kanban"),
        "table_url": reverse("service:ticket_list"),
        "mine_url": reverse("service:ticket_mine"),
        "my_queues": queues,
        "current_queue": next((q for q in queues if [str(q.pk)] == current), None),
    }


class TicketListView(generic.ObjectListView):
    model = Ticket
    table_class = TicketTable
    filterset_class = TicketFilterSet
    exporter = "service.ticket"
    template_name = "service/tickets/list.html"

    def get_extra_context(self) -> dict[str, Any]:
        context = _list_context(self.request, "table")
        context["add_url"] = _add_url(self.request.user)
        return context


class MyTicketListView(TicketListView):
    """The list of my open tickets: the list with ``assignee=me&open=true`` unless other filters are
    given (then it is the list with those)."""

    title = gettext_lazy("My tickets")

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not generic.names_a_filter(TicketFilterSet, request.GET) and "view" not in request.GET:
            query = QueryDict(MY_TICKETS_QUERY, mutable=True)
            for key, values in request.GET.lists():
                query.setlist(key, values)
            query._mutable = False
            request.GET = query  # type: ignore[assignment]
        return super().get(request, *args, **kwargs)

    def get_extra_context(self) -> dict[str, Any]:
        context = super().get_extra_context()
        context["list_mode"] = "mine"
        return context


# --- kanban -----------------------------------------------------------------------------------

BOARD_KEYS = ("status", "state", "status_col", "offset")


def _board_queryset(request: HttpRequest) -> tuple[Any, Any]:
    qs = selectors.ticket_list(user=request.user)
    keys = [k for k in request.GET if k not in BOARD_KEYS]
    if not generic.names_a_filter(TicketFilterSet, keys):
        return qs, None
    data = request.GET.copy()
    for key in BOARD_KEYS:
        data.pop(key, None)
    filterset = TicketFilterSet(data, queryset=qs, request=request)
    return (filterset.qs if filterset.is_valid() else qs.none()), filterset


def cards_html(cards: list[Ticket]) -> SafeString:
    """The cards of a column, built in Python (every value escaped)."""
    assignee_label = esc(pgettext("ticket", "Assignee"))
    out = []
    for card in cards:
        c: Any = card
        subject = esc(c.subject)
        assignee = esc(c.assignee) if c.assignee_id else esc(_("Unassigned"))
        account = (
            f'<div class="small text-secondary text-truncate">{esc(c.account.name)}</div>'
            if c.account_id
            else ""
        )
        out.append(
            f'<div class="card card-sm kehu-kanban-card" data-pk="{c.pk}" data-version="{c.version}">\n'
            '  <div class="card-body p-2">\n'
            '    <div class="d-flex align-items-center small mb-1">'
            f'<a href="{esc(c.url)}" class="text-secondary me-auto">'
            f"{esc(c.number)}</a>{priority_badge(c.priority)}</div>\n"
            f'    <a href="{esc(c.url)}" class="fw-medium d-block text-truncate" title="{subject}">'
            f"{subject}</a>\n"
            f"    {account}\n"
            '    <div class="d-flex align-items-center mt-1 small">\n'
            f'      <span class="text-secondary text-truncate me-auto" title="{assignee_label}">'
            f'<i class="ti ti-user"></i> {assignee}</span>{sla_badge(c)}\n'
            "    </div>\n  </div>\n</div>\n"
        )
    return SafeString("".join(out))


def _more_query(request: HttpRequest) -> str:
    query = request.GET.copy()
    for key in ("status_col", "offset"):
        query.pop(key, None)
    return query.urlencode()


KANBAN_MAX_OFFSET = 100_000


def _kanban_offset(value: str | None) -> int:
    """The ``?offset=`` of a kanban column: a whole number in 0..KANBAN_MAX_OFFSET (larger ones are
    clamped, a database cannot take any integer); anything else is 0."""
    if not value or not value.isascii() or not value.isdigit():
        return 0
    if len(value) > len(str(KANBAN_MAX_OFFSET)):
        return KANBAN_MAX_OFFSET
    return min(int(value), KANBAN_MAX_OFFSET)


class TicketKanbanView(LoginRequiredMixin, View):
    """Columns per active status (resolved/closed: the last KANBAN_DONE_DAYS days); each renders its
    first cards and loads more on scroll (``?status_col=<id>&offset=<n>``, an htmx partial)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not can(user, Ticket, Action.VIEW):
            raise PermissionDenied
        queryset, filterset = _board_queryset(request)
        if request.GET.get("status_col"):
            column_id = request.GET["status_col"]
            if not (column_id.isascii() and column_id.isdigit()) or len(column_id) > 18:
                raise Http404
            status = get_object_or_404(TicketStatus, pk=int(column_id), is_active=True)
            offset = _kanban_offset(request.GET.get("offset"))
            cards, has_more = selectors.kanban_cards(queryset=queryset, status=status, offset=offset)
            return render(
                request,
                "service/tickets/_kanban_cards.html",
                {
                    "cards_html": cards_html(cards),
                    "has_more": has_more,
                    "next_offset": offset + len(cards),
                    "status": status,
                    "more_query": _more_query(request),
                },
            )
        statuses = selectors.kanban_statuses()
        columns = selectors.kanban_board(queryset=queryset, statuses=statuses)
        for column in columns:
            column.cards_html = cards_html(column.cards)  # type: ignore[attr-defined]
            column.badge = status_badge(column.status)  # type: ignore[attr-defined]
        return render(
            request,
            "service/tickets/kanban.html",
            {
                **_list_context(request, "kanban"),
                "columns": columns,
                "filterset": filterset,
                "opts": Ticket._meta,
                "can_move": can(user, Ticket, Action.CHANGE) or bool(selectors.member_queue_ids(user)),
                "add_url": _add_url(user),
                "breadcrumbs": [(generic.verbose(Ticket, plural=True), reverse("service:ticket_list"))],
                "title": _("Kanban"),
                "done_days": selectors.KANBAN_DONE_DAYS,
                "more_query": _more_query(request),
            },
        )


class TicketBoardMoveView(LoginRequiredMixin, View):
    """A kanban drop: POST ``status`` (and ``version``) → JSON ``{"ok", "message", "columns"}``; a
    refused move answers its status (400/403/409) with ``{"ok": false, "message"}`` and the card
    snaps back."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        try:
            ticket = generic.get_for_action(Ticket, request.user, pk, Action.CHANGE)
        except PermissionDenied:
            return JsonResponse(
                {"ok": False, "code": "permission_denied", "message": _("You may not change this ticket.")},
                status=403,
            )
        raw = str(request.POST.get("status") or "")
        status = (
            TicketStatus.objects.filter(pk=int(raw), is_active=True).first()
            if raw.isdigit() and len(raw) < 10
            else None
        )
        if status is None:
            return JsonResponse(
                {"ok": False, "code": "invalid", "message": _("Choose a status."), "fields": {}}, status=400
            )
        version = request.POST.get("version")
        if version and version.isdigit() and int(version) != ticket.version:
            return JsonResponse(
                {
                    "ok": False,
                    "code": "stale_object",
                    "message": _("Someone changed this ticket meanwhile; reload the board."),
                },
                status=409,
            )
        before = ticket.status_id
        try:
            moved = services.ticket_move(ticket=ticket, by=request.user, status=status)
        except DomainError as exc:
            body = exc.as_dict()
            body["ok"] = False
            return JsonResponse(body, status=exc.status)
        moved.refresh_from_db(fields=["version"])
        queryset = selectors.ticket_list(user=request.user)
        statuses = list(TicketStatus.objects.filter(pk__in={before, moved.status_id}))
        counts = selectors.kanban_counts(queryset=queryset, statuses=statuses)
        return JsonResponse(
            {
                "ok": True,
                "message": _("Ticket %(number)s moved to “%(status)s”.")
                % {"number": moved.number, "status": status},
                "version": moved.version,
                "columns": {str(k): {"count": v} for k, v in counts.items()},
            }
        )


urlpatterns: list[URLPattern] = [
    path("tickets/", TicketListView.as_view(), name="ticket_list"),
    path("tickets/mine/", MyTicketListView.as_view(), name="ticket_mine"),
    path("tickets/kanban/", TicketKanbanView.as_view(), name="ticket_kanban"),
    path("tickets/<int:pk>/board-move/", TicketBoardMoveView.as_view(), name="ticket_board_move"),
]
