from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from kehu.customers.tests.factories import AccountFactory, ContactFactory

from ..models import StaticGroup, StaticGroupMember, Tag, TaggedItem, TagGroup
from .factories import StaticGroupFactory, TagFactory, TaggedItemFactory, TagGroupFactory

API = "/api/v1/tags/"


def post(client: Client, url: str, data: Any) -> Any:
    return client.post(url, data=data, content_type="application/json")


class TestTagsApi:
    def test_anonymous_refused(self, client: Client, db: Any) -> None:
        assert client.get(API).status_code in (401, 403)
        assert post(client, f"{API}assign/", {}).status_code in (401, 403)

    def test_read_for_everyone_manage_for_admin(self, sales: Any, client: Client) -> None:
        tag = TagFactory.create(name="VIP")
        client.force_login(sales.rep1)
        assert [t["name"] for t in client.get(API).json()["results"]] == ["VIP"]
        r = post(client, API, {"name": "x"})
        assert r.status_code == 403 and r.json()["code"] == "permission_denied"
        assert (
            client.patch(f"{API}{tag.pk}/", {"name": "y"}, content_type="application/json").status_code == 403
        )
        assert client.delete(f"{API}{tag.pk}/").status_code == 403
        assert Tag.objects.get().name == "VIP"
        client.force_login(sales.admin)
        r = post(client, API, {"name": "新", "colour": "red"})
        assert r.status_code == 201, r.json()
        r = post(client, API, {"name": "新"})
        assert r.status_code == 400 and "name" in r.json()["fields"]
        r = post(client, API, {"name": "z", "colour": "mauve"})
        assert r.status_code == 400
        assert client.delete(f"{API}{tag.pk}/").status_code == 204

    def test_model_filter(self, sales: Any, client: Client) -> None:
        TagFactory.create(name="all")
        TagFactory.create(
            name="contacts only", group=TagGroupFactory.create(model_labels=["customers.contact"])
        )
        client.force_login(sales.rep1)
        names = {t["name"] for t in client.get(f"{API}?model=customers.account").json()["results"]}
        assert names == {"all"}
        assert client.get(f"{API}?model=nope.nope").json()["results"] == []

    def test_groups_crud(self, sales: Any, client: Client) -> None:
        client.force_login(sales.admin)
        r = post(
            client,
            f"{API}groups/",
            {"name": "等级", "exclusive": True, "model_labels": ["customers.account"]},
        )
        assert r.status_code == 201, r.json()
        gid = r.json()["id"]
        r = post(client, f"{API}groups/", {"name": "g2", "model_labels": ["auth.user"]})
        assert r.status_code == 400
        r = client.patch(f"{API}groups/{gid}/", {"colour": "green"}, content_type="application/json")
        assert r.status_code == 200 and r.json()["colour"] == "green"
        assert client.delete(f"{API}groups/{gid}/").status_code == 204
        assert not TagGroup.objects.exists()

    def test_merge(self, sales: Any, client: Client) -> None:
        a, b = TagFactory.create(), TagFactory.create()
        TaggedItemFactory.create(tag=a, obj=AccountFactory.create(owner=sales.rep1))
        client.force_login(sales.admin)
        r = post(client, f"{API}{a.pk}/merge/", {"target": b.pk})
        assert r.status_code == 200 and r.json() == {"count": 1}
        assert post(client, f"{API}{b.pk}/merge/", {"target": b.pk}).status_code == 400


class TestAssign:
    def test_assign_unassign_scope(self, sales: Any, client: Client) -> None:
        mine, theirs = AccountFactory.create(owner=sales.rep1), AccountFactory.create(owner=sales.rep3)
        vip = TagFactory.create()
        client.force_login(sales.rep1)
        body = {"model": "customers.account", "ids": [mine.pk, theirs.pk], "tags": [vip.pk]}
        assert post(client, f"{API}assign/", body).json() == {"count": 1}
        assert post(client, f"{API}assign/", body).json() == {"count": 0}
        assert list(TaggedItem.objects.values_list("object_id", flat=True)) == [mine.pk]
        r = client.get(f"/api/v1/customers/accounts/{mine.pk}/")
        assert [t["id"] for t in r.json()["tags"]] == [vip.pk]
        assert post(client, f"{API}unassign/", body).json() == {"count": 1}
        assert not TaggedItem.objects.exists()

    def test_viewer_cannot_tag(self, sales: Any, client: Client) -> None:
        acc = AccountFactory.create(owner=sales.rep1)
        client.force_login(sales.viewer_all)
        body = {"model": "customers.account", "ids": [acc.pk], "tags": [TagFactory.create().pk]}
        assert post(client, f"{API}assign/", body).json() == {"count": 0}
        assert not TaggedItem.objects.exists()

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"model": "users.user", "ids": [1], "tags": [1]},
            {"model": "customers.account", "ids": [], "tags": [1]},
            {"model": "customers.account", "ids": ["x"], "tags": [1]},
            {"model": "customers.account", "ids": [1], "tags": [2**63]},
            {"model": "customers.account", "ids": [1], "tags": [999999]},
            {"model": "customers.account", "ids": 5, "tags": [1]},
        ],
    )
    def test_bad_input_is_400(self, sales: Any, client: Client, body: Any) -> None:
        client.force_login(sales.rep1)
        r = post(client, f"{API}assign/", body)
        assert r.status_code == 400, r.content
        assert "code" in r.json()

    def test_list_has_tags_without_n_plus_one(
        self, sales: Any, client: Client, django_assert_max_num_queries: Any
    ) -> None:
        tags = [TagFactory.create() for _ in range(3)]
        client.force_login(sales.rep1)
        ContactFactory.create(owner=sales.rep1)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as few:
            client.get("/api/v1/customers/contacts/")
        for _ in range(10):
            c = ContactFactory.create(owner=sales.rep1)
            for t in tags:
                TaggedItemFactory.create(tag=t, obj=c)
        with django_assert_max_num_queries(len(few.captured_queries)):
            r = client.get("/api/v1/customers/contacts/")
        assert all(len(row["tags"]) == 3 for row in r.json()["results"][:10])


class TestStaticGroupsApi:
    def test_crud_and_members(self, sales: Any, client: Client) -> None:
        mine, theirs = AccountFactory.create(owner=sales.rep1), AccountFactory.create(owner=sales.rep3)
        client.force_login(sales.rep1)
        r = post(client, f"{API}static-groups/", {"name": "展会", "model": "customers.account"})
        assert r.status_code == 201, r.json()
        gid = r.json()["id"]
        r = post(client, f"{API}static-groups/{gid}/members/add/", {"ids": [mine.pk, theirs.pk]})
        assert r.json() == {"count": 1}
        r = client.get(f"/api/v1/customers/accounts/?group={gid}")
        assert [row["id"] for row in r.json()["results"]] == [mine.pk]
        r = post(client, f"{API}static-groups/{gid}/members/remove/", {"ids": [mine.pk]})
        assert r.json() == {"count": 1}
        r = client.patch(
            f"{API}static-groups/{gid}/", {"name": "改", "version": 1}, content_type="application/json"
        )
        assert r.status_code == 200
        r = client.patch(
            f"{API}static-groups/{gid}/", {"name": "再改", "version": 1}, content_type="application/json"
        )
        assert r.status_code == 409
        assert client.delete(f"{API}static-groups/{gid}/").status_code == 204

    def test_visibility_and_ownership(self, sales: Any, client: Client) -> None:
        private = StaticGroupFactory.create(owner=sales.rep1)
        shared = StaticGroupFactory.create(owner=sales.rep1, is_shared=True)
        client.force_login(sales.rep2)
        ids = {g["id"] for g in client.get(f"{API}static-groups/").json()["results"]}
        assert ids == {shared.pk}
        assert client.get(f"{API}static-groups/{private.pk}/").status_code == 404
        acc = AccountFactory.create(owner=sales.rep2)
        r = post(client, f"{API}static-groups/{shared.pk}/members/add/", {"ids": [acc.pk]})
        assert r.status_code == 403
        assert client.delete(f"{API}static-groups/{shared.pk}/").status_code == 403
        assert not StaticGroupMember.objects.exists()
        assert StaticGroup.objects.count() == 2
        client.force_login(sales.nobody)
        assert client.get(f"{API}static-groups/").json()["results"] == []
        r = post(client, f"{API}static-groups/", {"name": "x", "model": "customers.account"})
        assert r.status_code == 403


ACCOUNTS = "/api/v1/customers/accounts/"
CONTACTS = "/api/v1/customers/contacts/"


def patch(client: Client, url: str, data: Any) -> Any:
    return client.patch(url, data=data, content_type="application/json")


def tag_names(obj: Any) -> set[str]:
    label = obj._meta.label_lower
    return set(TaggedItem.objects.filter(model=label, object_id=obj.pk).values_list("tag__name", flat=True))


class TestTagsOnRecords:
    """`tags` is writable on accounts and contacts: ids or names, through tags_set."""

    def test_create_and_update_an_account_with_tags(self, sales: Any, client: Client) -> None:
        vip = TagFactory.create(name="VIP")
        client.force_login(sales.admin)
        r = post(client, ACCOUNTS, {"name": "标签客户", "tags": [vip.pk, "新标签"]})
        assert r.status_code == 201, r.json()
        assert sorted(t["name"] for t in r.json()["tags"]) == ["VIP", "新标签"]
        from kehu.customers.models import Account

        account = Account.objects.get(name="标签客户")
        assert tag_names(account) == {"VIP", "新标签"}
        # leaving `tags` out leaves them alone; a list replaces them; [] removes them all
        assert patch(client, f"{ACCOUNTS}{account.pk}/", {"notes": "x"}).status_code == 200
        assert tag_names(account) == {"VIP", "新标签"}
        r = patch(client, f"{ACCOUNTS}{account.pk}/", {"tags": ["vip"]})
        assert r.status_code == 200, r.json()
        assert [t["name"] for t in r.json()["tags"]] == ["VIP"] and tag_names(account) == {"VIP"}
        assert patch(client, f"{ACCOUNTS}{account.pk}/", {"tags": []}).status_code == 200
        assert tag_names(account) == set()

    def test_create_and_update_a_lead_with_tags(self, sales: Any, client: Client) -> None:
        from kehu.sales.models import Lead

        hot = TagFactory.create(name="热线索")
        client.force_login(sales.admin)
        r = post(
            client,
            "/api/v1/sales/leads/",
            {"name": "标签线索", "company": "某公司", "tags": [hot.pk, "展会"]},
        )
        assert r.status_code == 201, r.json()
        lead = Lead.objects.get(name="标签线索")
        assert tag_names(lead) == {"热线索", "展会"}
        r = patch(client, f"/api/v1/sales/leads/{lead.pk}/", {"tags": ["展会"]})
        assert r.status_code == 200, r.json()
        assert [t["name"] for t in r.json()["tags"]] == ["展会"] and tag_names(lead) == {"展会"}
        r = patch(client, f"/api/v1/sales/leads/{lead.pk}/", {"tags": [999999]})
        assert r.status_code == 400 and list(r.json()["fields"]) == ["tags"]
        assert tag_names(lead) == {"展会"}

    def test_a_contacts_tags(self, sales: Any, client: Client) -> None:
        tag = TagFactory.create(name="决策人")
        contact = ContactFactory.create(owner=sales.rep1)
        client.force_login(sales.rep1)
        r = patch(client, f"{CONTACTS}{contact.pk}/", {"tags": [str(tag.pk)]})
        assert r.status_code == 200, r.json()
        assert tag_names(contact) == {"决策人"}

    def test_exclusive_group_is_a_field_error_and_nothing_changes(self, sales: Any, client: Client) -> None:
        group = TagGroupFactory.create(name="意向", exclusive=True)
        high = TagFactory.create(name="意向高", group=group)
        low = TagFactory.create(name="意向低", group=group)
        account = AccountFactory.create(owner=sales.rep1, name="旧名")
        client.force_login(sales.rep1)
        r = patch(client, f"{ACCOUNTS}{account.pk}/", {"name": "新名", "tags": [high.pk, low.pk]})
        assert r.status_code == 400
        body = r.json()
        assert body["code"] == "tags_exclusive" and list(body["fields"]) == ["tags"]
        account.refresh_from_db()
        assert account.name == "旧名" and tag_names(account) == set()

    @pytest.mark.parametrize(
        "tags",
        ["VIP", [True], [0], [{"id": 1}], ["x" * 51], ["  "], [999999], list(range(1, 102))],
    )
    def test_bad_tags_are_field_errors_and_create_nothing(
        self, sales: Any, client: Client, tags: Any
    ) -> None:
        from kehu.customers.models import Account

        client.force_login(sales.rep1)
        r = post(client, ACCOUNTS, {"name": "不该创建", "tags": tags})
        assert r.status_code == 400, r.json()
        assert set(r.json()) == {"code", "message", "fields"} and list(r.json()["fields"]) == ["tags"]
        assert not Account.objects.filter(name="不该创建").exists()

    def test_a_rep_who_may_not_add_tags_cannot_create_one_by_name(self, sales: Any, client: Client) -> None:
        account = AccountFactory.create(owner=sales.rep1)
        client.force_login(sales.rep1)
        r = patch(client, f"{ACCOUNTS}{account.pk}/", {"tags": ["没有这个标签"]})
        assert r.status_code == 400 and "tags" in r.json()["fields"]
        assert not Tag.objects.filter(name="没有这个标签").exists()

    def test_out_of_scope_record_is_404_and_untouched(self, sales: Any, client: Client) -> None:
        tag = TagFactory.create(name="VIP")
        account = AccountFactory.create(owner=sales.rep2)
        client.force_login(sales.rep1)
        assert patch(client, f"{ACCOUNTS}{account.pk}/", {"tags": [tag.pk]}).status_code == 404
        assert tag_names(account) == set()

    def test_schema_documents_tags_for_reading_and_writing(self, db: Any) -> None:
        from drf_spectacular.generators import SchemaGenerator

        schema = SchemaGenerator().get_schema(request=None, public=True)
        components = schema["components"]["schemas"]
        for name in ("Account", "Contact", "Lead", "Opportunity"):
            read = components[name]["properties"]["tags"]
            assert read["type"] == "array" and read["items"] == {"$ref": "#/components/schemas/TagBrief"}
            write = components[f"Patched{name}Request"]["properties"]["tags"]
            assert write["type"] == "array" and {s["type"] for s in write["items"]["oneOf"]} == {
                "integer",
                "string",
            }
            assert "ids or names" in write["description"]


def test_stale_tag_and_group_edits_are_409(sales: Any, client: Client) -> None:
    tag = TagFactory.create(name="VIP")
    group = TagGroupFactory.create(name="等级")
    client.force_login(sales.admin)
    assert client.get(f"{API}{tag.pk}/").json()["version"] == 1
    r = client.patch(f"{API}{tag.pk}/", {"name": "A", "version": 1}, content_type="application/json")
    assert r.status_code == 200 and r.json()["version"] == 2
    r = client.patch(f"{API}{tag.pk}/", {"name": "B", "version": 1}, content_type="application/json")
    assert r.status_code == 409 and r.json()["code"] == "stale_object"
    assert Tag.objects.get(pk=tag.pk).name == "A"
    url = f"{API}groups/{group.pk}/"
    assert (
        client.patch(url, {"exclusive": True, "version": 1}, content_type="application/json").status_code
        == 200
    )
    r = client.patch(url, {"name": "x", "version": 1}, content_type="application/json")
    assert r.status_code == 409
    assert TagGroup.objects.get(pk=group.pk).name == "等级"
