"""Who sees which tickets, and reads of tickets.

Data scopes: a ticket's assignee is its owner (`Ticket.scope_owner_field`), so a role's own /
department / department-and-below / all scopes work as on every owned record. Two extensions widen
them (for users who hold the action on tickets in some scope at all):

* queue members reach their queues' tickets — view, change and assign (an agent works the queue);
* users reach, read-only, the tickets of the accounts they may see (a sales rep sees the tickets
  of their own customers, a manager those of the department's customers).
"""

from __future__ import annotations

import json
from typing import Any

from django.db.models import Q, Subquery
from django.utils.translation import gettext as _

from kehu.core import confcache
from kehu.core.choices import Action

from ..choices import MessageKind, SLAMetric
from ..models import QueueMember, TicketMessage

QUEUE_ACTIONS = (Action.VIEW, Action.CHANGE, Action.ASSIGN)


def member_queue_ids(user: Any) -> list[int]:
    """Ids of the active queues the user is a member of (kept on the user object for the request)."""
    cached = getattr(user, "_kehu_member_queues", None)
    if cached is not None:
        return list(cached)
    ids: list[int] = []
    if user is not None and getattr(user, "is_authenticated", False):
        # (kept per process under the user's and the configuration tokens: a queue's or a
        # membership's save or delete replaces the latter, see hooks/ticket_lists.py)
        ids = confcache.user_cached(user, ("service", "member-queues"), lambda: _member_queue_ids(user.pk))
    user._kehu_member_queues = ids
    return list(ids)


def _member_queue_ids(user_id: int) -> list[int]:
    return sorted(
        QueueMember.objects.filter(user_id=user_id, queue__is_active=True).values_list("queue_id", flat=True)
    )


def forget_queue_membership(user: Any) -> None:
    if hasattr(user, "_kehu_member_queues"):
        del user._kehu_member_queues


def ticket_scope_q(user: Any, action: str) -> Q | None:
    """The scope extension of tickets (registered in hooks/tickets.py)."""
    q: Q | None = None
    if action in QUEUE_ACTIONS:
        ids = member_queue_ids(user)
        if ids:
            q = Q(queue_id__in=ids)
    if action == Action.VIEW:
        from kehu.customers.models import Account

        accounts = Account.objects.restrict(user, Action.VIEW)
        if accounts.query.is_empty():
            return q
        if accounts.query.where:
            own = Q(account_id__in=Subquery(accounts.values("pk")))
        else:
            own = Q(account_id__isnull=False)
        q = own if q is None else q | own
    return q


def system_line_text(message: TicketMessage) -> str:
    """A system line of the conversation in the reader's language. System messages keep what
    happened as `code:argument` in `body_text` ("merged:TK-2026-00012", "split:TK-2026-00013",
    "sla_warning:<metric>", "sla_breach:<metric>:<level>", 'escalated:{"level", "user", "reason"}');
    areas add codes with `register_system_line`. Lines written before as plain text (no known code)
    show as they were written."""
    if message.kind != MessageKind.SYSTEM:
        return message.body_text
    code, _sep, argument = message.body_text.partition(":")
    render = _system_lines.get(code)
    if render is not None:
        return render(argument)
    return message.body_text


def _metric_label(metric: str) -> str:
    return str(dict(SLAMetric.choices).get(metric, metric))


def _sla_warning_line(metric: str) -> str:
    return _("SLA warning: %(metric)s is nearly due.") % {"metric": _metric_label(metric)}


def _sla_breach_line(argument: str) -> str:
    metric, _sep, level = argument.partition(":")
    return _("SLA breached: %(metric)s is overdue; escalated to level %(level)s.") % {
        "metric": _metric_label(metric),
        "level": level,
    }


def _escalated_line(argument: str) -> str:
    """A manual escalation: `argument` is {"level", "user", "reason"} as JSON."""
    try:
        values = json.loads(argument)
        return _("Escalated to level %(level)s by %(user)s: %(reason)s") % {
            "level": values["level"],
            "user": values["user"],
            "reason": values["reason"],
        }
    except (ValueError, TypeError, KeyError):
        return argument


_system_lines: dict[str, Any] = {
    "merged": lambda number: _("Ticket %(number)s was merged into this one.") % {"number": number},
    "split": lambda number: _("Split with ticket %(number)s.") % {"number": number},
    "sla_warning": _sla_warning_line,
    "sla_breach": _sla_breach_line,
    "escalated": _escalated_line,
}


def register_system_line(code: str, render: Any) -> None:
    """`render(argument) -> str` (translated when called)."""
    _system_lines[code] = render
