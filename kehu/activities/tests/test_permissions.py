"""The permission matrix of interactions and tasks: every page and API operation as anonymous, no
permission, own, department, department and below, and all."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kehu.activities import calendar
from kehu.core.choices import Action, Scope
from kehu.core.testing import OWNERS, SCENARIOS, Endpoint, PermissionMatrix, crud_endpoints
from kehu.customers.tests.factories import AccountFactory
from kehu.users.tests.factories import grant

from .factories import InteractionFactory, TaskFactory

pytestmark = pytest.mark.django_db

INTERACTIONS = "/activities/interactions/"
API_INTERACTIONS = "/api/v1/activities/interactions/"
TASKS = "/activities/tasks/"
API_TASKS = "/api/v1/activities/tasks/"


def _interaction_endpoints() -> list[Endpoint]:
    return crud_endpoints(
        INTERACTIONS,
        API_INTERACTIONS,
        add_form_url=lambda o: f"{INTERACTIONS}add/?account={o.account_id}",
        create=lambda o: {
            "kind": "call",
            "subject": "回访",
            "account": o.account_id,
            "occurred_at": "2025-03-01T10:00",
        },
        edit=lambda o: {
            "kind": "meeting",
            "subject": "改了",
            "account": o.account_id,
            "occurred_at": "2025-03-01T10:00",
            "version": o.version,
        },
        api_create=lambda o: {"subject": "API 记录", "kind": "email", "account": o.account_id},
        api_update=lambda o: {"subject": "改", "version": o.version},
    )


def test_interaction_permission_matrix(company, client) -> None:
    PermissionMatrix(
        model="activities.interaction",
        make=lambda owner: InteractionFactory.create(owner=owner),
        endpoints=_interaction_endpoints(),
        extra_grants={"customers.account": ["view"]},
        grant=grant,
    ).run(company, client)


def _task_endpoints() -> list[Endpoint]:
    return crud_endpoints(
        TASKS,
        API_TASKS,
        # newest first: the default order (due soonest) would put the fresh records on a later page
        list_url=f"{TASKS}?sort=-created_at",
        create=lambda o: {
            "title": "打电话",
            "priority": "high",
            "recurrence": "none",
            "due_at": "2025-03-01T10:00",
        },
        edit=lambda o: {
            "title": "改名",
            "priority": "low",
            "status": "open",
            "recurrence": "none",
            "version": o.version,
        },
        actions=[
            Endpoint(
                "html complete",
                "post",
                lambda o: f"{TASKS}{o.pk}/complete/",
                Action.CHANGE,
                writes=True,
                ok=(302,),
            ),
            Endpoint(
                "html complete (my day)",
                "post",
                lambda o: f"{TASKS}{o.pk}/complete/?fragment=item",
                Action.CHANGE,
                writes=True,
                htmx=True,
            ),
            Endpoint(
                "html cancel",
                "post",
                lambda o: f"{TASKS}{o.pk}/cancel/",
                Action.CHANGE,
                writes=True,
                ok=(302,),
            ),
        ],
        api_create=lambda o: {"title": "API 任务", "due_at": "2030-01-01T09:00:00+08:00"},
        api_update=lambda o: {"priority": "urgent", "version": o.version},
        api_actions=[
            Endpoint(
                "api complete",
                "post",
                lambda o: f"{API_TASKS}{o.pk}/complete/",
                Action.CHANGE,
                api=True,
                data=lambda o: {},
                writes=True,
            ),
        ],
    )


def test_task_permission_matrix(company, client) -> None:
    PermissionMatrix(
        model="activities.task",
        make=lambda owner: TaskFactory.create(owner=owner, account=AccountFactory.create(owner=owner)),
        endpoints=_task_endpoints(),
        extra_grants={"customers.account": ["view"]},
        grant=grant,
    ).run(company, client)


# --- calendar pages and the iCalendar feed ------------------------------------------------------

CALENDAR = "/activities/calendar/"
DAY = dt.datetime(2026, 3, 11, 2, 0, tzinfo=dt.UTC)  # a Wednesday: inside its month and week grids


class CalendarMatrix(PermissionMatrix):
    """The calendar lists its items as ``data-item="<task|interaction>-<pk>"``."""

    def _listed(self, endpoint: Endpoint, response: Any) -> set[int]:  # type: ignore[override]
        prefix = "task" if self.model == "activities.task" else "interaction"
        return {int(pk) for pk in re.findall(rf'data-item="{prefix}-(\d+)"', response.content.decode())}


def _calendar_url(view: str) -> Callable[[Any], str]:
    return lambda o: f"{CALENDAR}?view={view}&date=2026-03-11&user=all"


def _calendar_endpoints() -> list[Endpoint]:
    return [
        Endpoint(
            f"calendar {view}{' (htmx)' if htmx else ''}",
            "get",
            _calendar_url(view),
            Action.VIEW,
            on="list",
            htmx=htmx,
        )
        for view in ("month", "week")
        for htmx in (False, True)
    ]


def test_calendar_tasks_permission_matrix(company, client) -> None:
    CalendarMatrix(
        model="activities.task",
        make=lambda owner: TaskFactory.create(owner=owner, due_at=DAY),
        endpoints=_calendar_endpoints(),
        actions=(Action.VIEW,),
        grant=grant,
    ).run(company, client)


def test_calendar_meetings_permission_matrix(company, client) -> None:
    CalendarMatrix(
        model="activities.interaction",
        make=lambda owner: InteractionFactory.create(owner=owner, kind="meeting", occurred_at=DAY),
        endpoints=_calendar_endpoints(),
        actions=(Action.VIEW,),
        extra_grants={"customers.account": ["view"]},
        grant=grant,
    ).run(company, client)


def _feed_uids(client: Client, token: str) -> set[str]:
    response = client.get(reverse("activities:calendar_feed_ics", args=[token]))
    assert response.status_code == 200, response.status_code
    return set(re.findall(r"UID:kehu-((?:task|interaction)-\d+)@", response.content.decode()))


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s.actor], ids=lambda s: s.name)
def test_calendar_feed_holds_the_token_owners_items_within_their_scope(company, scenario: Any) -> None:
    """The feed answers to its token alone (no session): the token owner's own tasks and the
    meetings they own or join, as far as their data scope lets them see."""
    actor = getattr(company, scenario.actor)
    if scenario.scope is not None:
        role = getattr(company, scenario.role)
        grant(role, "activities.task", Action.VIEW, scope=scenario.scope)
        grant(role, "activities.interaction", Action.VIEW, scope=scenario.scope)
    soon = timezone.now() + dt.timedelta(days=1)
    owners = list(dict.fromkeys([*OWNERS, scenario.actor]))
    tasks = {o: TaskFactory.create(owner=getattr(company, o), due_at=soon) for o in owners}
    meetings = {}
    for o in owners:
        meeting = InteractionFactory.create(owner=getattr(company, o), kind="meeting", occurred_at=soon)
        meeting.participants.add(actor)
        meetings[o] = meeting
    _feed, token = calendar.calendar_feed_create(user=actor)

    # Another user's session changes nothing: the token decides whose feed it is.
    other = Client()
    other.force_login(company.viewer_all if actor != company.viewer_all else company.rep1)
    for client in (Client(), other):
        uids = _feed_uids(client, token)
        if scenario.scope is None:
            assert uids == set()
            continue
        visible = scenario.visible | {scenario.actor}
        assert uids == {f"task-{tasks[scenario.actor].pk}"} | {
            f"interaction-{m.pk}" for o, m in meetings.items() if o in visible
        }


def test_calendar_feed_revoked_or_replaced_token_answers_404_and_leaks_nothing(company) -> None:
    grant(company.role_rep, "activities.task", Action.VIEW, scope=Scope.OWN)
    TaskFactory.create(owner=company.rep1, title="秘密任务", due_at=timezone.now() + dt.timedelta(days=1))
    _feed, old = calendar.calendar_feed_create(user=company.rep1)
    _feed, token = calendar.calendar_feed_create(user=company.rep1)
    anonymous = Client()
    url = reverse("activities:calendar_feed_ics", args=[old])
    assert anonymous.get(url).status_code == 404  # replaced
    assert len(_feed_uids(anonymous, token)) == 1
    calendar.calendar_feed_revoke(user=company.rep1)
    for client in (anonymous, _signed_in(company.rep1)):  # the owner's own session does not help
        response = client.get(reverse("activities:calendar_feed_ics", args=[token]))
        assert response.status_code == 404
        assert "秘密任务" not in response.content.decode()


def _signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client
