"""Two people issuing invoices with the same number at the same moment (PostgreSQL): one is issued,
the other gets the field error, and the number is never used twice."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from kehu.core.errors import DomainError

from ..choices import InvoiceStatus
from ..models import Invoice
from ..services.invoices import invoice_issue
from .factories import InvoiceFactory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_issues_never_share_a_number() -> None:
    workers = 6
    drafts = [InvoiceFactory.create(number="", status=InvoiceStatus.DRAFT) for _ in range(workers)]
    barrier = threading.Barrier(workers)
    refused: list[DomainError] = []
    errors: list[BaseException] = []

    def worker(draft: Invoice) -> None:
        try:
            barrier.wait()
            invoice_issue(invoice=draft, by=None, number="31000099")
        except DomainError as exc:
            refused.append(exc)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(d,)) for d in drafts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Invoice.objects.filter(number="31000099", status=InvoiceStatus.ISSUED).count() == 1
    assert len(refused) == workers - 1
    assert all(set(exc.fields) == {"number"} for exc in refused)
