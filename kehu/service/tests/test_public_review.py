"""Review fixes of the public web form: the acknowledgement goes out from a Celery task after
commit (never inside the request), and a contact whose primary account it no longer belongs to
still gets a ticket (without that account)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from kehu.customers.models import AccountContactRelation
from kehu.customers.tests.factories import AccountFactory, ContactFactory
from kehu.service import tasks_public
from kehu.service.models import Ticket
from kehu.service.selectors.public import public_ticket_types
from kehu.service.services import public as public_services

pytestmark = pytest.mark.django_db


def _submit(email: str = "li.lei@example.com") -> Ticket:
    return public_services.web_ticket_submit(
        name="李雷",
        email=email,
        subject="打印机无法连接",
        description="连不上。",
        ticket_type=public_ticket_types().first(),
        language="en",
    )


def test_acknowledgement_is_a_celery_task_scheduled_after_commit(
    django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    queued: list[tuple[Any, ...]] = []
    monkeypatch.setattr(tasks_public.ticket_acknowledge, "delay", lambda *args: queued.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        ticket = _submit()
    assert queued == [(ticket.pk, "en")]
    assert mail.outbox == []  # nothing sent inside the request
    tasks_public.ticket_acknowledge(*queued[0])  # what the worker runs
    assert [m.to for m in mail.outbox] == [["li.lei@example.com"]]
    assert ticket.number in mail.outbox[0].subject


def test_contact_no_longer_in_its_primary_account_still_gets_a_ticket(
    company: Any, django_capture_on_commit_callbacks: Any
) -> None:
    account = AccountFactory.create(owner=company.rep1)
    contact = ContactFactory.create(owner=company.rep1, account=account, email="li.lei@example.com")
    AccountContactRelation.objects.filter(contact=contact, account=account).delete()
    with django_capture_on_commit_callbacks(execute=True):
        ticket = _submit()
    assert ticket.contact_id == contact.pk
    assert ticket.account_id is None
    assert len(mail.outbox) == 1
