"""Task reminders: planning with the task services, sending once, late runs, language, preferences."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connections
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kehu.activities import preferences, reminders, services
from kehu.activities import tasks as celery_tasks
from kehu.activities.choices import ReminderStatus
from kehu.activities.models import Reminder, Task
from kehu.activities.tests.factories import TaskFactory
from kehu.core.choices import Action, Scope
from kehu.customers.tests.factories import AccountFactory
from kehu.notifications import services as notification_services
from kehu.notifications.models import Notification
from kehu.users.models import User
from kehu.users.tests.factories import grant

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


def _task(
    sales: Any, *, due_in: dt.timedelta = dt.timedelta(days=1), remind: int | None = 30, **data: Any
) -> Task:
    values: Any = {
        "title": "回访华为",
        "due_at": timezone.now() + due_in,
        "remind_before_minutes": remind,
        **data,
    }
    return services.task_create(by=sales.rep1, data=values)


def _due(task: Task) -> dt.datetime:
    assert task.due_at is not None
    return task.due_at


def _pending(task: Task) -> list[tuple[int, dt.datetime]]:
    return list(
        Reminder.objects.filter(task=task, status=ReminderStatus.PENDING).values_list(
            "recipient_id", "remind_at"
        )
    )


# --- planning ---------------------------------------------------------------------------------


def test_creating_a_task_plans_one_reminder_for_the_assignee(sales: Any) -> None:
    task = _task(sales)
    assert _pending(task) == [(sales.rep1.pk, _due(task) - dt.timedelta(minutes=30))]
    reminders.reminder_schedule_for_task(task=task)  # idempotent
    reminders.reminder_schedule_for_task(task=task)
    assert Reminder.objects.filter(task=task).count() == 1


def test_no_reminder_without_remind_before_or_for_a_task_already_due(sales: Any) -> None:
    assert _pending(_task(sales, remind=None)) == []
    assert _pending(_task(sales, due_in=-HOUR)) == []
    assert _pending(services.task_create(by=sales.rep1, data={"title": "无期限"})) == []


def test_changing_the_due_time_reschedules(sales: Any) -> None:
    task = _task(sales)
    new_due = _due(task) + dt.timedelta(days=2)
    task = services.task_update(task=task, by=sales.rep1, data={"due_at": new_due}, version=task.version)
    assert _pending(task) == [(sales.rep1.pk, new_due - dt.timedelta(minutes=30))]
    assert Reminder.objects.filter(task=task, status=ReminderStatus.CANCELLED).count() == 1
    task = services.task_update(
        task=task, by=sales.rep1, data={"remind_before_minutes": 0}, version=task.version
    )
    assert _pending(task) == [(sales.rep1.pk, new_due)]
    task = services.task_update(
        task=task, by=sales.rep1, data={"remind_before_minutes": None}, version=task.version
    )
    assert _pending(task) == []


def test_reassigning_moves_the_reminder_to_the_new_assignee(sales: Any) -> None:
    grant(sales.role_manager, "activities.task", Action.ASSIGN, scope=Scope.DEPARTMENT)
    task = _task(sales)
    task = services.task_update(
        task=task, by=sales.manager1, data={"owner": sales.rep2}, version=task.version
    )
    assert [r for r, _ in _pending(task)] == [sales.rep2.pk]


def test_done_and_cancelled_tasks_have_no_pending_reminder_and_reopen_brings_it_back(sales: Any) -> None:
    task = _task(sales)
    task = services.task_complete(task=task, by=sales.rep1, version=task.version)
    assert _pending(task) == []
    task = services.task_reopen(task=task, by=sales.rep1, version=task.version)
    assert len(_pending(task)) == 1
    assert Reminder.objects.filter(task=task).count() == 1  # the same row, pending again
    task = services.task_cancel(task=task, by=sales.rep1, version=task.version)
    assert _pending(task) == []


# --- sending ----------------------------------------------------------------------------------


def test_nothing_is_sent_before_its_time(sales: Any) -> None:
    task = _task(sales)
    before = _due(task) - dt.timedelta(minutes=31)
    assert reminders.reminders_send_due(now=before) == 0
    assert len(_pending(task)) == 1 and Notification.objects.count() == 0


def test_due_reminder_is_sent_once_with_a_link_to_the_task(
    sales: Any, django_capture_on_commit_callbacks
) -> None:
    task = _task(sales, account=AccountFactory.create(owner=sales.rep1, name="华为技术"))
    at = _due(task) - dt.timedelta(minutes=30)
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.reminders_send_due(now=at) == 1
        assert reminders.reminders_send_due(now=at + dt.timedelta(minutes=5)) == 0
    [n] = Notification.objects.all()
    reminder = Reminder.objects.get(task=task)
    assert reminder.status == ReminderStatus.SENT and reminder.sent_at is not None
    assert reminder.notification_id == n.pk
    assert (n.recipient_id, n.kind, n.url) == (sales.rep1.pk, "task.reminder", task.get_absolute_url())
    assert (n.target_model, n.target_id) == ("activities.task", task.pk)
    assert n.title == "Reminder: 回访华为"
    assert "Account: 华为技术" in n.body
    # Default preferences: in the app and by e-mail.
    assert [m.to for m in mail.outbox] == [[sales.rep1.email]]


def test_text_is_in_the_recipients_language_and_time_zone(sales: Any) -> None:
    User.objects.filter(pk=sales.rep1.pk).update(language="zh-hans", time_zone="Asia/Shanghai")
    due = dt.datetime(2030, 3, 4, 1, 30, tzinfo=dt.UTC)  # 09:30 in Shanghai
    task = TaskFactory.create(
        owner=User.objects.get(pk=sales.rep1.pk), title="签合同", due_at=due, remind_before_minutes=0
    )
    reminders.reminder_schedule_for_task(task=task, now=due - HOUR)
    assert reminders.reminders_send_due(now=due) == 1
    n = Notification.objects.get()
    # Chinese date format, Shanghai time.
    assert "2030年3月4日 09:30" in n.body
    with translation.override("zh-hans"):
        assert n.title == _("Reminder: %(title)s") % {"title": "签合同"}
    # An English colleague with the default time zone (UTC) gets English and UTC.
    User.objects.filter(pk=sales.rep2.pk).update(language="en", time_zone="UTC")
    other = TaskFactory.create(
        owner=User.objects.get(pk=sales.rep2.pk), title="x", due_at=due, remind_before_minutes=0
    )
    assert reminders.reminder_text(other, other.owner, now=due - HOUR) == (
        "Reminder: x",
        "Due 03/04/2030 1:30 a.m.",
    )


def test_preferences_decide_the_channels(sales: Any, django_capture_on_commit_callbacks) -> None:
    notification_services.notification_preferences_set(user=sales.rep1, values={"task.reminder": {"in_app"}})
    task = _task(sales)
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.reminders_send_due(now=_due(task)) == 1
    assert mail.outbox == []
    assert Notification.objects.get().in_app is True
    # Both channels off: the reminder is still marked sent, without a notification.
    notification_services.notification_preferences_set(user=sales.rep1, values={"task.reminder": set()})
    other = _task(sales, title="第二个")
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.reminders_send_due(now=_due(other)) == 1
    reminder = Reminder.objects.get(task=other)
    assert reminder.status == ReminderStatus.SENT and reminder.notification_id is None
    assert Notification.objects.count() == 1 and mail.outbox == []


def test_a_late_run_catches_up_but_skips_missed_reminders(sales: Any) -> None:
    recent = _task(sales, due_in=dt.timedelta(hours=2), title="recent")
    old = _task(sales, due_in=dt.timedelta(hours=1), title="old")
    # The worker was down: it runs 30 hours after "old" was due to be reminded.
    late = _due(old) + dt.timedelta(hours=30)
    Reminder.objects.filter(task=recent).update(remind_at=late - HOUR)
    Task.objects.filter(pk=recent.pk).update(due_at=late - HOUR + dt.timedelta(minutes=30))
    assert reminders.reminders_send_due(now=late) == 1
    assert Reminder.objects.get(task=recent).status == ReminderStatus.SENT
    assert Reminder.objects.get(task=old).status == ReminderStatus.CANCELLED
    assert list(Notification.objects.values_list("title", flat=True)) == ["Reminder: recent"]


def test_stale_reminders_are_cancelled_not_sent(sales: Any) -> None:
    task = _task(sales)
    # Changed behind the services' back (e.g. a bulk update): the reminder no longer matches.
    Task.objects.filter(pk=task.pk).update(status="done")
    assert reminders.reminders_send_due(now=_due(task)) == 0
    assert Reminder.objects.get(task=task).status == ReminderStatus.CANCELLED
    other = _task(sales)
    User.objects.filter(pk=sales.rep1.pk).update(is_active=False)
    assert reminders.reminders_send_due(now=_due(other)) == 0
    assert Notification.objects.count() == 0


def test_batches_and_the_beat_task(sales: Any, monkeypatch) -> None:
    due = timezone.now() + dt.timedelta(minutes=1)
    for i in range(5):
        TaskFactory.create(owner=sales.rep1, title=f"t{i}", due_at=due, remind_before_minutes=1)
    for task in Task.objects.all():
        reminders.reminder_schedule_for_task(task=task)
    assert reminders.reminders_send_due(now=due, limit=2) == 2
    assert Reminder.objects.filter(status=ReminderStatus.PENDING).count() == 3
    # The beat task loops over batches until none is left (at "now": they are due already).
    monkeypatch.setattr(reminders, "reminders_send_batch", _with_now(reminders.reminders_send_batch, due))
    assert celery_tasks.reminders_send_due() == 3
    assert Reminder.objects.filter(status=ReminderStatus.SENT).count() == 5


def _with_now(fn: Any, now: dt.datetime) -> Any:
    def wrapped(**kwargs: Any) -> Any:
        return fn(**{**kwargs, "now": now})

    return wrapped


def test_beat_schedule_runs_the_task_every_minute(settings: Any) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["activities-reminders-send-due"]
    assert entry == {"task": "kehu.activities.tasks.reminders_send_due", "schedule": 60.0}
    assert celery_tasks.reminders_send_due.name == entry["task"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_workers_send_each_reminder_exactly_once(tmp_path: Path, company: Any) -> None:
    from kehu.core.tests.test_sequences import database_for_threads, in_thread

    due = timezone.now() + dt.timedelta(minutes=10)
    for i in range(30):
        task = TaskFactory.create(
            owner=company.rep1 if i % 2 else company.rep2, title=f"t{i}", due_at=due, remind_before_minutes=5
        )
        reminders.reminder_schedule_for_task(task=task)
    assert Reminder.objects.filter(status=ReminderStatus.PENDING).count() == 30
    workers = 4
    barrier = threading.Barrier(workers)
    results: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait()
            total = 0
            while True:
                handled, sent = reminders.reminders_send_batch(now=due, limit=3)
                total += sent
                if handled == 0:
                    break
            with lock:
                results.append(total)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    with database_for_threads(tmp_path):
        threads = [threading.Thread(target=worker) for _ in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        counts = in_thread(
            lambda: (
                Notification.objects.filter(kind="task.reminder").count(),
                Notification.objects.values("target_id").distinct().count(),
                Reminder.objects.filter(status=ReminderStatus.SENT).count(),
            )
        )
    assert errors == []
    assert sum(results) == 30
    assert counts == (30, 30, 30)  # one notification per reminder, every reminder sent


# --- default reminders (the assignee's preference) ----------------------------------------------

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_task_without_a_reminder_gets_its_assignees_default(sales: Any) -> None:
    # The site default (30 minutes before), for a task created without the field.
    task = services.task_create(
        by=sales.rep1, data={"title": "默认提醒", "due_at": timezone.now() + HOUR * 5}
    )
    assert task.remind_before_minutes == 30
    assert _pending(task) == [(sales.rep1.pk, _due(task) - dt.timedelta(minutes=30))]
    # An explicit "no reminder" stays so; a task without a due time has none.
    assert _task(sales, remind=None).remind_before_minutes is None
    assert services.task_create(by=sales.rep1, data={"title": "无期限"}).remind_before_minutes is None
    # The assignee's preference counts, not the creator's.
    preferences.reminder_defaults_set(user=sales.rep2, before_minutes=120, all_day_at=None)
    grant(sales.role_manager, "activities.task", Action.ASSIGN, scope=Scope.DEPARTMENT)
    given = services.task_create(
        by=sales.manager1,
        data={"title": "交给rep2", "due_at": timezone.now() + HOUR * 5, "owner": sales.rep2},
    )
    assert given.remind_before_minutes == 120
    assert _pending(given) == [(sales.rep2.pk, _due(given) - dt.timedelta(hours=2))]
    # Switched off: no reminder.
    preferences.reminder_defaults_set(user=sales.rep1, before_minutes=None, all_day_at=None)
    off = services.task_create(by=sales.rep1, data={"title": "不提醒", "due_at": timezone.now() + HOUR * 5})
    assert off.remind_before_minutes is None and _pending(off) == []


def test_site_default_comes_from_settings(sales: Any, settings: Any) -> None:
    settings.KEHU_REMINDER_DEFAULT_MINUTES = None
    settings.KEHU_REMINDER_DEFAULT_ALL_DAY_AT = "08:30"
    defaults = preferences.reminder_defaults(user=sales.rep1)
    assert (defaults.before_minutes, defaults.all_day_at, defaults.chosen) == (None, dt.time(8, 30), False)
    task = services.task_create(by=sales.rep1, data={"title": "x", "due_at": timezone.now() + HOUR})
    assert task.remind_before_minutes is None
    with pytest.raises(preferences.ReminderPreferenceError) as err:
        preferences.reminder_defaults_set(user=sales.rep1, before_minutes=-5, all_day_at=None)
    assert set(err.value.fields) == {"before_minutes"}


def test_all_day_task_is_reminded_at_nine_on_its_day_in_the_assignees_time_zone(sales: Any) -> None:
    User.objects.filter(pk=sales.rep1.pk).update(time_zone="Asia/Shanghai", language="en")
    rep1 = User.objects.get(pk=sales.rep1.pk)
    # Due 4 March 2030 (entered as midnight in Shanghai, i.e. 3 March 16:00 UTC).
    due = dt.datetime(2030, 3, 4, tzinfo=SHANGHAI)
    task = services.task_create(by=rep1, data={"title": "全天任务", "due_at": due, "all_day": True})
    assert task.remind_before_minutes == 900  # 15 hours before the end of the day
    nine = dt.datetime(2030, 3, 4, 9, 0, tzinfo=SHANGHAI)
    assert _pending(task) == [(rep1.pk, nine)]
    # Time travel: past the due midnight the all-day task is not yet late, so it keeps its reminder.
    reminders.reminder_schedule_for_task(task=task, now=dt.datetime(2030, 3, 4, 6, 0, tzinfo=SHANGHAI))
    assert _pending(task) == [(rep1.pk, nine)]
    assert reminders.reminders_send_due(now=nine - dt.timedelta(minutes=1)) == 0
    assert reminders.reminders_send_due(now=nine) == 1
    assert Notification.objects.get().body.startswith("Due 03/04/2030")
    # Another time of day: 08:15 is 945 minutes before the end of the day.
    preferences.reminder_defaults_set(user=rep1, before_minutes=30, all_day_at=dt.time(8, 15))
    other = services.task_create(by=rep1, data={"title": "另一个", "due_at": due, "all_day": True})
    assert other.remind_before_minutes == 945
    assert _pending(other) == [(rep1.pk, dt.datetime(2030, 3, 4, 8, 15, tzinfo=SHANGHAI))]
    # The next day it is overdue: no reminder is planned any more.
    reminders.reminder_schedule_for_task(task=other, now=dt.datetime(2030, 3, 5, 0, 1, tzinfo=SHANGHAI))
    assert _pending(other) == []


def test_interaction_follow_up_task_gets_the_owners_default_reminder(
    sales: Any, django_capture_on_commit_callbacks
) -> None:
    preferences.reminder_defaults_set(user=sales.rep1, before_minutes=60, all_day_at=None)
    account = AccountFactory.create(owner=sales.rep1)
    now = timezone.now()
    follow_up = now + dt.timedelta(days=2)
    interaction = services.interaction_create(
        by=sales.rep1,
        data={"subject": "拜访", "account": account, "occurred_at": now, "next_follow_up_at": follow_up},
    )
    assert interaction.task is not None
    task = interaction.task
    assert task.remind_before_minutes == 60
    remind_at = follow_up - HOUR
    assert _pending(task) == [(sales.rep1.pk, remind_at)]
    # Moving the follow-up moves the reminder; it goes off an hour before the new time.
    later = follow_up + dt.timedelta(days=1)
    services.interaction_update(
        interaction=interaction, by=sales.rep1, data={"next_follow_up_at": later}, version=interaction.version
    )
    assert _pending(task) == [(sales.rep1.pk, later - HOUR)]
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.reminders_send_due(now=later - HOUR - dt.timedelta(seconds=1)) == 0
        assert reminders.reminders_send_due(now=later - HOUR) == 1
    assert Notification.objects.get().title == "Reminder: Follow up: 拜访"


def test_task_form_empty_reminder_means_the_default_on_create_only(sales: Any, client: Any) -> None:
    preferences.reminder_defaults_set(user=sales.rep1, before_minutes=15, all_day_at=None)
    client.force_login(sales.rep1)
    html = client.get("/activities/tasks/add/").content.decode()
    assert "Empty: your default reminder" in html
    data = {"title": "表单任务", "priority": "normal", "recurrence": "none", "due_at": "2030-01-02T10:00"}
    assert client.post("/activities/tasks/add/", {**data, "remind_before_minutes": ""}).status_code == 302
    task = Task.objects.get(title="表单任务")
    assert task.remind_before_minutes == 15
    response = client.post(
        f"/activities/tasks/{task.pk}/edit/",
        {**data, "status": "open", "remind_before_minutes": "", "version": task.version},
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.remind_before_minutes is None and _pending(task) == []


def test_all_day_alarm_in_the_feed_counts_from_the_end_of_the_day(sales: Any) -> None:
    from kehu.activities import calendar, ical

    due = timezone.now() + dt.timedelta(days=3)
    task = services.task_create(by=sales.rep1, data={"title": "全天", "due_at": due, "all_day": True})
    assert task.remind_before_minutes == 900
    calendar.calendar_feed_create(user=sales.rep1)
    text = ical.feed_ics(user=sales.rep1)
    assert "TRIGGER;RELATED=END:-PT15H" in text


def test_default_reminder_card_on_the_notification_preferences_page(
    sales: Any, client: Any, company: Any
) -> None:
    client.force_login(sales.rep1)
    html = client.get("/notifications/preferences/").content.decode()
    card = html.split('id="reminder-defaults"')[1].split("</form>")[0]
    assert 'hx-post="/activities/reminder-defaults/"' in html
    assert '<option value="30" selected>30 minutes before</option>' in card
    assert 'name="all_day_at" value="09:00"' in card
    # htmx saves on change and answers the card.
    response = client.post(
        "/activities/reminder-defaults/",
        {"before_minutes": "120", "all_day_at": "08:30"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and 'id="reminder-defaults-saved"' in response.content.decode()
    assert '<option value="120" selected>2 hours before</option>' in response.content.decode()
    defaults = preferences.reminder_defaults(user=sales.rep1)
    assert (defaults.before_minutes, defaults.all_day_at) == (120, dt.time(8, 30))
    # Bad input: a field error, nothing saved.
    response = client.post(
        "/activities/reminder-defaults/",
        {"before_minutes": "-1", "all_day_at": "25:99"},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and "reminder-defaults-saved" not in body
    assert body.count("invalid-feedback") >= 2
    assert preferences.reminder_defaults(user=sales.rep1) == defaults
    # Without JavaScript: saved, back to the page. Both empty: no default reminders.
    response = client.post("/activities/reminder-defaults/", {"before_minutes": "", "all_day_at": ""})
    assert response.status_code == 302 and response["Location"] == "/notifications/preferences/"
    defaults = preferences.reminder_defaults(user=sales.rep1)
    assert (defaults.before_minutes, defaults.all_day_at) == (None, None)
    # Someone without tasks does not see the card; signed out cannot post.
    client.force_login(company.nobody)
    assert 'id="reminder-defaults"' not in client.get("/notifications/preferences/").content.decode()
    client.logout()
    assert client.post("/activities/reminder-defaults/", {"before_minutes": "5"}).status_code == 302
    assert client.get("/activities/reminder-defaults/").status_code in (302, 405)
