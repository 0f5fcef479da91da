"""Notification preferences (kinds × channels), e-mail idempotence and the language of e-mails."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.db import connections
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from kehu.core.errors import DomainError
from kehu.notifications import kinds, selectors, services
from kehu.notifications.kinds import Channel
from kehu.notifications.models import Notification, NotificationPreference
from kehu.users.models import User

pytestmark = pytest.mark.django_db


def _alternatives(message: Any) -> list[Any]:
    return list(message.alternatives)


def _html(message: Any) -> str:
    return str(message.alternatives[0][0])


@pytest.fixture
def test_kind(monkeypatch) -> kinds.NotificationKind:
    monkeypatch.setattr(kinds, "_kinds", dict(kinds._kinds))
    return kinds.register_kind("test.thing", "Test things", default_channels={Channel.IN_APP, Channel.EMAIL})


def _notify(recipients: list[Any], **kwargs: Any) -> list[Notification]:
    return services.notify(recipients=recipients, title="Hello", body="Body", url="/x/", **kwargs)


def test_job_kinds_are_registered_in_app_only() -> None:
    for key in ("job.succeeded", "job.failed"):
        kind = kinds.get_kind(key)
        assert kind is not None
        assert kind.default_channels == {Channel.IN_APP}


def test_register_kind_refuses_unknown_channels() -> None:
    with pytest.raises(ValueError):
        kinds.register_kind("bad.kind", "Bad", default_channels={"sms"})
    assert kinds.get_kind("bad.kind") is None


def test_defaults_apply_until_the_user_chooses(
    company, test_kind, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        [n] = _notify([company.rep1], kind="test.thing")
    assert n.in_app and n.email_requested
    assert [m.to for m in mail.outbox] == [["rep1@example.com"]]
    assert Notification.objects.get(pk=n.pk).emailed_at is not None


def test_email_off_means_no_email_even_when_the_caller_asks(
    company, test_kind, django_capture_on_commit_callbacks
) -> None:
    services.notification_preferences_set(user=company.rep1, values={"test.thing": {"in_app"}})
    with django_capture_on_commit_callbacks(execute=True):
        [n] = _notify([company.rep1, company.rep2], kind="test.thing", email=True)[:1]
    assert n.recipient_id == company.rep1.pk and not n.email_requested
    assert [m.to for m in mail.outbox] == [["rep2@example.com"]]  # rep2 keeps the defaults


def test_in_app_off_keeps_an_email_only_row_out_of_the_bell(
    company, test_kind, django_capture_on_commit_callbacks
) -> None:
    services.notification_preferences_set(user=company.rep1, values={"test.thing": {"email"}})
    with django_capture_on_commit_callbacks(execute=True):
        [n] = _notify([company.rep1], kind="test.thing")
    assert n.in_app is False
    assert len(mail.outbox) == 1
    assert selectors.unread_count(user=company.rep1) == 0
    assert list(selectors.notification_list(user=company.rep1)) == []
    # Delivering it again sends nothing: the row remembers it was e-mailed.
    assert services.deliver([n]) == 0
    assert len(mail.outbox) == 1


def test_both_off_creates_nothing(company, test_kind, django_capture_on_commit_callbacks) -> None:
    services.notification_preferences_set(user=company.rep1, values={"test.thing": set()})
    with django_capture_on_commit_callbacks(execute=True):
        assert _notify([company.rep1], kind="test.thing") == []
    assert Notification.objects.count() == 0 and mail.outbox == []


def test_caller_can_refuse_email(company, test_kind, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        [n] = _notify([company.rep1], kind="test.thing", email=False)
    assert n.in_app and not n.email_requested and mail.outbox == []


def test_unregistered_kinds_are_in_app_and_emailed_only_on_request(
    company, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _notify([company.rep1], kind="unregistered.kind")
        _notify([company.rep1], kind="unregistered.kind", email=True)
    assert Notification.objects.filter(in_app=True).count() == 2
    assert len(mail.outbox) == 1


def test_preferences_set_validates_everything_before_saving(company, test_kind) -> None:
    with pytest.raises(DomainError) as exc:
        services.notification_preferences_set(
            user=company.rep1, values={"test.thing": {"in_app"}, "nope": {"in_app"}, "job.failed": {"sms"}}
        )
    assert set(exc.value.fields) == {"nope", "job.failed"}
    assert NotificationPreference.objects.count() == 0
    assert services.notification_preferences_set(user=company.rep1, values={"test.thing": {"email"}}) == 1
    assert services.notification_preferences_set(user=company.rep1, values={"test.thing": {"in_app"}}) == 1
    pref = NotificationPreference.objects.get()
    assert (pref.in_app, pref.email) == (True, False)
    rows = {r["kind"]: r for r in selectors.notification_preferences(user=company.rep1)}
    assert rows["test.thing"]["customised"] and rows["test.thing"]["default_email"]
    assert rows["job.failed"] == rows["job.failed"] | {"in_app": True, "email": False, "customised": False}


# --- E-mail delivery ------------------------------------------------------------------------


def test_email_is_in_the_recipients_language(company, test_kind, django_capture_on_commit_callbacks) -> None:
    User.objects.filter(pk=company.rep1.pk).update(language="zh-hans")
    with django_capture_on_commit_callbacks(execute=True):
        _notify([company.rep1], kind="test.thing")
    [message] = mail.outbox
    assert "在 Kehu 中打开" in message.body
    assert "在 Kehu 中打开" in _html(message)


def test_email_html_escapes_the_text(company, test_kind, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(
            recipients=[company.rep1], title="<b>x</b>", body="<script>alert(1)</script>", kind="test.thing"
        )
    [message] = mail.outbox
    html = _html(message)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<script>alert(1)</script>" in message.body  # plain text stays as written


def test_failed_send_stays_due_and_the_sweep_sends_it_once(company, test_kind, settings, monkeypatch) -> None:
    [n] = _notify([company.rep1], kind="test.thing")  # no on-commit: the task never ran
    from django.core.mail.backends import locmem

    def broken(self: Any, messages: Any) -> int:
        raise OSError("SMTP down")

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", broken)
    assert services.notification_emails_send(ids=[n.pk]) == (0, [n.pk])
    assert Notification.objects.get(pk=n.pk).emailed_at is None
    monkeypatch.undo()
    # Too young for the sweep (the after-commit task may still be on its way).
    assert services.notification_email_sweep() == 0
    Notification.objects.filter(pk=n.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert services.notification_email_sweep() == 1
    assert services.notification_email_sweep() == 0
    assert len(mail.outbox) == 1


def test_recipient_without_an_address_is_not_retried(company, test_kind) -> None:
    User.objects.filter(pk=company.rep1.pk).update(email="")
    [n] = _notify([company.rep1], kind="test.thing")
    assert services.notification_emails_send(ids=[n.pk]) == (0, [])
    n.refresh_from_db()
    assert n.email_requested is False and n.emailed_at is None and mail.outbox == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_senders_email_each_notification_once(tmp_path: Path, test_kind) -> None:
    from kehu.core.tests.test_sequences import database_for_threads
    from kehu.users.tests.factories import UserFactory

    users = [UserFactory(email=f"u{i}@example.com") for i in range(5)]
    created = services.notify(recipients=users, title="Race", kind="test.thing", email=True)
    ids = [n.pk for n in created]
    # The after-commit task has sent them already (eager Celery): make them due again.
    assert len(mail.outbox) == 5
    Notification.objects.update(emailed_at=None)
    mail.outbox = []
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            services.notification_emails_send(ids=ids)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    with database_for_threads(tmp_path):
        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    assert sorted(m.to[0] for m in mail.outbox) == sorted(str(u.email) for u in users)


# --- Page and API ---------------------------------------------------------------------------


def test_preferences_page_shows_the_matrix_and_saves_with_htmx(client, company, test_kind) -> None:
    url = reverse("notifications:preferences")
    assert client.get(url).status_code == 302  # signed out
    client.force_login(company.rep1)
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="test.thing:email"' in html and 'name="job.failed:in_app"' in html
    response = client.post(
        url, {"test.thing:in_app": "on", "job.failed:in_app": "on"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert 'id="preferences-saved"' in response.content.decode()
    assert services.channels_for(user_ids=[company.rep1.pk], kind="test.thing") == {
        company.rep1.pk: {"in_app"}
    }
    assert services.channels_for(user_ids=[company.rep1.pk], kind="job.succeeded") == {company.rep1.pk: set()}
    # Without htmx: redirect back with a message.
    response = client.post(url, {"test.thing:email": "on"})
    assert response.status_code == 302
    assert services.channels_for(user_ids=[company.rep1.pk], kind="test.thing") == {
        company.rep1.pk: {"email"}
    }
    # Someone else's preferences are untouched.
    assert not NotificationPreference.objects.filter(user=company.rep2).exists()


def test_user_menu_links_to_the_preferences(client, company) -> None:
    client.force_login(company.rep1)
    assert reverse("notifications:preferences") in client.get(reverse("notifications:list")).content.decode()


def test_api_lists_and_patches_my_preferences(company, test_kind) -> None:
    api = APIClient()
    url = "/api/v1/notifications/preferences/"
    assert api.get(url).status_code in (401, 403)
    api.force_authenticate(company.rep1)
    rows = {r["kind"]: r for r in api.get(url).json()}
    assert rows["test.thing"]["email"] is True and rows["test.thing"]["customised"] is False
    response = api.patch(url, [{"kind": "test.thing", "email": False}], format="json")
    assert response.status_code == 200, response.content
    rows = {r["kind"]: r for r in response.json()}
    assert (rows["test.thing"]["in_app"], rows["test.thing"]["email"]) == (True, False)
    bad = api.patch(url, [{"kind": "nope", "in_app": True}], format="json")
    assert bad.status_code == 400 and "nope" in bad.json()["fields"]
    assert api.patch(url, {"kind": 1}, format="json").status_code == 400
    assert api.patch(url, "garbage", format="json").status_code == 400
    assert NotificationPreference.objects.filter(user=company.rep2).count() == 0
