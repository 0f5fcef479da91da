"""Paying an instalment from the account's credit: the "Apply credit" action of the payment plan
panel (htmx dialog) and ``POST /api/v1/commerce/instalments/{id}/apply-credit/``; refusals above
the credit or the outstanding amount, and the permissions (those of recording a payment; an
instalment out of scope answers 404)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from kehu.core.choices import Scope
from kehu.users.tests.factories import UserFactory

from ..models import CreditEntry, Instalment
from ..selectors.payments import account_credit
from ..services.payments import payment_record
from ..templatetags.commerce_payments import plan_panel_context
from .payment_fixtures import planned_contract, user_with

pytestmark = pytest.mark.django_db
API = "/api/v1/commerce/"
TODAY = dt.date.today()
D = Decimal


@pytest.fixture
def admin(client: Client) -> Any:
    user = UserFactory.create(is_superuser=True, is_staff=True)
    client.force_login(user)
    return user


def _with_credit(owner: Any, *, amounts: tuple[str, ...] = ("1000",), credit: str = "300") -> Any:
    """A contract with a plan, and `credit` CNY of credit on its account (a payment without an
    instalment)."""
    contract, _plan, rows = planned_contract(owner=owner, amounts=amounts)
    payment_record(account=contract.account, amount=D(credit), received_on=TODAY, allow_credit=True, by=None)
    return contract, rows


def _state(instalment: Instalment) -> tuple[Decimal, Decimal, int]:
    instalment.refresh_from_db()
    return instalment.received, account_credit(instalment.account, "CNY"), CreditEntry.objects.count()


# --- the panel and the dialog --------------------------------------------------------------------


def test_the_panel_offers_apply_credit_only_with_credit_and_money_outstanding(
    client: Client, admin: Any
) -> None:
    contract, (first, second) = _with_credit(admin, amounts=("1000", "500"))
    payment_record(account=contract.account, instalment=second, amount=D("500"), received_on=TODAY, by=None)
    page = client.get(f"/commerce/contracts/{contract.pk}/").content.decode()
    assert f"/commerce/instalments/{first.pk}/apply-credit/" in page
    assert f"/commerce/instalments/{second.pk}/apply-credit/" not in page  # paid in full
    assert "data-account-credit" in page
    # the account's CNY credit does not pay a USD instalment
    other, _plan, (_usd,) = planned_contract(
        owner=admin, amounts=("100",), currency="USD", account=contract.account
    )
    context = plan_panel_context(admin, other)
    assert context["credits"] == {"CNY": D("300")} and context["rows"][0]["credit"] is None


def test_apply_credit_through_the_dialog(client: Client, admin: Any) -> None:
    contract, (first,) = _with_credit(admin, credit="300")
    url = f"/commerce/instalments/{first.pk}/apply-credit/"
    dialog = client.get(url, HTTP_HX_REQUEST="true")
    body = dialog.content.decode()
    assert dialog.status_code == 200 and 'name="amount"' in body and "300.00" in body
    assert client.post(url, {"amount": "120"}).status_code == 302
    assert _state(first)[:2] == (D("120"), D("180"))
    page = client.get(f"/commerce/contracts/{contract.pk}/").content.decode()
    assert f"/commerce/instalments/{first.pk}/apply-credit/" in page  # 180 left, 880 outstanding


def test_the_dialog_refuses_more_than_the_credit(client: Client, admin: Any) -> None:
    _contract, (first,) = _with_credit(admin, credit="300")
    before = _state(first)
    refused = client.post(f"/commerce/instalments/{first.pk}/apply-credit/", {"amount": "300.01"})
    assert refused.status_code == 400
    assert "300" in refused.content.decode() and "credit" in refused.content.decode()
    assert _state(first) == before


def test_the_dialog_refuses_more_than_the_outstanding_amount(client: Client, admin: Any) -> None:
    _contract, (first,) = _with_credit(admin, amounts=("100",), credit="500")
    before = _state(first)
    refused = client.post(f"/commerce/instalments/{first.pk}/apply-credit/", {"amount": "150"})
    assert refused.status_code == 400 and "lacks only" in refused.content.decode()
    for bad in ("0", "-5", "abc", ""):
        assert (
            client.post(f"/commerce/instalments/{first.pk}/apply-credit/", {"amount": bad}).status_code == 400
        )
    assert _state(first) == before


def test_the_dialog_needs_the_permission_to_record_payments(client: Client, company: Any) -> None:
    contract, (first,) = _with_credit(company.rep1, credit="300")
    url = f"/commerce/instalments/{first.pk}/apply-credit/"
    before = _state(first)
    viewer = user_with(
        ("commerce.instalment", ("view",), Scope.ALL), ("commerce.contract", ("view",), Scope.ALL)
    )
    client.force_login(viewer)
    assert client.get(url).status_code == 403
    assert client.post(url, {"amount": "10"}).status_code == 403
    assert plan_panel_context(viewer, contract)["rows"][0]["credit"] is None
    # may record payments, but the instalment is someone else's: 404
    recorder = user_with(
        ("commerce.instalment", ("view",), Scope.OWN), ("commerce.payment", ("view", "add"), Scope.OWN)
    )
    client.force_login(recorder)
    assert client.get(url).status_code == 404
    assert client.post(url, {"amount": "10"}).status_code == 404
    assert client.get("/commerce/instalments/999999/apply-credit/").status_code == 404
    assert _state(first) == before
    # the owner with both grants may
    owner = user_with(
        ("commerce.instalment", ("view",), Scope.OWN), ("commerce.payment", ("view", "add"), Scope.OWN)
    )
    mine, (own,) = _with_credit(owner, credit="50")
    client.force_login(owner)
    assert client.post(f"/commerce/instalments/{own.pk}/apply-credit/", {"amount": "50"}).status_code == 302
    assert _state(own)[:2] == (D("50"), D("0"))
    assert mine.account_id == own.account_id


def test_anonymous_users_go_to_the_login_page(client: Client) -> None:
    _contract, (first,) = _with_credit(UserFactory.create())
    response = client.post(f"/commerce/instalments/{first.pk}/apply-credit/", {"amount": "10"})
    assert response.status_code == 302 and "login" in response["Location"]
    assert _state(first)[0] == D("0")


# --- the API ------------------------------------------------------------------------------------


def _post(client: Client, instalment: Any, body: Any) -> Any:
    return client.post(
        f"{API}instalments/{instalment.pk}/apply-credit/", body, content_type="application/json"
    )


def test_api_applies_credit(client: Client, admin: Any) -> None:
    _contract, (first,) = _with_credit(admin, credit="300")
    response = _post(client, first, {"amount": "250"})
    assert response.status_code == 200, response.json()
    data = response.json()
    assert D(data["amount"]) == D("250") and D(data["credit"]) == D("50")
    assert data["instalment"]["id"] == first.pk and D(data["instalment"]["received"]) == D("250")
    assert D(data["instalment"]["outstanding"]) == D("750")
    assert _state(first)[:2] == (D("250"), D("50"))


@pytest.mark.parametrize(
    ("amount", "reason"),
    [("300.01", "credit"), ("0", "above zero"), ("-1", "above zero"), ("abc", ""), (None, "")],
)
def test_api_refuses_bad_amounts_above_the_credit(
    client: Client, admin: Any, amount: Any, reason: str
) -> None:
    _contract, (first,) = _with_credit(admin, credit="300")
    before = _state(first)
    response = _post(client, first, {} if amount is None else {"amount": amount})
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert list(fields) == ["amount"] and reason in " ".join(fields["amount"])
    assert _state(first) == before


def test_api_refuses_more_than_the_outstanding_amount(client: Client, admin: Any) -> None:
    _contract, (first,) = _with_credit(admin, amounts=("100",), credit="500")
    before = _state(first)
    response = _post(client, first, {"amount": "100.01"})
    assert response.status_code == 400 and "lacks only" in response.json()["fields"]["amount"][0]
    assert _state(first) == before
    assert _post(client, first, {"amount": "100"}).status_code == 200
    assert _state(first)[:2] == (D("100"), D("400"))
    again = _post(client, first, {"amount": "1"})  # nothing outstanding any more
    assert again.status_code == 400 and "amount" in again.json()["fields"]


def test_api_permissions(client: Client, company: Any) -> None:
    _contract, (first,) = _with_credit(company.rep1, credit="300")
    before = _state(first)
    viewer = user_with(("commerce.instalment", ("view",), Scope.ALL))
    client.force_login(viewer)
    assert _post(client, first, {"amount": "10"}).status_code == 403
    outsider = user_with(
        ("commerce.instalment", ("view",), Scope.OWN), ("commerce.payment", ("view", "add"), Scope.OWN)
    )
    client.force_login(outsider)
    assert _post(client, first, {"amount": "10"}).status_code == 404
    client.force_login(company.nobody)
    assert _post(client, first, {"amount": "10"}).status_code == 404
    client.logout()
    assert _post(client, first, {"amount": "10"}).status_code in (401, 403)
    assert _state(first) == before


def test_api_schema_documents_the_action(client: Client, admin: Any) -> None:
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    operation = schema["paths"]["/api/v1/commerce/instalments/{id}/apply-credit/"]["post"]
    assert operation["summary"] == "Pay an instalment from the account's credit"
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "amount" in schema["components"]["schemas"][body]["properties"]
    assert {"200", "400", "403", "404"} <= set(operation["responses"])


def test_panel_offers_nothing_to_a_user_who_may_not_record_payments() -> None:
    contract, _rows = _with_credit(UserFactory.create())
    context = plan_panel_context(UserFactory.create(), contract)
    assert context["may_record"] is False and all(row["credit"] is None for row in context["rows"])
