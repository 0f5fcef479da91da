"""Overdue notices: once per instalment, to the owner and their department's manager."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from kehu.audit.models import TimelineEvent
from kehu.notifications.models import Notification

from ..models import Instalment
from ..services.payments import OVERDUE_KIND, instalments_overdue_notify, payment_plan_set, payment_record
from ..tasks_payments import instalments_overdue_notify as task
from .payment_fixtures import planned_contract

pytestmark = pytest.mark.django_db
TODAY = dt.date.today()


def test_overdue_notified_once_to_owner_and_manager(company: Any) -> None:
    company.north.manager = company.manager1
    company.north.save(update_fields=["manager"])
    contract, _plan, (late, due_today, _paid) = planned_contract(
        owner=company.rep1,
        amounts=("100", "100", "100"),
        first_due=TODAY - dt.timedelta(days=2),
        every_days=1,
    )
    # late: 2 days past due; due_today: 1 day past due but fully paid → only `late` and the one due yesterday
    payment_record(
        account=contract.account, instalment=due_today, amount=Decimal("100"), received_on=TODAY, by=None
    )
    assert instalments_overdue_notify(today=TODAY) == 1
    assert set(Notification.objects.filter(kind=OVERDUE_KIND).values_list("recipient_id", flat=True)) == {
        company.rep1.pk,
        company.manager1.pk,
    }
    late.refresh_from_db()
    assert late.overdue_notified_at is not None
    assert (
        TimelineEvent.objects.filter(event="instalment.overdue", account_id=contract.account_id).count() == 1
    )
    assert task() == 0  # the Celery task: nothing left to send
    assert instalments_overdue_notify(today=TODAY) == 0
    assert Notification.objects.filter(kind=OVERDUE_KIND).count() == 2
    # moving the due date and missing it again notifies again
    payment_plan_set(
        contract=contract,
        instalments=[
            (TODAY - dt.timedelta(days=1), Decimal("100"), ""),
            (TODAY - dt.timedelta(days=1), Decimal("100"), ""),
            (TODAY, Decimal("100"), ""),
        ],
        by=None,
    )
    assert instalments_overdue_notify(today=TODAY) == 1
    assert not Instalment.objects.filter(sequence=3, overdue_notified_at__isnull=False).exists()
