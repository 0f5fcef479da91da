"""Parallel payments on one instalment (PostgreSQL): `received` never exceeds `amount` without
the credit rule, every accepted payment is applied exactly once and gets its own number."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connections

from kehu.core.errors import DomainError

from ..models import Instalment, Payment
from ..services.payments import payment_record
from .payment_fixtures import planned_contract


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("allow_credit", [False, True])
def test_parallel_payments_never_overfill_an_instalment(allow_credit: bool) -> None:
    contract, _plan, (instalment,) = planned_contract(amounts=("1000",))
    workers = 8
    barrier = threading.Barrier(workers)
    refused: list[DomainError] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            payment_record(
                account=contract.account,
                instalment=instalment,
                amount=Decimal("300"),
                received_on=dt.date.today(),
                by=None,
                allow_credit=allow_credit,
            )
        except DomainError as exc:
            refused.append(exc)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    instalment = Instalment.objects.get(pk=instalment.pk)
    payments = list(Payment.objects.all())
    assert instalment.received <= instalment.amount
    assert instalment.received == sum((p.applied for p in payments), Decimal(0))
    assert len({p.number for p in payments}) == len(payments)
    if allow_credit:
        assert len(payments) == workers and not refused
        assert instalment.received == Decimal("1000")
        assert sum((p.credited for p in payments), Decimal(0)) == Decimal("1400")
    else:
        # 300 + 300 + 300 fit, the fourth (and later) would exceed the remaining 100
        assert len(payments) == 3 and len(refused) == workers - 3
        assert instalment.received == Decimal("900")
