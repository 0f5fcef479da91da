"""Churn pages and API: the at-risk list within the account scope (filter by reason), resolving
(permission, note, a second resolve refused), the "At risk" badge and card on the account 360°,
churn rules' settings pages and API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kehu.customers.tests.factories import AccountFactory
from kehu.service.choices import RiskStatus
from kehu.service.models import AccountRisk, ChurnRule
from kehu.service.services import churn as services
from kehu.users.tests.factories import grant

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)


def scoped(company: Any) -> dict[str, Any]:
    """Reps see their own accounts, the manager their region, the director sales and below."""
    for role, scope in (
        (company.role_rep, "own"),
        (company.role_manager, "department"),
        (company.role_director, "department_and_below"),
        (company.role_all, "all"),
    ):
        grant(role, "customers.account", "view", scope=scope)
        grant(role, "service.accountrisk", "view")
    grant(company.role_manager, "service.accountrisk", "change")
    accounts = {
        "north": AccountFactory.create(owner=company.rep2, name="北方贸易"),
        "east": AccountFactory.create(owner=company.rep3, name="东方科技"),
    }
    risks = {
        "north": services.account_risk_flag(
            account=accounts["north"],
            reasons=[{"signal": "low_csat", "value": 1, "threshold": 2}],
            source="rules",
        ),
        "east": services.account_risk_flag(
            account=accounts["east"], reasons=[{"signal": "complaints", "value": 4}], source="rules"
        ),
    }
    return {"accounts": accounts, "risks": risks}


def test_at_risk_list_scope_and_filter(company: Any, client: Client) -> None:
    data = scoped(company)
    url = reverse("service:risk_list")
    assert client.get(url).status_code == 302
    client.force_login(company.nobody)
    assert client.get(url).status_code == 403

    client.force_login(company.manager1)
    html = client.get(url).content.decode()
    assert "北方贸易" in html and "东方科技" not in html

    client.force_login(company.director)
    html = client.get(url).content.decode()
    assert "北方贸易" in html and "东方科技" in html
    html = client.get(url + "?signal=complaints").content.decode()
    assert "北方贸易" not in html and "东方科技" in html

    client.force_login(company.rep1)  # owns neither
    assert "北方贸易" not in client.get(url).content.decode()
    assert data


def test_resolve_from_the_list(company: Any, client: Client) -> None:
    data = scoped(company)
    north, east = data["risks"]["north"], data["risks"]["east"]
    client.force_login(company.director)  # may view, not change
    assert client.post(reverse("service:risk_resolve", args=[north.pk]), {"note": "x"}).status_code == 403
    client.force_login(company.manager1)
    assert client.post(reverse("service:risk_resolve", args=[east.pk]), {"note": "x"}).status_code == 404
    assert client.get(reverse("service:risk_resolve", args=[north.pk])).status_code == 200
    done = client.post(reverse("service:risk_resolve", args=[north.pk]), {"note": "已电话回访"})
    assert done.status_code == 302
    north.refresh_from_db()
    assert (north.status, north.resolution_note, north.resolved_by) == (
        "resolved",
        "已电话回访",
        company.manager1,
    )
    again = client.post(reverse("service:risk_resolve", args=[north.pk]), {"note": "again"})
    assert again.status_code == 400 and "already resolved" in again.content.decode()
    east.refresh_from_db()
    assert east.status == RiskStatus.OPEN


def test_account_360_shows_the_flag(company: Any, client: Client) -> None:
    data = scoped(company)
    client.force_login(company.manager1)
    page = client.get(data["accounts"]["north"].get_absolute_url())
    html = page.content.decode()
    assert page.status_code == 200
    assert "data-at-risk" in html and 'data-panel="at-risk"' in html
    calm = AccountFactory.create(owner=company.rep2)
    assert "data-at-risk" not in client.get(calm.get_absolute_url()).content.decode()


def test_churn_rule_pages(company: Any, client: Client) -> None:
    client.force_login(company.nobody)
    assert client.get(reverse("service:churn_rule_list")).status_code == 403
    assert client.post(reverse("service:churn_rule_add"), {"name": "x"}).status_code == 403
    client.force_login(company.admin)
    assert client.get(reverse("service:churn_rule_list")).status_code == 200
    created = client.post(
        reverse("service:churn_rule_add"),
        {
            "name": "差评",
            "signal": "low_csat",
            "threshold": "2",
            "window_days": "30",
            "task_due_days": "3",
            "is_active": "on",
            "create_task": "on",
        },
    )
    assert created.status_code == 302
    rule = ChurnRule.objects.get(name="差评")
    bad = client.post(
        reverse("service:churn_rule_edit", args=[rule.pk]),
        {"name": "差评", "signal": "low_csat", "threshold": "9", "window_days": "30", "task_due_days": "3"},
    )
    assert bad.status_code == 400 and "threshold" in bad.content.decode()
    rule.refresh_from_db()
    assert rule.threshold == 2
    assert client.post(reverse("service:churn_rule_delete", args=[rule.pk])).status_code == 302
    assert not ChurnRule.objects.exists()


def test_api_rules_at_risk_and_resolve(company: Any, client: Client) -> None:
    data = scoped(company)
    client.force_login(company.admin)
    created = client.post(
        "/api/v1/service/churn-rules/",
        {"name": "无订单", "signal": "no_order", "threshold": 90},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    bad = client.post(
        "/api/v1/service/churn-rules/",
        {"name": "x", "signal": "nps_detractor", "threshold": 11},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "threshold" in bad.json()["fields"]

    client.force_login(company.manager1)
    listed = client.get("/api/v1/service/at-risk-accounts/").json()["results"]
    assert [r["account"] for r in listed] == [data["accounts"]["north"].pk]
    assert listed[0]["reasons_text"]
    north = data["risks"]["north"]
    resolved = client.post(
        f"/api/v1/service/at-risk-accounts/{north.pk}/resolve/",
        {"note": "ok"},
        content_type="application/json",
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    again = client.post(
        f"/api/v1/service/at-risk-accounts/{north.pk}/resolve/", {}, content_type="application/json"
    )
    assert again.status_code == 409
    east = data["risks"]["east"]
    assert client.post(f"/api/v1/service/at-risk-accounts/{east.pk}/resolve/", {}).status_code == 404
    assert (
        client.get("/api/v1/service/at-risk-accounts/?status=all").json()["results"][0]["status"]
        == "resolved"
    )

    client.force_login(company.director)  # view only
    assert client.post(f"/api/v1/service/at-risk-accounts/{east.pk}/resolve/", {}).status_code == 403
    assert AccountRisk.objects.get(pk=east.pk).status == RiskStatus.OPEN
    client.force_login(company.nobody)
    assert client.get("/api/v1/service/at-risk-accounts/").status_code == 403
    assert client.get("/api/v1/service/churn-rules/").status_code == 403
