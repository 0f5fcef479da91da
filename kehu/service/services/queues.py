"""Writes of queues (服务组) and their members, and of canned responses (快捷回复).

Every write is atomic and checks the acting user's permission; the generic change recorder
(kehu.audit registry, see hooks/queues.py) records each row written. A queue that has tickets is
never deleted (its history would lose its team): deactivate it instead."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from kehu.core import owned
from kehu.core.choices import Action
from kehu.core.errors import PermissionDeniedError
from kehu.core.permissions import can
from kehu.core.richtext import sanitize_html

from ..choices import AssignmentMethod
from ..models import CannedResponse, Queue, QueueMember, Ticket
from .common import ServiceError

QUEUE_FIELDS = (
    "name",
    "name_en",
    "description",
    "email",
    "assignment",
    "manager",
    "calendar",
    "position",
    "is_active",
)

QUEUE_IN_USE = "queue_in_use"
NOT_A_MEMBER = "not_a_member"


def _invalid(fields: dict[str, list[str]]) -> ServiceError:
    return ServiceError(_("Please correct the errors below."), code="invalid", fields=fields)


# --- queues -------------------------------------------------------------------------------------


def _queue_apply(queue: Queue, data: Mapping[str, Any]) -> None:
    for name in QUEUE_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name in ("name", "name_en", "description", "email"):
            value = str(value or "").strip()
        if name == "position" and value is None:
            value = 0
        if name == "is_active" and value is None:
            continue
        setattr(queue, name, value)
    errors: dict[str, list[str]] = {}
    if not queue.name:
        errors["name"] = [_("This field is required.")]
    elif Queue.objects.filter(name=queue.name).exclude(pk=queue.pk).exists():
        errors["name"] = [_("Another queue has this name.")]
    if queue.assignment not in AssignmentMethod.values:
        errors["assignment"] = [_("Choose a value from the list.")]
    if queue.manager_id is not None and queue.manager is not None and not queue.manager.is_active:
        errors["manager"] = [_("This user is inactive.")]
    if errors:
        raise _invalid(errors)
    owned.full_clean_or_raise(queue, exclude=["members", "last_assigned"])


@transaction.atomic
def queue_create(*, by: Any, data: Mapping[str, Any]) -> Queue:
    """A new queue; `data` may carry `members` (users), who join available for new tickets."""
    owned.check_action(by, Queue, Action.ADD)
    queue = Queue()
    _queue_apply(queue, data)
    queue.save()
    for user in data.get("members") or ():
        _member_add(queue, user)
    return queue


@transaction.atomic
def queue_update(*, queue: Queue, by: Any, data: Mapping[str, Any]) -> Queue:
    owned.check_action(by, Queue, Action.CHANGE)
    queue = Queue.objects.select_for_update().get(pk=queue.pk)
    _queue_apply(queue, data)
    queue.save()
    return queue


@transaction.atomic
def queue_delete(*, queue: Queue, by: Any) -> None:
    """Delete a queue without tickets (its memberships and canned responses go with it). A queue
    with tickets is refused (409): deactivate it instead."""
    owned.check_action(by, Queue, Action.DELETE)
    queue = Queue.objects.select_for_update().get(pk=queue.pk)
    if Ticket.objects.filter(queue=queue).exists():
        raise ServiceError(
            _("Tickets belong to this queue; it cannot be deleted. Deactivate it instead."),
            code=QUEUE_IN_USE,
            status=409,
        )
    for row in [*queue.memberships.all(), *queue.canned_responses.all()]:
        row.delete()  # one by one: the change recorder records each
    queue.delete()


# --- members ------------------------------------------------------------------------------------


def _member_add(queue: Queue, user: Any, *, is_available: bool = True) -> QueueMember:
    if not getattr(user, "is_active", False):
        raise _invalid({"user": [_("This user is inactive.")]})
    found = QueueMember.objects.filter(queue=queue, user=user).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return QueueMember.objects.create(queue=queue, user=user, is_available=is_available)
    except IntegrityError:  # added by a parallel request
        return QueueMember.objects.get(queue=queue, user=user)


@transaction.atomic
def queue_member_add(*, queue: Queue, user: Any, by: Any, is_available: bool = True) -> QueueMember:
    """Add `user` to the queue (idempotent: an existing membership is returned unchanged)."""
    owned.check_action(by, Queue, Action.CHANGE)
    return _member_add(queue, user, is_available=is_available)


@transaction.atomic
def queue_member_remove(*, queue: Queue, user: Any, by: Any) -> None:
    """Remove `user` from the queue; their tickets keep their assignee. Not a member: nothing."""
    owned.check_action(by, Queue, Action.CHANGE)
    for row in QueueMember.objects.filter(queue=queue, user=user):
        row.delete()
    if queue.last_assigned_id == getattr(user, "pk", None):
        Queue.objects.filter(pk=queue.pk).update(last_assigned=None)


@transaction.atomic
def queue_member_set_available(*, queue: Queue, user: Any, is_available: bool, by: Any) -> QueueMember:
    """Whether the member takes new tickets by automatic assignment (off: on leave). Members may
    set their own availability; setting someone else's needs "change" on queues."""
    if getattr(by, "pk", None) != getattr(user, "pk", None):
        owned.check_action(by, Queue, Action.CHANGE)
    member = QueueMember.objects.select_for_update().filter(queue=queue, user=user).first()
    if member is None:
        raise ServiceError(
            _("%(user)s is not a member of this queue.") % {"user": user}, code=NOT_A_MEMBER, status=404
        )
    if member.is_available != bool(is_available):
        member.is_available = bool(is_available)
        member.save(update_fields=["is_available"])
    return member


# --- canned responses ---------------------------------------------------------------------------

CANNED_FIELDS = ("name", "body", "queue", "is_shared", "is_active")


def may_manage_shared(user: Any, queue: Queue | None) -> bool:
    """Shared responses (for everyone, or for one queue) are managed by users holding "change" on
    canned responses; a queue's manager also manages their queue's shared responses."""
    if can(user, CannedResponse, Action.CHANGE):
        return True
    return (
        queue is not None and queue.manager_id is not None and queue.manager_id == getattr(user, "pk", None)
    )


def may_edit_canned(user: Any, response: CannedResponse) -> bool:
    """Whether `user` may change or delete `response`: their own personal one, or a shared one they
    manage (`may_manage_shared`)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if not response.is_shared:
        return response.owner_id == user.pk or can(user, CannedResponse, Action.CHANGE)
    return may_manage_shared(user, response.queue)


def _canned_apply(response: CannedResponse, data: Mapping[str, Any]) -> None:
    for name in CANNED_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name == "name":
            value = str(value or "").strip()
        elif name == "body":
            value = sanitize_html(str(value or "")).strip()
        elif name in ("is_shared", "is_active"):
            if value is None:
                continue
            value = bool(value)
        setattr(response, name, value)
    errors: dict[str, list[str]] = {}
    if not response.name:
        errors["name"] = [_("This field is required.")]
    if not response.body:
        errors["body"] = [_("This field is required.")]
    if response.queue_id is not None and not response.is_shared:
        errors["queue"] = [_("A personal response belongs to no queue: leave the queue empty or share it.")]
    if errors:
        raise _invalid(errors)
    owned.full_clean_or_raise(response)


def _check_shared(by: Any, response: CannedResponse) -> None:
    if response.is_shared and not may_manage_shared(by, response.queue):
        message = _("You may not manage shared canned responses.")
        raise PermissionDeniedError(message, fields={"is_shared": [message]})


@transaction.atomic
def canned_response_create(*, by: Any, data: Mapping[str, Any]) -> CannedResponse:
    """A new canned response owned by `by`: personal (`is_shared` off), for one queue's members
    (`queue`), or for everyone (shared, no queue). Shared ones need `may_manage_shared`."""
    owned.check_action(by, CannedResponse, Action.ADD)
    response = CannedResponse(owner=by)
    _canned_apply(response, data)
    _check_shared(by, response)
    response.save()
    return response


@transaction.atomic
def canned_response_update(*, response: CannedResponse, by: Any, data: Mapping[str, Any]) -> CannedResponse:
    response = (
        CannedResponse.objects.select_for_update(of=("self",)).select_related("queue").get(pk=response.pk)
    )
    if not may_edit_canned(by, response):
        raise PermissionDeniedError(_("You may not change this canned response."))
    _canned_apply(response, data)
    _check_shared(by, response)
    response.save()
    return response


@transaction.atomic
def canned_response_delete(*, response: CannedResponse, by: Any) -> None:
    response = CannedResponse.objects.select_related("queue").get(pk=response.pk)
    if not may_edit_canned(by, response):
        raise PermissionDeniedError(_("You may not delete this canned response."))
    response.delete()


# {{ name }} placeholders a canned response may use; anything else is left as written.
PLACEHOLDERS = ("ticket.number", "ticket.subject", "contact.name", "agent.name")
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}")


def _user_name(user: Any) -> str:
    if user is None:
        return ""
    full = (user.get_full_name() or "").strip() if hasattr(user, "get_full_name") else ""
    return full or getattr(user, "username", "") or ""


def placeholder_values(*, ticket: Ticket | None, user: Any) -> dict[str, str]:
    """The placeholders' values (plain text) for a ticket and the agent writing."""
    contact = ""
    if ticket is not None:
        contact = (
            ticket.contact.name if ticket.contact_id and ticket.contact else ""
        ) or ticket.requester_name
    return {
        "ticket.number": ticket.number if ticket is not None else "",
        "ticket.subject": ticket.subject if ticket is not None else "",
        "contact.name": contact or "",
        "agent.name": _user_name(user),
    }


def canned_response_render(*, response: CannedResponse, ticket: Ticket | None, user: Any) -> str:
    """The response's HTML with its placeholders filled: a whitelist replacement of the names in
    `PLACEHOLDERS` by their HTML-escaped values (no template engine ever sees the text, so a body
    or a ticket subject holding ``{% … %}`` or markup stays inert). Unknown placeholders stay as
    written. The body is sanitised again on the way out."""
    values = placeholder_values(ticket=ticket, user=user)

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        return html.escape(values[name], quote=True)

    return sanitize_html(_PLACEHOLDER.sub(fill, response.body))


def canned_response_used(*, response: CannedResponse) -> None:
    """Count one use (an atomic F() increment: parallel inserts never lose a count)."""
    CannedResponse.objects.filter(pk=response.pk).update(usage_count=F("usage_count") + 1)
