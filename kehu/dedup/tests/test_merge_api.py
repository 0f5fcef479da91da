"""POST /api/v1/dedup/merge/."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from kehu.customers.models import Account
from kehu.customers.tests.factories import AccountFactory, ContactFactory
from kehu.dedup.choices import GroupStatus, MatchLevel
from kehu.dedup.models import DuplicateGroup, DuplicateMember, MergedRecord
from kehu.sales.models import Lead
from kehu.sales.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/dedup/merge/"


def _client(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_merge_accounts(sales: Any) -> None:
    keep = AccountFactory.create(owner=sales.rep1, name="甲公司")
    gone = AccountFactory.create(owner=sales.rep1, name="乙公司", website="https://b.example")
    contact = ContactFactory.create(owner=sales.rep1, account=gone)
    group = DuplicateGroup.objects.create(
        model_label="customers.account", level=MatchLevel.POSSIBLE, score=0.8, key="k"
    )
    for pk in (keep.pk, gone.pk):
        DuplicateMember.objects.create(group=group, object_id=pk)

    response = _client(sales.rep1).post(
        URL,
        {
            "model": "customers.account",
            "master": keep.pk,
            "ids": [gone.pk],
            "values": {"name": gone.pk},
            "group": group.pk,
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json() == {
        "model": "customers.account",
        "id": keep.pk,
        "url": f"/customers/accounts/{keep.pk}/",
        "merged": [gone.pk],
    }
    keep.refresh_from_db()
    assert (keep.name, keep.website) == ("乙公司", "https://b.example")
    contact.refresh_from_db()
    assert contact.account_id == keep.pk
    assert not Account.objects.filter(pk=gone.pk).exists()
    assert MergedRecord.objects.get(old_id=gone.pk).into_id == keep.pk
    assert DuplicateGroup.objects.get(pk=group.pk).status == GroupStatus.MERGED


def test_a_group_with_records_out_of_scope_is_not_found_and_nothing_merges(sales: Any) -> None:
    """The group is read through the review queue's selector: a rep may not resolve a group that
    holds a record they may not change, even when the records sent are their own."""
    mine = AccountFactory.create(owner=sales.rep1, name="甲公司")
    mine2 = AccountFactory.create(owner=sales.rep1, name="甲公司分部")
    theirs = AccountFactory.create(owner=sales.rep3, name="甲公司（别人的）")
    group = DuplicateGroup.objects.create(
        model_label="customers.account", level=MatchLevel.POSSIBLE, score=0.8, key="k2"
    )
    for pk in (mine.pk, theirs.pk):
        DuplicateMember.objects.create(group=group, object_id=pk)
    body = {"model": "customers.account", "master": mine.pk, "ids": [mine2.pk], "group": group.pk}
    response = _client(sales.rep1).post(URL, body, format="json")
    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found" and list(response.json()["fields"]) == ["group"]
    assert Account.objects.filter(pk__in=[mine.pk, mine2.pk, theirs.pk]).count() == 3
    assert DuplicateGroup.objects.get(pk=group.pk).status == GroupStatus.OPEN


def test_merge_leads_with_the_master_listed_too(sales: Any) -> None:
    keep = LeadFactory.create(owner=sales.rep1)
    gone = LeadFactory.create(owner=sales.rep1)
    response = _client(sales.rep1).post(
        URL, {"model": "sales.lead", "master": keep.pk, "ids": [keep.pk, gone.pk]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["merged"] == [gone.pk]
    assert list(Lead.objects.values_list("pk", flat=True)) == [keep.pk]


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"model": "sales.opportunity", "ids": [1]}, 400, "invalid", "model"),
        ({"model": "customers.account"}, 400, "invalid", "ids"),
        ({"model": "customers.account", "ids": []}, 400, "invalid", "ids"),
        (
            {"model": "customers.account", "ids": ["GONE"], "values": {"nope": "GONE"}},
            400,
            "invalid",
            "values.nope",
        ),
        ({"model": "customers.account", "ids": ["THEIRS"]}, 404, "not_found", "ids"),
        ({"model": "customers.account", "ids": [10**9]}, 404, "not_found", "ids"),
        ({"model": "customers.account", "ids": ["GONE"], "group": 10**9}, 404, "not_found", "group"),
    ],
)
def test_errors(sales: Any, body: dict[str, Any], status: int, code: str, field: str) -> None:
    keep = AccountFactory.create(owner=sales.rep1)
    gone = AccountFactory.create(owner=sales.rep1)
    theirs = AccountFactory.create(owner=sales.rep3)
    swap = {"GONE": gone.pk, "THEIRS": theirs.pk}
    body = {
        "master": keep.pk,
        **body,
        "ids": [swap.get(i, i) for i in body.get("ids", [])] if "ids" in body else None,
    }
    if body["ids"] is None:
        del body["ids"]
    if "values" in body:
        body["values"] = {k: swap.get(v, v) for k, v in body["values"].items()}

    response = _client(sales.rep1).post(URL, body, format="json")

    assert response.status_code == status, response.content
    data = response.json()
    assert data["code"] == code
    assert field in data["fields"]
    assert Account.objects.count() == 3
    assert not MergedRecord.objects.exists()


def test_anonymous_and_no_permission(sales: Any) -> None:
    keep = AccountFactory.create(owner=sales.rep1)
    gone = AccountFactory.create(owner=sales.rep1)
    body = {"model": "customers.account", "master": keep.pk, "ids": [gone.pk]}
    assert APIClient().post(URL, body, format="json").status_code in (401, 403)
    response = _client(sales.nobody).post(URL, body, format="json")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert Account.objects.count() == 2


def test_schema_documents_the_endpoint(sales: Any) -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"][URL]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("MergeRequest")
    assert set(operation["responses"]) >= {"200", "400", "404"}
    assert "MergeResult" in schema["components"]["schemas"]
