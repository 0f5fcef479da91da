"""Hooks of the ticket lists (called from hooks/tickets.py): menu items, bulk actions (assign, move
to a status, add tags), the export, the global search (index and provider) and the "Tickets" panel
on the account and contact pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _


def _url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:  # the page is not there (yet)
        return None


def _can(request: HttpRequest, action: str = "view") -> bool:
    from kehu.core.permissions import can

    from ..models import Ticket
    from ..selectors.tickets import member_queue_ids

    return can(request.user, Ticket, action) or (action == "view" and bool(member_queue_ids(request.user)))


# --- 360 panels -------------------------------------------------------------------------------


def _panel_context(request: HttpRequest, obj: Any, *, key: str) -> dict[str, Any] | None:
    from kehu.core.permissions import can

    from ..models import Ticket
    from ..selectors.ticket_lists import related_tickets
    from ..tables_tickets import priority_badge, sla_badge, status_badge

    if not can(request.user, Ticket, "view"):
        return None
    data = related_tickets(user=request.user, **{f"{key}_id": obj.pk})
    rows = [
        {
            "ticket": t,
            "status": status_badge(t.status),
            "priority": priority_badge(t.priority),
            "sla": sla_badge(t),
        }
        for t in data["tickets"]
    ]
    base = _url("service:ticket_list")
    add = _url("service:ticket_add") if can(request.user, Ticket, "add") else None
    return {
        "rows": rows,
        "counts": data["counts"],
        "all_url": f"{base}?{key}={obj.pk}" if base else None,
        "open_url": f"{base}?{key}={obj.pk}&open=true" if base else None,
        "add_url": f"{add}?{key}={obj.pk}" if add else None,
    }


def _account_panel(request: HttpRequest, obj: Any) -> dict[str, Any] | None:
    return _panel_context(request, obj, key="account")


def _contact_panel(request: HttpRequest, obj: Any) -> dict[str, Any] | None:
    return _panel_context(request, obj, key="contact")


def _open_tickets_fact(request: HttpRequest, obj: Any) -> Any:
    from kehu.core.permissions import can

    from ..choices import OPEN_STATES
    from ..models import Ticket

    if not can(request.user, Ticket, "view"):
        return None
    return (
        Ticket.objects.restrict(request.user, "view")
        .filter(account_id=obj.pk, state__in=list(OPEN_STATES))
        .count()
    )


# --- global search ---------------------------------------------------------------------------


def ticket_document(ticket: Any) -> Any:
    from kehu.search.tokens import Document

    doc = Document(title=f"{ticket.number} {ticket.subject}")
    doc.add_identifier(ticket.number)
    doc.add_name(ticket.subject)
    doc.add_name(ticket.requester_name, person=True)
    doc.add_email(ticket.requester_email)
    doc.add_phone(ticket.requester_phone)
    if ticket.account_id and ticket.account is not None:
        doc.add_text(ticket.account.name)
    return doc


def ticket_documents(ids: list[int], using: str) -> dict[int, Any]:
    from kehu.search.tokens import Document

    from ..models import Ticket

    out = {}
    rows = (
        Ticket.objects.using(using)
        .filter(pk__in=ids)
        .values_list(
            "pk", "number", "subject", "requester_name", "requester_email", "requester_phone", "account__name"
        )
    )
    for pk, number, subject, name, email, phone, account in rows:
        doc = Document(title=f"{number} {subject}")
        doc.add_identifier(number)
        doc.add_name(subject)
        doc.add_name(name, person=True)
        doc.add_email(email)
        doc.add_phone(phone)
        doc.add_text(account)
        out[pk] = doc
    return out


def ticket_search(user: Any, q: str, limit: int) -> list[Any]:
    """Tickets the user may see matching `q`: a number, else the index (subject, requester,
    account name)."""
    from kehu.core.search import SearchHit
    from kehu.core.text import bilingual_name
    from kehu.search.selectors import search_ranked

    from ..models import Ticket

    qs = Ticket.objects.restrict(user, "view")
    text = q.strip()
    ranked: list[tuple[int, float]] = []
    if text.upper().startswith("TK-"):
        ranked = [
            (pk, 2.0)
            for pk in qs.filter(number__istartswith=text).order_by("-id").values_list("pk", flat=True)[:limit]
        ]
    if not ranked:
        ranked = search_ranked(queryset=qs, q=text, limit=limit)
    rows = {
        r["pk"]: r
        for r in qs.filter(pk__in=[pk for pk, _s in ranked]).values(
            "pk", "number", "subject", "account__name", "status__name", "status__name_en", "requester_email"
        )
    }
    pattern = reverse("service:ticket_detail", args=[987654321])
    hits = []
    for pk, score in ranked:
        r = rows.get(pk)
        if r is None:
            continue
        parts = [
            bilingual_name(r["status__name"], r["status__name_en"]),
            r["account__name"] or r["requester_email"],
        ]
        hits.append(
            SearchHit(
                title=f"{r['number']} · {r['subject']}",
                url=pattern.replace("987654321", str(pk)),
                subtitle=" · ".join(p for p in parts if p),
                score=score + (1.0 if r["number"].lower() == text.lower() else 0.0),
                pk=pk,
            )
        )
    return hits


# --- export ----------------------------------------------------------------------------------


def _export_columns(user: Any) -> list[Any]:
    from django.utils.translation import pgettext_lazy

    from kehu.core.exports import Column
    from kehu.customers.exporting import tags_column
    from kehu.customfields.exporting import custom_export_columns

    from ..models import Ticket

    return [
        Column("id", _("ID")),
        Column("number", pgettext_lazy("document", "Number")),
        Column("subject", _("Subject")),
        Column("type", _("Type")),
        Column("status", _("Status")),
        Column("state", _("State"), value=lambda t: t.get_state_display()),
        Column("priority", _("Priority"), value=lambda t: t.get_priority_display()),
        Column("channel", _("Channel"), value=lambda t: t.get_channel_display()),
        Column("category", _("Category")),
        Column("account", pgettext_lazy("customers", "Account")),
        Column("contact", _("Contact")),
        Column("requester_name", _("Requester")),
        Column("requester_email", _("Requester e-mail")),
        Column("queue", _("Queue")),
        Column("assignee", pgettext_lazy("ticket", "Assignee")),
        Column("department", pgettext_lazy("customers", "Department")),
        Column("first_response_due", _("First response due")),
        Column("resolution_due", _("Resolution due")),
        Column(
            "sla_breached",
            _("SLA breached"),
            value=lambda t: bool(
                t.first_response_breached or t.next_response_breached or t.resolution_breached
            ),
        ),
        Column("first_responded_at", _("First responded at")),
        Column("resolved_at", _("Resolved at")),
        Column("closed_at", _("Closed at")),
        Column("created_at", pgettext_lazy("customers", "Created")),
        tags_column(),
        *custom_export_columns(Ticket, user),
    ]


def _export_queryset(user: Any, params: Any) -> Any:
    from kehu.core.bulk import _UserRequest

    from ..filtersets_tickets import TicketFilterSet
    from ..models import Ticket
    from ..tables_tickets import TicketTable

    base = Ticket.objects.restrict(user, "export").select_related(
        "type", "status", "category", "account", "contact", "queue", "assignee", "department"
    )
    filterset = TicketFilterSet(params, queryset=base, request=_UserRequest(user))
    qs = filterset.qs if filterset.is_valid() else base.none()
    sort = params.get("sort") if hasattr(params, "get") else None
    return TicketTable(user=None, sort=sort).order(qs)


# --- bulk actions ----------------------------------------------------------------------------


def _bulk_assign(*, ids: list[int], params: dict[str, Any], by: Any, job: Any = None) -> Any:
    """Give the selected tickets to one agent (each through `ticket_assign`: scope, assign
    permission and queue membership checked; a refused ticket is listed with the reason)."""
    from kehu.core.bulk import BulkResult
    from kehu.core.errors import DomainError

    from ..models import Ticket
    from ..services.tickets import ticket_assign

    rows = {t.pk: t for t in Ticket.objects.restrict(by, "change").filter(pk__in=ids).order_by("pk")}
    result = BulkResult(skipped=len(set(ids)) - len(rows))
    for ticket in rows.values():
        try:
            ticket_assign(ticket=ticket, by=by, assignee=params.get("assignee"))
        except DomainError as exc:
            result.fail(ticket.pk, ticket.number, exc.message)
        else:
            result.done += 1
    return result


def _bulk_move(*, ids: list[int], params: dict[str, Any], by: Any, job: Any = None) -> Any:
    from kehu.core.bulk import BulkResult
    from kehu.core.errors import DomainError

    from ..models import Ticket
    from ..services.tickets import ticket_move

    target = params["status"]
    rows = {t.pk: t for t in Ticket.objects.restrict(by, "change").filter(pk__in=ids).order_by("pk")}
    result = BulkResult(skipped=len(set(ids)) - len(rows))
    for ticket in rows.values():
        if ticket.status_id == target.pk:
            result.done += 1
            continue
        try:
            ticket_move(ticket=ticket, by=by, status=target, note=params.get("note") or "")
        except DomainError as exc:
            result.fail(ticket.pk, ticket.number, exc.message)
        else:
            result.done += 1
    return result


def _bulk_tags(*, ids: list[int], params: dict[str, Any], by: Any, add: bool) -> Any:
    from kehu.core.bulk import BulkResult
    from kehu.tags.services import tags_add, tags_remove

    from ..models import Ticket

    allowed = list(Ticket.objects.restrict(by, "change").filter(pk__in=ids).values_list("pk", flat=True))
    result = BulkResult(done=len(allowed), skipped=len(set(ids)) - len(allowed))
    if allowed:
        fn = tags_add if add else tags_remove
        result.extra["added" if add else "removed"] = fn(
            model=Ticket, ids=allowed, tags=list(params["tags"]), by=by
        )
    return result


def _forms() -> tuple[Any, Any, Any]:
    from django import forms
    from django.utils.translation import pgettext_lazy

    from kehu.users.selectors import assignable_users

    from ..models import TicketStatus

    class AssignForm(forms.Form):
        assignee = forms.ModelChoiceField(
            queryset=assignable_users().order_by("username"),
            label=pgettext_lazy("ticket", "Assignee"),
            required=False,
            empty_label=_("(unassign)"),
            widget=forms.Select(attrs={"data-tom-select": ""}),
        )

        def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)

    class MoveForm(forms.Form):
        status = forms.ModelChoiceField(
            queryset=TicketStatus.objects.filter(is_active=True).order_by("position", "pk"), label=_("Status")
        )
        note = forms.CharField(label=_("Note"), max_length=500, required=False)

        def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)

    class TagsForm(forms.Form):
        tags: forms.ModelMultipleChoiceField = forms.ModelMultipleChoiceField(
            queryset=None, label=_("Tags"), widget=forms.SelectMultiple(attrs={"data-tom-select": ""})
        )

        def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
            from kehu.tags.models import Tag
            from kehu.tags.selectors import applicable_tags

            from ..models import Ticket

            super().__init__(*args, **kwargs)
            field: Any = self.fields["tags"]
            ids = [t.pk for t in applicable_tags(Ticket, active_only=False)]
            field.queryset = Tag.objects.filter(pk__in=ids).order_by("name")

    return AssignForm, MoveForm, TagsForm


def _config_changed(sender: Any, **kwargs: Any) -> None:
    """A status, type, queue or queue membership saved or deleted: the per-process copies
    (`ticket_config`, each user's `member_queue_ids`) go."""
    from kehu.core import confcache

    confcache.bump()


def register() -> None:
    from django.db.models.signals import post_delete, post_save

    from kehu.core import bulk, detail, exports, navigation, search
    from kehu.search.registry import register_indexed

    from ..models import Queue, QueueMember, Ticket, TicketStatus, TicketType

    for model in (TicketStatus, TicketType, Queue, QueueMember):
        for signal in (post_save, post_delete):
            signal.connect(
                _config_changed, sender=model, weak=False, dispatch_uid=f"ticket-config-{model.__name__}"
            )

    for label, url_name, icon in (
        (_("Tickets"), "service:ticket_list", "ticket"),
        (_("My tickets"), "service:ticket_mine", "user-check"),
        (_("Ticket kanban"), "service:ticket_kanban", "layout-kanban"),
    ):
        navigation.register_item(
            "service", navigation.MenuItem(label, url_name, icon=icon, requires=("service.ticket", "view"))
        )

    assign_form, move_form, tags_form = _forms()
    bulk.register_bulk_action(
        "service.ticket",
        bulk.BulkAction(
            "assign",
            _("Assign"),
            fn=_bulk_assign,
            permission="change",
            form_class=assign_form,
            icon="user-check",
            order=10,
            help_text=_(
                "Each ticket is assigned by the queue's rules; a refused one is listed with the reason."
            ),
        ),
    )
    bulk.register_bulk_action(
        "service.ticket",
        bulk.BulkAction(
            "move_status",
            _("Move to status"),
            fn=_bulk_move,
            form_class=move_form,
            icon="arrow-right-circle",
            order=20,
            help_text=_("Each ticket moves by its status flow; one that cannot move stays where it is."),
        ),
    )
    for key, label, icon, order, add in (
        ("tags_add", _("Add tags"), "tag", 30, True),
        ("tags_remove", _("Remove tags"), "tag-off", 31, False),
    ):
        bulk.register_bulk_action(
            "service.ticket",
            bulk.BulkAction(
                key,
                label,
                fn=lambda *, ids, params, by, job=None, add=add: _bulk_tags(
                    ids=ids, params=params, by=by, add=add
                ),
                form_class=tags_form,
                icon=icon,
                order=order,
            ),
        )
    exports.register_exporter(
        exports.Exporter(
            name="service.ticket",
            model=Ticket,
            title=_("Tickets"),
            columns=_export_columns,
            queryset=_export_queryset,
        )
    )

    register_indexed(
        Ticket,
        document=ticket_document,
        queryset=lambda qs: qs.select_related("account"),
        documents=ticket_documents,
    )
    search.register_provider(
        "service.ticket",
        _("Tickets"),
        ticket_search,
        icon="ticket",
        order=60,
        model="service.ticket",
        list_url_name="service:ticket_list",
    )

    for model_label, context, order in (
        ("customers.account", _account_panel, 30),
        ("customers.contact", _contact_panel, 30),
    ):
        detail.register_panel(
            model_label,
            detail.Panel(
                "service.tickets",
                _("Tickets"),
                "service/tickets/_related_panel.html",
                context=context,
                order=order,
                icon="ticket",
            ),
        )
    detail.register_fact(
        "customers.account",
        detail.Fact(
            "service.open_tickets",
            _("Open tickets"),
            _open_tickets_fact,
            order=50,
            icon="ticket",
            url=lambda request, obj: reverse("service:ticket_list") + f"?account={obj.pk}&open=true",
        ),
    )
