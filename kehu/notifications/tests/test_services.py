"""notify(), marking read, e-mail delivery and the job-finished hook."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from kehu.core import services as core_services
from kehu.notifications import selectors, services
from kehu.notifications.models import Notification
from kehu.users.models import User

pytestmark = pytest.mark.django_db


def _alternatives(message: Any) -> list[Any]:
    return list(message.alternatives)


def _html(message: Any) -> str:
    return str(message.alternatives[0][0])


def test_notify_creates_one_row_per_active_recipient(company, django_assert_num_queries) -> None:
    c = company
    User.objects.filter(pk=c.rep3.pk).update(is_active=False)
    # savepoint, active users, one INSERT, the recipients' cache tokens (kehu.core.confcache: an
    # UPDATE; the first time also a SELECT, their rows and an UPDATE), release
    with django_assert_num_queries(8):
        created = services.notify(
            recipients=[c.rep1, c.rep2.pk, c.rep1, c.rep3, None],
            title="Account assigned",
            body="华为 is yours now",
            url="/customers/accounts/1/",
            level="success",
            kind="account.assigned",
            actor=c.manager1,
            target=c.north,
        )
    assert sorted(n.recipient_id for n in created) == sorted([c.rep1.pk, c.rep2.pk])
    with django_assert_num_queries(5):  # the tokens exist now: one UPDATE
        services.notify(recipients=[c.rep1, c.rep2], title="Again", kind="account.assigned")
    Notification.objects.filter(title="Again").delete()
    n = Notification.objects.get(recipient=c.rep1)
    assert (n.title, n.body, n.url, n.level, n.kind) == (
        "Account assigned",
        "华为 is yours now",
        "/customers/accounts/1/",
        "success",
        "account.assigned",
    )
    assert n.actor == c.manager1
    assert (n.target_model, n.target_id) == ("users.department", c.north.pk)
    assert n.read_at is None


def test_notify_with_nobody_and_unknown_level(company) -> None:
    assert services.notify(recipients=[], title="x") == []
    [n] = services.notify(recipients=[company.rep1], title="x", level="shouting")
    assert n.level == "info"


def test_mark_read_touches_only_the_users_own_notifications(company) -> None:
    c = company
    mine = services.notify(recipients=[c.rep1], title="a") + services.notify(recipients=[c.rep1], title="b")
    [theirs] = services.notify(recipients=[c.rep2], title="c")
    assert services.notification_mark_read(user=c.rep1, ids=[mine[0].pk, theirs.pk]) == 1
    assert selectors.unread_count(user=c.rep1) == 1
    assert selectors.unread_count(user=c.rep2) == 1
    assert services.notification_mark_read(user=c.rep1, ids=[mine[0].pk]) == 0  # already read
    assert services.notification_mark_all_read(user=c.rep1) == 1
    assert selectors.unread_count(user=c.rep1) == 0
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_admins_do_not_see_other_peoples_notifications(company) -> None:
    services.notify(recipients=[company.rep1], title="private")
    assert selectors.notification_list(user=company.admin).count() == 0
    assert services.notification_mark_all_read(user=company.admin) == 0


def test_email_delivery_once_after_commit(company, django_capture_on_commit_callbacks) -> None:
    c = company
    User.objects.filter(pk=c.rep2.pk).update(email="")
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(
            recipients=[c.rep1, c.rep2], title="Quote approved", body="Q-2026-00001", url="/q/1/", email=True
        )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["rep1@example.com"]
    assert message.subject == "[Kehu] Quote approved"
    assert message.body == (
        "Q-2026-00001\n\nOpen in Kehu: http://127.0.0.1:8000/q/1/\n\n-- \n"
        "Choose which notifications you get by e-mail: http://127.0.0.1:8000/notifications/preferences/\n"
    )
    [(html, mimetype)] = _alternatives(message)
    assert mimetype == "text/html"
    assert 'href="http://127.0.0.1:8000/q/1/"' in html
    sent = Notification.objects.get(recipient=c.rep1)
    assert sent.emailed_at is not None
    assert services.deliver([sent]) == 0  # never twice
    assert services.deliver(Notification.objects.filter(recipient=c.rep2), email=False) == 0
    assert len(mail.outbox) == 1


def test_no_email_unless_asked(company, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(recipients=[company.rep1], title="x")
    assert mail.outbox == []


def _run(job_id: int, work: Any) -> None:
    core_services.job_run(job_id, work)


def test_the_owner_is_told_when_an_export_is_ready(company, django_capture_on_commit_callbacks) -> None:
    job = core_services.job_create(kind="export", owner=company.rep1, title="Export: Accounts")
    with django_capture_on_commit_callbacks(execute=True):
        _run(job.pk, lambda job, progress: {"message": "12 rows exported."})
    [n] = Notification.objects.all()
    assert n.recipient == company.rep1
    assert n.title == "Your export is ready"
    assert n.body == "Export: Accounts: 12 rows exported."
    assert n.url == f"/jobs/{job.pk}/"
    assert (n.level, n.kind, n.target_model, n.target_id) == ("success", "job.succeeded", "core.job", job.pk)


def test_the_owner_is_told_when_a_job_fails_in_their_language(
    company, django_capture_on_commit_callbacks
) -> None:
    User.objects.filter(pk=company.rep1.pk).update(language="zh-hans")
    job = core_services.job_create(kind="import", owner=User.objects.get(pk=company.rep1.pk), title="Import")

    def work(job: Any, progress: Any) -> None:
        raise RuntimeError("disk full")

    with django_capture_on_commit_callbacks(execute=True):
        _run(job.pk, work)
    [n] = Notification.objects.all()
    assert n.title == "后台任务失败：Import"
    assert n.level == "error"
    assert n.kind == "job.failed"


def test_other_finished_jobs_and_cancelled_ones(company, django_capture_on_commit_callbacks) -> None:
    done = core_services.job_create(kind="dedup", owner=company.rep1, title="Duplicate scan")
    cancelled = core_services.job_create(kind="dedup", owner=company.rep1, title="Scan 2")
    ownerless = core_services.job_create(kind="dedup", owner=None, title="Nightly")
    with django_capture_on_commit_callbacks(execute=True):
        _run(done.pk, lambda job, progress: None)
        core_services.job_cancel(job=cancelled, by=company.rep1)
        _run(ownerless.pk, lambda job, progress: None)
    assert list(Notification.objects.values_list("title", flat=True)) == ["Job finished: Duplicate scan"]


def test_the_hook_is_registered_once() -> None:
    assert core_services.job_finished_hooks.count(services.notify_job_finished) == 1
