"""Writes of the service settings admins keep as data: ticket statuses (and their flow), ticket
types (kind, after-sales action, statuses used, custom fields shown and required), ticket categories
(a two-level tree) and support mailboxes (IMAP settings; the password is write-only).

Rules: exactly one initial status (making a status initial takes the flag from the other); a
type that uses its own set of statuses must include the initial one; a status, type or category
in use is never deleted (deactivate it instead)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from kehu.core import owned
from kehu.core.choices import Action

from ..choices import AfterSalesAction, TicketKind, TicketPriority, TicketState
from ..models import (
    Mailbox,
    Ticket,
    TicketCategory,
    TicketStatus,
    TicketStatusHistory,
    TicketType,
)
from .common import ServiceError

IN_USE = "in_use"
INITIAL_STATUS = "initial_status"
TICKET_MODEL = "service.ticket"


def _invalid(fields: dict[str, list[str]]) -> ServiceError:
    return ServiceError(_("Please correct the errors below."), code="invalid", fields=fields)


def _text(value: Any) -> str:
    return str(value or "").strip()


# --- statuses -----------------------------------------------------------------------------------

STATUS_FIELDS = ("code", "name", "name_en", "state", "colour", "position", "is_initial", "is_active")
COLOURS = (
    "blue",
    "azure",
    "indigo",
    "purple",
    "pink",
    "red",
    "orange",
    "yellow",
    "lime",
    "green",
    "teal",
    "cyan",
    "secondary",
)


def _status_apply(status: TicketStatus, data: Mapping[str, Any]) -> list[TicketStatus] | None:
    for name in STATUS_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name in ("code", "name", "name_en", "colour"):
            value = _text(value)
        elif value is None:
            continue
        setattr(status, name, value)
    errors: dict[str, list[str]] = {}
    if not status.name:
        errors["name"] = [_("This field is required.")]
    if not status.code:
        errors["code"] = [_("This field is required.")]
    elif TicketStatus.objects.filter(code=status.code).exclude(pk=status.pk).exists():
        errors["code"] = [_("Another status has this code.")]
    if status.state not in TicketState.values:
        errors["state"] = [_("Choose a value from the list.")]
    if not status.colour:
        status.colour = "secondary"
    elif status.colour not in COLOURS:
        errors["colour"] = [_("Choose a value from the list.")]
    if status.is_initial and not status.is_active:
        errors["is_active"] = [_("The initial status must be active.")]
    if status.is_initial and status.state in (TicketState.RESOLVED, TicketState.CLOSED):
        errors["is_initial"] = [_("The initial status must be an open one.")]
    nexts = None
    if "next_statuses" in data:
        nexts = list(data["next_statuses"] or [])
        if status.pk and any(n.pk == status.pk for n in nexts):
            errors["next_statuses"] = [_("A status cannot move to itself.")]
    if errors:
        raise _invalid(errors)
    owned.full_clean_or_raise(status, exclude=["next_statuses"])
    return nexts


def _types_missing(status: TicketStatus) -> list[str]:
    """Types with their own status set that lacks `status`."""
    links = TicketType.statuses.through.objects
    missing = TicketType.objects.filter(pk__in=links.values("tickettype_id"))
    if status.pk is not None:
        missing = missing.exclude(pk__in=links.filter(ticketstatus_id=status.pk).values("tickettype_id"))
    return [str(t) for t in missing.order_by("position", "id")]


def _single_initial(status: TicketStatus, was_initial: bool) -> None:
    # Lock the current initial status: two parallel "make initial" edits run one after the other.
    list(TicketStatus.objects.select_for_update().filter(is_initial=True).values_list("pk", flat=True))
    if status.is_initial:
        if not was_initial:
            names = _types_missing(status)
            if names:
                message = _(
                    "These ticket types use their own statuses without this one: %(types)s. Add it to "
                    "them first: a new ticket starts in the initial status."
                ) % {"types": ", ".join(names)}
                raise ServiceError(message, code=INITIAL_STATUS, fields={"is_initial": [message]})
        TicketStatus.objects.filter(is_initial=True).exclude(pk=status.pk).update(is_initial=False)
    elif not TicketStatus.objects.filter(is_initial=True).exclude(pk=status.pk).exists():
        message = _("One status must be the initial status: make another status initial instead.")
        raise ServiceError(message, code=INITIAL_STATUS, fields={"is_initial": [message]})


@transaction.atomic
def ticketstatus_create(*, by: Any, data: Mapping[str, Any]) -> TicketStatus:
    """A new status. With `is_initial` it becomes the one initial status (the previous one stops
    being it); `next_statuses` are the statuses a ticket may move to from it (empty: any)."""
    owned.check_action(by, TicketStatus, Action.ADD)
    status = TicketStatus()
    nexts = _status_apply(status, data)
    _single_initial(status, was_initial=False)
    status.save()
    if nexts is not None:
        status.next_statuses.set(nexts)
    return status


@transaction.atomic
def ticketstatus_update(*, status: TicketStatus, by: Any, data: Mapping[str, Any]) -> TicketStatus:
    owned.check_action(by, TicketStatus, Action.CHANGE)
    status = TicketStatus.objects.select_for_update().get(pk=status.pk)
    was_initial = status.is_initial
    nexts = _status_apply(status, data)
    _single_initial(status, was_initial=was_initial)
    status.save()
    if nexts is not None:
        status.next_statuses.set(nexts)
    return status


def status_in_use(status: TicketStatus) -> bool:
    return (
        Ticket.objects.filter(status=status).exists()
        or TicketStatusHistory.objects.filter(Q(from_status=status) | Q(to_status=status)).exists()
    )


@transaction.atomic
def ticketstatus_delete(*, status: TicketStatus, by: Any) -> None:
    """Delete an unused, non-initial status. A status tickets are or were in is refused (409):
    deactivate it instead (its history keeps pointing at it)."""
    owned.check_action(by, TicketStatus, Action.DELETE)
    status = TicketStatus.objects.select_for_update().get(pk=status.pk)
    if status.is_initial:
        raise ServiceError(_("The initial status cannot be deleted."), code=INITIAL_STATUS, status=409)
    if status_in_use(status):
        raise ServiceError(
            _("Tickets are or were in this status; it cannot be deleted. Deactivate it instead."),
            code=IN_USE,
            status=409,
        )
    status.delete()


@transaction.atomic
def ticketstatus_reorder(*, ids: Iterable[int], by: Any) -> None:
    """Positions 10, 20, … in the given order (ids not given keep theirs, after them)."""
    owned.check_action(by, TicketStatus, Action.CHANGE)
    for index, pk in enumerate(ids, start=1):
        status = TicketStatus.objects.filter(pk=pk).first()
        if status is not None and status.position != index * 10:
            status.position = index * 10
            status.save(update_fields=["position", "updated_at"])


# --- types --------------------------------------------------------------------------------------

TYPE_FIELDS = (
    "code",
    "name",
    "name_en",
    "kind",
    "after_sales_action",
    "requires_order",
    "default_priority",
    "default_queue",
    "position",
    "is_active",
)


def ticket_custom_field_names() -> list[str]:
    """Names of the active custom fields of tickets (kehu.customfields, model service.ticket)."""
    from kehu.customfields.selectors import custom_fields_for

    return [f.name for f in custom_fields_for(TICKET_MODEL)]


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    seen: list[str] = []
    for item in value:
        name = _text(item)
        if name and name not in seen:
            seen.append(name)
    return seen


def _type_apply(ticket_type: TicketType, data: Mapping[str, Any]) -> list[TicketStatus] | None:
    for name in TYPE_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name in ("code", "name", "name_en", "after_sales_action"):
            value = _text(value)
        elif value is None and name != "default_queue":
            continue
        setattr(ticket_type, name, value)
    errors: dict[str, list[str]] = {}
    if "fields" in data or "required_fields" in data:
        known = set(ticket_custom_field_names())
        fields = _names(data["fields"]) if "fields" in data else list(ticket_type.fields or [])
        required = (
            _names(data["required_fields"])
            if "required_fields" in data
            else list(ticket_type.required_fields or [])
        )
        unknown = [n for n in [*fields, *required] if n not in known]
        if unknown:
            message = _("No such custom field of tickets: %(names)s.") % {
                "names": ", ".join(sorted(set(unknown)))
            }
            errors["fields" if any(n in fields for n in unknown) else "required_fields"] = [message]
        # A required field is shown.
        ticket_type.fields = fields + [n for n in required if n not in fields]
        ticket_type.required_fields = required
    if not ticket_type.name:
        errors["name"] = [_("This field is required.")]
    if not ticket_type.code:
        errors["code"] = [_("This field is required.")]
    elif TicketType.objects.filter(code=ticket_type.code).exclude(pk=ticket_type.pk).exists():
        errors["code"] = [_("Another ticket type has this code.")]
    if ticket_type.kind not in TicketKind.values:
        errors["kind"] = [_("Choose a value from the list.")]
    if ticket_type.after_sales_action:
        if ticket_type.after_sales_action not in AfterSalesAction.values:
            errors["after_sales_action"] = [_("Choose a value from the list.")]
        elif ticket_type.kind != TicketKind.AFTER_SALES:
            errors["after_sales_action"] = [_("Only after-sales types have an after-sales action.")]
    if ticket_type.default_priority not in TicketPriority.values:
        errors["default_priority"] = [_("Choose a value from the list.")]
    queue = ticket_type.default_queue if ticket_type.default_queue_id else None
    if queue is not None and not queue.is_active and "default_queue" in data:
        errors["default_queue"] = [_("This queue is inactive.")]
    statuses = None
    if "statuses" in data:
        statuses = list(data["statuses"] or [])
        if statuses and not any(s.is_initial for s in statuses):
            initial = TicketStatus.objects.filter(is_initial=True).first()
            errors["statuses"] = [
                _("The statuses must include the initial status (%(status)s): a new ticket starts there.")
                % {"status": initial or "—"}
            ]
    if errors:
        raise _invalid(errors)
    owned.full_clean_or_raise(ticket_type, exclude=["statuses", "default_queue"])
    return statuses


@transaction.atomic
def tickettype_create(*, by: Any, data: Mapping[str, Any]) -> TicketType:
    """A new ticket type. `statuses` empty: all statuses; otherwise they must include the
    initial one. `fields` / `required_fields`: names of ticket custom fields it shows / requires
    (a required field is shown)."""
    owned.check_action(by, TicketType, Action.ADD)
    ticket_type = TicketType()
    statuses = _type_apply(ticket_type, data)
    ticket_type.save()
    if statuses is not None:
        ticket_type.statuses.set(statuses)
    return ticket_type


@transaction.atomic
def tickettype_update(*, ticket_type: TicketType, by: Any, data: Mapping[str, Any]) -> TicketType:
    owned.check_action(by, TicketType, Action.CHANGE)
    ticket_type = TicketType.objects.select_for_update().get(pk=ticket_type.pk)
    statuses = _type_apply(ticket_type, data)
    ticket_type.save()
    if statuses is not None:
        ticket_type.statuses.set(statuses)
    return ticket_type


def type_in_use(ticket_type: TicketType) -> bool:
    return Ticket.objects.filter(type=ticket_type).exists()


@transaction.atomic
def tickettype_delete(*, ticket_type: TicketType, by: Any) -> None:
    """Delete a type no ticket has; one in use is refused (409): deactivate it instead."""
    owned.check_action(by, TicketType, Action.DELETE)
    ticket_type = TicketType.objects.select_for_update().get(pk=ticket_type.pk)
    if type_in_use(ticket_type):
        raise ServiceError(
            _("Tickets have this type; it cannot be deleted. Deactivate it instead."), code=IN_USE, status=409
        )
    ticket_type.statuses.clear()
    ticket_type.delete()


# --- categories ---------------------------------------------------------------------------------

CATEGORY_FIELDS = ("name", "name_en", "parent", "position", "is_active")


def _category_apply(category: TicketCategory, data: Mapping[str, Any]) -> None:
    for name in CATEGORY_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name in ("name", "name_en"):
            value = _text(value)
        elif value is None and name != "parent":
            continue
        setattr(category, name, value)
    errors: dict[str, list[str]] = {}
    if not category.name:
        errors["name"] = [_("This field is required.")]
    parent = category.parent if category.parent_id else None
    if parent is not None:
        if category.pk and parent.pk == category.pk:
            errors["parent"] = [_("A category cannot be its own parent.")]
        elif parent.parent_id is not None:
            errors["parent"] = [_("Categories have two levels: choose a top-level category as the parent.")]
        elif category.pk and TicketCategory.objects.filter(parent=category).exists():
            errors["parent"] = [_("This category has subcategories, so it stays at the top level.")]
    siblings = TicketCategory.objects.filter(parent_id=category.parent_id, name=category.name).exclude(
        pk=category.pk
    )
    if category.name and siblings.exists():
        errors["name"] = [_("Another category at this place has this name.")]
    if errors:
        raise _invalid(errors)
    owned.full_clean_or_raise(category, exclude=["parent"])


@transaction.atomic
def ticketcategory_create(*, by: Any, data: Mapping[str, Any]) -> TicketCategory:
    owned.check_action(by, TicketCategory, Action.ADD)
    category = TicketCategory()
    _category_apply(category, data)
    category.save()
    return category


@transaction.atomic
def ticketcategory_update(*, category: TicketCategory, by: Any, data: Mapping[str, Any]) -> TicketCategory:
    owned.check_action(by, TicketCategory, Action.CHANGE)
    category = TicketCategory.objects.select_for_update().get(pk=category.pk)
    _category_apply(category, data)
    category.save()
    return category


@transaction.atomic
def ticketcategory_delete(*, category: TicketCategory, by: Any) -> None:
    """Delete a category without subcategories and tickets (409 otherwise: deactivate it)."""
    owned.check_action(by, TicketCategory, Action.DELETE)
    category = TicketCategory.objects.select_for_update().get(pk=category.pk)
    if TicketCategory.objects.filter(parent=category).exists():
        raise ServiceError(
            _("This category has subcategories; delete or move them first."), code=IN_USE, status=409
        )
    if Ticket.objects.filter(category=category).exists():
        raise ServiceError(
            _("Tickets have this category; it cannot be deleted. Deactivate it instead."),
            code=IN_USE,
            status=409,
        )
    category.delete()


# --- mailboxes ----------------------------------------------------------------------------------

MAILBOX_FIELDS = (
    "name",
    "email",
    "queue",
    "imap_host",
    "imap_port",
    "imap_ssl",
    "imap_starttls",
    "imap_username",
    "imap_folder",
    "processed_folder",
    "is_active",
)


def _mailbox_apply(mailbox: Mailbox, data: Mapping[str, Any]) -> None:
    for name in MAILBOX_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name in ("name", "email", "imap_host", "imap_username", "imap_folder", "processed_folder"):
            value = _text(value)
        elif value is None and name != "queue":
            continue
        setattr(mailbox, name, value)
    if password := data.get("imap_password"):
        # Write-only: an empty value keeps the stored password.
        mailbox.imap_password = str(password)
    if data.get("clear_password"):
        mailbox.imap_password = ""
    errors: dict[str, list[str]] = {}
    if not mailbox.name:
        errors["name"] = [_("This field is required.")]
    elif Mailbox.objects.filter(name=mailbox.name).exclude(pk=mailbox.pk).exists():
        errors["name"] = [_("Another mailbox has this name.")]
    mailbox.email = mailbox.email.lower()
    if not mailbox.email:
        errors["email"] = [_("This field is required.")]
    elif Mailbox.objects.filter(email=mailbox.email).exclude(pk=mailbox.pk).exists():
        errors["email"] = [_("Another mailbox has this address.")]
    if not mailbox.imap_folder:
        mailbox.imap_folder = "INBOX"
    if mailbox.imap_ssl and mailbox.imap_starttls:
        errors["imap_starttls"] = [_("Use either SSL/TLS or STARTTLS, not both.")]
    if not 0 < int(mailbox.imap_port or 0) < 65536:
        errors["imap_port"] = [_("Enter a port between 1 and 65535.")]
    if mailbox.is_active and not (mailbox.imap_host and mailbox.imap_username):
        message = _("An active mailbox needs an IMAP host and a user name.")
        errors.setdefault("imap_host" if not mailbox.imap_host else "imap_username", [message])
    if errors:
        raise _invalid(errors)
    owned.full_clean_or_raise(mailbox, exclude=["queue"])


@transaction.atomic
def mailbox_create(*, by: Any, data: Mapping[str, Any]) -> Mailbox:
    """A support mailbox. `imap_password` is stored as given; it is never read back by the pages
    or the API."""
    owned.check_action(by, Mailbox, Action.ADD)
    mailbox = Mailbox()
    _mailbox_apply(mailbox, data)
    mailbox.save()
    return mailbox


@transaction.atomic
def mailbox_update(*, mailbox: Mailbox, by: Any, data: Mapping[str, Any]) -> Mailbox:
    """Change a mailbox; an empty or absent `imap_password` keeps the stored one
    (`clear_password=True` empties it)."""
    owned.check_action(by, Mailbox, Action.CHANGE)
    mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    _mailbox_apply(mailbox, data)
    mailbox.save()
    return mailbox


@transaction.atomic
def mailbox_delete(*, mailbox: Mailbox, by: Any) -> None:
    """Delete a mailbox; the e-mails received through it stay (their mailbox becomes empty)."""
    owned.check_action(by, Mailbox, Action.DELETE)
    Mailbox.objects.get(pk=mailbox.pk).delete()
