"""Tickets (工单): create, edit, assign (by hand, round-robin, least-loaded), move through the
status flow, reply, note, customer messages, watchers, attachments, merge and split.

Rules (every path — pages, API, e-mail, the web form — runs them):

* `by` is the acting user, or None for the system (e-mail, the public web form, jobs): the system
  skips permission checks, users need ``add`` / ``change`` on the ticket in their scope (agents
  reach their queues' tickets through the scope extension in ``selectors.tickets``), and
  ``assign`` to give a ticket to someone else.
* Numbers come from ``sequence_next(key="ticket", prefix="TK")`` inside the insert's transaction
  (TK-2026-00001). A new ticket starts in the initial status of its type's flow.
* Descriptions, replies and notes are sanitised HTML (``kehu.core.richtext.sanitize_html``) with
  their plain text kept beside them.
* Status moves follow ``TicketStatus.next_statuses`` (empty: any) within the type's statuses
  (empty: all). Every move writes a ``TicketStatusHistory`` row and a timeline event; the SLA
  hooks (``services.sla``) run with the ticket row locked. Resolving invites the requester to
  rate the ticket (CSAT, after commit).
* The assignee must be an active user and, when the ticket has a queue with members, one of them.
  Assigning a ticket that is "new" moves it to the first "assigned" status.
* A customer writing on a resolved or closed ticket reopens it; on a ticket waiting on them, it
  goes back to "in progress". An agent's reply on a new/assigned ticket moves it to "in progress"
  unless the reply names a status (e.g. "waiting on customer").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kehu.audit.services import timeline_record
from kehu.core import owned
from kehu.core.choices import Action
from kehu.core.errors import DomainError, PermissionDeniedError
from kehu.core.richtext import html_to_text, sanitize_html
from kehu.core.services import sequence_next
from kehu.core.uploads import check_upload
from kehu.users.selectors import users_by_language

from ..choices import (
    DONE_STATES,
    OPEN_STATES,
    AssignmentMethod,
    DeliveryStatus,
    MessageKind,
    TicketChannel,
    TicketPriority,
    TicketState,
)
from ..models import (
    Queue,
    QueueMember,
    Ticket,
    TicketAttachment,
    TicketMessage,
    TicketOrderLine,
    TicketStatus,
    TicketStatusHistory,
    TicketType,
    TicketWatcher,
)
from . import sla
from .common import ServiceError

# Timeline events (registered with labels in hooks/tickets.py).
EVENT_CREATED = "ticket.created"
EVENT_STATUS = "ticket.status_changed"
EVENT_ASSIGNED = "ticket.assigned"
EVENT_REPLIED = "ticket.replied"
EVENT_CUSTOMER_MESSAGE = "ticket.customer_message"
EVENT_MERGED = "ticket.merged"
EVENT_SPLIT = "ticket.split"
# Notification kinds (registered in hooks/tickets.py).
KIND_ASSIGNED = "service.ticket_assigned"
KIND_ACTIVITY = "service.ticket_activity"

TICKET_FIELDS = (
    "subject",
    "description",
    "type",
    "priority",
    "channel",
    "category",
    "account",
    "contact",
    "requester_name",
    "requester_email",
    "requester_phone",
    "product",
    "order",
    "queue",
    "custom",
)
# Changing these re-chooses the SLA policy.
SLA_FIELDS = {"priority", "type", "account", "queue"}


@dataclass(frozen=True)
class NewAttachment:
    """A file to keep on a ticket: from an upload, an e-mail or the API."""

    name: str
    content: bytes
    content_type: str = ""
    content_id: str = ""
    is_public: bool = True


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _user_or_none(by: Any) -> Any:
    return by if getattr(by, "pk", None) else None


def _invalid(fields: dict[str, list[str]], message: str | None = None) -> ServiceError:
    first = next(iter(fields.values()))[0] if fields else _("Please correct the errors below.")
    return ServiceError(message or first, code="invalid", fields=fields)


def _check(by: Any, ticket: Ticket, action: str) -> None:
    if by is not None:
        owned.check_action(by, Ticket, action, obj=ticket)


def _lock(ticket: Ticket) -> Ticket:
    return (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("status", "type", "queue")
        .get(pk=ticket.pk)
    )


def _save(ticket: Ticket, fields: list[str]) -> None:
    """Save the fields a step changed (each once) and ``updated_at``."""
    ticket.save(update_fields=[*dict.fromkeys(fields), "updated_at"])


def _timeline(
    ticket: Ticket, event: str, by: Any, moment: dt.datetime, data: dict[str, Any], *, contact: bool = False
) -> None:
    """A timeline event on the ticket, also on its account's timeline (`contact`: and on its
    contact's)."""
    timeline_record(
        event=event,
        obj=ticket,
        by=by,
        account_id=ticket.account_id,
        contact_id=ticket.contact_id if contact else None,
        occurred_at=moment,
        data=data,
    )


def _system_line(ticket: Ticket, by: Any, text: str, moment: dt.datetime) -> TicketMessage:
    """A system line in the conversation (``merged:TK-…``, ``split:TK-…``)."""
    return TicketMessage.objects.create(
        ticket=ticket,
        kind=MessageKind.SYSTEM,
        author=_user_or_none(by),
        body="",
        body_text=text,
        created_at=moment,
    )


# --- statuses ---------------------------------------------------------------------------------


def type_statuses(ticket_type: TicketType | None) -> list[TicketStatus]:
    """The active statuses a ticket of this type may be in (the type's set, else all)."""
    if ticket_type is not None and ticket_type.pk:
        chosen = list(ticket_type.statuses.filter(is_active=True))
        if chosen:
            return chosen
    return list(TicketStatus.objects.filter(is_active=True))


def initial_status(ticket_type: TicketType | None) -> TicketStatus:
    statuses = type_statuses(ticket_type)
    for status in statuses:
        if status.is_initial:
            return status
    for status in statuses:
        if status.state == TicketState.NEW:
            return status
    if not statuses:
        raise ServiceError(_("No ticket status is set up: ask an administrator."), code="no_status")
    return statuses[0]


def allowed_next(ticket: Ticket) -> list[TicketStatus]:
    """The statuses the ticket may move to now (its status's flow within its type's statuses)."""
    within = {s.pk: s for s in type_statuses(ticket.type)}
    following = list(ticket.status.next_statuses.filter(is_active=True)) if ticket.status_id else []
    if not following:
        return [s for s in within.values() if s.pk != ticket.status_id]
    return [s for s in following if s.pk in within]


def status_for_state(ticket: Ticket, state: str) -> TicketStatus | None:
    """The first status of `state` the ticket may move to (or any of its type's, when the flow
    does not list one: automatic moves such as reopening must not get stuck)."""
    for status in allowed_next(ticket):
        if status.state == state:
            return status
    for status in type_statuses(ticket.type):
        if status.state == state and status.pk != ticket.status_id:
            return status
    return None


# --- create and edit --------------------------------------------------------------------------


def _clean_values(ticket: Ticket, by: Any, data: Mapping[str, Any], *, creating: bool) -> list[str]:
    from kehu.catalog.models import Product
    from kehu.commerce.models import Order
    from kehu.customers.models import Account, Contact

    unknown = set(data) - set(TICKET_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    values = dict(data)
    errors: dict[str, list[str]] = {}
    for name in ("subject", "requester_name", "requester_email", "requester_phone"):
        if name in values:
            values[name] = str(values[name] or "").strip()
    if "requester_email" in values:
        values["requester_email"] = values["requester_email"].lower()
    if "subject" in values and not values["subject"]:
        errors["subject"] = [_("This field is required.")]
    if "description" in values:
        values["description"] = sanitize_html(str(values["description"] or ""))
    ticket_type = values.get("type", ticket.type if ticket.type_id else None)
    if ticket_type is None:
        errors["type"] = [_("This field is required.")]
    elif (
        "type" in values and not ticket_type.is_active and ticket_type.pk != getattr(ticket, "type_id", None)
    ):
        errors["type"] = [_("This ticket type is no longer in use.")]
    if "priority" in values:
        try:
            values["priority"] = int(values["priority"])
        except (TypeError, ValueError):
            values["priority"] = None
        if values["priority"] not in TicketPriority.values:
            errors["priority"] = [_("Choose a valid priority.")]
    if "channel" in values and values["channel"] not in TicketChannel.values:
        errors["channel"] = [_("Choose a valid channel.")]
    checks = (("account", Account), ("contact", Contact), ("product", Product), ("order", Order))
    for name, model in checks:
        obj = values.get(name)
        if obj is None or by is None or getattr(ticket, f"{name}_id", None) == obj.pk:
            continue
        if not model.objects.restrict(by, Action.VIEW).filter(pk=obj.pk).exists():
            errors[name] = [_("Choose a record you can see.")]
    account = values.get("account", ticket.account if ticket.account_id else None)
    contact = values.get("contact", ticket.contact if ticket.contact_id else None)
    if contact is not None and account is None and "contact" in values:
        account = contact.accounts.order_by("pk").first()
        if account is not None:
            values["account"] = account
    relinked = "contact" in values or "account" in values
    if (
        relinked
        and contact is not None
        and account is not None
        and not contact.accounts.filter(pk=account.pk).exists()
    ):
        errors["contact"] = [_("Choose a contact of the ticket's account.")]
    order = values.get("order", ticket.order if ticket.order_id else None)
    if order is not None and account is not None and order.account_id != account.pk:
        errors["order"] = [_("Choose an order of the ticket's account.")]
    if ticket_type is not None and ticket_type.requires_order and order is None:
        errors["order"] = [_("A ticket of this type needs the order it concerns.")]
    queue = values.get("queue")
    if queue is not None and not queue.is_active and queue.pk != ticket.queue_id:
        errors["queue"] = [_("This queue is no longer in use.")]
    if errors:
        raise _invalid(errors)
    changed = owned.apply_values(ticket, values, [n for n in TICKET_FIELDS if n != "custom"])
    if "description" in changed or creating:
        ticket.description_text = html_to_text(ticket.description)
    if "custom" in data or creating:
        from kehu.customfields.services import custom_values_clean

        custom = custom_values_clean(
            model=Ticket,
            values=data.get("custom") or {},
            instance_values=ticket.custom if not creating else None,
            partial=not creating,
        )
        required = [n for n in (ticket_type.required_fields if ticket_type else []) if not custom.get(n)]
        if required:
            raise _invalid(
                {f"custom.{n}": [_("This field is required for this ticket type.")] for n in required}
            )
        if custom != ticket.custom:
            ticket.custom = custom
            changed.append("custom")
    return changed


@transaction.atomic
def ticket_create(
    *,
    by: Any,
    data: Mapping[str, Any],
    assignee: Any = None,
    watchers: Iterable[Any] = (),
    order_lines: Iterable[Mapping[str, Any]] = (),
    attachments: Iterable[NewAttachment] = (),
    message: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """A new ticket from `data` (TICKET_FIELDS). `assignee`: a user (needs ``assign`` when not
    `by`), else the queue's automatic assignment when it has one. `order_lines`: {"order_line",
    "quantity", "action", "note"} for after-sales types. `message`: the customer's first message
    as it arrived (e-mail: from_name, from_email, subject, message_id, in_reply_to, references) —
    the description becomes that message's body."""
    if by is not None:
        owned.check_action(by, Ticket, Action.ADD)
    moment = _now(now)
    values = dict(data)
    ticket_type = (
        values.get("type") or TicketType.objects.filter(is_active=True).order_by("position", "pk").first()
    )
    values["type"] = ticket_type
    if ticket_type is not None:
        values.setdefault("priority", ticket_type.default_priority)
        if values.get("queue") is None and ticket_type.default_queue_id:
            values["queue"] = ticket_type.default_queue
    values.setdefault("channel", TicketChannel.PHONE if by is not None else TicketChannel.API)
    ticket = Ticket(created_by=_user_or_none(by), type=ticket_type)
    _clean_values(ticket, by, values, creating=True)
    ticket.status = initial_status(ticket.type)
    ticket.state = ticket.status.state
    ticket.number = sequence_next(key="ticket", prefix="TK")
    ticket.save()
    if now is not None:
        Ticket.objects.filter(pk=ticket.pk).update(created_at=moment)
        ticket.created_at = moment
    TicketStatusHistory.objects.create(
        ticket=ticket,
        to_status=ticket.status,
        to_state=ticket.state,
        changed_by=_user_or_none(by),
        changed_at=moment,
    )
    for line in order_lines:
        _order_line_add(ticket, line)
    first = None
    if message is not None or ticket.description:
        meta = dict(message or {})
        first = TicketMessage.objects.create(
            ticket=ticket,
            kind=MessageKind.CUSTOMER if by is None or message is not None else MessageKind.NOTE,
            author=_user_or_none(by) if message is None else None,
            from_name=str(meta.get("from_name") or ticket.requester_name)[:200],
            from_email=str(meta.get("from_email") or ticket.requester_email)[:254],
            subject=str(meta.get("subject") or ticket.subject)[:255],
            body=ticket.description,
            body_text=ticket.description_text,
            channel=ticket.channel,
            message_id=str(meta.get("message_id") or "")[:255],
            in_reply_to=str(meta.get("in_reply_to") or "")[:255],
            references=str(meta.get("references") or ""),
            created_at=moment,
        )
        if first.kind == MessageKind.CUSTOMER:
            ticket.last_customer_message_at = moment
    _attachments_add(ticket, first, attachments, by)
    for user in watchers:
        TicketWatcher.objects.get_or_create(ticket=ticket, user=user)
    fields = sla.sla_apply(ticket=ticket, now=moment)
    ticket.save(update_fields=[*fields, "last_customer_message_at"])
    if assignee is not None:
        _assign(ticket, by, assignee, moment, explicit=True)
    elif ticket.queue is not None:
        chosen = pick_assignee(ticket.queue)
        if chosen is not None:
            _assign(ticket, None, chosen, moment, explicit=False)
    if (
        by is not None
        and ticket.assignee_id is None
        and not Ticket.objects.restrict(by, Action.CHANGE).filter(pk=ticket.pk).exists()
    ):
        # nobody else takes it and the creator could not work on it otherwise: the creator handles it
        _assign(ticket, None, by, moment, explicit=False)
    if by is not None:
        owned.recheck_scope(by, ticket, Action.VIEW, transfer=ticket.assignee_id not in (None, by.pk))
    _timeline(
        ticket,
        EVENT_CREATED,
        by,
        moment,
        {"number": ticket.number, "subject": ticket.subject, "channel": ticket.channel},
        contact=True,
    )
    return ticket


@transaction.atomic
def ticket_update(*, ticket: Ticket, by: Any, data: Mapping[str, Any], version: int | None = None) -> Ticket:
    """Edit the ticket's fields (TICKET_FIELDS); a change of priority, type, account or queue
    re-chooses its SLA policy."""
    current = _lock(ticket)
    _check(by, current, Action.CHANGE)
    owned.check_version(current, version)
    if by is not None:
        owned.check_locked_fields(by, Ticket, data, current=current)
    changed = _clean_values(current, by, data, creating=False)
    if "type" in changed and current.status not in type_statuses(current.type):
        raise _invalid({"type": [_("The ticket's status is not in this type's flow; move it first.")]})
    if not changed:
        return current
    if SLA_FIELDS & set(changed):
        changed += sla.sla_apply(ticket=current, now=timezone.now())
    if "queue" in changed and current.assignee_id and not _is_member(current.queue_id, current.assignee_id):
        current.assignee = None
        current.department_id = None
        changed += ["assignee", "department"]
    current.version = F("version") + 1
    current.save(update_fields=[*dict.fromkeys(changed), "version", "updated_at"])
    current.refresh_from_db(fields=["version"])
    if by is not None:
        owned.recheck_scope(by, current, Action.VIEW)
    return current


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Any = _Unchanged()
"""`ticket_edit`'s default for the assignee: leave it as it is (None unassigns)."""


@transaction.atomic
def ticket_edit(
    *,
    ticket: Ticket,
    by: Any,
    data: Mapping[str, Any],
    version: int | None = None,
    assignee: Any = UNCHANGED,
    watchers: Iterable[Any] | None = None,
) -> Ticket:
    """Edit a ticket as its form does, all or nothing: the fields (`ticket_update`: version,
    locked fields, SLA), then the assignee when given (None: unassign; `ticket_assign`'s rules:
    ``assign`` to give it to someone else, a member of the queue), then the watchers when given
    (the whole list: new users start watching, missing ones stop; `ticket_watch`'s rules: each
    must see the ticket). Any refusal undoes the whole edit."""
    current = ticket_update(ticket=ticket, by=by, data=data, version=version)
    if assignee is not UNCHANGED and getattr(assignee, "pk", None) != current.assignee_id:
        current = ticket_assign(ticket=current, by=by, assignee=assignee)
    if watchers is not None:
        wanted = {user.pk: user for user in watchers}
        watching = set(current.watcher_links.values_list("user_id", flat=True))
        for pk, user in wanted.items():
            if pk not in watching:
                ticket_watch(ticket=current, by=by, user=user)
        for pk in sorted(watching - set(wanted)):
            ticket_unwatch(ticket=current, by=by, user=get_user_model()(pk=pk))
    return current


def _order_line_add(ticket: Ticket, data: Mapping[str, Any]) -> TicketOrderLine:
    line = data.get("order_line")
    errors: dict[str, list[str]] = {}
    if line is None or ticket.order_id is None or line.order_id != ticket.order_id:
        errors["order_lines"] = [_("Choose lines of the ticket's order.")]
    try:
        quantity = data.get("quantity")
        quantity = line.quantity if quantity in (None, "") and line is not None else quantity
        from decimal import Decimal

        quantity = Decimal(str(quantity))
    except Exception:
        quantity = None
    if quantity is not None and not quantity.is_finite():  # NaN, sNaN, ±Infinity: no comparison
        message = _("The quantity must be more than 0 and at most the quantity ordered.")
        raise _invalid({"quantity": [message]})
    if quantity is None or quantity <= 0 or (line is not None and quantity > line.quantity):
        errors["order_lines"] = [_("The quantity must be more than 0 and at most the quantity ordered.")]
    if errors or line is None or quantity is None:
        raise _invalid(errors)
    return TicketOrderLine.objects.create(
        ticket=ticket,
        order_line=line,
        quantity=quantity,
        action=str(data.get("action") or ticket.type.after_sales_action or ""),
        note=str(data.get("note") or "")[:255],
    )


@transaction.atomic
def ticket_order_lines_set(
    *, ticket: Ticket, by: Any, lines: Iterable[Mapping[str, Any]]
) -> list[TicketOrderLine]:
    """Replace the order lines an after-sales ticket concerns."""
    current = _lock(ticket)
    _check(by, current, Action.CHANGE)
    current.order_lines.all().delete()
    return [_order_line_add(current, line) for line in lines]


# --- assignment -------------------------------------------------------------------------------


def _is_member(queue_id: int | None, user_id: int) -> bool:
    return queue_id is not None and QueueMember.objects.filter(queue_id=queue_id, user_id=user_id).exists()


def _available_members(queue: Queue) -> list[int]:
    return list(
        QueueMember.objects.filter(queue=queue, is_available=True, user__is_active=True)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )


def pick_assignee(queue: Queue) -> Any:
    """The member the queue's automatic assignment gives the next ticket to, or None (manual, or
    nobody available). Locks the queue row: parallel creations take turns, so round-robin never
    gives two tickets to one member out of turn and least-loaded counts every earlier ticket."""
    if queue.assignment == AssignmentMethod.MANUAL:
        return None
    locked = Queue.objects.select_for_update().get(pk=queue.pk)
    members = _available_members(locked)
    if not members:
        return None
    if locked.assignment == AssignmentMethod.ROUND_ROBIN:
        last = locked.last_assigned_id
        following = [m for m in members if last is None or m > last]
        chosen = following[0] if following else members[0]
    else:
        loads = dict(
            Ticket.objects.filter(assignee_id__in=members, state__in=OPEN_STATES)
            .values_list("assignee_id")
            .annotate(n=Count("id"))
            .values_list("assignee_id", "n")
        )
        chosen = min(members, key=lambda m: (loads.get(m, 0), m))
    Queue.objects.filter(pk=locked.pk).update(last_assigned_id=chosen)
    return get_user_model().objects.get(pk=chosen)


def _assign(ticket: Ticket, by: Any, assignee: Any, moment: dt.datetime, *, explicit: bool) -> list[str]:
    if assignee is not None:
        if not getattr(assignee, "is_active", False):
            raise _invalid({"assignee": [_("Not an active user.")]})
        staffed = (
            ticket.queue_id and explicit and QueueMember.objects.filter(queue_id=ticket.queue_id).exists()
        )
        if staffed and not _is_member(ticket.queue_id, assignee.pk):
            raise _invalid({"assignee": [_("Choose a member of the ticket's queue.")]})
        others = by is not None and assignee.pk != by.pk
        if others and not Ticket.objects.restrict(by, Action.ASSIGN).filter(pk=ticket.pk).exists():
            raise PermissionDeniedError(
                _("You may not assign tickets to other users."),
                fields={"assignee": [_("You may not assign tickets to other users.")]},
            )
    taken_from_other = assignee is None and ticket.assignee_id not in (None, getattr(by, "pk", None))
    if (
        by is not None
        and taken_from_other
        and not Ticket.objects.restrict(by, Action.ASSIGN).filter(pk=ticket.pk).exists()
    ):
        raise PermissionDeniedError(
            _("You may not take tickets away from other users."),
            fields={"assignee": [_("You may not assign tickets to other users.")]},
        )
    before = ticket.assignee_id
    ticket.assignee = assignee
    ticket.department_id = getattr(assignee, "department_id", None) if assignee is not None else None
    changed = ["assignee", "department"]
    if assignee is not None and ticket.state == TicketState.NEW:
        target = status_for_state(ticket, TicketState.ASSIGNED)
        if target is not None:
            changed += _move(ticket, by, target, moment, note="")
    _save(ticket, changed)
    if before != getattr(assignee, "pk", None):
        _timeline(
            ticket,
            EVENT_ASSIGNED,
            by,
            moment,
            {"assignee": str(assignee) if assignee is not None else "", "auto": not explicit},
        )
        if assignee is not None and getattr(by, "pk", None) != assignee.pk:
            _notify(
                [assignee.pk],
                ticket,
                by,
                KIND_ASSIGNED,
                lambda: (
                    _("Ticket %(number)s was assigned to you: %(subject)s")
                    % {"number": ticket.number, "subject": ticket.subject}
                ),
            )
    return changed


@transaction.atomic
def ticket_assign(
    *, ticket: Ticket, by: Any, assignee: Any = None, queue: Queue | None = None, auto: bool = False
) -> Ticket:
    """Give the ticket to `assignee` (None: unassign), optionally moving it to `queue` first;
    `auto`: let the queue's assignment choose."""
    current = _lock(ticket)
    _check(by, current, Action.CHANGE)
    moment = timezone.now()
    if queue is not None and queue.pk != current.queue_id:
        if not queue.is_active:
            raise _invalid({"queue": [_("This queue is no longer in use.")]})
        current.queue = queue
        fields = ["queue", *sla.sla_apply(ticket=current, now=moment)]
        current.save(update_fields=fields)
        if assignee is None and current.assignee_id and not _is_member(queue.pk, current.assignee_id):
            _assign(current, by, None, moment, explicit=True)
    if auto:
        if current.queue_id is None:
            raise _invalid({"queue": [_("Choose a queue first.")]})
        assignee = pick_assignee(current.queue) if current.queue is not None else None
        if assignee is None:
            raise ServiceError(_("Nobody in this queue takes new tickets now."), code="nobody_available")
        _assign(current, None, assignee, moment, explicit=False)
    elif assignee is not None or queue is None:
        _assign(current, by, assignee, moment, explicit=True)
    return current


# --- status moves -----------------------------------------------------------------------------


def _move(ticket: Ticket, by: Any, target: TicketStatus, moment: dt.datetime, *, note: str) -> list[str]:
    """Move the (locked) ticket to `target`; the caller saves the returned fields."""
    old_status, old_state = ticket.status, ticket.state
    new_state = target.state
    ticket.status = target
    ticket.state = new_state
    changed = ["status", "state"]
    if new_state == TicketState.RESOLVED:
        ticket.resolved_at = moment
        changed.append("resolved_at")
    if new_state == TicketState.CLOSED:
        ticket.closed_at = moment
        changed.append("closed_at")
        if ticket.resolved_at is None:
            ticket.resolved_at = moment
            changed.append("resolved_at")
    if old_state in DONE_STATES and new_state in OPEN_STATES:
        ticket.reopened_count += 1
        ticket.resolved_at = None
        ticket.closed_at = None
        changed += ["reopened_count", "resolved_at", "closed_at"]
    changed += sla.sla_on_state_change(ticket=ticket, old_state=old_state, new_state=new_state, now=moment)
    last = TicketStatusHistory.objects.filter(ticket=ticket).order_by("-changed_at", "-id").first()
    TicketStatusHistory.objects.create(
        ticket=ticket,
        from_status=old_status,
        to_status=target,
        from_state=old_state,
        to_state=new_state,
        changed_by=_user_or_none(by),
        changed_at=moment,
        seconds_in_previous=max(0, int((moment - last.changed_at).total_seconds())) if last else None,
        note=note[:500],
    )
    _timeline(
        ticket,
        EVENT_STATUS,
        by,
        moment,
        {
            "from": old_status.code,
            "to": target.code,
            "from_state": old_state,
            "to_state": new_state,
            "note": note,
        },
    )
    if new_state == TicketState.RESOLVED and old_state != TicketState.RESOLVED:
        ticket_id = ticket.pk
        transaction.on_commit(lambda: _csat(ticket_id))
    return changed


def _csat(ticket_id: int) -> None:
    from ..tasks import csat_on_ticket_resolved

    csat_on_ticket_resolved.delay(ticket_id)


def _check_allowed(ticket: Ticket, status: TicketStatus) -> None:
    if status not in allowed_next(ticket):
        raise ServiceError(
            _("A ticket in “%(from)s” cannot move to “%(to)s”.") % {"from": ticket.status, "to": status},
            code=ServiceError.BAD_TRANSITION,
            fields={"status": [_("Choose one of the statuses this ticket may move to.")]},
        )


@transaction.atomic
def ticket_move(
    *, ticket: Ticket, by: Any, status: TicketStatus, note: str = "", now: dt.datetime | None = None
) -> Ticket:
    """Move the ticket to `status` (which its flow allows)."""
    current = _lock(ticket)
    _check(by, current, Action.CHANGE)
    if status.pk == current.status_id:
        return current
    _check_allowed(current, status)
    if current.merged_into_id and status.state in OPEN_STATES:
        raise ServiceError(_("A merged ticket cannot be reopened."), code="merged")
    moment = _now(now)
    fields = _move(current, by, status, moment, note=note.strip())
    _save(current, fields)
    _notify_watchers(
        current,
        by,
        lambda: _("Ticket %(number)s is now “%(status)s”") % {"number": current.number, "status": status},
    )
    return current


def _move_to_state(ticket: Ticket, by: Any, state: str, moment: dt.datetime, *, note: str = "") -> list[str]:
    target = status_for_state(ticket, state)
    return _move(ticket, by, target, moment, note=note) if target is not None else []


@transaction.atomic
def ticket_resolve(*, ticket: Ticket, by: Any, note: str = "") -> Ticket:
    current = _lock(ticket)
    _check(by, current, Action.CHANGE)
    if current.state == TicketState.RESOLVED:
        return current
    fields = _move_to_state(current, by, TicketState.RESOLVED, timezone.now(), note=note)
    if not fields:
        raise ServiceError(_("This ticket's flow has no resolved status."), code=ServiceError.BAD_TRANSITION)
    _save(current, fields)
    return current


@transaction.atomic
def ticket_reopen(*, ticket: Ticket, by: Any, note: str = "") -> Ticket:
    current = _lock(ticket)
    _check(by, current, Action.CHANGE)
    if current.state not in DONE_STATES:
        raise ServiceError(
            _("Only a resolved or closed ticket can be reopened."), code=ServiceError.BAD_TRANSITION
        )
    if current.merged_into_id:
        raise ServiceError(_("A merged ticket cannot be reopened."), code="merged")
    fields = _move_to_state(current, by, TicketState.IN_PROGRESS, timezone.now(), note=note)
    fields = fields or _move_to_state(current, by, TicketState.NEW, timezone.now(), note=note)
    _save(current, fields)
    return current


# --- conversation -----------------------------------------------------------------------------


def _message(ticket: Ticket, **values: Any) -> TicketMessage:
    body = sanitize_html(str(values.pop("body", "") or ""))
    if not html_to_text(body).strip() and not values.get("allow_empty"):
        raise _invalid({"body": [_("Write a message.")]})
    values.pop("allow_empty", None)
    return TicketMessage.objects.create(ticket=ticket, body=body, body_text=html_to_text(body), **values)


@transaction.atomic
def ticket_reply(
    *,
    ticket: Ticket,
    by: Any,
    body: str,
    cc: str = "",
    articles: Iterable[Any] = (),
    attachments: Iterable[NewAttachment] = (),
    status: TicketStatus | None = None,
    now: dt.datetime | None = None,
) -> TicketMessage:
    """An agent's answer to the customer: on the ticket, e-mailed (after commit) when the ticket
    has the requester's or contact's address, first/next response timers met. `status`: where the
    ticket goes next (e.g. "waiting on customer"); else a new/assigned ticket goes "in progress"."""
    current = _lock(ticket)
    _check(by, current, Action.CHANGE)
    if current.merged_into_id:
        raise ServiceError(_("Reply on the ticket this one was merged into."), code="merged")
    moment = _now(now)
    to = current.requester_email or (current.contact.email if current.contact_id and current.contact else "")
    message = _message(
        current,
        kind=MessageKind.REPLY,
        author=_user_or_none(by),
        from_name=str(by) if by is not None else "",
        to=to,
        cc=cc.strip(),
        subject=current.subject,
        body=body,
        channel=TicketChannel.EMAIL if to else current.channel,
        delivery=DeliveryStatus.QUEUED if to else DeliveryStatus.NONE,
        created_at=moment,
    )
    chosen = list(articles)
    if chosen:
        from ..models import TicketArticle

        message.articles.set(chosen)
        for article in chosen:
            TicketArticle.objects.get_or_create(
                ticket=current, article=article, defaults={"linked_by": _user_or_none(by)}
            )
    _attachments_add(current, message, attachments, by)
    fields = ["last_agent_message_at"]
    current.last_agent_message_at = moment
    if current.first_responded_at is None:
        current.first_responded_at = moment
        fields.append("first_responded_at")
    fields += sla.sla_on_agent_reply(ticket=current, now=moment)
    if status is not None and status.pk != current.status_id:
        _check_allowed(current, status)
        fields += _move(current, by, status, moment, note="")
    elif current.state in (TicketState.NEW, TicketState.ASSIGNED):
        fields += _move_to_state(current, by, TicketState.IN_PROGRESS, moment)
    _save(current, fields)
    _timeline(
        current,
        EVENT_REPLIED,
        by,
        moment,
        {"number": current.number, "title": current.subject, "body": message.body_text[:500]},
        contact=True,
    )
    if message.delivery == DeliveryStatus.QUEUED:
        message_id = message.pk
        transaction.on_commit(lambda: _send(message_id))
    return message


def _send(message_id: int) -> None:
    from ..tasks import ticket_message_send

    ticket_message_send.delay(message_id)


@transaction.atomic
def ticket_add_note(
    *,
    ticket: Ticket,
    by: Any,
    body: str,
    attachments: Iterable[NewAttachment] = (),
    status: TicketStatus | None = None,
    now: dt.datetime | None = None,
) -> TicketMessage:
    """An internal note: agents only, never e-mailed, no effect on timers. `status`: move the
    ticket too, in the same transaction (a refused move keeps the note out as well)."""
    current = _lock(ticket)
    _check(by, current, Action.CHANGE)
    moment = _now(now)
    message = _message(
        current,
        kind=MessageKind.NOTE,
        author=_user_or_none(by),
        from_name=str(by) if by is not None else "",
        body=body,
        created_at=moment,
    )
    _attachments_add(current, message, attachments, by, public=False)
    if status is not None and status.pk != current.status_id:
        _check_allowed(current, status)
        fields = _move(current, by, status, moment, note="")
        _save(current, fields)
    return message


@transaction.atomic
def ticket_add_customer_message(
    *,
    ticket: Ticket,
    body: str,
    from_name: str = "",
    from_email: str = "",
    subject: str = "",
    channel: str = TicketChannel.EMAIL,
    message_id: str = "",
    in_reply_to: str = "",
    references: str = "",
    attachments: Sequence[NewAttachment] = (),
    by: Any = None,
    now: dt.datetime | None = None,
) -> TicketMessage:
    """What the customer wrote (e-mail, the status page, or logged by an agent as `by`). A message
    on a resolved/closed ticket reopens it; on one waiting on the customer, it goes back to "in
    progress"; the next-response timer starts; the assignee and watchers are told."""
    current = _lock(ticket)
    if by is not None:
        _check(by, current, Action.CHANGE)
    if current.merged_into_id and current.merged_into is not None:
        current = _lock(current.merged_into)
    moment = _now(now)
    message = _message(
        current,
        kind=MessageKind.CUSTOMER,
        author=_user_or_none(by),
        from_name=from_name.strip()[:200] or current.requester_name,
        from_email=from_email.strip().lower()[:254] or current.requester_email,
        subject=subject.strip()[:255],
        body=body,
        channel=channel,
        message_id=message_id[:255],
        in_reply_to=in_reply_to[:255],
        references=references,
        created_at=moment,
        allow_empty=bool(attachments),
    )
    _attachments_add(current, message, attachments, by)
    current.last_customer_message_at = moment
    fields = ["last_customer_message_at", *sla.sla_on_customer_message(ticket=current, now=moment)]
    if current.state in DONE_STATES or current.state == TicketState.WAITING:
        fields += _move_to_state(current, by, TicketState.IN_PROGRESS, moment)
    _save(current, fields)
    _timeline(
        current,
        EVENT_CUSTOMER_MESSAGE,
        by,
        moment,
        {
            "number": current.number,
            "title": message.subject or current.subject,
            "body": message.body_text[:500],
        },
        contact=True,
    )
    recipients = [current.assignee_id] if current.assignee_id else []
    _notify_watchers(
        current,
        by,
        lambda: _("New message from the customer on ticket %(number)s") % {"number": current.number},
        also=recipients,
    )
    return message


# --- attachments ------------------------------------------------------------------------------


def check_attachment(item: NewAttachment) -> tuple[str, int, str]:
    """(clean name, size, content type) of an acceptable file, else a field error on "attachments"
    (the accepted types and largest size are the settings KEHU_ATTACHMENT_TYPES/MAX_BYTES, the
    content must match the type)."""
    upload = ContentFile(item.content, name=item.name)
    try:
        name, size, content_type = check_upload(upload)
    except DomainError as exc:
        raise _invalid({"attachments": [f"{item.name}: {exc}"]}) from exc
    return name, size, content_type


def _attachments_add(
    ticket: Ticket,
    message: TicketMessage | None,
    items: Iterable[NewAttachment],
    by: Any,
    *,
    public: bool = True,
) -> list[TicketAttachment]:
    made = []
    for item in items:
        name, size, content_type = check_attachment(item)
        attachment = TicketAttachment(
            ticket=ticket,
            message=message,
            name=name,
            size=size,
            content_type=item.content_type or content_type,
            content_id=item.content_id[:255],
            is_public=public and item.is_public,
            uploaded_by=_user_or_none(by),
        )
        attachment.file.save(name, ContentFile(item.content), save=False)
        attachment.save()
        made.append(attachment)
    return made


@transaction.atomic
def ticket_attachment_add(
    *, ticket: Ticket, by: Any, attachments: Sequence[NewAttachment], public: bool = True
) -> list[TicketAttachment]:
    current = _lock(ticket)
    _check(by, current, Action.CHANGE)
    return _attachments_add(current, None, attachments, by, public=public)


@transaction.atomic
def ticket_attachment_delete(*, attachment: TicketAttachment, by: Any) -> None:
    current = _lock(attachment.ticket)
    _check(by, current, Action.CHANGE)
    storage, name = attachment.file.storage, attachment.file.name
    attachment.delete()
    if name:
        transaction.on_commit(lambda: storage.delete(name))


# --- watchers ---------------------------------------------------------------------------------


@transaction.atomic
def ticket_watch(*, ticket: Ticket, by: Any, user: Any = None) -> None:
    """`user` (default: `by`) follows the ticket. Watching needs "view"; adding someone else, "change"."""
    user = user or by
    _check(by, ticket, Action.VIEW if user == by else Action.CHANGE)
    if not Ticket.objects.restrict(user, Action.VIEW).filter(pk=ticket.pk).exists():
        raise _invalid({"user": [_("This user cannot see the ticket.")]})
    TicketWatcher.objects.get_or_create(ticket=ticket, user=user)


@transaction.atomic
def ticket_unwatch(*, ticket: Ticket, by: Any, user: Any = None) -> None:
    user = user or by
    _check(by, ticket, Action.VIEW if user == by else Action.CHANGE)
    TicketWatcher.objects.filter(ticket=ticket, user=user).delete()


# --- merge and split --------------------------------------------------------------------------


def _identities(ticket: Ticket) -> set[str]:
    found = {ticket.requester_email.lower()} if ticket.requester_email else set()
    if ticket.contact_id and ticket.contact is not None and ticket.contact.email:
        found.add(ticket.contact.email.lower())
    return found


def _same_requester(one: Ticket, other: Ticket) -> bool:
    """Whether two tickets come from the same customer: the same contact, or a requester/contact
    e-mail in common. A ticket with neither (logged by an agent) goes with its account's tickets
    (or, without an account, with other tickets without one)."""
    if one.contact_id and one.contact_id == other.contact_id:
        return True
    mine, theirs = _identities(one), _identities(other)
    if (not one.contact_id and not mine) or (not other.contact_id and not theirs):
        return one.account_id == other.account_id  # both without an account: no customer to mix up
    return bool(mine & theirs)


@transaction.atomic
def ticket_merge(*, source: Ticket, target: Ticket, by: Any, note: str = "") -> Ticket:
    """Merge the duplicate `source` into `target`: its messages, attachments, watchers and
    article links move to the target (e-mail replies to the source thread into the target), the
    source is closed with `merged_into` set. Both get a system line."""
    if source.pk == target.pk:
        raise _invalid({"target": [_("Choose another ticket to merge into.")]})
    first, second = sorted([source, target], key=lambda t: t.pk)
    _lock(first), _lock(second)  # in id order: two opposite merges never deadlock
    src, dst = _lock(source), _lock(target)
    _check(by, src, Action.CHANGE)
    _check(by, dst, Action.CHANGE)
    if src.merged_into_id:
        raise ServiceError(_("This ticket was already merged."), code="merged")
    if dst.merged_into_id:
        raise _invalid(
            {"target": [_("That ticket was itself merged; choose the ticket it was merged into.")]}
        )
    if src.account_id and dst.account_id and src.account_id != dst.account_id:
        raise _invalid({"target": [_("Only tickets of the same account can be merged.")]})
    # the target's requester sees the merged conversation on their status page: only one
    # customer's tickets may be merged (same contact, or same requester e-mail)
    if not _same_requester(src, dst):
        raise _invalid(
            {"target": [_("Only tickets of the same customer (contact or e-mail) can be merged.")]}
        )
    moment = timezone.now()
    TicketMessage.objects.filter(ticket=src).update(ticket=dst)
    TicketAttachment.objects.filter(ticket=src).update(ticket=dst)
    for user_id in TicketWatcher.objects.filter(ticket=src).values_list("user_id", flat=True):
        TicketWatcher.objects.get_or_create(ticket=dst, user_id=user_id)
    from ..models import TicketArticle

    for article_id in TicketArticle.objects.filter(ticket=src).values_list("article_id", flat=True):
        TicketArticle.objects.get_or_create(ticket=dst, article_id=article_id)
    fields = ["merged_into"]
    src.merged_into = dst
    closed = status_for_state(src, TicketState.CLOSED)
    if closed is not None and src.state != TicketState.CLOSED:
        fields += _move(src, by, closed, moment, note=note)
    _save(src, fields)
    _system_line(dst, by, f"merged:{src.number}", moment)
    for obj, other in ((src, dst), (dst, src)):
        _timeline(
            obj,
            EVENT_MERGED,
            by,
            moment,
            {"source": src.number, "target": dst.number, "other": other.number, "note": note},
        )
    return dst


@transaction.atomic
def ticket_split(*, ticket: Ticket, by: Any, messages: Iterable[TicketMessage], subject: str = "") -> Ticket:
    """A new ticket (same account, contact, type, queue, priority; `split_from` set) taking the
    chosen customer messages (and their attachments) of `ticket`: for a second question asked in
    the same thread."""
    current = _lock(ticket)
    _check(by, current, Action.CHANGE)
    chosen = [m for m in messages if m.ticket_id == current.pk]
    if not chosen:
        raise _invalid({"messages": [_("Choose the messages that go to the new ticket.")]})
    first = min(chosen, key=lambda m: (m.created_at, m.pk))
    if not first.body_text.strip() and not first.attachments.exists():
        raise _invalid({"messages": [_("Choose messages with content.")]})
    data = {
        "subject": subject.strip() or first.subject or current.subject,
        "description": first.body,
        "type": current.type,
        "priority": current.priority,
        "channel": current.channel,
        "category": current.category,
        "account": current.account,
        "contact": current.contact,
        "requester_name": current.requester_name,
        "requester_email": current.requester_email,
        "product": current.product,
        "queue": current.queue,
    }
    if by is not None:
        owned.check_action(by, Ticket, Action.ADD)
    # the same records as the ticket's (the user may change it; they need not see its account)
    keeper = current.assignee if current.assignee is not None and current.assignee.is_active else None
    new = ticket_create(by=None, data=data, assignee=keeper)
    if by is not None:
        Ticket.objects.filter(pk=new.pk).update(created_by=by)
    ids = [m.pk for m in chosen]
    TicketMessage.objects.filter(pk__in=ids).update(ticket=new)
    TicketAttachment.objects.filter(message_id__in=ids).update(ticket=new)
    # the new ticket's own first message repeats the description: keep the moved originals only
    TicketMessage.objects.filter(ticket=new).exclude(pk__in=ids).filter(
        kind__in=(MessageKind.CUSTOMER, MessageKind.NOTE)
    ).delete()
    Ticket.objects.filter(pk=new.pk).update(split_from=current)
    new.split_from = current
    moment = timezone.now()
    for obj, other in ((current, new), (new, current)):
        _system_line(obj, by, f"split:{other.number}", moment)
        _timeline(obj, EVENT_SPLIT, by, moment, {"source": current.number, "target": new.number})
    return new


# --- notifications ----------------------------------------------------------------------------


def _notify(recipients: Iterable[int], ticket: Ticket, by: Any, kind: str, title: Any) -> None:
    """Notify each recipient in their own language (`title` is called under it)."""
    from kehu.notifications.services import notify

    ids = sorted({r for r in recipients if r and r != getattr(by, "pk", None)})
    if not ids:
        return
    for language, group in users_by_language(ids).items():
        with translation.override(language):
            notify(
                recipients=group,
                title=str(title()),
                url=ticket.get_absolute_url(),
                kind=kind,
                actor=_user_or_none(by),
                target=ticket,
            )


def _notify_watchers(ticket: Ticket, by: Any, title: Any, *, also: Iterable[int] = ()) -> None:
    watchers = list(TicketWatcher.objects.filter(ticket=ticket).values_list("user_id", flat=True))
    _notify([*watchers, *also], ticket, by, KIND_ACTIVITY, title)


__all__ = [
    "NewAttachment",
    "allowed_next",
    "check_attachment",
    "initial_status",
    "pick_assignee",
    "status_for_state",
    "ticket_add_customer_message",
    "ticket_add_note",
    "ticket_assign",
    "ticket_attachment_add",
    "ticket_attachment_delete",
    "ticket_create",
    "ticket_merge",
    "ticket_move",
    "ticket_order_lines_set",
    "ticket_reopen",
    "ticket_reply",
    "ticket_resolve",
    "ticket_split",
    "ticket_unwatch",
    "ticket_update",
    "ticket_watch",
    "type_statuses",
]
