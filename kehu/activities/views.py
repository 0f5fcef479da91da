"""Pages of interactions and tasks (generic list/detail/edit/delete), My day and the team view."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core import generic
from kehu.core.choices import Action
from kehu.core.errors import DomainError
from kehu.core.permissions import can
from kehu.customers.models import Contact

from . import reminders, selectors, services
from .filtersets import InteractionFilterSet, TaskFilterSet
from .forms import InteractionForm, TaskForm
from .models import Interaction, Task
from .tables import InteractionTable, TaskTable

# --- interactions -----------------------------------------------------------------------------


class InteractionListView(generic.ObjectListView):
    model = Interaction
    table_class = InteractionTable
    filterset_class = InteractionFilterSet
    exporter = "activities.interaction"


class InteractionDetailView(generic.ObjectDetailView):
    model = Interaction
    template_name = "activities/interaction_detail.html"
    select_related = ("owner", "department", "created_by", "account", "contact", "task")
    tabs = [
        generic.Tab(
            "overview",
            gettext_lazy("Overview"),
            "activities/_interaction_overview.html",
            icon="info-circle",
            order=0,
            context=lambda request, obj: {
                "participants": list(obj.participants.all()),
                "participant_contacts": list(obj.participant_contacts.all()),
            },
        )
    ]


class InteractionEditView(generic.ObjectEditView):
    model = Interaction
    form_class = InteractionForm

    def save(self, form: InteractionForm, obj: Interaction | None) -> Interaction:
        if obj is None:
            return services.interaction_create(by=self.request.user, data=form.service_data())  # type: ignore[arg-type]
        return services.interaction_update(
            interaction=obj,
            by=self.request.user,
            data=form.service_data(),  # type: ignore[arg-type]
            version=form.version,
        )

    def get_initial(self, obj: Any) -> dict[str, Any]:
        initial = super().get_initial(obj)
        if obj is None:
            initial.setdefault("occurred_at", timezone.localtime().replace(second=0, microsecond=0))
        return initial


class InteractionDeleteView(generic.ObjectDeleteView):
    model = Interaction

    def delete(self, obj: Interaction) -> None:
        services.interaction_delete(interaction=obj, by=self.request.user)


# --- tasks ------------------------------------------------------------------------------------


class TaskListView(generic.ObjectListView):
    model = Task
    table_class = TaskTable
    filterset_class = TaskFilterSet
    exporter = "activities.task"


class TaskDetailView(generic.ObjectDetailView):
    model = Task
    template_name = "activities/task_detail.html"
    select_related = ("owner", "department", "created_by", "account", "contact", "interaction", "series")
    tabs = [
        generic.Tab(
            "overview",
            gettext_lazy("Overview"),
            "activities/_task_overview.html",
            icon="info-circle",
            order=0,
            context=lambda request, obj: {
                "remind_at": reminders.reminder_moment(obj, getattr(obj.owner, "time_zone", "") or ""),
            },
        )
    ]


class TaskEditView(generic.ObjectEditView):
    model = Task
    form_class = TaskForm

    def save(self, form: TaskForm, obj: Task | None) -> Task:
        if obj is None:
            return services.task_create(by=self.request.user, data=form.service_data())  # type: ignore[arg-type]
        return services.task_update(
            task=obj,
            by=self.request.user,
            data=form.service_data(),  # type: ignore[arg-type]
            version=form.version,
        )


class TaskDeleteView(generic.ObjectDeleteView):
    model = Task

    def delete(self, obj: Task) -> None:
        services.task_delete(task=obj, by=self.request.user)


STATUS_SERVICES = {
    "complete": (services.task_complete, gettext_lazy("Task “%(name)s” done.")),
    "reopen": (services.task_reopen, gettext_lazy("Task “%(name)s” reopened.")),
    "cancel": (services.task_cancel, gettext_lazy("Task “%(name)s” cancelled.")),
}


class TaskStatusView(generic.KehuView):
    """POST complete / reopen / cancel. From My day (``?fragment=item``) htmx gets the task's row
    back; otherwise the page reloads in place."""

    model = Task

    def post(self, request: HttpRequest, pk: int, action: str) -> HttpResponse:
        service, message = STATUS_SERVICES[action]
        obj = generic.get_for_action(Task, request.user, pk, Action.CHANGE)
        version = request.POST.get("version")
        try:
            task = service(task=obj, by=request.user, version=int(version) if version else None)
        except (DomainError, ValueError) as exc:
            text = str(getattr(exc, "message", "")) or _("This task could not be changed.")
            if generic.is_htmx(request):
                return generic.success_response(
                    request,
                    url=generic.safe_next(request) or obj.get_absolute_url(),
                    message=text,
                    level="error",
                )
            return generic.success_response(request, url=obj.get_absolute_url(), message=text, level="error")
        if generic.is_htmx(request) and request.GET.get("fragment") == "item":
            response = render(request, "activities/_my_day_item.html", {"task": task, "now": timezone.now()})
            response["HX-Trigger"] = json.dumps(
                {"kehu:toast": {"message": str(message % {"name": task}), "level": "success"}}
            )
            return response
        url = generic.safe_next(request) or task.get_absolute_url()
        return generic.success_response(request, url=url, message=message % {"name": task})


# --- My day and the team view -----------------------------------------------------------------


class MyDayView(generic.KehuView):
    model = Task

    def get(self, request: HttpRequest) -> HttpResponse:
        if not can(request.user, Task, Action.VIEW):
            raise PermissionDenied
        day = selectors.my_day(user=request.user)
        sections = [
            ("overdue", _("Overdue"), day.overdue, "alert-triangle", "text-danger"),
            ("today", _("Today"), day.today, "sun", "text-primary"),
            ("upcoming", _("Next 7 days"), day.upcoming, "calendar", "text-secondary"),
            ("no_date", _("No due date"), day.no_date, "calendar-off", "text-secondary"),
            ("done", _("Done today"), day.done_today, "circle-check", "text-success"),
        ]
        context = {
            "day": day,
            "sections": sections,
            "now": timezone.now(),
            "title": _("My day"),
            "can_add_task": can(request.user, Task, Action.ADD),
            "can_add_interaction": can(request.user, Interaction, Action.ADD),
            "breadcrumbs": [(_("My day"), None)],
        }
        return render(request, "activities/my_day.html", context)


class TeamView(generic.KehuView):
    """Managers: the tasks of the people in their scope, per assignee, with overdue counts."""

    model = Task

    def get(self, request: HttpRequest) -> HttpResponse:
        if not can(request.user, Task, Action.VIEW):
            raise PermissionDenied
        now = timezone.now()
        members = selectors.team_summary(user=request.user, now=now)
        context = {
            "members": members,
            "overdue": selectors.team_overdue(user=request.user, now=now),
            "totals": {
                "open": sum(m.open for m in members),
                "overdue": sum(m.overdue for m in members),
                "due_today": sum(m.due_today for m in members),
                "done_7d": sum(m.done_7d for m in members),
            },
            "title": _("Team tasks"),
            "breadcrumbs": [(_("Team tasks"), None)],
        }
        return render(request, "activities/team.html", context)


class ContactAutocompleteView(generic.ObjectAutocompleteView):
    """Contacts the user may view; ``?account=`` narrows to that account's contacts."""

    model = Contact
    search_fields = ("name", "mobile", "email")

    def get_queryset(self) -> QuerySet[Any]:
        qs = super().get_queryset().select_related("account")
        account = self.request.GET.get("account")
        if account and account.isdigit():
            qs = qs.filter(Q(account_id=account) | Q(accounts=account)).distinct()
        return qs

    def label(self, obj: Any) -> str:
        return f"{obj.name} · {obj.account.name}" if obj.account_id else obj.name
