"""Pages of payments, payment plans, invoices and receivables (rendering, posts, refusals)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from kehu.core.choices import Scope
from kehu.users.tests.factories import UserFactory

from ..choices import InvoiceStatus
from ..models import Instalment, Invoice, Payment
from ..services.invoices import invoice_create
from ..services.payments import payment_record
from .payment_fixtures import planned_contract, user_with

pytestmark = pytest.mark.django_db
TODAY = dt.date.today()
D = Decimal


@pytest.fixture
def admin(client: Any) -> Any:
    user = UserFactory.create(is_superuser=True, is_staff=True)
    client.force_login(user)
    return user


def test_payment_pages(client: Any, admin: Any) -> None:
    contract, _plan, (first, _second) = planned_contract(owner=admin, amounts=("1000", "2000"))
    payment = payment_record(
        account=contract.account, instalment=first, amount=D("300"), received_on=TODAY, by=admin
    )
    assert client.get("/commerce/payments/").status_code == 200
    page = client.get(f"/commerce/payments/{payment.pk}/")
    assert page.status_code == 200 and payment.number in page.content.decode()
    assert 'data-action="reverse"' in page.content.decode()
    # reverse without a reason: refused, nothing saved
    url = f"/commerce/payments/{payment.pk}/reverse/"
    assert client.get(url, HTTP_HX_REQUEST="true").status_code == 200
    assert client.post(url, {"reason": ""}).status_code == 400
    assert Payment.objects.count() == 1
    assert client.post(url, {"reason": "退票"}).status_code == 302
    first.refresh_from_db()
    assert first.received == 0 and Payment.objects.count() == 2


def test_record_payment_form(client: Any, admin: Any) -> None:
    contract, _plan, (first, _second) = planned_contract(owner=admin, amounts=("1000", "2000"))
    url = f"/commerce/payments/record/?instalment={first.pk}"
    page = client.get(url)
    assert (page.status_code == 200 and "1,000" in page.content.decode()) or "1000" in page.content.decode()
    data = {
        "instalment": first.pk,
        "amount": "1500",
        "received_on": TODAY.isoformat(),
        "method": "bank_transfer",
    }
    refused = client.post(url, data)
    assert refused.status_code == 400 and "exceeds the plan" in refused.content.decode()
    assert not Payment.objects.exists()
    assert client.post(url, {**data, "allow_credit": "on"}).status_code == 302
    first.refresh_from_db()
    assert first.received == D("1000")
    assert client.get(f"/commerce/payments/record/?contract={contract.pk}").status_code == 200
    assert client.get(f"/commerce/payments/record/?account={contract.account_id}").status_code == 200
    assert client.get("/commerce/payments/record/").status_code == 404


def test_plan_editor_and_panel(client: Any, admin: Any) -> None:
    contract, plan, _rows = planned_contract(owner=admin, amounts=("1000", "2000"))
    url = f"/commerce/payment-plans/contract/{contract.pk}/"
    assert client.get(url, HTTP_HX_REQUEST="true").status_code == 200
    bad = client.post(
        url, {"due_on": [TODAY.isoformat()], "amount": ["100"], "note": [""]}, HTTP_HX_REQUEST="true"
    )
    assert "data-plan-error" in bad.content.decode() and plan.instalments.count() == 2
    ok = client.post(
        url,
        {"due_on": [TODAY.isoformat()] * 3, "amount": ["1000", "1000", "1000"], "note": ["a", "b", "c"]},
        HTTP_HX_REQUEST="true",
    )
    assert ok.status_code == 200 and plan.instalments.count() == 3
    assert client.get("/commerce/payment-plans/quote/1/").status_code == 404
    # the partial with only `document` in context
    request = RequestFactory().get("/")
    request.user = admin
    html = Template('{% include "commerce/payments/_plan_panel.html" with document=contract %}').render(
        Context({"contract": contract, "request": request})
    )
    assert "data-instalments" in html and html.count("data-instalment=") == 3
    panel = Template('{% include "commerce/receivables/_account_panel.html" with account=a %}').render(
        Context({"a": contract.account, "request": request})
    )
    assert "data-account-receivables" in panel


def test_plan_editor_refused_without_change(client: Any, company: Any) -> None:
    contract, plan, _rows = planned_contract(owner=company.rep2, amounts=("1000",))
    viewer = user_with(
        ("commerce.contract", ("view",), Scope.ALL), ("commerce.paymentplan", ("view", "change"), Scope.ALL)
    )
    client.force_login(viewer)
    response = client.post(
        f"/commerce/payment-plans/contract/{contract.pk}/",
        {"due_on": [TODAY.isoformat()], "amount": ["1000"]},
    )
    assert response.status_code == 403
    assert list(plan.instalments.values_list("amount", flat=True)) == [D("1000")]


def test_invoice_pages(client: Any, admin: Any) -> None:
    contract, _plan, _rows = planned_contract(owner=admin, amounts=("1000",))
    add = client.get(f"/commerce/invoices/add/?contract={contract.pk}")
    assert add.status_code == 200 and contract.account.name in add.content.decode()
    data = {
        "account": contract.account_id,
        "contract": contract.pk,
        "kind": "special_vat",
        "currency": "CNY",
        "amount": "900",
        "tax": "117",
    }
    refused = client.post("/commerce/invoices/add/", data)
    assert refused.status_code == 400 and not Invoice.objects.exists()
    assert client.post("/commerce/invoices/add/", {**data, "tax": "100"}).status_code == 302
    invoice = Invoice.objects.get()
    assert invoice.total == D("1000")
    assert client.get("/commerce/invoices/").status_code == 200
    assert client.get(f"/commerce/invoices/{invoice.pk}/").status_code == 200
    assert client.post(f"/commerce/invoices/{invoice.pk}/issue/", {"number": "0001"}).status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED
    assert client.post(f"/commerce/invoices/{invoice.pk}/void/", {"reason": ""}).status_code == 400
    assert client.post(f"/commerce/invoices/{invoice.pk}/void/", {"reason": "错"}).status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.VOID


def test_receivables_page_and_export_button(client: Any, admin: Any) -> None:
    contract, _plan, _rows = planned_contract(
        owner=admin, amounts=("1000", "2000"), first_due=TODAY - dt.timedelta(days=45)
    )
    page = client.get("/commerce/receivables/")
    body = page.content.decode()
    assert page.status_code == 200 and contract.account.name in body and "receivables-chart" in body
    # the totals by bucket (one row each, and the total), and the chart's data for every bucket
    assert body.count("data-bucket-row=") == 5 and "data-aging-total" in body
    chart = page.context["charts"]
    assert chart["values"] == [0.0, 2000.0, 1000.0, 0.0, 0.0] and len(chart["labels"]) == 5
    drill = client.get(f"/commerce/receivables/?bucket=31_60&account={contract.account_id}")
    drill_body = drill.content.decode()
    assert drill_body.count("data-instalment=") == 1
    # the export button (the instalments exporter) carries the page's filters; no CSV of its own
    assert 'data-exporter="commerce.instalment"' in drill_body
    assert f"bucket=31_60&amp;account={contract.account_id}" in drill_body
    assert "receivables/csv/" not in body
    assert client.get("/commerce/receivables/csv/").status_code == 404


def test_receivables_refused_without_permission(client: Any) -> None:
    client.force_login(UserFactory.create())
    assert client.get("/commerce/receivables/").status_code == 403
    assert Instalment.objects.count() == 0


def test_invoice_override_through_the_form(client: Any, admin: Any) -> None:
    contract, _plan, _rows = planned_contract(owner=admin, amounts=("1000",))
    invoice_create(
        account=contract.account, data={"amount": D("1000"), "tax": D("0"), "contract": contract}, by=admin
    )
    data = {
        "account": contract.account_id,
        "contract": contract.pk,
        "kind": "normal_vat",
        "amount": "10",
        "tax": "0",
    }
    assert client.post("/commerce/invoices/add/", {**data, "override": "on"}).status_code == 400
    ok = client.post("/commerce/invoices/add/", {**data, "override": "on", "override_reason": "补开运费"})
    assert ok.status_code == 302
    assert Invoice.objects.filter(over_limit=True).count() == 1
