"""Reads of queues (服务组) and canned responses (快捷回复)."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from kehu.core.choices import Action
from kehu.core.permissions import can

from ..choices import OPEN_STATES
from ..models import CannedResponse, Queue, QueueMember, Ticket
from .tickets import forget_queue_membership
from .tickets import member_queue_ids as _ticket_member_queue_ids


def member_queue_ids(user: Any) -> frozenset[int]:
    """Ids of the active queues `user` is a member of: the ticket scope's own answer
    (`selectors.tickets.member_queue_ids`, one query, then kept on the user object for the
    request), as a set. Anonymous users belong to none."""
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    return frozenset(_ticket_member_queue_ids(user))


def forget_member_queue_ids(user: Any) -> None:
    """Drop the per-request answer of `member_queue_ids` (after changing the user's memberships)."""
    if user is not None:
        forget_queue_membership(user)


def queue_list(*, user: Any, action: str = Action.VIEW, active: bool | None = None) -> QuerySet[Queue]:
    """The queues the user may `action`, with `open_count` (the open tickets the user sees) and
    `member_count`, the manager, and the members (with their user) prefetched: one query for the
    queues (two subqueries count), one for the members."""
    qs = Queue.objects.restrict(user, action)
    if active is not None:
        qs = qs.filter(is_active=active)
    open_tickets = _open_tickets(user).filter(queue_id=_outer_pk())
    members = QueueMember.objects.filter(queue_id=_outer_pk())
    return (
        qs.select_related("manager", "calendar")
        .annotate(open_count=_count_subquery(open_tickets), member_count=_count_subquery(members))
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=QueueMember.objects.select_related("user").order_by("user__username"),
            )
        )
        .order_by("position", "name")
    )


def _open_tickets(user: Any) -> QuerySet[Ticket]:
    """The open tickets `user` may see: queue pages count only these (a user who sees every queue
    but only some tickets must not learn the other teams' numbers)."""
    return Ticket.objects.restrict(user, Action.VIEW).filter(state__in=OPEN_STATES)


def _outer_pk() -> Any:
    return OuterRef("pk")


def _count_subquery(qs: QuerySet[Any]) -> Any:
    counted = (
        qs.order_by().values(qs.model._meta.get_field("queue").attname).annotate(n=Count("pk")).values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def queue_members(queue: Queue, *, user: Any) -> list[QueueMember]:
    """A queue's members with their user and their open tickets in this queue that `user` sees,
    in one query each."""
    members = list(
        QueueMember.objects.filter(queue=queue)
        .select_related("user", "user__department")
        .order_by("user__username")
    )
    loads = dict(
        _open_tickets(user)
        .filter(queue=queue, assignee__isnull=False)
        .order_by()
        .values("assignee")
        .annotate(n=Count("pk"))
        .values_list("assignee", "n")
    )
    for member in members:
        member.open_count = loads.get(member.user_id, 0)  # type: ignore[attr-defined]
    return members


def queue_open_by_state(queue: Queue, *, user: Any) -> dict[str, int]:
    """The queue's open tickets that `user` sees, per state (one grouped query)."""
    rows = (
        _open_tickets(user)
        .filter(queue=queue)
        .order_by()
        .values("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    return dict(rows)


def queue_unassigned_count(queue: Queue, *, user: Any) -> int:
    """The queue's open tickets without an assignee that `user` sees."""
    return _open_tickets(user).filter(queue=queue, assignee__isnull=True).count()


# --- canned responses ---------------------------------------------------------------------------


def _visible_q(user: Any, extra_queue_ids: set[int] | frozenset[int] = frozenset()) -> Q:
    queues = set(member_queue_ids(user)) | set(extra_queue_ids)
    return (
        Q(owner_id=user.pk, is_shared=False)
        | Q(is_shared=True, queue__isnull=True)
        | Q(is_shared=True, queue_id__in=sorted(queues))
    )


def canned_response_list(*, user: Any) -> QuerySet[CannedResponse]:
    """The canned responses the user sees on the settings page: their own personal ones, the
    global ones and those of their queues; users holding "change" on canned responses see every
    shared one too (they manage them). Others' personal responses are never shown."""
    qs = CannedResponse.objects.restrict(user, Action.VIEW)
    if can_manage_all(user):
        cond = Q(owner_id=user.pk) | Q(is_shared=True)
    else:
        managed = set(Queue.objects.filter(manager_id=user.pk).values_list("pk", flat=True))
        cond = _visible_q(user, managed)
    return qs.filter(cond).select_related("queue", "owner").order_by("name", "id")


def can_manage_all(user: Any) -> bool:
    return can(user, CannedResponse, Action.CHANGE)


def canned_responses_for(*, user: Any, ticket: Ticket | None = None) -> QuerySet[CannedResponse]:
    """The active responses an agent may insert: personal (theirs), shared with everyone, and
    shared with their queues (and with the ticket's queue, when a ticket is given). The ticket's
    queue's responses come first, then by name. Users without "view" on canned responses get
    none."""
    extra = {ticket.queue_id} if ticket is not None and ticket.queue_id else set()
    qs = CannedResponse.objects.restrict(user, Action.VIEW).filter(_visible_q(user, extra), is_active=True)
    qs = qs.select_related("queue")
    if extra:
        qs = qs.annotate(
            for_queue=Case(
                When(queue_id__in=extra, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        ).order_by("for_queue", "name", "id")
    else:
        qs = qs.order_by("name", "id")
    return qs


def canned_response_editable_ids(*, user: Any) -> set[int]:
    """Ids of the canned responses `user` may change or delete (see `services.queues.may_edit_canned`):
    their personal ones; every one with "change" on canned responses; the shared ones of the queues
    they manage."""
    if can_manage_all(user):
        cond = Q(owner_id=user.pk) | Q(is_shared=True)
    else:
        cond = Q(owner_id=user.pk, is_shared=False) | Q(is_shared=True, queue__manager_id=user.pk)
    return set(CannedResponse.objects.filter(cond).values_list("pk", flat=True))
