from __future__ import annotations

import datetime as dt
import decimal
from typing import Any, cast

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kehu.audit import services
from kehu.audit.models import AppendOnlyError, ObjectChange, TimelineEvent
from kehu.core.context import acting_as
from kehu.users.models import Role, User
from kehu.users.tests import factories

pytestmark = pytest.mark.django_db


def RoleFactory(**kwargs: Any) -> Role:
    return cast(Role, factories.RoleFactory(**kwargs))


def UserFactory(**kwargs: Any) -> User:
    return cast(User, factories.UserFactory(**kwargs))


def test_explicit_event_on_an_object_takes_the_context_and_an_explicit_user() -> None:
    actor = UserFactory(username="admin1", display_name="管理员")
    other = UserFactory(username="someone")
    role = RoleFactory(name="Rep", code="rep")
    with acting_as(other.pk, source="api", request_id="req-explicit-01", ip="2001:db8::1"):
        change = services.object_change_record(
            obj=role, action="reveal", changes={"revealed": ["name"]}, by=actor
        )
    change.refresh_from_db()
    assert (change.model, change.object_id, change.object_repr) == ("users.role", role.pk, "Rep")
    assert (change.user_id, change.user_name) == (actor.pk, "管理员")
    assert (change.request_id, change.source, change.ip) == ("req-explicit-01", "api", "2001:db8::1")
    assert change.changes == {"revealed": ["name"]}


def test_explicit_event_on_a_whole_model_has_no_object_id() -> None:
    change = services.object_change_record(obj=User, action="export", changes={"rows": 3})
    assert (change.model, change.object_id, change.object_repr) == ("users.user", None, "users")
    assert change.user_id is None and change.user_name == ""


def test_unknown_actions_are_refused() -> None:
    with pytest.raises(ValueError):
        services.object_change_record(obj=User, action="login")


def test_bad_context_values_are_cleaned_not_fatal() -> None:
    with acting_as(None, source="shell", request_id="x" * 100, ip="not-an-ip"):
        change = services.object_change_record(obj=User, action="export")
    assert change.source == "web"
    assert change.ip is None
    assert len(change.request_id) == 64


def test_bulk_writer_writes_all_rows_in_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    actor = UserFactory(username="importer")
    role = RoleFactory(name="Rep", code="rep")
    monkeypatch.setattr(services, "BULK_BATCH_SIZE", 2)
    rows: list[Any] = [
        (10, "客户十", {"amount": [decimal.Decimal("1.50"), decimal.Decimal("2.00")]}),
        (11, "客户十一", {"signed_on": [None, dt.date(2026, 1, 31)]}),
        (12, "客户十二", None, role),
        (13, "客户十三", {"name": ["a", "b"]}, ("users.role", role.pk)),
        (14, "客户十四", {}),
    ]
    with (
        acting_as(None, source="import", request_id="req-bulk-0001"),
        CaptureQueriesContext(connection) as ctx,
    ):
        written = services.object_changes_record_bulk(model=Role, action="update", rows=rows, by=actor)
    assert written == 5
    inserts = [q for q in ctx.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 3  # batches of 2, 2, 1
    saved = {c.object_id: c for c in ObjectChange.objects.filter(request_id="req-bulk-0001")}
    assert set(saved) == {10, 11, 12, 13, 14}
    assert all(c.bulk and c.user_id == actor.pk and c.source == "import" for c in saved.values())
    assert saved[10].changes == {"amount": ["1.50", "2.00"]}
    assert saved[11].changes == {"signed_on": [None, "2026-01-31"]}
    assert (saved[12].parent_model, saved[12].parent_id) == ("users.role", role.pk)
    assert (saved[13].parent_model, saved[13].parent_id) == ("users.role", role.pk)
    assert len({c.time for c in saved.values()}) == 1


def test_bulk_writer_accepts_a_model_label_and_an_empty_list() -> None:
    assert services.object_changes_record_bulk(model="users.user", action="delete", rows=[]) == 0
    assert services.object_changes_record_bulk(model="users.user", action="delete", rows=[(5, "x", {})]) == 1
    assert ObjectChange.objects.get(object_id=5).model == "users.user"


def test_the_log_is_append_only() -> None:
    change = services.object_change_record(obj=User, action="export")
    change.user_name = "tampered"
    with pytest.raises(AppendOnlyError):
        change.save()
    with pytest.raises(AppendOnlyError):
        change.delete()
    change.refresh_from_db()
    assert change.user_name == ""


def test_timeline_record() -> None:
    actor = UserFactory(username="rep1", display_name="张三")
    role = RoleFactory(name="Rep", code="rep")
    when = dt.datetime(2026, 2, 1, 9, 0, tzinfo=dt.UTC)
    with acting_as(None, request_id="req-timeline-01"):
        event = services.timeline_record(
            event="role.renamed",
            obj=role,
            by=actor,
            data={"old": "Sales", "new": "Rep", "amount": decimal.Decimal("3.10")},
            account_id=42,
            occurred_at=when,
        )
    event = TimelineEvent.objects.get(pk=event.pk)
    assert (event.event, event.model, event.object_id, event.object_repr) == (
        "role.renamed",
        "users.role",
        role.pk,
        "Rep",
    )
    assert (event.actor_id, event.actor_name, event.account_id) == (actor.pk, "张三", 42)
    assert event.data == {"old": "Sales", "new": "Rep", "amount": "3.10"}
    assert event.occurred_at == when
    assert event.request_id == "req-timeline-01"


def test_context_user_name_is_looked_up_once_per_request() -> None:
    actor = UserFactory(username="rep1")
    with acting_as(actor.pk, request_id="req-name-cache"):
        services.object_change_record(obj=User, action="export")
        with CaptureQueriesContext(connection) as ctx:
            change = services.object_change_record(obj=User, action="export")
    assert change.user_name == "rep1"
    assert not any("users_user" in q["sql"] for q in ctx.captured_queries)


def test_revealing_a_masked_value_is_logged_without_the_value() -> None:
    from kehu.core import masking

    viewer = UserFactory(username="viewer1")
    user = UserFactory(username="rep9")
    user.phone = "+8613812345678"
    with acting_as(viewer.pk, request_id="req-reveal-0001"):
        assert masking.reveal_value(user=viewer, obj=user, field="phone") == "+8613812345678"
    change = ObjectChange.objects.get(action="reveal")
    assert (change.model, change.object_id, change.user_id) == ("users.user", user.pk, viewer.pk)
    assert change.changes == {"revealed": ["phone"]}
    assert "13812345678" not in str(change.changes)
