"""The ticket FilterSet: the HTML list, the kanban, the API and the export use it alike.

* ``q``: a ticket number (``TK-2026-00012``, or its tail ``00012``) or words of the subject, the
  requester's name or e-mail and the account's name (the global search index when built, else
  the plain columns);
* ``assignee``: user ids, ``me`` and ``unassigned`` (repeatable, any of them);
* ``open``: open states only (new, assigned, in progress, waiting); ``state`` / ``status`` the
  state categories and the configured statuses;
* ``sla``: ``breached`` (any timer breached) or ``due_soon`` (a running timer due within
  `DUE_SOON_HOURS` hours, none breached yet);
* ``watched``: tickets the user watches; tags, custom fields, created/resolved date ranges.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.search import clean_query
from kehu.customers.filtersets import TOM_SELECT, YES_NO, _departments
from kehu.customfields.filters import add_custom_filters
from kehu.tags.filters import TagFilter, TagMatchFilter

from .choices import OPEN_STATES, TicketChannel, TicketPriority, TicketState
from .models import Queue, Ticket, TicketCategory, TicketStatus, TicketType, TicketWatcher

DATE = {"type": "date"}
DUE_SOON_HOURS = 2
ME = "me"
UNASSIGNED = "unassigned"


def _assignee_choices() -> list[tuple[str, Any]]:
    users = get_user_model().objects.filter(is_active=True).order_by("username")
    return [(ME, _("Me")), (UNASSIGNED, _("Unassigned"))] + [(str(u.pk), str(u)) for u in users]


def _statuses(request: Any = None) -> QuerySet[TicketStatus]:
    return TicketStatus.objects.filter(is_active=True).order_by("position", "pk")


def _types(request: Any = None) -> QuerySet[TicketType]:
    return TicketType.objects.filter(is_active=True).order_by("position", "pk")


def _queues(request: Any = None) -> QuerySet[Queue]:
    return Queue.objects.filter(is_active=True).order_by("position", "name")


def _categories(request: Any = None) -> QuerySet[TicketCategory]:
    return TicketCategory.objects.filter(is_active=True).select_related("parent").order_by("position", "pk")


def _date(field: str, lookup: str, label: Any) -> django_filters.DateFilter:
    return django_filters.DateFilter(
        field_name=field, lookup_expr=f"date__{lookup}", label=label, widget=forms.DateInput(attrs=DATE)
    )


SLA_CHOICES = (("breached", _("Breached")), ("due_soon", _("Due soon")))


def ticket_quick_search(queryset: QuerySet[Ticket], q: str) -> QuerySet[Ticket]:
    """Tickets of `queryset` matching `q`: a number (whole, or the digits at its end), else the index
    (subject, requester, account name) or, before it is built, the plain columns."""
    text = q.strip()
    upper = text.upper()
    if upper.startswith("TK"):
        prefix = upper if upper.startswith("TK-") else "TK-" + upper[2:]
        return queryset.filter(number__istartswith=prefix)
    if text.isdigit() and len(text) >= 3:
        return queryset.filter(Q(number__endswith=text) | Q(number__endswith=text.zfill(5)))
    from kehu.search.selectors import search_filter

    found = search_filter(queryset, text)
    if found is not None:
        return found
    return queryset.filter(
        Q(subject__icontains=text)
        | Q(requester_email__icontains=text)
        | Q(requester_name__icontains=text)
        | Q(account__name__icontains=text)
    )


class TicketFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Search"), max_length=200)
    open = django_filters.BooleanFilter(
        method="filter_open", label=pgettext_lazy("tickets", "Open"), widget=YES_NO
    )
    state = django_filters.MultipleChoiceFilter(
        choices=TicketState.choices, label=_("State"), widget=forms.SelectMultiple(attrs=TOM_SELECT)
    )
    status = django_filters.ModelMultipleChoiceFilter(
        queryset=_statuses, label=_("Status"), widget=forms.SelectMultiple(attrs=TOM_SELECT)
    )
    type = django_filters.ModelMultipleChoiceFilter(
        queryset=_types, label=_("Type"), widget=forms.SelectMultiple(attrs=TOM_SELECT)
    )
    priority = django_filters.MultipleChoiceFilter(
        choices=TicketPriority.choices, label=_("Priority"), widget=forms.SelectMultiple(attrs=TOM_SELECT)
    )
    channel = django_filters.MultipleChoiceFilter(
        choices=TicketChannel.choices, label=_("Channel"), widget=forms.SelectMultiple(attrs=TOM_SELECT)
    )
    category = django_filters.ModelMultipleChoiceFilter(
        queryset=_categories,
        method="filter_category",
        label=_("Category"),
        widget=forms.SelectMultiple(attrs=TOM_SELECT),
    )
    queue = django_filters.ModelMultipleChoiceFilter(
        queryset=_queues, label=_("Queue"), widget=forms.SelectMultiple(attrs=TOM_SELECT)
    )
    assignee = django_filters.MultipleChoiceFilter(
        choices=_assignee_choices,
        method="filter_assignee",
        label=pgettext_lazy("ticket", "Assignee"),
        widget=forms.SelectMultiple(attrs=TOM_SELECT),
    )
    department = django_filters.ModelMultipleChoiceFilter(
        queryset=_departments,
        label=pgettext_lazy("customers", "Department"),
        widget=forms.SelectMultiple(attrs=TOM_SELECT),
    )
    account = django_filters.NumberFilter(
        field_name="account_id", label=pgettext_lazy("customers", "Account"), widget=forms.HiddenInput
    )
    contact = django_filters.NumberFilter(
        field_name="contact_id", label=_("Contact"), widget=forms.HiddenInput
    )
    tags = TagFilter()
    tags_mode = TagMatchFilter()
    created_after = _date("created_at", "gte", _("Created from"))
    created_before = _date("created_at", "lte", _("Created until"))
    resolved_after = _date("resolved_at", "gte", _("Resolved from"))
    resolved_before = _date("resolved_at", "lte", _("Resolved until"))
    sla = django_filters.ChoiceFilter(choices=SLA_CHOICES, method="filter_sla", label=_("SLA"))
    watched = django_filters.BooleanFilter(method="filter_watched", label=_("Watched by me"), widget=YES_NO)

    class Meta:
        model = Ticket
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        add_custom_filters(self, Ticket)

    @property
    def _user(self) -> Any:
        return getattr(self.request, "user", None)

    def filter_q(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        q = clean_query(value)
        if not q:
            return queryset
        return ticket_quick_search(queryset, q)

    def filter_open(self, queryset: QuerySet[Ticket], name: str, value: Any) -> QuerySet[Ticket]:
        if value is None:
            return queryset
        states = list(OPEN_STATES)
        return queryset.filter(state__in=states) if value else queryset.exclude(state__in=states)

    def filter_category(self, queryset: QuerySet[Ticket], name: str, value: Any) -> QuerySet[Ticket]:
        if not value:
            return queryset
        ids = {c.pk for c in value}
        return queryset.filter(Q(category_id__in=ids) | Q(category__parent_id__in=ids))

    def filter_assignee(self, queryset: QuerySet[Ticket], name: str, value: Any) -> QuerySet[Ticket]:
        if not value:
            return queryset
        cond = Q()
        ids: list[int] = []
        for item in value:
            if item == ME:
                user = self._user
                ids.append(user.pk if user is not None and user.pk else 0)
            elif item == UNASSIGNED:
                cond |= Q(assignee__isnull=True)
            elif str(item).isdigit():
                ids.append(int(item))
        if ids:
            cond |= Q(assignee_id__in=ids)
        return queryset.filter(cond)

    def filter_sla(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        breached = (
            Q(first_response_breached=True) | Q(next_response_breached=True) | Q(resolution_breached=True)
        )
        if value == "breached":
            return queryset.filter(breached)
        if value == "due_soon":
            now = timezone.now()
            return queryset.filter(
                state__in=list(OPEN_STATES),
                sla_next_check__isnull=False,
                sla_next_check__lte=now + dt.timedelta(hours=DUE_SOON_HOURS),
            ).exclude(breached)
        return queryset

    def filter_watched(self, queryset: QuerySet[Ticket], name: str, value: Any) -> QuerySet[Ticket]:
        if value is None:
            return queryset
        user = self._user
        watched = TicketWatcher.objects.filter(user_id=getattr(user, "pk", None) or 0).values("ticket_id")
        return queryset.filter(pk__in=watched) if value else queryset.exclude(pk__in=watched)
