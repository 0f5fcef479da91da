"""Exports of quotes, contracts, orders, payments and receivables through the core export
framework: the rows are the list page's (export scope, the page's FilterSet and sort), and the
list pages and the receivables page carry the export button."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from kehu.core import exports
from kehu.core.choices import JobStatus, Scope
from kehu.core.errors import PermissionDeniedError
from kehu.users.tests.factories import UserFactory

from ..choices import QuoteStatus
from ..services.payments import payment_record
from .factories import ContractFactory, InstalmentFactory, OrderFactory, QuoteFactory
from .payment_fixtures import planned_contract, user_with

pytestmark = pytest.mark.django_db
TODAY = dt.date.today()
AS_OF = dt.date(2026, 6, 30)
D = Decimal
NAMES = ("commerce.quote", "commerce.contract", "commerce.order", "commerce.payment", "commerce.instalment")


def run(user: Any, exporter: str, params: dict[str, Any], capture: Any) -> list[dict[str, str]]:
    """The export's CSV rows as dicts keyed by the header."""
    with capture(execute=True):
        job = exports.export_start(user=user, exporter=exporter, params=params, fmt="csv")
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    rows = list(csv.reader(io.StringIO(job.result_file.read().decode("utf-8-sig"))))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


@pytest.fixture
def admin() -> Any:
    return UserFactory.create(is_superuser=True)


def test_the_exporters_are_registered() -> None:
    for name in NAMES:
        assert exports.get_exporter(name).name == name


def test_quote_export_latest_versions_filters_and_sort(
    admin: Any, django_capture_on_commit_callbacks: Any
) -> None:
    old = QuoteFactory.create(owner=admin, number="QT-9", revision=1, is_latest=False, name="旧版")
    QuoteFactory.create(
        owner=admin, account=old.account, number="QT-9", revision=2, name="新版", total=D("1234.5")
    )
    QuoteFactory.create(owner=admin, number="QT-1", name="草稿", status=QuoteStatus.DRAFT)
    QuoteFactory.create(owner=admin, number="QT-2", name="已发送", status=QuoteStatus.SENT)
    rows = run(admin, "commerce.quote", {"sort": "number"}, django_capture_on_commit_callbacks)
    assert [(r["Number"], r["Version"]) for r in rows] == [("QT-1", "1"), ("QT-2", "1"), ("QT-9", "2")]
    assert rows[2]["Subject"] == "新版" and rows[2]["Total"] == "1234.50"
    assert rows[2]["Account"] == old.account.name
    every = run(admin, "commerce.quote", {"all_versions": "true"}, django_capture_on_commit_callbacks)
    assert len(every) == 4
    sent = run(admin, "commerce.quote", {"status": QuoteStatus.SENT}, django_capture_on_commit_callbacks)
    assert [r["Number"] for r in sent] == ["QT-2"]


def test_contract_and_order_exports_follow_the_filters(
    admin: Any, django_capture_on_commit_callbacks: Any
) -> None:
    contract = ContractFactory.create(owner=admin, number="HT-1", name="年度服务", value=D("30000"))
    ContractFactory.create(owner=admin, number="HT-2", name="硬件采购")
    rows = run(admin, "commerce.contract", {"q": "年度"}, django_capture_on_commit_callbacks)
    assert [(r["Number"], r["Contract value"], r["Account"]) for r in rows] == [
        ("HT-1", "30000.00", contract.account.name)
    ]
    OrderFactory.create(owner=admin, number="SO-1", contract=contract, account=contract.account)
    OrderFactory.create(owner=admin, number="SO-2")
    orders = run(
        admin, "commerce.order", {"account": str(contract.account_id)}, django_capture_on_commit_callbacks
    )
    assert [(r["Number"], r["Contract"]) for r in orders] == [("SO-1", "HT-1")]
    assert orders[0]["Status"]  # the status's name


def test_payment_export(admin: Any, django_capture_on_commit_callbacks: Any) -> None:
    contract, _plan, (first, _second) = planned_contract(owner=admin, amounts=("1000", "2000"))
    payment_record(
        account=contract.account,
        instalment=first,
        amount=D("1200"),
        received_on=TODAY,
        reference="=HYPERLINK(1)",
        allow_credit=True,
        by=admin,
    )
    other, _p, (third,) = planned_contract(owner=admin, amounts=("10",))
    payment_record(account=other.account, instalment=third, amount=D("10"), received_on=TODAY, by=admin)
    rows = run(
        admin, "commerce.payment", {"account": str(contract.account_id)}, django_capture_on_commit_callbacks
    )
    assert len(rows) == 1
    row = rows[0]
    assert (row["Amount"], row["Applied"], row["Credited"]) == ("1200.00", "1000.00", "200.00")
    assert row["Contract or order"] == contract.number and row["Instalment"] == "1"
    assert row["Reference"] == "'=HYPERLINK(1)"  # formula neutralised


def test_receivables_export_matches_the_page_filters(
    admin: Any, django_capture_on_commit_callbacks: Any
) -> None:
    contract, plan, _rows = planned_contract(
        owner=admin, amounts=("1",), first_due=AS_OF + dt.timedelta(days=5)
    )
    account = contract.account
    late = InstalmentFactory.create(
        plan=plan,
        account=account,
        owner=admin,
        sequence=5,
        due_on=AS_OF - dt.timedelta(days=45),
        amount=D("80"),
    )
    payment_record(account=account, instalment=late, amount=D("30"), received_on=TODAY, by=None)
    paid = InstalmentFactory.create(
        plan=plan, account=account, owner=admin, sequence=6, due_on=AS_OF, amount=D("5")
    )
    payment_record(account=account, instalment=paid, amount=D("5"), received_on=TODAY, by=None)
    planned_contract(owner=admin, amounts=("7",), first_due=AS_OF, currency="USD")

    every = run(
        admin, "commerce.instalment", {"as_of": AS_OF.isoformat()}, django_capture_on_commit_callbacks
    )
    # outstanding only (the paid one is left out), oldest due first
    assert [(r["Due date"], r["Outstanding"], r["Currency"], r["Age"]) for r in every] == [
        ((AS_OF - dt.timedelta(days=45)).isoformat(), "50.00", "CNY", "31–60 days"),
        (AS_OF.isoformat(), "7.00", "USD", "0–30 days"),
        ((AS_OF + dt.timedelta(days=5)).isoformat(), "1.00", "CNY", "Not yet due"),
    ]
    first = every[0]
    assert first["Account"] == account.name and first["Contract or order"] == contract.number
    assert (first["Amount"], first["Received"], first["Instalment"]) == ("80.00", "30.00", "5")
    assert first["Owner"] == str(admin)
    assert list(first) == [
        "Account",
        "Contract or order",
        "Instalment",
        "Due date",
        "Amount",
        "Received",
        "Outstanding",
        "Currency",
        "Age",
        "Owner",
    ]
    bucket = run(
        admin,
        "commerce.instalment",
        {"as_of": AS_OF.isoformat(), "bucket": "31_60", "account": str(account.pk)},
        django_capture_on_commit_callbacks,
    )
    assert [r["Instalment"] for r in bucket] == ["5"]
    usd = run(
        admin,
        "commerce.instalment",
        {"as_of": AS_OF.isoformat(), "currency": "usd"},
        django_capture_on_commit_callbacks,
    )
    assert [r["Currency"] for r in usd] == ["USD"]
    # another day moves the buckets
    later = run(
        admin,
        "commerce.instalment",
        {"as_of": (AS_OF + dt.timedelta(days=60)).isoformat(), "bucket": "90_plus"},
        django_capture_on_commit_callbacks,
    )
    assert [r["Instalment"] for r in later] == ["5"]


def test_exports_keep_to_the_export_scope(company: Any, django_capture_on_commit_callbacks: Any) -> None:
    from kehu.users.tests.factories import grant

    planned_contract(owner=company.rep1, amounts=("100",))
    planned_contract(owner=company.rep2, amounts=("200",))
    grant(company.role_rep, "commerce.instalment", "view", scope=Scope.ALL)
    grant(company.role_rep, "commerce.contract", "view", scope=Scope.ALL)
    with pytest.raises(PermissionDeniedError):
        exports.export_start(user=company.rep1, exporter="commerce.instalment", params={}, fmt="csv")
    with pytest.raises(PermissionDeniedError):
        exports.export_start(user=company.rep1, exporter="commerce.contract", params={}, fmt="csv")
    grant(company.role_rep, "commerce.instalment", "export", scope=Scope.OWN)
    grant(company.role_rep, "commerce.contract", "export", scope=Scope.OWN)
    rep1 = type(company.rep1).objects.get(pk=company.rep1.pk)  # grants are cached per user object
    rows = run(rep1, "commerce.instalment", {}, django_capture_on_commit_callbacks)
    assert [r["Outstanding"] for r in rows] == ["100.00"]
    assert len(run(rep1, "commerce.contract", {}, django_capture_on_commit_callbacks)) == 1


def test_the_lists_and_the_receivables_page_show_the_export_button(client: Client) -> None:
    admin = UserFactory.create(is_superuser=True, is_staff=True)
    client.force_login(admin)
    for url, name in (
        ("/commerce/quotes/", "commerce.quote"),
        ("/commerce/contracts/", "commerce.contract"),
        ("/commerce/orders/", "commerce.order"),
        ("/commerce/payments/", "commerce.payment"),
        ("/commerce/receivables/?as_of=2026-06-30&bucket=31_60", "commerce.instalment"),
    ):
        page = client.get(url)
        assert page.status_code == 200 and f'data-exporter="{name}"' in page.content.decode(), url
    receivables = client.get("/commerce/receivables/?as_of=2026-06-30&bucket=31_60").content.decode()
    assert 'name="params" value="as_of=2026-06-30&amp;bucket=31_60"' in receivables
    viewer = user_with(
        ("commerce.instalment", ("view",), Scope.ALL), ("commerce.contract", ("view",), Scope.ALL)
    )
    client.force_login(viewer)
    assert "data-exporter" not in client.get("/commerce/receivables/").content.decode()
    assert "data-exporter" not in client.get("/commerce/contracts/").content.decode()
