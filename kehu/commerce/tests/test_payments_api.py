"""The payments, plans, invoices, aging and credit endpoints, and the permission matrices of
payments and invoices (anonymous / no permission / own / department / department and below / all)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from kehu.core.choices import Action
from kehu.core.testing import Endpoint, PermissionMatrix
from kehu.users.tests.factories import UserFactory, grant

from ..models import Instalment, Invoice, Payment
from ..services.payments import payment_record
from .payment_fixtures import planned_contract

pytestmark = pytest.mark.django_db
API = "/api/v1/commerce/"
TODAY = dt.date.today()
D = Decimal


@pytest.fixture
def api(client: Client) -> tuple[Client, Any]:
    user = UserFactory.create(is_superuser=True)
    client.force_login(user)
    return client, user


def test_plan_set_and_replace(api: tuple[Client, Any]) -> None:
    client, user = api
    contract, _plan, _rows = planned_contract(owner=user, amounts=("100",))
    rows: list[dict[str, str]] = [{"due_on": TODAY.isoformat(), "amount": "60"}]
    body = {"contract": contract.pk, "instalments": rows}
    bad = client.post(f"{API}payment-plans/", body, content_type="application/json")
    assert bad.status_code == 400 and "instalments" in bad.json()["fields"]
    rows.append({"due_on": TODAY.isoformat(), "amount": "40", "note": "尾款"})
    ok = client.post(f"{API}payment-plans/", body, content_type="application/json")
    assert ok.status_code == 201 and len(ok.json()["instalments"]) == 2
    plan_id = ok.json()["id"]
    put = client.put(
        f"{API}payment-plans/{plan_id}/",
        {"instalments": [{"due_on": TODAY.isoformat(), "amount": "100"}]},
        content_type="application/json",
    )
    assert put.status_code == 200 and [i["amount"] for i in put.json()["instalments"]] == ["100.0000"]
    assert client.get(f"{API}payment-plans/{plan_id}/").status_code == 200
    assert client.get(f"{API}instalments/?outstanding=true").json()["results"][0]["outstanding"] == "100.0000"


def test_record_reverse_and_credit(api: tuple[Client, Any]) -> None:
    client, user = api
    contract, _plan, (first,) = planned_contract(owner=user, amounts=("100",))
    body = {"instalment": first.pk, "amount": "150", "received_on": TODAY.isoformat()}
    refused = client.post(f"{API}payments/", body, content_type="application/json")
    assert refused.status_code == 400 and "amount" in refused.json()["fields"]
    assert not Payment.objects.exists()
    created = client.post(f"{API}payments/", {**body, "allow_credit": True}, content_type="application/json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert (data["applied"], data["credited"]) == ("100.0000", "50.0000")
    credit = client.get(f"{API}accounts/{contract.account_id}/credit/").json()
    assert {k: D(v) for k, v in credit["credit"].items()} == {"CNY": D("50")}
    no_reason = client.post(f"{API}payments/{data['id']}/reverse/", {}, content_type="application/json")
    assert no_reason.status_code == 400
    reversed_ = client.post(
        f"{API}payments/{data['id']}/reverse/", {"reason": "退回"}, content_type="application/json"
    )
    assert reversed_.status_code == 201 and reversed_.json()["amount"] == "-150.0000"
    again = client.post(
        f"{API}payments/{data['id']}/reverse/", {"reason": "x"}, content_type="application/json"
    )
    assert again.status_code == 409
    assert client.get(f"{API}payments/{data['id']}/").json()["reversed"] is True
    first.refresh_from_db()
    assert first.received == 0
    assert (
        client.patch(f"{API}payments/{data['id']}/", {}, content_type="application/json").status_code == 405
    )
    assert client.delete(f"{API}payments/{data['id']}/").status_code == 405


def test_invoice_flow(api: tuple[Client, Any]) -> None:
    client, user = api
    contract, _plan, (first,) = planned_contract(owner=user, amounts=("1130",))
    payment = payment_record(
        account=contract.account, instalment=first, amount=D("1130"), received_on=TODAY, by=user
    )
    body = {
        "account": contract.account_id,
        "contract": contract.pk,
        "amount": "1000",
        "tax": "130",
        "payments": [payment.pk],
    }
    created = client.post(f"{API}invoices/", body, content_type="application/json")
    assert created.status_code == 201, created.json()
    invoice = created.json()
    assert invoice["total"] == "1130.0000" and invoice["buyer_name"] == contract.account.name
    patched = client.patch(
        f"{API}invoices/{invoice['id']}/",
        {"note": "备注", "version": invoice["version"]},
        content_type="application/json",
    )
    assert patched.status_code == 200, patched.json()
    issued = client.post(
        f"{API}invoices/{invoice['id']}/issue/", {"number": "044001"}, content_type="application/json"
    )
    assert issued.status_code == 200 and issued.json()["status"] == "issued"
    again = client.post(
        f"{API}invoices/{invoice['id']}/issue/", {"number": "044001"}, content_type="application/json"
    )
    assert again.status_code == 409
    above = client.post(f"{API}invoices/", {**body, "payments": []}, content_type="application/json")
    assert above.status_code == 400 and above.json()["code"] == "invoice_above_contract"
    override = client.post(
        f"{API}invoices/",
        {**body, "payments": [], "override": True, "override_reason": "客户要求"},
        content_type="application/json",
    )
    assert override.status_code == 201 and override.json()["over_limit"] is True
    void = client.post(
        f"{API}invoices/{invoice['id']}/void/", {"reason": "作废"}, content_type="application/json"
    )
    assert void.status_code == 200 and void.json()["status"] == "void"
    assert client.get(f"{API}invoices/?status=void").json()["results"][0]["id"] == invoice["id"]


def test_aging_endpoint(api: tuple[Client, Any]) -> None:
    client, user = api
    contract, _plan, _rows = planned_contract(
        owner=user, amounts=("100", "200"), first_due=TODAY - dt.timedelta(days=31)
    )
    data = client.get(f"{API}receivables/aging/").json()
    assert D(data["totals"]["31_60"]) == D("100") and D(data["totals"]["0_30"]) == D("200")
    assert data["rows"][0]["account"] == contract.account_id
    overall = client.get(f"{API}receivables/aging/?group_by=none&as_of={TODAY.isoformat()}").json()
    assert overall["rows"][0]["account"] is None
    assert client.get(f"{API}receivables/aging/?as_of=nope").status_code == 400
    assert client.get(f"{API}receivables/aging/?group_by=x").status_code == 400


def test_aging_refused_without_permission(client: Client) -> None:
    client.force_login(UserFactory.create())
    assert client.get(f"{API}receivables/aging/").status_code == 403


def _paid_instalment(owner: Any) -> Instalment:
    _contract, _plan, (first,) = planned_contract(owner=owner, amounts=("1000",))
    return first


def _payment(owner: Any) -> Payment:
    instalment = _paid_instalment(owner)
    return payment_record(
        account=instalment.account, instalment=instalment, amount=D("100"), received_on=TODAY, by=None
    )


def test_payment_permission_matrix(company: Any, client: Client) -> None:
    PermissionMatrix(
        model="commerce.payment",
        make=_payment,
        endpoints=[
            Endpoint("html list", "get", lambda o: "/commerce/payments/", Action.VIEW, on="list"),
            Endpoint("html detail", "get", lambda o: f"/commerce/payments/{o.pk}/", Action.VIEW),
            Endpoint(
                "html reverse form", "get", lambda o: f"/commerce/payments/{o.pk}/reverse/", Action.CHANGE
            ),
            Endpoint(
                "html reverse",
                "post",
                lambda o: f"/commerce/payments/{o.pk}/reverse/",
                Action.CHANGE,
                data=lambda o: {"reason": "退票"},
                writes=True,
                ok=(302,),
            ),
            Endpoint("api list", "get", lambda o: f"{API}payments/", Action.VIEW, on="list", api=True),
            Endpoint("api retrieve", "get", lambda o: f"{API}payments/{o.pk}/", Action.VIEW, api=True),
            Endpoint(
                "api reverse",
                "post",
                lambda o: f"{API}payments/{o.pk}/reverse/",
                Action.CHANGE,
                api=True,
                data=lambda o: {"reason": "退票"},
                writes=True,
                ok=(201,),
            ),
        ],
        snapshot=lambda o: (Payment.objects.count(), o.instalment.received if o.instalment else None),
        grant=grant,
    ).run(company, client)


def _invoice(owner: Any) -> Invoice:
    from .factories import InvoiceFactory

    return InvoiceFactory.create(owner=owner)


def test_invoice_permission_matrix(company: Any, client: Client) -> None:
    PermissionMatrix(
        model="commerce.invoice",
        make=_invoice,
        endpoints=[
            Endpoint("html list", "get", lambda o: "/commerce/invoices/", Action.VIEW, on="list"),
            Endpoint("html detail", "get", lambda o: f"/commerce/invoices/{o.pk}/", Action.VIEW),
            Endpoint("html edit form", "get", lambda o: f"/commerce/invoices/{o.pk}/edit/", Action.CHANGE),
            Endpoint(
                "html void",
                "post",
                lambda o: f"/commerce/invoices/{o.pk}/void/",
                Action.CHANGE,
                data=lambda o: {"reason": "作废"},
                writes=True,
                ok=(302,),
            ),
            Endpoint("api list", "get", lambda o: f"{API}invoices/", Action.VIEW, on="list", api=True),
            Endpoint("api retrieve", "get", lambda o: f"{API}invoices/{o.pk}/", Action.VIEW, api=True),
            Endpoint(
                "api create",
                "post",
                lambda o: f"{API}invoices/",
                Action.ADD,
                on="create",
                api=True,
                data=lambda o: {"account": o.account_id, "amount": "10", "tax": "0"},
                writes=True,
                ok=(201,),
            ),
            Endpoint(
                "api update",
                "patch",
                lambda o: f"{API}invoices/{o.pk}/",
                Action.CHANGE,
                api=True,
                data=lambda o: {"note": "改", "version": o.version},
                writes=True,
            ),
            Endpoint(
                "api issue",
                "post",
                lambda o: f"{API}invoices/{o.pk}/issue/",
                Action.CHANGE,
                api=True,
                data=lambda o: {"number": f"N{o.pk}"},
                writes=True,
            ),
        ],
        extra_grants={"customers.account": ["view"]},
        grant=grant,
    ).run(company, client)


@pytest.fixture
def zh_catalog() -> Any:
    """Chinese texts for the payment API's messages (the catalogues are regenerated by the lead;
    the test shows the messages go through gettext)."""
    from django.utils.translation import trans_real

    texts = {
        "Enter a date as YYYY-MM-DD.": "请按 YYYY-MM-DD 输入日期。",
        "Enter an account id.": "请输入客户编号。",
        "Group by “account” or “none”.": "按“account”或“none”分组。",
        "Give the account or the instalment.": "请给出客户或分期。",
    }
    catalogs = trans_real.translation("zh-hans")._catalog._catalogs  # type: ignore[attr-defined]
    added = dict(texts)
    catalogs.insert(0, added)
    yield texts
    catalogs.remove(added)


def test_api_messages_are_translated(api: tuple[Client, Any], zh_catalog: dict[str, str]) -> None:
    client, _user = api
    zh = {"Accept-Language": "zh-hans"}
    body = client.get(f"{API}receivables/aging/?as_of=nope&account=x&group_by=x", headers=zh).json()
    assert body["fields"] == {
        "as_of": [zh_catalog["Enter a date as YYYY-MM-DD."]],
        "account": [zh_catalog["Enter an account id."]],
        "group_by": [zh_catalog["Group by “account” or “none”."]],
    }
    r = client.post(f"{API}payments/", {"amount": "10"}, content_type="application/json", headers=zh)
    assert r.status_code == 400
    assert r.json()["fields"]["account"] == [zh_catalog["Give the account or the instalment."]]
