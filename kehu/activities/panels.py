"""What activities add to the customer 360° pages: the "Activities" tab of accounts and contacts
(interactions newest first, paginated, open tasks and a quick "log interaction" form), an overview
card (open tasks and the last interactions) and the "Open tasks" header fact."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core import generic
from kehu.core.choices import Action
from kehu.core.permissions import can

from . import selectors
from .forms import QuickInteractionForm
from .models import Interaction, Task

TAB_PAGE_SIZE = 20


def _may_see(request: HttpRequest, obj: Any) -> bool:
    return can(request.user, Interaction, Action.VIEW) or can(request.user, Task, Action.VIEW)


def _tab_context(request: HttpRequest, obj: Any, *, is_account: bool) -> dict[str, Any]:
    user = request.user
    key = "account" if is_account else "contact"
    interactions: Any = None
    tasks: list[Task] = []
    if can(user, Interaction, Action.VIEW):
        qs = (
            selectors.account_interactions(user=user, account_id=obj.pk)
            if is_account
            else selectors.contact_interactions(user=user, contact_id=obj.pk)
        )
        interactions = generic.paginate(qs, request.GET.get("ipage"), TAB_PAGE_SIZE)
    if can(user, Task, Action.VIEW):
        tqs = (
            selectors.account_open_tasks(user=user, account_id=obj.pk)
            if is_account
            else selectors.contact_open_tasks(user=user, contact_id=obj.pk)
        )
        tasks = list(tqs[:50])
    initial: dict[str, Any] = {
        key: obj.pk,
        "occurred_at": timezone.localtime().replace(second=0, microsecond=0),
    }
    if not is_account:
        initial["account"] = obj.account_id
    quick_form = None
    if can(user, Interaction, Action.ADD):
        quick_form = QuickInteractionForm(user=user, initial=initial, auto_id="quick_%s")
    query = f"{key}={obj.pk}" + ("" if is_account else f"&account={obj.account_id}")
    back = f"{obj.get_absolute_url()}?tab=activities"
    return {
        "interactions": interactions,
        "open_tasks": tasks,
        "quick_form": quick_form,
        "activity_query": query,
        "activity_back": back,
        "can_add_task": can(user, Task, Action.ADD),
        "can_add_interaction": can(user, Interaction, Action.ADD),
        "can_change_task": can(user, Task, Action.CHANGE),
        "list_filter": f"{key}={obj.pk}",
    }


def account_tab(request: HttpRequest, obj: Any) -> dict[str, Any]:
    return _tab_context(request, obj, is_account=True)


def contact_tab(request: HttpRequest, obj: Any) -> dict[str, Any]:
    return _tab_context(request, obj, is_account=False)


def _overview_panel(request: HttpRequest, obj: Any) -> dict[str, Any] | None:
    user = request.user
    is_account = obj._meta.label_lower == "customers.account"
    tasks = []
    if can(user, Task, Action.VIEW):
        tqs = (
            selectors.account_open_tasks(user=user, account_id=obj.pk)
            if is_account
            else selectors.contact_open_tasks(user=user, contact_id=obj.pk)
        )
        tasks = list(tqs[:3])
    recent = []
    if can(user, Interaction, Action.VIEW):
        iqs = (
            selectors.account_interactions(user=user, account_id=obj.pk)
            if is_account
            else selectors.contact_interactions(user=user, contact_id=obj.pk)
        )
        recent = list(iqs[:3])
    return {
        "panel_tasks": tasks,
        "panel_interactions": recent,
        "tab_url": f"{obj.get_absolute_url()}?tab=activities",
    }


def _open_task_count(request: HttpRequest, obj: Any) -> Any:
    if not can(request.user, Task, Action.VIEW):
        return None
    return selectors.account_open_tasks(user=request.user, account_id=obj.pk).count()


def register() -> None:
    for label, fn in (("customers.account", account_tab), ("customers.contact", contact_tab)):
        generic.register_tab(
            label,
            generic.Tab(
                "activities",
                _("Activities"),
                "activities/_activities_tab.html",
                context=fn,
                visible=_may_see,
                icon="message-circle",
                order=20,
            ),
        )
        generic.register_panel(
            label,
            generic.Panel(
                "activities",
                _("Open tasks and last interactions"),
                "activities/_overview_panel.html",
                context=_overview_panel,
                visible=_may_see,
                order=10,
                icon="checkbox",
            ),
        )
    generic.register_fact(
        "customers.account",
        generic.Fact(
            "open_tasks",
            _("Open tasks"),
            value=_open_task_count,
            url=lambda request, obj: f"{reverse('activities:task_list')}?account={obj.pk}&open=true",
            icon="checkbox",
            order=30,
        ),
    )


# --- leads and opportunities (kehu.sales) ------------------------------------------------------

SALES_LABELS = ("sales.lead", "sales.opportunity")
SALES_PANEL_SIZE = 5


def _sales_field(obj: Any) -> str:
    return "lead" if obj._meta.label_lower == "sales.lead" else "opportunity"


def _sales_query(obj: Any) -> str:
    """The query string that presets the interaction/task form on this lead or opportunity."""
    field = _sales_field(obj)
    query = f"{field}={obj.pk}"
    if field == "opportunity" and obj.account_id:
        query += f"&account={obj.account_id}"
    return query


def _sales_open(obj: Any) -> bool:
    """A converted lead is read-only: its history shows, nothing new is logged on it."""
    return not getattr(obj, "is_converted", False)


def _sales_add_url(url_name: str, model: Any) -> Any:
    def url(request: HttpRequest, obj: Any) -> str | None:
        if not _sales_open(obj) or not can(request.user, model, Action.ADD):
            return None
        back = urlencode({"next": obj.get_absolute_url()})
        return f"{reverse(url_name)}?{_sales_query(obj)}&{back}"

    return url


def sales_panel(request: HttpRequest, obj: Any) -> dict[str, Any] | None:
    """The lead's or opportunity's open tasks and last interactions (one query each)."""
    user = request.user
    field = _sales_field(obj)
    tasks: list[Task] = []
    interactions: list[Interaction] = []
    if can(user, Task, Action.VIEW):
        tasks = list(selectors.record_open_tasks(user=user, field=field, pk=obj.pk)[:SALES_PANEL_SIZE])
    if can(user, Interaction, Action.VIEW):
        interactions = list(
            selectors.record_interactions(user=user, field=field, pk=obj.pk)[:SALES_PANEL_SIZE]
        )
    filter_query = f"{field}={obj.pk}"
    return {
        "panel_tasks": tasks,
        "panel_interactions": interactions,
        "interactions_url": f"{reverse('activities:interaction_list')}?{filter_query}",
        "tasks_url": f"{reverse('activities:task_list')}?{filter_query}",
        "log_url": _sales_add_url("activities:interaction_add", Interaction)(request, obj),
        "task_url": _sales_add_url("activities:task_add", Task)(request, obj),
    }


def register_sales() -> None:
    """ "Log interaction" and "New task" in the header of leads and opportunities, and a card with
    their open tasks and last interactions on the overview."""
    for label in SALES_LABELS:
        generic.register_action(
            label,
            generic.ObjectAction(
                "log-interaction",
                _("Log interaction"),
                url=_sales_add_url("activities:interaction_add", Interaction),
                icon="message-plus",
                order=10,
            ),
        )
        generic.register_action(
            label,
            generic.ObjectAction(
                "new-task",
                _("New task"),
                url=_sales_add_url("activities:task_add", Task),
                icon="checkbox",
                order=11,
            ),
        )
        generic.register_panel(
            label,
            generic.Panel(
                "activities",
                _("Open tasks and last interactions"),
                "activities/_sales_panel.html",
                context=sales_panel,
                visible=_may_see,
                order=10,
                icon="checkbox",
            ),
        )
