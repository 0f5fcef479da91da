from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from kehu.audit.models import ObjectChange, TimelineEvent
from kehu.core.choices import Action, Scope
from kehu.core.errors import DomainError, PermissionDeniedError, StaleObjectError
from kehu.core.owned import owner_cascades
from kehu.customers.tests.factories import AccountFactory, ContactFactory
from kehu.users.tests.factories import grant

from .. import services
from ..choices import Recurrence, ReminderStatus, TaskStatus
from ..models import Interaction, Reminder, Task
from .factories import TaskFactory

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")


def _at(year: int, month: int, day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=SH)


# --- interactions -----------------------------------------------------------------------------


def test_logging_an_interaction_records_the_timeline_and_last_contact(sales: Any) -> None:
    account = AccountFactory.create(owner=sales.rep1)
    contact = ContactFactory.create(owner=sales.rep1, account=account)
    when = timezone.now() - dt.timedelta(hours=2)
    interaction = services.interaction_create(
        by=sales.rep1,
        data={
            "kind": "call",
            "subject": "  询价电话 ",
            "occurred_at": when,
            "contact": contact,
            "body": "谈了价格",
        },
    )
    assert interaction.account_id == account.pk  # taken from the contact
    assert interaction.subject == "询价电话"
    assert interaction.owner == sales.rep1 and interaction.department_id == sales.rep1.department_id
    event = TimelineEvent.objects.get(event="interaction.logged", object_id=interaction.pk)
    assert event.account_id == account.pk and event.contact_id == contact.pk
    assert event.data["kind"] == "call" and event.data["title"] == "询价电话"
    account.refresh_from_db()
    contact.refresh_from_db()
    assert account.last_activity_at == when and contact.last_activity_at == when
    assert ObjectChange.objects.filter(model="activities.interaction", object_id=interaction.pk).exists()


def test_last_contact_never_goes_backward(sales: Any) -> None:
    account = AccountFactory.create(owner=sales.rep1)
    recent = timezone.now() - dt.timedelta(hours=1)
    services.interaction_create(
        by=sales.rep1, data={"subject": "新", "occurred_at": recent, "account": account}
    )
    services.interaction_create(
        by=sales.rep1,
        data={"subject": "补录", "occurred_at": recent - dt.timedelta(days=30), "account": account},
    )
    account.refresh_from_db()
    assert account.last_activity_at == recent


def test_next_follow_up_creates_moves_and_cancels_a_task(sales: Any) -> None:
    account = AccountFactory.create(owner=sales.rep1)
    now = timezone.now()
    follow = now + dt.timedelta(days=3)
    interaction = services.interaction_create(
        by=sales.rep1,
        data={
            "subject": "拜访",
            "kind": "visit",
            "occurred_at": now,
            "account": account,
            "next_follow_up_at": follow,
        },
    )
    task = interaction.task
    assert task is not None
    assert (task.owner, task.due_at, task.account_id, task.interaction_id) == (
        sales.rep1,
        follow,
        account.pk,
        interaction.pk,
    )
    assert task.status == TaskStatus.OPEN and "拜访" in task.title

    later = follow + dt.timedelta(days=1)
    interaction = services.interaction_update(
        interaction=interaction, by=sales.rep1, data={"next_follow_up_at": later}, version=interaction.version
    )
    task.refresh_from_db()
    assert task.due_at == later and interaction.task_id == task.pk

    services.interaction_update(interaction=interaction, by=sales.rep1, data={"next_follow_up_at": None})
    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED
    assert Task.objects.count() == 1


def test_interaction_bad_input(sales: Any) -> None:
    account = AccountFactory.create(owner=sales.rep1)
    now = timezone.now()
    with pytest.raises(DomainError) as exc:
        services.interaction_create(
            by=sales.rep1,
            data={
                "subject": "x",
                "occurred_at": now,
                "account": account,
                "next_follow_up_at": now - dt.timedelta(days=1),
            },
        )
    assert "next_follow_up_at" in exc.value.fields
    with pytest.raises(DomainError) as exc:
        services.interaction_create(
            by=sales.rep1,
            data={"subject": "x", "occurred_at": now, "account": account, "duration_minutes": -5},
        )
    assert "duration_minutes" in exc.value.fields
    with pytest.raises(DomainError) as exc:
        services.interaction_create(by=sales.rep1, data={"subject": "x", "occurred_at": now})
    assert "account" in exc.value.fields
    assert Interaction.objects.count() == 0 and Task.objects.count() == 0


def test_interaction_refuses_accounts_and_contacts_out_of_scope(sales: Any) -> None:
    theirs = AccountFactory.create(owner=sales.rep2)
    with pytest.raises(DomainError) as exc:
        services.interaction_create(by=sales.rep1, data={"subject": "x", "account": theirs})
    assert "account" in exc.value.fields
    mine = AccountFactory.create(owner=sales.rep1)
    other_contact = ContactFactory.create(owner=sales.rep1, account=AccountFactory.create(owner=sales.rep1))
    with pytest.raises(DomainError) as exc:
        services.interaction_create(
            by=sales.rep1, data={"subject": "x", "account": mine, "contact": other_contact}
        )
    assert "contact" in exc.value.fields


def test_stale_interaction_edit_is_refused(sales: Any) -> None:
    interaction = services.interaction_create(
        by=sales.rep1, data={"subject": "a", "account": AccountFactory.create(owner=sales.rep1)}
    )
    services.interaction_update(interaction=interaction, by=sales.rep1, data={"subject": "b"}, version=1)
    with pytest.raises(StaleObjectError):
        services.interaction_update(interaction=interaction, by=sales.rep1, data={"subject": "c"}, version=1)
    interaction.refresh_from_db()
    assert interaction.subject == "b"


# --- tasks ------------------------------------------------------------------------------------


def test_task_create_complete_and_timeline(sales: Any) -> None:
    account = AccountFactory.create(owner=sales.rep1)
    task = services.task_create(
        by=sales.rep1,
        data={"title": "发报价", "due_at": timezone.now() + dt.timedelta(hours=3), "account": account},
    )
    assert TimelineEvent.objects.filter(
        event="task.created", object_id=task.pk, account_id=account.pk
    ).exists()
    done = services.task_complete(task=task, by=sales.rep1, version=task.version)
    assert done.status == TaskStatus.DONE and done.completed_at is not None
    assert TimelineEvent.objects.filter(event="task.completed", object_id=task.pk).count() == 1
    # again: no change, no second event
    services.task_complete(task=task, by=sales.rep1)
    assert TimelineEvent.objects.filter(event="task.completed", object_id=task.pk).count() == 1
    reopened = services.task_reopen(task=task, by=sales.rep1)
    assert reopened.status == TaskStatus.OPEN and reopened.completed_at is None
    cancelled = services.task_cancel(task=task, by=sales.rep1)
    assert cancelled.status == TaskStatus.CANCELLED
    with pytest.raises(DomainError):
        services.task_complete(task=task, by=sales.rep1)


def test_task_without_account_writes_no_timeline(sales: Any) -> None:
    task = services.task_create(by=sales.rep1, data={"title": "整理名片"})
    services.task_complete(task=task, by=sales.rep1)
    assert not TimelineEvent.objects.filter(object_id=task.pk, model="activities.task").exists()


def test_assigning_a_task_needs_assign(sales: Any) -> None:
    with pytest.raises(PermissionDeniedError):
        services.task_create(by=sales.rep1, data={"title": "x", "owner": sales.rep2})
    grant(sales.role_manager, "activities.task", Action.ASSIGN, scope=Scope.DEPARTMENT)
    task = services.task_create(by=sales.manager1, data={"title": "x", "owner": sales.rep2})
    assert task.owner == sales.rep2 and task.department_id == sales.rep2.department_id


def test_other_peoples_tasks_cannot_be_completed(sales: Any) -> None:
    task = TaskFactory.create(owner=sales.rep2)
    with pytest.raises(PermissionDeniedError):
        services.task_complete(task=task, by=sales.rep1)
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN
    assert services.task_complete(task=task, by=sales.manager1).status == TaskStatus.DONE


def test_task_bad_input(sales: Any) -> None:
    due = timezone.now() + dt.timedelta(days=2)
    with pytest.raises(DomainError) as exc:
        services.task_create(
            by=sales.rep1,
            data={
                "title": "x",
                "due_at": due,
                "recurrence": "weekly",
                "recurrence_until": due.date() - dt.timedelta(days=5),
            },
        )
    assert "recurrence_until" in exc.value.fields
    with pytest.raises(DomainError) as exc:
        services.task_create(by=sales.rep1, data={"title": "x", "recurrence": "daily"})
    assert "due_at" in exc.value.fields
    with pytest.raises(DomainError) as exc:
        services.task_create(by=sales.rep1, data={"title": "x", "remind_before_minutes": 10})
    assert "remind_before_minutes" in exc.value.fields
    assert Task.objects.count() == 0


# --- recurrence -------------------------------------------------------------------------------


def test_add_months_clamps_to_month_end() -> None:
    jan31 = dt.datetime(2025, 1, 31, 9, 0)
    assert services.add_months(jan31, 1) == dt.datetime(2025, 2, 28, 9, 0)
    assert services.add_months(dt.datetime(2024, 1, 31), 1) == dt.datetime(2024, 2, 29)
    assert services.add_months(dt.datetime(2025, 2, 28), 1, day=31) == dt.datetime(2025, 3, 31)
    assert services.add_months(dt.datetime(2025, 11, 30), 3) == dt.datetime(2026, 2, 28)
    assert services.add_months(dt.datetime(2025, 12, 15), 1) == dt.datetime(2026, 1, 15)


@pytest.mark.parametrize(
    ("recurrence", "interval", "due", "expected"),
    [
        ("daily", 1, _at(2025, 3, 10, 9), _at(2025, 3, 11, 9)),
        ("daily", 3, _at(2025, 3, 30, 9), _at(2025, 4, 2, 9)),
        ("weekly", 2, _at(2025, 3, 10, 9), _at(2025, 3, 24, 9)),
        ("monthly", 1, _at(2025, 1, 31, 9), _at(2025, 2, 28, 9)),
        ("monthly", 1, _at(2024, 1, 31, 9), _at(2024, 2, 29, 9)),
        ("monthly", 12, _at(2024, 2, 29, 9), _at(2025, 2, 28, 9)),
    ],
)
def test_next_due(recurrence: str, interval: int, due: dt.datetime, expected: dt.datetime) -> None:
    task = Task(recurrence=recurrence, recurrence_interval=interval, due_at=due)
    with timezone.override(SH):
        assert services.next_due(task, after=due) == expected


def test_monthly_series_keeps_its_day_after_a_short_month() -> None:
    root = Task(pk=1, recurrence="monthly", recurrence_interval=1, due_at=_at(2025, 1, 31, 9))
    feb = Task(recurrence="monthly", recurrence_interval=1, due_at=_at(2025, 2, 28, 9), series=root)
    with timezone.override(SH):
        assert services.next_due(feb, after=feb.due_at) == _at(2025, 3, 31, 9)


def test_next_due_ends_with_the_series_and_skips_past_occurrences() -> None:
    task = Task(
        recurrence="daily",
        recurrence_interval=1,
        due_at=_at(2025, 3, 10, 9),
        recurrence_until=dt.date(2025, 3, 10),
    )
    with timezone.override(SH):
        assert services.next_due(task, after=task.due_at) is None
        late = Task(recurrence="weekly", recurrence_interval=1, due_at=_at(2025, 3, 3, 9))
        assert services.next_due(late, after=_at(2025, 3, 20, 12)) == _at(2025, 3, 24, 9)
        assert services.next_due(Task(recurrence=Recurrence.NONE, due_at=_at(2025, 3, 3))) is None


def test_completing_a_recurring_task_creates_the_next_occurrence_once(sales: Any) -> None:
    due = timezone.now() + dt.timedelta(hours=1)
    task = services.task_create(
        by=sales.rep1,
        data={
            "title": "周报",
            "due_at": due,
            "recurrence": "weekly",
            "recurrence_interval": 1,
            "remind_before_minutes": 30,
        },
    )
    services.task_complete(task=task, by=sales.rep1)
    nxt = Task.objects.exclude(pk=task.pk).get()
    assert nxt.series_id == task.pk and nxt.status == TaskStatus.OPEN
    assert nxt.due_at == due + dt.timedelta(weeks=1)
    assert (nxt.owner_id, nxt.title, nxt.remind_before_minutes) == (sales.rep1.pk, "周报", 30)
    # reopen and complete again: no duplicate occurrence
    services.task_reopen(task=task, by=sales.rep1)
    services.task_complete(task=task, by=sales.rep1)
    assert Task.objects.count() == 2
    # the occurrence continues the same series
    services.task_complete(task=nxt, by=sales.rep1)
    third = Task.objects.exclude(pk__in=[task.pk, nxt.pk]).get()
    assert third.series_id == task.pk and third.due_at == due + dt.timedelta(weeks=2)


# --- owner cascade ----------------------------------------------------------------------------


def test_account_owner_cascade_moves_open_tasks(sales: Any) -> None:
    account = AccountFactory.create(owner=sales.rep1)
    open_task = TaskFactory.create(owner=sales.rep1, account=account)
    done = TaskFactory.create(owner=sales.rep1, account=account, status=TaskStatus.DONE)
    other = TaskFactory.create(owner=sales.rep1)
    cascade = next(c for c in owner_cascades("customers.account") if c.key == "activities.open_tasks")
    moved = cascade.fn(parent_ids=[account.pk], owner=sales.rep3, by=sales.director)
    assert moved == 1
    open_task.refresh_from_db()
    done.refresh_from_db()
    other.refresh_from_db()
    assert (open_task.owner, open_task.department_id, open_task.version) == (
        sales.rep3,
        sales.rep3.department_id,
        2,
    )
    assert done.owner == sales.rep1 and other.owner == sales.rep1
    change = ObjectChange.objects.get(model="activities.task", object_id=open_task.pk, action="update")
    assert change.changes["owner"] == ["rep1", "rep3"] or change.changes["owner"][1] == str(sales.rep3)


def test_changing_account_owner_with_related_records_moves_open_tasks(sales: Any) -> None:
    from kehu.customers.bulk import accounts_change_owner

    grant(sales.role_director, "customers.account", Action.ASSIGN, scope=Scope.DEPARTMENT_AND_BELOW)
    account = AccountFactory.create(owner=sales.rep1)
    task = TaskFactory.create(owner=sales.rep1, account=account, remind_before_minutes=15)
    result = accounts_change_owner(ids=[account.pk], owner=sales.rep3, with_related=True, by=sales.director)
    assert result.extra["activities.open_tasks"] == 1
    task.refresh_from_db()
    assert task.owner == sales.rep3
    # the reminder follows the new assignee
    pending = Reminder.objects.filter(task=task, status=ReminderStatus.PENDING)
    assert list(pending.values_list("recipient", flat=True)) == [sales.rep3.pk]


def test_participant_contacts_must_be_visible_and_of_the_account(sales: Any) -> None:
    account = AccountFactory.create(owner=sales.rep1)
    buyer = ContactFactory.create(owner=sales.rep1, account=account)
    stranger = ContactFactory.create(owner=sales.rep1)
    data: Any = {"subject": "会议", "account": account, "participant_contacts": [stranger]}
    with pytest.raises(services.ActivitiesError) as err:
        services.interaction_create(by=sales.rep1, data=data)
    assert set(err.value.fields) == {"participant_contacts"}
    interaction = services.interaction_create(by=sales.rep1, data={**data, "participant_contacts": [buyer]})
    assert list(interaction.participant_contacts.all()) == [buyer]
    with pytest.raises(services.ActivitiesError):
        services.interaction_update(
            interaction=interaction, by=sales.rep1, data={"participant_contacts": [buyer, stranger]}
        )
    assert list(interaction.participant_contacts.all()) == [buyer]
