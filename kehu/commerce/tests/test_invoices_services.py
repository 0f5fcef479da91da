"""Invoices through the services: totals, the contracted limit and its override, issue, void."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kehu.core.choices import Scope
from kehu.core.errors import DomainError
from kehu.users.tests.factories import UserFactory

from ..choices import InvoiceKind, InvoiceStatus
from ..models import Invoice
from ..services.invoices import (
    InvoiceError,
    invoice_create,
    invoice_issue,
    invoice_update,
    invoice_void,
    invoiced_total,
    may_override,
)
from ..services.payments import payment_record
from .payment_fixtures import planned_contract, user_with

pytestmark = pytest.mark.django_db
D = Decimal


def _data(amount: str, tax: str, **extra: object) -> dict[str, object]:
    return {"kind": InvoiceKind.SPECIAL_VAT, "amount": D(amount), "tax": D(tax), **extra}


def test_create_prefills_buyer_and_totals() -> None:
    contract, _plan, (first,) = planned_contract(amounts=("11300",))
    contract.account.tax_number = "91110000100000000X"
    contract.account.save(update_fields=["tax_number"])
    payment = payment_record(
        account=contract.account, instalment=first, amount=D("100"), received_on=dt.date.today(), by=None
    )
    invoice = invoice_create(
        account=contract.account, data=_data("10000", "1300", contract=contract, payments=[payment]), by=None
    )
    assert invoice.total == D("11300") and invoice.status == InvoiceStatus.DRAFT
    assert invoice.buyer_name == contract.account.name and invoice.buyer_tax_id == "91110000100000000X"
    assert list(invoice.payments.all()) == [payment]
    assert invoice.owner_id == contract.owner_id


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (_data("-1", "0"), "amount"),
        (_data("100", "-1"), "tax"),
        (_data("0", "0"), "amount"),
        (_data("1.001", "0"), "amount"),
        ({"kind": "fake", "amount": D("1"), "tax": D("0")}, "kind"),
    ],
)
def test_bad_invoice_input(data: dict[str, object], field: str) -> None:
    contract, _plan, _rows = planned_contract(amounts=("1000",))
    with pytest.raises(DomainError) as err:
        invoice_create(account=contract.account, data={**data, "contract": contract}, by=None)
    assert field in err.value.fields
    assert not Invoice.objects.exists()


def test_invoices_above_contract_refused() -> None:
    contract, _plan, _rows = planned_contract(amounts=("1000",))
    invoice_create(account=contract.account, data=_data("800", "100", contract=contract), by=None)
    with pytest.raises(InvoiceError) as err:
        invoice_create(account=contract.account, data=_data("100", "1", contract=contract), by=None)
    assert err.value.code == "invoice_above_contract" and "total" in err.value.fields
    assert "1" in str(err.value.message)
    assert Invoice.objects.count() == 1 and invoiced_total(contract) == D("900")


def test_override_needs_permission_and_reason(company: object) -> None:
    contract, _plan, _rows = planned_contract(amounts=("1000",))
    rep = user_with(("commerce.invoice", ("view", "add", "change"), Scope.OWN))
    boss = user_with(("commerce.invoice", ("view", "add", "change"), Scope.ALL))
    assert not may_override(rep) and may_override(boss)
    data = _data("1000", "130", contract=contract)
    with pytest.raises(InvoiceError) as denied:
        invoice_create(account=contract.account, data=data, by=rep, override=True, override_reason="客户要求")
    assert denied.value.code == "invoice_override_denied"
    with pytest.raises(InvoiceError) as no_reason:
        invoice_create(account=contract.account, data=data, by=boss, override=True, override_reason=" ")
    assert "override_reason" in no_reason.value.fields
    assert not Invoice.objects.exists()
    invoice = invoice_create(
        account=contract.account, data=data, by=boss, override=True, override_reason="客户要求"
    )
    assert invoice.over_limit and invoice.override_reason == "客户要求"


def test_void_frees_the_limit_and_issue_flow() -> None:
    contract, _plan, _rows = planned_contract(amounts=("1000",))
    by = UserFactory.create()
    first = invoice_create(account=contract.account, data=_data("900", "100", contract=contract), by=by)
    with pytest.raises(InvoiceError):
        invoice_issue(invoice=first, by=by)  # no number yet
    issued = invoice_issue(invoice=first, by=by, number="04400001")
    assert issued.status == InvoiceStatus.ISSUED and issued.issued_on == dt.date.today()
    with pytest.raises(DomainError) as state:
        invoice_update(invoice=issued, data={"note": "x"}, by=by)
    assert state.value.status == 409
    with pytest.raises(InvoiceError):
        invoice_void(invoice=issued, by=by, reason="")
    invoice_void(invoice=issued, by=by, reason="开错抬头")
    assert invoiced_total(contract) == 0
    second = invoice_create(account=contract.account, data=_data("900", "100", contract=contract), by=by)
    updated = invoice_update(invoice=second, data={"amount": D("800")}, by=by, version=second.version)
    assert updated.total == D("900")
    with pytest.raises(DomainError):  # stale version
        invoice_update(invoice=second, data={"amount": D("700")}, by=by, version=second.version)
    # the void one's number is free again, a live duplicate is not
    invoice_issue(invoice=second, by=by, number="04400001")
    third = invoice_create(account=contract.account, data=_data("1", "0"), by=by)
    with pytest.raises(InvoiceError):
        invoice_issue(invoice=third, by=by, number="04400001")


def test_document_of_another_account_refused() -> None:
    contract, _plan, _rows = planned_contract(amounts=("1000",))
    other, _p, _r = planned_contract(amounts=("1000",))
    with pytest.raises(InvoiceError):
        invoice_create(account=other.account, data=_data("1", "0", contract=contract), by=None)
