"""The administration page and API of the collision policies, and the check endpoint."""

from __future__ import annotations

from typing import Any

import pytest

from kehu.core.models import Job
from kehu.dedup.models import CollisionPolicy
from kehu.dedup.services import collision_policy

from .conftest import make_lead

pytestmark = pytest.mark.django_db


def test_page_is_for_administrators(sales: Any, client: Any) -> None:
    assert client.get("/dedup/policies/").status_code == 302  # sign in first
    client.force_login(sales.manager1)
    assert client.get("/dedup/policies/").status_code == 403
    assert client.post("/dedup/policies/", {"mode:customers.account": "block"}).status_code == 403
    assert client.post("/dedup/rebuild-keys/").status_code == 403
    assert not CollisionPolicy.objects.exists()


def test_admin_sets_policies_on_the_page(sales: Any, client: Any) -> None:
    client.force_login(sales.admin)
    page = client.get("/dedup/policies/")
    body = page.content.decode()
    assert page.status_code == 200
    for label in ("sales.lead", "customers.account", "customers.contact"):
        assert f'name="mode:{label}"' in body
    assert 'href="/dedup/policies/"' in client.get("/").content.decode()  # in the Administration menu
    saved = client.post("/dedup/policies/", {"mode:customers.account": "block", "mode:sales.lead": "warn"})
    assert saved.status_code == 302
    assert collision_policy("customers.account") == "block"
    assert collision_policy("sales.lead") == "warn"
    bad = client.post("/dedup/policies/", {"mode:customers.contact": "explode"})
    assert bad.status_code == 400
    assert collision_policy("customers.contact") == "warn"
    client.post("/dedup/rebuild-keys/")
    assert Job.objects.filter(kind="dedup.rebuild_keys", owner=sales.admin).exists()


def test_page_in_chinese(sales: Any, client: Any) -> None:
    client.force_login(sales.admin)
    body = client.get("/dedup/policies/", headers={"Accept-Language": "zh-hans"}).content.decode()
    assert "撞单检查" in body and "提醒（用户可确认后仍保存）" in body


def test_policy_api(sales: Any, client: Any) -> None:
    client.force_login(sales.rep1)
    assert client.get("/api/v1/dedup/policies/").status_code == 403
    assert (
        client.put(
            "/api/v1/dedup/policies/sales.lead/", {"mode": "block"}, content_type="application/json"
        ).status_code
        == 403
    )
    client.force_login(sales.admin)
    listed = client.get("/api/v1/dedup/policies/").json()
    assert {r["model"]: r["mode"] for r in listed} == {
        "sales.lead": "warn",
        "customers.account": "warn",
        "customers.contact": "warn",
    }
    changed = client.put(
        "/api/v1/dedup/policies/sales.lead/", {"mode": "block"}, content_type="application/json"
    )
    assert changed.status_code == 200 and changed.json()["mode"] == "block"
    bad = client.patch("/api/v1/dedup/policies/sales.lead/", {"mode": "x"}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid" and "mode" in bad.json()["fields"]
    assert client.get("/api/v1/dedup/policies/users.user/").status_code == 404
    assert collision_policy("sales.lead") == "block"


def test_check_api(sales: Any, client: Any) -> None:
    lead = make_lead(sales.rep3, company="微信科技有限公司", mobile="+8613812345678")
    client.force_login(sales.rep1)
    answer = client.post(
        "/api/v1/dedup/check/",
        {
            "model": "customers.account",
            "values": {"name": "微信科技（深圳）有限公司", "phones": ["138 1234 5678"]},
        },
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["policy"] == "warn"
    assert [(m["model"], m["id"], m["kinds"], m["visible"], m["label"]) for m in body["matches"]] == [
        ("sales.lead", lead.pk, ["phone", "company"], False, "王***")
    ]
    bad = client.post(
        "/api/v1/dedup/check/", {"model": "users.user", "values": {}}, content_type="application/json"
    )
    assert bad.status_code == 400 and "model" in bad.json()["fields"]
    client.force_login(sales.nobody)
    refused = client.post(
        "/api/v1/dedup/check/",
        {"model": "sales.lead", "values": {"phone": "13812345678"}},
        content_type="application/json",
    )
    assert refused.status_code == 403
