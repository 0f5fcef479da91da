"""SLA policy pages show accounts outside the reader's scope as a placeholder, never by name, and
saving the policy keeps them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kehu.core.choices import Action, Scope
from kehu.customers.tests.factories import AccountFactory
from kehu.users.tests.factories import grant

from .factories_sla import policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(client: Client, company: Any) -> Any:
    grant(company.role_rep, "service.slapolicy", Action.VIEW, Action.CHANGE)
    grant(company.role_rep, "customers.account", Action.VIEW, scope=Scope.OWN)
    own: Any = AccountFactory(owner=company.rep1, name="自己的客户有限公司")
    other: Any = AccountFactory(owner=company.rep3, name="别人的秘密客户有限公司")
    p = policy(name="大客户", conditions={"accounts": [own.pk, other.pk]})
    client.force_login(company.rep1)
    client.cookies["django_language"] = "en"
    return p, own, other


@pytest.mark.parametrize(
    "name", ["service:sla_policy_list", "service:sla_policy_detail", "service:sla_policy_edit"]
)
def test_pages_show_a_placeholder_for_out_of_scope_accounts(client: Client, setup: Any, name: str) -> None:
    p, own, other = setup
    url = reverse(name) if name.endswith("list") else reverse(name, args=[p.pk])
    page = client.get(url).content.decode()
    assert own.name in page
    assert other.name not in page
    assert "(hidden account)" in page


def test_saving_keeps_the_out_of_scope_accounts(client: Client, setup: Any) -> None:
    p, own, other = setup
    response = client.post(
        reverse("service:sla_policy_edit", args=[p.pk]),
        {
            "name": "大客户 2",
            "is_active": "on",
            "accounts": [str(own.pk), str(other.pk)],
            "first_response_hours": "1",
            "warn_percent": "80",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    p.refresh_from_db()
    assert p.name == "大客户 2"
    assert sorted(p.conditions["accounts"]) == sorted([own.pk, other.pk])
