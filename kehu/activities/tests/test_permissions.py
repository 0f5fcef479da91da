"""The permission matrix of interactions and tasks: every page and API operation as anonymous, no
permission, own, department, department and below, and all."""

from __future__ import annotations

import pytest

from kehu.core.choices import Action
from kehu.core.testing import Endpoint, PermissionMatrix
from kehu.customers.tests.factories import AccountFactory
from kehu.users.tests.factories import grant

from .factories import InteractionFactory, TaskFactory

pytestmark = pytest.mark.django_db

INTERACTIONS = "/activities/interactions/"
API_INTERACTIONS = "/api/v1/activities/interactions/"
TASKS = "/activities/tasks/"
API_TASKS = "/api/v1/activities/tasks/"


def _interaction_endpoints() -> list[Endpoint]:
    return [
        Endpoint("html list", "get", lambda o: INTERACTIONS, Action.VIEW, on="list"),
        Endpoint("html detail", "get", lambda o: f"{INTERACTIONS}{o.pk}/", Action.VIEW),
        Endpoint(
            "html add form",
            "get",
            lambda o: f"{INTERACTIONS}add/?account={o.account_id}",
            Action.ADD,
            on="create",
        ),
        Endpoint(
            "html create",
            "post",
            lambda o: f"{INTERACTIONS}add/",
            Action.ADD,
            on="create",
            data=lambda o: {
                "kind": "call",
                "subject": "回访",
                "account": o.account_id,
                "occurred_at": "2025-03-01T10:00",
            },
            writes=True,
            ok=(302,),
        ),
        Endpoint("html edit form", "get", lambda o: f"{INTERACTIONS}{o.pk}/edit/", Action.CHANGE),
        Endpoint(
            "html edit (htmx)",
            "post",
            lambda o: f"{INTERACTIONS}{o.pk}/edit/",
            Action.CHANGE,
            data=lambda o: {
                "kind": "meeting",
                "subject": "改了",
                "account": o.account_id,
                "occurred_at": "2025-03-01T10:00",
                "version": o.version,
            },
            writes=True,
            ok=(204,),
            htmx=True,
        ),
        Endpoint("html delete confirm", "get", lambda o: f"{INTERACTIONS}{o.pk}/delete/", Action.DELETE),
        Endpoint(
            "html delete",
            "post",
            lambda o: f"{INTERACTIONS}{o.pk}/delete/",
            Action.DELETE,
            writes=True,
            ok=(302,),
        ),
        Endpoint("api list", "get", lambda o: API_INTERACTIONS, Action.VIEW, on="list", api=True),
        Endpoint("api retrieve", "get", lambda o: f"{API_INTERACTIONS}{o.pk}/", Action.VIEW, api=True),
        Endpoint(
            "api create",
            "post",
            lambda o: API_INTERACTIONS,
            Action.ADD,
            on="create",
            api=True,
            data=lambda o: {"subject": "API 记录", "kind": "email", "account": o.account_id},
            writes=True,
            ok=(201,),
        ),
        Endpoint(
            "api update",
            "patch",
            lambda o: f"{API_INTERACTIONS}{o.pk}/",
            Action.CHANGE,
            api=True,
            data=lambda o: {"subject": "改", "version": o.version},
            writes=True,
        ),
        Endpoint(
            "api delete",
            "delete",
            lambda o: f"{API_INTERACTIONS}{o.pk}/",
            Action.DELETE,
            api=True,
            writes=True,
            ok=(204,),
        ),
    ]


def test_interaction_permission_matrix(company, client) -> None:
    PermissionMatrix(
        model="activities.interaction",
        make=lambda owner: InteractionFactory.create(owner=owner),
        endpoints=_interaction_endpoints(),
        extra_grants={"customers.account": ["view"]},
        grant=grant,
    ).run(company, client)


def _task_endpoints() -> list[Endpoint]:
    return [
        # newest first: the default order (due soonest) would put the fresh records on a later page
        Endpoint("html list", "get", lambda o: f"{TASKS}?sort=-created_at", Action.VIEW, on="list"),
        Endpoint("html detail", "get", lambda o: f"{TASKS}{o.pk}/", Action.VIEW),
        Endpoint("html add form", "get", lambda o: f"{TASKS}add/", Action.ADD, on="create"),
        Endpoint(
            "html create",
            "post",
            lambda o: f"{TASKS}add/",
            Action.ADD,
            on="create",
            data=lambda o: {
                "title": "打电话",
                "priority": "high",
                "recurrence": "none",
                "due_at": "2025-03-01T10:00",
            },
            writes=True,
            ok=(302,),
        ),
        Endpoint("html edit form", "get", lambda o: f"{TASKS}{o.pk}/edit/", Action.CHANGE),
        Endpoint(
            "html edit (htmx)",
            "post",
            lambda o: f"{TASKS}{o.pk}/edit/",
            Action.CHANGE,
            data=lambda o: {
                "title": "改名",
                "priority": "low",
                "status": "open",
                "recurrence": "none",
                "version": o.version,
            },
            writes=True,
            ok=(204,),
            htmx=True,
        ),
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
            "html cancel", "post", lambda o: f"{TASKS}{o.pk}/cancel/", Action.CHANGE, writes=True, ok=(302,)
        ),
        Endpoint("html delete confirm", "get", lambda o: f"{TASKS}{o.pk}/delete/", Action.DELETE),
        Endpoint(
            "html delete", "post", lambda o: f"{TASKS}{o.pk}/delete/", Action.DELETE, writes=True, ok=(302,)
        ),
        Endpoint("api list", "get", lambda o: API_TASKS, Action.VIEW, on="list", api=True),
        Endpoint("api retrieve", "get", lambda o: f"{API_TASKS}{o.pk}/", Action.VIEW, api=True),
        Endpoint(
            "api create",
            "post",
            lambda o: API_TASKS,
            Action.ADD,
            on="create",
            api=True,
            data=lambda o: {"title": "API 任务", "due_at": "2030-01-01T09:00:00+08:00"},
            writes=True,
            ok=(201,),
        ),
        Endpoint(
            "api update",
            "patch",
            lambda o: f"{API_TASKS}{o.pk}/",
            Action.CHANGE,
            api=True,
            data=lambda o: {"priority": "urgent", "version": o.version},
            writes=True,
        ),
        Endpoint(
            "api complete",
            "post",
            lambda o: f"{API_TASKS}{o.pk}/complete/",
            Action.CHANGE,
            api=True,
            data=lambda o: {},
            writes=True,
        ),
        Endpoint(
            "api delete",
            "delete",
            lambda o: f"{API_TASKS}{o.pk}/",
            Action.DELETE,
            api=True,
            writes=True,
            ok=(204,),
        ),
    ]


def test_task_permission_matrix(company, client) -> None:
    PermissionMatrix(
        model="activities.task",
        make=lambda owner: TaskFactory.create(owner=owner, account=AccountFactory.create(owner=owner)),
        endpoints=_task_endpoints(),
        extra_grants={"customers.account": ["view"]},
        grant=grant,
    ).run(company, client)
