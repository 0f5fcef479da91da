"""Pool pages and API: who sees what, claims and refusals (409 / 400 with the record and the rule),
returns from a record's page, administration, history and preview."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kehu.customers.tests.factories import AccountFactory

from ..choices import PoolAction, PoolKind
from ..models import Lead, Pool, PoolHistory
from ..services.pools import pool_claim, pool_put
from .pool_fixtures import PoolFactory, make_lead, pools  # noqa: F401

# ruff: noqa: F811  (the fixtures above are used as test arguments)

pytestmark = pytest.mark.django_db
API = "/api/v1/sales/pools/"


def _pool(c: Any, **rules: Any) -> Pool:
    return PoolFactory.create(name="华北线索池", departments=[c.north], admins=[c.manager1], **rules)


def _in_pool(pool: Pool, n: int = 1) -> list[Lead]:
    leads = [make_lead() for _ in range(n)]
    pool_put(pool=pool, records=leads, by=None)
    return leads


def _post(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


# --- pages ----------------------------------------------------------------------------------------


def test_pool_pages_for_members_only(pools: Any, client: Any) -> None:
    pool = _pool(pools, max_claims_per_day=5)
    (lead,) = _in_pool(pool)
    assert client.get("/sales/pools/").status_code == 302  # anonymous: sign in
    client.force_login(pools.rep1)
    page = client.get("/sales/pools/")
    assert page.status_code == 200 and "华北线索池" in page.content.decode()
    detail = client.get(f"/sales/pools/{pool.pk}/")
    body = detail.content.decode()
    assert detail.status_code == 200 and lead.name in body and f'data-claim="{lead.pk}"' in body
    for tab in ("preview", "history"):
        assert client.get(f"/sales/pools/{pool.pk}/?tab={tab}").status_code == 200
    client.force_login(pools.rep3)  # 华东区: not a member
    assert "华北线索池" not in client.get("/sales/pools/").content.decode()
    assert client.get(f"/sales/pools/{pool.pk}/").status_code == 404
    assert client.post(f"/sales/pools/{pool.pk}/claim/", {"ids": [lead.pk]}).status_code == 404
    assert Lead.objects.get(pk=lead.pk).owner is None


def test_claim_from_the_page_and_the_refusal_message(pools: Any, client: Any) -> None:
    pool = _pool(pools)
    a, b = _in_pool(pool, 2)
    client.force_login(pools.rep1)
    response = client.post(f"/sales/pools/{pool.pk}/claim/", {"ids": [a.pk, b.pk]}, follow=True)
    assert response.status_code == 200 and "2" in response.content.decode()
    assert set(Lead.objects.filter(owner=pools.rep1).values_list("pk", flat=True)) == {a.pk, b.pk}
    client.force_login(pools.rep2)
    response = client.post(f"/sales/pools/{pool.pk}/claim/", {"ids": [a.pk]}, follow=True)
    assert "just claimed by someone else" in response.content.decode()
    htmx = client.post(f"/sales/pools/{pool.pk}/claim/", {"ids": [a.pk]}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 409 and "just claimed" in htmx["HX-Trigger"]


def test_return_from_the_lead_page_needs_the_reason(pools: Any, client: Any) -> None:
    pool = _pool(pools, return_reason_required=True)
    (lead,) = _in_pool(pool)
    pool_claim(pool=pool, ids=[lead.pk], by=pools.rep1)
    url = f"/sales/pools/return/sales.lead/{lead.pk}/"
    client.force_login(pools.rep2)
    assert client.get(url).status_code == 404  # not theirs, not visible
    client.force_login(pools.rep1)
    assert client.get(url).status_code == 200
    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 400 and Lead.objects.get(pk=lead.pk).owner == pools.rep1
    done = client.post(url, {"reason": "联系不上"})
    assert done.status_code == 302
    assert Lead.objects.get(pk=lead.pk).owner is None
    assert PoolHistory.objects.filter(lead=lead, action=PoolAction.RETURN, reason="联系不上").exists()


def test_account_360_has_return_action_and_pool_panel(pools: Any, client: Any) -> None:
    pool = PoolFactory.create(name="客户公海", kind=PoolKind.ACCOUNT, departments=[pools.north])
    account = AccountFactory.create(owner=None)
    pool_put(pool=pool, records=[account], by=None)
    client.force_login(pools.rep1)
    page = client.get(account.get_absolute_url()).content.decode()
    assert 'data-action="pool_claim"' in page and 'data-action="pool_return"' not in page
    pool_claim(pool=pool, ids=[account.pk], by=pools.rep1)
    page = client.get(account.get_absolute_url()).content.decode()
    assert 'data-action="pool_return"' in page and 'data-panel="pool"' in page and "客户公海" in page


def test_admin_pages(pools: Any, client: Any) -> None:
    pool = _pool(pools)
    client.force_login(pools.rep1)
    assert client.get("/sales/settings/pools/").status_code == 403
    client.force_login(pools.admin)
    assert client.get("/sales/settings/pools/").status_code == 200
    assert client.get(f"/sales/settings/pools/{pool.pk}/edit/").status_code == 200
    bad = client.post("/sales/settings/pools/new/", {"name": "", "kind": "lead", "max_claims_per_day": "-1"})
    assert bad.status_code == 400 and Pool.objects.count() == 1
    ok = client.post(
        "/sales/settings/pools/new/",
        {
            "name": "华东客户公海",
            "kind": "account",
            "order": "0",
            "is_active": "on",
            "max_claims_per_day": "10",
            "recycle_no_follow_up_days": "30",
            "recycle_warning_days": "3",
            "member_departments": [pools.east.pk],
            "admins": [pools.manager1.pk],
        },
    )
    assert ok.status_code == 302
    created = Pool.objects.get(name="华东客户公海")
    assert created.max_claims_per_day == 10 and list(created.member_departments.all()) == [pools.east]
    warning_alone = client.post(
        f"/sales/settings/pools/{created.pk}/edit/",
        {"name": "华东客户公海", "kind": "account", "order": "0", "recycle_warning_days": "3"},
    )
    assert warning_alone.status_code == 400 and "recycling rule" in warning_alone.content.decode()


# --- API ------------------------------------------------------------------------------------------


def test_api_claim_conflict_and_limits(pools: Any, client: Any) -> None:
    pool = _pool(pools, max_claims_per_day=1)
    a, b = _in_pool(pool, 2)
    assert _post(client, f"{API}{pool.pk}/claim/", {"ids": [a.pk]}).status_code in (401, 403)
    client.force_login(pools.rep1)
    ok = _post(client, f"{API}{pool.pk}/claim/", {"ids": [a.pk]})
    assert ok.status_code == 200 and ok.json() == {
        "claimed": [a.pk],
        "claims_today": 1,
        "max_claims_per_day": 1,
    }
    limit = _post(client, f"{API}{pool.pk}/claim/", {"ids": [b.pk]})
    assert limit.status_code == 400 and limit.json()["code"] == "pool_daily_limit"
    assert "华北线索池" in limit.json()["message"] and "ids" in limit.json()["fields"]
    client.force_login(pools.rep2)
    taken = _post(client, f"{API}{pool.pk}/claim/", {"ids": [a.pk]})
    assert taken.status_code == 409 and taken.json()["code"] == "already_claimed"
    assert a.name in taken.json()["message"]
    bodies: list[dict[str, Any]] = [{}, {"ids": []}, {"ids": ["x"]}, {"ids": "1"}, {"ids": [-1]}]
    for bad in bodies:
        response = _post(client, f"{API}{pool.pk}/claim/", bad)
        assert response.status_code == 400, bad
        assert any(k.startswith("ids") for k in response.json()["fields"]), bad
    assert Lead.objects.get(pk=b.pk).owner is None


def test_api_lists_records_history_preview(pools: Any, client: Any) -> None:
    pool = _pool(pools, recycle_no_follow_up_days=1)
    a, b = _in_pool(pool, 2)
    client.force_login(pools.rep1)
    listing = client.get(API)
    assert listing.status_code == 200 and [p["id"] for p in listing.json()["results"]] == [pool.pk]
    records = client.get(f"{API}{pool.pk}/records/")
    assert {r["id"] for r in records.json()["results"]} == {a.pk, b.pk}
    _post(client, f"{API}{pool.pk}/claim/", {"ids": [a.pk]})
    history = client.get(f"{API}{pool.pk}/history/").json()["results"]
    assert [h["action"] for h in history][:1] == ["claim"]
    preview = client.get(f"{API}{pool.pk}/preview/?on=2099-01-01")
    assert preview.status_code == 200 and [r["id"] for r in preview.json()] == [a.pk]
    assert preview.json()[0]["reason"] == "no_follow_up"
    assert client.get(f"{API}{pool.pk}/preview/?on=tomorrow").status_code == 400
    client.force_login(pools.rep3)
    assert client.get(f"{API}{pool.pk}/").status_code == 404


def test_api_return_assign_transfer(pools: Any, client: Any) -> None:
    pool = _pool(pools, return_reason_required=True)
    other = PoolFactory.create(name="备用池", departments=[pools.north])
    a, b, c = _in_pool(pool, 3)
    client.force_login(pools.rep1)
    _post(client, f"{API}{pool.pk}/claim/", {"ids": [a.pk]})
    no_reason = _post(client, f"{API}{pool.pk}/return/", {"ids": [a.pk]})
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["fields"]
    assert _post(client, f"{API}{pool.pk}/return/", {"ids": [a.pk], "reason": "不合适"}).json() == {
        "returned": 1
    }
    assert _post(client, f"{API}{pool.pk}/assign/", {"ids": [b.pk], "to": pools.rep2.pk}).status_code == 403
    client.force_login(pools.manager1)
    assigned = _post(client, f"{API}{pool.pk}/assign/", {"ids": [b.pk], "to": pools.rep2.pk})
    assert assigned.status_code == 200 and Lead.objects.get(pk=b.pk).owner == pools.rep2
    moved = _post(client, f"{API}{pool.pk}/transfer/", {"ids": [c.pk], "to_pool": other.pk})
    assert moved.json() == {"transferred": 1}
    assert PoolHistory.objects.filter(lead=c, action=PoolAction.TRANSFER, to_pool=other).exists()


def test_api_pool_crud(pools: Any, client: Any) -> None:
    client.force_login(pools.rep1)
    assert _post(client, API, {"name": "X", "kind": "lead"}).status_code == 403
    client.force_login(pools.admin)
    bad = _post(client, API, {"name": "", "kind": "nope", "max_owned": -3})
    assert bad.status_code == 400 and {"name", "kind", "max_owned"} <= set(bad.json()["fields"])
    created = _post(
        client, API, {"name": "线上线索池", "kind": "lead", "member_users": [pools.rep1.pk], "max_owned": 50}
    )
    assert created.status_code == 201 and created.json()["max_owned"] == 50
    pk = created.json()["id"]
    patched = client.patch(f"{API}{pk}/", json.dumps({"max_owned": None}), content_type="application/json")
    assert patched.status_code == 200 and patched.json()["max_owned"] is None
    (lead,) = _in_pool(Pool.objects.get(pk=pk))
    assert client.delete(f"{API}{pk}/").status_code == 400  # has records
    assert (
        client.patch(
            f"{API}{pk}/", json.dumps({"kind": "account"}), content_type="application/json"
        ).status_code
        == 400
    )
    assert Lead.objects.get(pk=lead.pk).pool_item.pool_id == pk
