"""The audit app's generic hooks: every app's bulk actions get their operation-log entry from
`kehu.audit.hooks.record_bulk_operation`, registered once by the audit app (not per app)."""

from __future__ import annotations

from typing import Any

import pytest

from kehu.activities.models import Task
from kehu.activities.tests.factories import TaskFactory
from kehu.audit import hooks
from kehu.audit.models import ObjectChange
from kehu.core import bulk
from kehu.core.choices import Action

pytestmark = pytest.mark.django_db


def test_the_audit_app_registers_the_bulk_operation_log_once() -> None:
    assert bulk.bulk_hooks.count(hooks.record_bulk_operation) == 1
    assert all(getattr(h, "__module__", "") != "kehu.customers.bulk" for h in bulk.bulk_hooks)


@pytest.fixture
def noop_action() -> Any:
    def fn(*, ids: list[int], params: dict[str, Any], by: Any, job: Any = None) -> bulk.BulkResult:
        return bulk.BulkResult(done=len(ids))

    bulk.register_bulk_action(
        "activities.task", bulk.BulkAction("noop", "No-op", fn=fn, permission=Action.CHANGE)
    )
    yield
    bulk.unregister_bulk_action("activities.task", "noop")


def test_any_apps_bulk_action_gets_one_operation_log_entry(company: Any, noop_action: Any) -> None:
    tasks = [TaskFactory.create(owner=company.admin) for _ in range(3)]
    outcome = bulk.bulk_start(
        user=company.admin, model=Task, action_key="noop", ids=[t.pk for t in tasks], params={}
    )
    assert outcome.result is not None and outcome.result.done == 3
    entry = ObjectChange.objects.get(model="activities.task", object_id__isnull=True)
    assert entry.action == "update" and entry.user_id == company.admin.pk
    assert {k: entry.changes[k] for k in ("bulk_action", "done", "skipped", "failed")} == {
        "bulk_action": "noop",
        "done": 3,
        "skipped": 0,
        "failed": 0,
    }
    assert entry.changes["selection"]["ids"] == 3
