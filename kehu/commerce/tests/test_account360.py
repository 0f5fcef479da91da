"""The quote-to-cash tab and receivable fact on the account 360° view, and document numbers in the
global search."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from kehu.commerce.choices import AgingBucket
from kehu.commerce.models import CreditEntry
from kehu.commerce.selectors.account360 import account_commerce, account_credit, account_receivables
from kehu.core.search import search
from kehu.customers.tests.factories import AccountFactory
from kehu.users.tests.factories import grant

from .factories import ContractFactory, InstalmentFactory, OrderFactory, PaymentFactory, QuoteFactory

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 6, 30)


def _grant_all(company: Any, scope: str = "own") -> None:
    grant(company.role_rep, "customers.account", "view", scope=scope)
    for model in ("quote", "contract", "order", "payment", "instalment"):
        grant(company.role_rep, f"commerce.{model}", "view", scope=scope)


@pytest.mark.parametrize(
    ("days_past_due", "bucket"),
    [
        (-1, AgingBucket.NOT_DUE),
        (0, AgingBucket.D0_30),
        (30, AgingBucket.D0_30),
        (31, AgingBucket.D31_60),
        (60, AgingBucket.D31_60),
        (61, AgingBucket.D61_90),
        (90, AgingBucket.D61_90),
        (91, AgingBucket.D90_PLUS),
    ],
)
def test_aging_bucket_boundaries(company: Any, days_past_due: int, bucket: str) -> None:
    _grant_all(company)
    account = AccountFactory.create(owner=company.rep1)
    InstalmentFactory.create(
        owner=company.rep1,
        account=account,
        due_on=AS_OF - dt.timedelta(days=days_past_due),
        amount=Decimal("1000"),
        received=Decimal("250"),
    )
    [row] = account_receivables(user=company.rep1, account_id=account.pk, as_of=AS_OF)
    assert row.currency == "CNY"
    assert {k: v for k, v in row.buckets.items() if v} == {bucket: Decimal("750")}
    assert row.total == Decimal("750")
    assert row.overdue == (Decimal(0) if bucket == AgingBucket.NOT_DUE else Decimal("750"))


def test_receivables_skip_paid_and_other_peoples_instalments(company: Any) -> None:
    _grant_all(company)
    account = AccountFactory.create(owner=company.rep1)
    InstalmentFactory.create(
        owner=company.rep1, account=account, due_on=AS_OF, amount=Decimal("500"), received=Decimal("500")
    )
    InstalmentFactory.create(owner=company.rep2, account=account, due_on=AS_OF, amount=Decimal("900"))
    InstalmentFactory.create(
        owner=company.rep1, account=account, due_on=AS_OF, amount=Decimal("100"), currency="USD"
    )
    rows = account_receivables(user=company.rep1, account_id=account.pk, as_of=AS_OF)
    assert [(r.currency, r.total) for r in rows] == [("USD", Decimal("100"))]
    # The manager's department scope sees rep2's instalment too.
    grant(company.role_manager, "commerce.instalment", "view", scope="department")
    rows = account_receivables(user=company.manager1, account_id=account.pk, as_of=AS_OF)
    assert [(r.currency, r.total) for r in rows] == [("CNY", Decimal("900")), ("USD", Decimal("100"))]


def test_credit_is_the_ledger_sum(company: Any) -> None:
    account = AccountFactory.create(owner=company.rep1)
    CreditEntry.objects.create(account=account, amount=Decimal("300.50"))
    CreditEntry.objects.create(account=account, amount=Decimal("-100.25"))
    CreditEntry.objects.create(account=account, amount=Decimal("5"), currency="USD")
    CreditEntry.objects.create(account=account, amount=Decimal("-5"), currency="USD")
    assert account_credit(account_id=account.pk) == {"CNY": Decimal("200.25")}


def test_documents_by_kind_and_permission(company: Any) -> None:
    account = AccountFactory.create(owner=company.rep1)
    mine = QuoteFactory.create(owner=company.rep1, account=account)
    QuoteFactory.create(owner=company.rep1, account=account, is_latest=False, number=mine.number, revision=2)
    QuoteFactory.create(owner=company.rep2, account=account)
    ContractFactory.create(owner=company.rep1, account=account)
    grant(company.role_rep, "commerce.quote", "view", scope="own")
    data = account_commerce(user=company.rep1, account_id=account.pk)
    assert data["quotes"] == [mine] and data["quote_count"] == 1
    # No view on contracts, orders, payments: their cards are not shown at all.
    assert data["contracts"] is None and data["orders"] is None and data["payments"] is None


def test_account_tab_renders_documents_receivables_and_fact(company: Any) -> None:
    _grant_all(company)
    account = AccountFactory.create(owner=company.rep1, name="华光科技")
    quote = QuoteFactory.create(
        owner=company.rep1, account=account, number="QT-2026-00042", total=Decimal("12345.67")
    )
    OrderFactory.create(owner=company.rep1, account=account, number="SO-2026-00007")
    PaymentFactory.create(owner=company.rep1, account=account, number="HK-2026-00003", amount=Decimal("800"))
    InstalmentFactory.create(
        owner=company.rep1,
        account=account,
        due_on=dt.date.today() - dt.timedelta(days=45),
        amount=Decimal("2000"),
    )
    CreditEntry.objects.create(account=account, amount=Decimal("66"))
    client = Client()
    client.force_login(company.rep1)
    page = client.get(f"{account.get_absolute_url()}?tab=commerce")
    assert page.status_code == 200
    html = page.content.decode()
    assert "QT-2026-00042" in html and "12,345.67" in html
    assert "SO-2026-00007" in html and "HK-2026-00003" in html
    assert 'data-bucket="31_60" class="text-danger"' in html
    assert 'data-credit="CNY"' in html
    overview = client.get(account.get_absolute_url()).content.decode()
    assert "2,000.00" in overview  # the receivable fact, with its overdue part
    assert quote.get_absolute_url() in html


def test_tab_hidden_without_any_commerce_permission(company: Any) -> None:
    grant(company.role_rep, "customers.account", "view", scope="own")
    account = AccountFactory.create(owner=company.rep1)
    client = Client()
    client.force_login(company.rep1)
    html = client.get(account.get_absolute_url()).content.decode()
    assert "tab=commerce" not in html


def test_search_finds_numbers_in_scope_only(company: Any) -> None:
    _grant_all(company)
    grant(company.role_rep, "commerce.invoice", "view", scope="own")
    account = AccountFactory.create(owner=company.rep1)
    QuoteFactory.create(owner=company.rep1, account=account, number="QT-2026-00123")
    QuoteFactory.create(owner=company.rep2, number="QT-2026-00124")
    ContractFactory.create(owner=company.rep1, account=account, number="HT-2026-00123")
    titles = {g.provider.key: [h.title for h in g.hits] for g in search(company.rep1, "00123")}
    assert any("QT-2026-00123" in t for t in titles.get("commerce.quote", []))
    assert any("HT-2026-00123" in t for t in titles.get("commerce.contract", []))
    groups = {g.provider.key: g.hits for g in search(company.rep1, "00124")}
    assert "commerce.quote" not in groups  # rep2's quote is out of rep1's scope
    assert not search(company.nobody, "00123") or all(
        not g.provider.key.startswith("commerce.") for g in search(company.nobody, "00123")
    )
