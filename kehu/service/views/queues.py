"""Service → Queues (服务组): the list (open tickets and members per queue), a queue's page
(facts, open tickets per state, members: add, remove, available / on leave), create/edit/delete;
and canned responses (快捷回复): the list, create/edit/delete, and the htmx endpoint the reply
editor calls to insert one. Writes go through `services/queues.py`."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kehu.core import generic
from kehu.core.choices import Action
from kehu.core.errors import DomainError
from kehu.core.permissions import can

from ..choices import OPEN_STATES, TicketState
from ..forms_queues import CannedResponseForm, MemberAddForm, QueueForm
from ..models import CannedResponse, Queue, Ticket
from ..selectors import queues as selectors
from ..services import queues as services
from ..tables_queues import CannedResponseTable


def _tickets_url() -> str | None:
    """The ticket list (filtered by ``?queue=``), when the tickets area has one."""
    try:
        return reverse("service:ticket_list")
    except NoReverseMatch:
        return None


def _require(request: HttpRequest, action: str) -> None:
    """Queues have no data scope: without the permission, 403."""
    if not can(request.user, Queue, action):
        raise PermissionDenied


def _crumbs(*extra: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    return [(_("Queues"), reverse("service:queue_list")), *extra]


@login_required
@require_GET
def queue_list_view(request: HttpRequest) -> HttpResponse:
    _require(request, Action.VIEW)
    queues = list(selectors.queue_list(user=request.user))
    mine = selectors.member_queue_ids(request.user)
    return render(
        request,
        "service/queues/queue_list.html",
        {
            "queues": queues,
            "mine": mine,
            "tickets_url": _tickets_url(),
            "may_add": can(request.user, Queue, Action.ADD),
            "breadcrumbs": [(_("Queues"), None)],
        },
    )


def _queue(request: HttpRequest, pk: int, action: str = Action.VIEW) -> Queue:
    _require(request, action)
    return generic.get_for_action(Queue, request.user, pk, action)


def _members_context(request: HttpRequest, queue: Queue, form: MemberAddForm | None = None) -> dict[str, Any]:
    may_change = can(request.user, Queue, Action.CHANGE)
    return {
        "queue": queue,
        "members": selectors.queue_members(queue, user=request.user),
        "member_form": (form or MemberAddForm(queue=queue)) if may_change else None,
        "may_change": may_change,
        "tickets_url": _tickets_url(),
    }


@login_required
@require_GET
def queue_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    queue = _queue(request, pk)
    queue = Queue.objects.select_related("manager", "calendar").get(pk=queue.pk)
    by_state = selectors.queue_open_by_state(queue, user=request.user)
    states = [(TicketState(s).label, by_state.get(s, 0), s) for s in OPEN_STATES]
    context = {
        "object": queue,
        "states": states,
        "open_total": sum(by_state.values()),
        "unassigned": selectors.queue_unassigned_count(queue, user=request.user),
        "may_delete": can(request.user, Queue, Action.DELETE),
        "breadcrumbs": _crumbs((str(queue), None)),
        **_members_context(request, queue),
    }
    return render(request, "service/queues/queue_detail.html", context)


class QueueEditView(generic.ObjectEditView):
    model = Queue
    form_class = QueueForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated:
            _require(request, Action.CHANGE if kwargs.get("pk") else Action.ADD)
        return super().dispatch(request, *args, **kwargs)

    def save(self, form: QueueForm, obj: Queue | None) -> Queue:
        if obj is None:
            return services.queue_create(by=self.request.user, data=form.service_data())
        return services.queue_update(queue=obj, by=self.request.user, data=form.service_data())


class QueueDeleteView(generic.ObjectDeleteView):
    model = Queue

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated:
            _require(request, Action.DELETE)
        return super().dispatch(request, *args, **kwargs)

    def delete(self, obj: Queue) -> None:
        services.queue_delete(queue=obj, by=self.request.user)


def _members_section(request: HttpRequest, queue: Queue, form: MemberAddForm | None = None) -> HttpResponse:
    """The re-rendered members card for htmx; a plain browser post goes back to the page."""
    if not generic.is_htmx(request):
        return HttpResponseRedirect(queue.get_absolute_url())
    return render(request, "service/queues/_members.html", _members_context(request, queue, form))


@login_required
@require_POST
def member_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    queue = _queue(request, pk, Action.CHANGE)
    form = MemberAddForm(request.POST, queue=queue)
    shown: MemberAddForm | None = form
    if form.is_valid():
        try:
            services.queue_member_add(queue=queue, user=form.cleaned_data["user"], by=request.user)
        except DomainError as exc:
            form.add_error("user", str(exc.message))
        else:
            shown = None
    return _members_section(request, queue, shown)


def _member_user(queue: Queue, user_id: int) -> Any:
    user = get_user_model().objects.filter(pk=user_id, queue_memberships__queue=queue).first()
    if user is None:
        raise Http404
    return user


@login_required
@require_POST
def member_remove_view(request: HttpRequest, pk: int, user: int) -> HttpResponse:
    queue = _queue(request, pk, Action.CHANGE)
    services.queue_member_remove(queue=queue, user=_member_user(queue, user), by=request.user)
    return _members_section(request, queue)


@login_required
@require_POST
def member_available_view(request: HttpRequest, pk: int, user: int) -> HttpResponse:
    """Set a member available (``available=1``) or on leave (``available=0``): members set their
    own; others need "change" on queues."""
    own = user == request.user.pk
    queue = _queue(request, pk, Action.VIEW if own else Action.CHANGE)
    member = _member_user(queue, user)
    services.queue_member_set_available(
        queue=queue, user=member, is_available=request.POST.get("available") == "1", by=request.user
    )
    return _members_section(request, queue)


# --- canned responses ---------------------------------------------------------------------------


class CannedResponseListView(generic.ObjectListView):
    model = CannedResponse
    table_class = CannedResponseTable
    template_name = "service/queues/cannedresponse_list.html"
    search_fields = ("name", "body")

    def get_queryset(self) -> Any:
        return selectors.canned_response_list(user=self.request.user)

    def get_extra_context(self) -> dict[str, Any]:
        return {
            "row_actions_template": "service/queues/_cannedresponse_actions.html",
            "editable_ids": selectors.canned_response_editable_ids(user=self.request.user),
        }


def _canned(request: HttpRequest, pk: int) -> CannedResponse:
    """A response the user sees (others' personal ones: 404)."""
    return get_object_or_404(selectors.canned_response_list(user=request.user), pk=pk)


class CannedResponseEditView(generic.ObjectEditView):
    model = CannedResponse
    form_class = CannedResponseForm

    def get_object(self) -> Any:
        pk = self.kwargs.get("pk")
        if pk is None:
            if not can(self.request.user, CannedResponse, Action.ADD):
                raise PermissionDenied
            return None
        response = _canned(self.request, pk)
        if not services.may_edit_canned(self.request.user, response):
            raise PermissionDenied
        return response

    def get_success_url(self, obj: Any) -> str:
        return reverse("service:cannedresponse_list")

    def save(self, form: CannedResponseForm, obj: CannedResponse | None) -> CannedResponse:
        if obj is None:
            return services.canned_response_create(by=self.request.user, data=form.service_data())
        return services.canned_response_update(response=obj, by=self.request.user, data=form.service_data())

    def on_success(self, obj: Any, *, created: bool) -> HttpResponse:
        return generic.success_response(
            self.request, url=self.get_success_url(obj), message=self.success_message(obj, created)
        )


class CannedResponseDeleteView(generic.ObjectDeleteView):
    model = CannedResponse

    def get_object(self) -> Any:
        response = _canned(self.request, self.kwargs["pk"])
        if not services.may_edit_canned(self.request.user, response):
            raise PermissionDenied
        return response

    def delete(self, obj: CannedResponse) -> None:
        services.canned_response_delete(response=obj, by=self.request.user)


@login_required
@require_GET
def canned_response_render_view(request: HttpRequest, pk: int) -> HttpResponse:
    """``GET /service/canned-responses/<pk>/render/?ticket=<id>`` → ``text/html``: the response's
    body (sanitised HTML fragment, no wrapper element) with its placeholders filled for the ticket
    and the requesting agent, ready to insert into the reply editor. Counts one use.

    * the response must be one the user may insert (`canned_responses_for`; else 404);
    * ``ticket`` is optional; when given it must be a ticket the user may view (else 404), and the
      ticket's queue's shared responses are then insertable too;
    * the answer carries ``HX-Trigger: {"kehu:cannedInserted": {"id": <pk>, "name": "<name>"}}``.
    """
    ticket = None
    raw = request.GET.get("ticket")
    if raw:
        try:
            ticket_id = int(raw)
        except ValueError:
            raise Http404 from None
        ticket = (
            Ticket.objects.restrict(request.user, Action.VIEW)
            .select_related("contact")
            .filter(pk=ticket_id)
            .first()
        )
        if ticket is None:
            raise Http404
    response = get_object_or_404(selectors.canned_responses_for(user=request.user, ticket=ticket), pk=pk)
    body = services.canned_response_render(response=response, ticket=ticket, user=request.user)
    services.canned_response_used(response=response)
    answer = HttpResponse(body, content_type="text/html; charset=utf-8")
    answer["HX-Trigger"] = json.dumps({"kehu:cannedInserted": {"id": response.pk, "name": response.name}})
    return answer


urlpatterns = [
    path("queues/", queue_list_view, name="queue_list"),
    path("queues/add/", QueueEditView.as_view(), name="queue_add"),
    path("queues/<int:pk>/", queue_detail_view, name="queue_detail"),
    path("queues/<int:pk>/edit/", QueueEditView.as_view(), name="queue_edit"),
    path("queues/<int:pk>/delete/", QueueDeleteView.as_view(), name="queue_delete"),
    path("queues/<int:pk>/members/", member_add_view, name="queue_member_add"),
    path("queues/<int:pk>/members/<int:user>/remove/", member_remove_view, name="queue_member_remove"),
    path(
        "queues/<int:pk>/members/<int:user>/available/", member_available_view, name="queue_member_available"
    ),
    path("canned-responses/", CannedResponseListView.as_view(), name="cannedresponse_list"),
    path("canned-responses/add/", CannedResponseEditView.as_view(), name="cannedresponse_add"),
    path("canned-responses/<int:pk>/edit/", CannedResponseEditView.as_view(), name="cannedresponse_edit"),
    path(
        "canned-responses/<int:pk>/delete/", CannedResponseDeleteView.as_view(), name="cannedresponse_delete"
    ),
    path("canned-responses/<int:pk>/render/", canned_response_render_view, name="cannedresponse_render"),
]
