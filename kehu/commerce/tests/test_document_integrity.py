"""What keeps quote-to-cash documents consistent with each other: a quote becomes one contract and
one order; a contract's account, currency and value stay while a plan, an invoice or an order
relies on them; an order's lines stay while it has a plan; linked contacts count as the account's;
closed contracts keep their attachments; unknown currencies are refused."""

# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kehu.core.errors import DomainError
from kehu.customers.tests.factories import AccountFactory, ContactFactory, RelationFactory
from kehu.users.tests.factories import grant

from ..choices import ContractStatus
from ..models import Contract, ContractAttachment, Order, Payment
from ..services import contracts as contract_svc
from ..services import orders as order_svc
from ..services.invoices import invoice_create
from ..services.payments import payment_plan_set, payment_record
from . import contract_fixtures as cf
from .contract_fixtures import media, sellers  # noqa: F401
from .factories import ContractFactory

pytestmark = pytest.mark.django_db


def test_a_quote_becomes_one_contract_and_one_order(sellers: Any) -> None:
    quote = cf.accepted_quote(sellers.rep1)
    first = contract_svc.contract_create_from_quote(by=sellers.rep1, quote=quote)
    with pytest.raises(DomainError) as exc:
        contract_svc.contract_create_from_quote(by=sellers.rep1, quote=quote)
    assert exc.value.status == 409 and first.number in exc.value.fields["quote"][0]
    assert Contract.objects.filter(quote=quote).count() == 1

    order = order_svc.order_create_from_quote(by=sellers.rep1, quote=quote)
    with pytest.raises(DomainError) as exc:
        order_svc.order_create_from_quote(by=sellers.rep1, quote=quote)
    assert exc.value.status == 409 and order.number in exc.value.fields["quote"][0]
    assert Order.objects.filter(quote=quote).count() == 1


def test_the_quote_page_offers_no_second_conversion(sellers: Any, client: Any) -> None:
    quote = cf.accepted_quote(sellers.rep1)
    client.force_login(sellers.rep1)
    page = client.get(quote.get_absolute_url()).content.decode()
    assert 'data-action="create-contract"' in page and 'data-action="create-order"' in page
    contract_svc.contract_create_from_quote(by=sellers.rep1, quote=quote)
    page = client.get(quote.get_absolute_url()).content.decode()
    assert 'data-action="create-contract"' not in page and 'data-action="create-order"' in page


def test_a_contact_linked_to_the_account_may_be_on_its_documents(sellers: Any) -> None:
    account = AccountFactory.create(owner=sellers.rep1)
    linked = ContactFactory.create(owner=sellers.rep1)  # works for another company, linked here
    RelationFactory.create(account=account, contact=linked, is_direct=False)
    quote = cf.accepted_quote(sellers.rep1, account=account, contact=linked)
    contract = contract_svc.contract_create_from_quote(by=sellers.rep1, quote=quote)
    assert contract.contact == linked
    order = order_svc.order_create_from_quote(by=sellers.rep1, quote=quote)
    assert order.contact == linked
    stranger = ContactFactory.create(owner=sellers.rep1)
    with pytest.raises(DomainError) as exc:
        contract_svc.contract_update(contract=contract, by=sellers.rep1, data={"contact": stranger})
    assert "contact" in exc.value.fields


@pytest.mark.parametrize("dependent", ["plan", "invoice", "order"])
def test_a_contracts_amount_stays_while_something_relies_on_it(sellers: Any, dependent: str) -> None:
    grant(sellers.role_rep, "commerce.paymentplan", "view", "add", "change", scope="own")
    grant(sellers.role_rep, "commerce.invoice", "view", "add", "change", scope="own")
    contract = ContractFactory.create(
        owner=sellers.rep1, value=Decimal("1000"), currency="CNY", status=ContractStatus.ACTIVE
    )
    # before anything relies on it, the value may change
    contract = contract_svc.contract_update(contract=contract, by=sellers.rep1, data={"value": "1200"})
    assert contract.value == Decimal("1200")
    if dependent == "plan":
        payment_plan_set(
            contract=contract, instalments=[(dt.date(2026, 12, 1), Decimal("1200"), "")], by=sellers.rep1
        )
    elif dependent == "invoice":
        invoice_create(
            account=contract.account,
            data={"contract": contract, "amount": Decimal("500"), "tax": Decimal("0")},
            by=sellers.rep1,
        )
    else:
        order_svc.order_create_from_contract(by=sellers.rep1, contract=contract)
    for field, value in (
        ("value", "10"),
        ("currency", "USD"),
        ("account", AccountFactory.create(owner=sellers.rep1)),
    ):
        with pytest.raises(DomainError) as exc:
            contract_svc.contract_update(contract=contract, by=sellers.rep1, data={field: value})
        assert set(exc.value.fields) == {field}
    fresh = Contract.objects.get(pk=contract.pk)
    assert (fresh.value, fresh.currency, fresh.account_id) == (Decimal("1200"), "CNY", contract.account_id)
    # the rest of the contract may still change, and the same value is no change
    contract_svc.contract_update(contract=fresh, by=sellers.rep1, data={"name": "续签版", "value": "1200.00"})
    assert Contract.objects.get(pk=contract.pk).name == "续签版"


def test_an_orders_lines_stay_while_it_has_a_plan(sellers: Any) -> None:
    grant(sellers.role_rep, "commerce.paymentplan", "view", "add", "change", scope="own")
    quote = cf.accepted_quote(sellers.rep1)
    order = order_svc.order_create_from_quote(by=sellers.rep1, quote=quote)
    payment_plan_set(order=order, instalments=[(dt.date(2026, 12, 1), order.total, "")], by=sellers.rep1)
    line = order.lines.first()
    assert line is not None
    with pytest.raises(DomainError) as exc:
        order_svc.order_line_update(line=line, by=sellers.rep1, data={"quantity": "5"})
    assert exc.value.status == 409
    with pytest.raises(DomainError):
        order_svc.order_line_delete(line=line, by=sellers.rep1)
    assert order.lines.count() == 2 and Order.objects.get(pk=order.pk).total == quote.total


def test_closed_contracts_keep_their_attachments(sellers: Any, media: Any) -> None:
    contract = ContractFactory.create(owner=sellers.rep1, status=ContractStatus.ACTIVE)
    kept = contract_svc.contract_attachment_add(
        contract=contract, by=sellers.rep1, upload=SimpleUploadedFile("合同.pdf", cf.PDF)
    )
    Contract.objects.filter(pk=contract.pk).update(status=ContractStatus.TERMINATED)
    contract.refresh_from_db()
    with pytest.raises(DomainError) as exc:
        contract_svc.contract_attachment_add(
            contract=contract, by=sellers.rep1, upload=SimpleUploadedFile("补充.pdf", cf.PDF)
        )
    assert exc.value.status == 409
    with pytest.raises(DomainError):
        contract_svc.contract_attachment_delete(attachment=kept, by=sellers.rep1)
    assert list(ContractAttachment.objects.filter(contract=contract)) == [kept]


def test_a_credit_payment_in_an_unknown_currency_is_refused(sellers: Any) -> None:
    grant(sellers.role_rep, "commerce.payment", "view", "add", scope="own")
    account = AccountFactory.create(owner=sellers.rep1)
    with pytest.raises(DomainError) as exc:
        payment_record(
            account=account,
            amount=Decimal("100"),
            received_on=dt.date(2026, 1, 5),
            by=sellers.rep1,
            allow_credit=True,
            currency="XYZ",
        )
    assert set(exc.value.fields) == {"currency"}
    assert not Payment.objects.exists()
