"""An account's open churn flag and whether the reader may resolve it go through the restricted
at-risk list (the account scope), not the bare permission."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from kehu.customers.tests.factories import AccountFactory
from kehu.service.hooks import churn as hooks
from kehu.service.selectors import churn as selectors
from kehu.service.services import churn as services
from kehu.users.tests.factories import grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def flagged(company: Any) -> Any:
    """rep1 sees their own accounts and may view and change flags; rep3's account is flagged."""
    grant(company.role_rep, "customers.account", "view", scope="own")
    grant(company.role_rep, "service.accountrisk", "view", "change")
    mine = AccountFactory.create(owner=company.rep1, name="自己的客户")
    theirs = AccountFactory.create(owner=company.rep3, name="别人的客户")
    risks = {
        account.pk: services.account_risk_flag(
            account=account, reasons=[{"signal": "complaints", "value": 4}], source="rules"
        )
        for account in (mine, theirs)
    }
    return mine, theirs, risks


def _request(user: Any) -> Any:
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_open_risk_of_an_out_of_scope_account_is_none(company: Any, flagged: Any) -> None:
    mine, theirs, risks = flagged
    assert selectors.account_open_risk(user=company.rep1, account_id=mine.pk) == risks[mine.pk]
    assert selectors.account_open_risk(user=company.rep1, account_id=theirs.pk) is None
    assert selectors.account_open_risk(user=company.nobody, account_id=theirs.pk) is None
    assert hooks._panel(_request(company.rep1), theirs) is None
    assert hooks._fact(_request(company.rep1), theirs) is None


def test_may_resolve_follows_the_restricted_list(company: Any, flagged: Any) -> None:
    mine, theirs, risks = flagged
    panel = hooks._panel(_request(company.rep1), mine)
    assert panel is not None and panel["may_resolve"] is True
    assert selectors.may_resolve(user=company.rep1, risk=risks[theirs.pk]) is False
    grant(company.role_all, "customers.account", "view", scope="all")
    grant(company.role_all, "service.accountrisk", "view")
    panel = hooks._panel(_request(company.viewer_all), theirs)
    assert panel is not None and panel["may_resolve"] is False
