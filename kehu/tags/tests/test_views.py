from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from kehu.core.choices import Action
from kehu.core.testing import Endpoint, PermissionMatrix
from kehu.customers.tests.factories import AccountFactory, ContactFactory
from kehu.users.tests.factories import grant

from ..models import StaticGroup, StaticGroupMember, Tag, TaggedItem, TagGroup
from ..selectors import tags_for
from .factories import StaticGroupFactory, TagFactory, TaggedItemFactory, TagGroupFactory

HTMX = {"HX-Request": "true"}


class TestSettingsPages:
    def test_admin_only(self, sales: Any, client: Client) -> None:
        tag = TagFactory.create()
        group = TagGroupFactory.create()
        urls = [
            "/settings/tags/",
            "/settings/tags/add/",
            f"/settings/tags/{tag.pk}/edit/",
            f"/settings/tags/{tag.pk}/delete/",
            f"/settings/tags/{tag.pk}/merge/",
            "/settings/tags/groups/add/",
            f"/settings/tags/groups/{group.pk}/edit/",
            f"/settings/tags/groups/{group.pk}/delete/",
        ]
        assert client.get(urls[0]).status_code == 302  # sign in
        client.force_login(sales.rep1)
        for url in urls:
            assert client.get(url).status_code == 403, url
        assert client.post(f"/settings/tags/{tag.pk}/delete/").status_code == 403
        assert Tag.objects.filter(pk=tag.pk).exists()
        client.force_login(sales.admin)
        for url in urls:
            assert client.get(url).status_code == 200, url

    def test_permission_granted_through_a_role(self, sales: Any, client: Client) -> None:
        grant(sales.role_manager, "tags.tag", "change")
        client.force_login(sales.manager1)
        assert client.get("/settings/tags/").status_code == 200
        assert client.get("/settings/tags/add/").status_code == 403  # add not granted

    def test_list_shows_usage_and_escapes(self, sales: Any, client: Client) -> None:
        group = TagGroupFactory.create(name="<b>组</b>")
        tag = TagFactory.create(name="<script>alert(1)</script>", group=group)
        TaggedItemFactory.create(tag=tag, obj=AccountFactory.create(owner=sales.rep1))
        client.force_login(sales.admin)
        html = client.get("/settings/tags/").content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<b>组</b>" not in html

    def test_create_edit_merge_delete(self, sales: Any, client: Client) -> None:
        client.force_login(sales.admin)
        r = client.post(
            "/settings/tags/groups/add/", {"name": "等级", "colour": "red", "exclusive": "on"}, headers=HTMX
        )
        assert r.status_code == 204
        group = TagGroup.objects.get()
        assert group.exclusive
        r = client.post(
            "/settings/tags/add/", {"name": "A级", "group": group.pk, "colour": "green"}, headers=HTMX
        )
        assert r.status_code == 204
        a = Tag.objects.get(name="A级")
        r = client.post(
            "/settings/tags/add/", {"name": "a级", "group": group.pk, "colour": "green"}, headers=HTMX
        )
        assert r.status_code == 200 and "already has a tag" in r.content.decode()  # form error in the modal
        assert Tag.objects.count() == 1
        r = client.post(
            f"/settings/tags/{a.pk}/edit/", {"name": "A", "group": group.pk, "colour": "teal"}, headers=HTMX
        )
        assert r.status_code == 204
        b = TagFactory.create(name="B")
        TaggedItemFactory.create(tag=b, obj=AccountFactory.create(owner=sales.rep1))
        r = client.post(f"/settings/tags/{b.pk}/merge/", {"target": a.pk}, headers=HTMX)
        assert r.status_code == 204
        assert TaggedItem.objects.get().tag_id == a.pk
        r = client.post("/settings/tags/reorder/", {"ids": [a.pk]}, headers=HTMX)
        assert r.status_code == 204
        r = client.post(f"/settings/tags/groups/{group.pk}/delete/", {"delete_tags": "1"}, headers=HTMX)
        assert r.status_code == 204
        assert not Tag.objects.exists() and not TaggedItem.objects.exists()

    def test_bad_colour_is_a_form_error(self, sales: Any, client: Client) -> None:
        client.force_login(sales.admin)
        r = client.post("/settings/tags/add/", {"name": "x", "colour": "<svg>"})
        assert r.status_code == 400
        assert not Tag.objects.exists()


class TestAutocomplete:
    def test_lists_applicable_active_tags(self, sales: Any, client: Client) -> None:
        TagFactory.create(name="VIP客户", colour="red")
        TagFactory.create(name="old VIP", is_active=False)
        TagFactory.create(
            name="VIP contact", group=TagGroupFactory.create(model_labels=["customers.contact"])
        )
        client.force_login(sales.rep1)
        data = client.get("/tags/autocomplete/?model=customers.account&q=vip").json()
        assert [r["text"] for r in data["results"]] == ["VIP客户"]
        assert data["results"][0]["colour"] == "red"
        assert client.get("/tags/autocomplete/?model=users.user").json() == {"results": []}


class TestRecordForms:
    def test_account_form_sets_tags_and_creates_by_name(self, sales: Any, client: Client) -> None:
        acc = AccountFactory.create(owner=sales.rep1, name="华为")
        vip = TagFactory.create(name="VIP")
        client.force_login(sales.rep1)
        page = client.get(f"/customers/accounts/{acc.pk}/edit/").content.decode()
        assert "data-kehu-tag-picker" in page
        data = {
            "kind": "company",
            "lifecycle_stage": "potential",
            "name": "华为",
            "is_active": "on",
            "version": acc.version,
            "tags": [vip.pk],
        }
        r = client.post(f"/customers/accounts/{acc.pk}/edit/", data, headers=HTMX)
        assert r.status_code == 204, r.content.decode()[:2000]
        assert [t.name for t in tags_for([acc])[acc.pk]] == ["VIP"]
        # a new name without the permission to add tags: a field error, nothing saved
        acc.refresh_from_db()
        data = {
            "kind": "company",
            "lifecycle_stage": "potential",
            "name": "华为2",
            "is_active": "on",
            "version": acc.version,
            "tags": ["new:战略"],
        }
        r = client.post(f"/customers/accounts/{acc.pk}/edit/", data, headers=HTMX)
        assert r.status_code == 200
        assert not Tag.objects.filter(name="战略").exists()
        acc.refresh_from_db()
        assert acc.name == "华为"
        grant(sales.role_rep, "tags.tag", "add")
        r = client.post(f"/customers/accounts/{acc.pk}/edit/", data, headers=HTMX)
        assert r.status_code == 204
        assert sorted(t.name for t in tags_for([acc])[acc.pk]) == ["战略"]

    def test_tags_untouched_when_not_changed(self, sales: Any, client: Client) -> None:
        acc = AccountFactory.create(owner=sales.rep1, name="华为")
        vip = TagFactory.create(name="VIP")
        TaggedItemFactory.create(tag=vip, obj=acc)
        client.force_login(sales.rep1)
        data = {
            "kind": "company",
            "lifecycle_stage": "potential",
            "name": "新名",
            "is_active": "on",
            "version": acc.version,
            "tags": [vip.pk],
        }
        assert client.post(f"/customers/accounts/{acc.pk}/edit/", data, headers=HTMX).status_code == 204
        assert TaggedItem.objects.count() == 1

    def test_contact_form_has_tags(self, sales: Any, client: Client) -> None:
        contact = ContactFactory.create(owner=sales.rep1)
        client.force_login(sales.rep1)
        assert (
            "data-kehu-tag-picker" in client.get(f"/customers/contacts/{contact.pk}/edit/").content.decode()
        )


class TestListColumn:
    def test_tags_column_no_n_plus_one(
        self, sales: Any, client: Client, django_assert_max_num_queries: Any
    ) -> None:
        client.force_login(sales.rep1)
        tags = [TagFactory.create(name=f"<i>t{i}</i>") for i in range(3)]
        AccountFactory.create(owner=sales.rep1)
        client.get("/customers/accounts/")  # warm caches (preferences, picklists)
        import django.db
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(django.db.connection) as few:
            r = client.get("/customers/accounts/")
        assert r.status_code == 200
        for _i in range(15):
            acc = AccountFactory.create(owner=sales.rep1)
            for tag in tags:
                TaggedItemFactory.create(tag=tag, obj=acc)
        with django_assert_max_num_queries(len(few.captured_queries) + 1):
            r = client.get("/customers/accounts/")
        html = r.content.decode()
        assert "&lt;i&gt;t0&lt;/i&gt;" in html
        assert "<i>t0</i>" not in html


class TestStaticGroupPages:
    def test_list_mine_and_shared(self, sales: Any, client: Client) -> None:
        StaticGroupFactory.create(owner=sales.rep1, name="我的组")
        StaticGroupFactory.create(owner=sales.rep2, name="共享组", is_shared=True)
        StaticGroupFactory.create(owner=sales.rep2, name="私有组")
        client.force_login(sales.rep1)
        html = client.get("/groups/").content.decode()
        assert "我的组" in html and "共享组" in html and "私有组" not in html

    def test_detail_redirects_to_filtered_list(self, sales: Any, client: Client) -> None:
        group = StaticGroupFactory.create(owner=sales.rep1)
        client.force_login(sales.rep1)
        r = client.get(f"/groups/{group.pk}/")
        assert r.status_code == 302 and r["Location"] == f"/customers/accounts/?group={group.pk}"
        client.force_login(sales.rep2)
        assert client.get(f"/groups/{group.pk}/").status_code == 404

    def test_create_edit_delete_owner_only(self, sales: Any, client: Client) -> None:
        client.force_login(sales.rep1)
        r = client.post("/groups/add/", {"name": "展会客户", "model": "customers.account"}, headers=HTMX)
        assert r.status_code == 204
        group = StaticGroup.objects.get()
        assert group.owner == sales.rep1
        client.force_login(sales.rep2)
        assert client.post(f"/groups/{group.pk}/edit/", {"name": "x", "version": 1}).status_code == 404
        group.is_shared = True
        group.save()
        assert client.post(f"/groups/{group.pk}/edit/", {"name": "x", "version": 1}).status_code == 403
        assert client.post(f"/groups/{group.pk}/delete/").status_code == 403
        client.force_login(sales.rep1)
        r = client.post(f"/groups/{group.pk}/edit/", {"name": "改名", "version": 1}, headers=HTMX)
        assert r.status_code == 204
        r = client.post(f"/groups/{group.pk}/edit/", {"name": "旧", "version": 1}, headers=HTMX)
        assert "Someone else changed" in r.content.decode()
        assert client.post(f"/groups/{group.pk}/delete/", headers=HTMX).status_code == 204
        assert not StaticGroup.objects.exists()


def _members(acc: Any) -> list[int]:
    return sorted(StaticGroupMember.objects.filter(object_id=acc.pk).values_list("group_id", flat=True))


@pytest.mark.django_db
def test_add_to_group_permission_matrix(company: Any, client: Client) -> None:
    """ "Add to group" from an account: only records the user may view (else 404)."""
    PermissionMatrix(
        model="customers.account",
        make=lambda owner: AccountFactory.create(owner=owner),
        actions=(Action.VIEW,),
        snapshot=_members,
        endpoints=[
            Endpoint("form", "get", lambda o: f"/groups/add/customers.account/{o.pk}/", Action.VIEW),
            Endpoint(
                "add (htmx)",
                "post",
                lambda o: f"/groups/add/customers.account/{o.pk}/",
                Action.VIEW,
                data=lambda o: {"new_name": f"组{o.pk}"},
                writes=True,
                ok=(204,),
                htmx=True,
            ),
        ],
    ).run(company, client)


@pytest.mark.django_db
def test_account_edit_with_tags_permission_matrix(company: Any, client: Client) -> None:
    """Tags are saved with the account form only where the user may change the account."""
    tag = TagFactory.create(name="VIP")

    def tag_ids(acc: Any) -> list[int]:
        return sorted(
            TaggedItem.objects.filter(model="customers.account", object_id=acc.pk).values_list(
                "tag_id", flat=True
            )
        )

    PermissionMatrix(
        model="customers.account",
        make=lambda owner: AccountFactory.create(owner=owner),
        snapshot=tag_ids,
        endpoints=[
            Endpoint(
                "edit with tags (htmx)",
                "post",
                lambda o: f"/customers/accounts/{o.pk}/edit/",
                Action.CHANGE,
                data=lambda o: {
                    "kind": "company",
                    "lifecycle_stage": "potential",
                    "name": o.name,
                    "is_active": "on",
                    "version": o.version,
                    "tags": [tag.pk],
                },
                writes=True,
                ok=(204,),
                htmx=True,
            )
        ],
    ).run(company, client)
    assert json


def test_account_page_offers_add_to_group(sales: Any, client: Client) -> None:
    acc = AccountFactory.create(owner=sales.rep1)
    client.force_login(sales.rep1)
    html = client.get(f"/customers/accounts/{acc.pk}/").content.decode()
    assert f"/groups/add/customers.account/{acc.pk}/" in html


def _hidden(html: str, name: str) -> str:
    import re

    match = re.search(rf'name="{name}" value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', html
    )
    assert match is not None, name
    return match.group(1)


class TestOptimisticLock:
    """Tag settings: a save started from an older version is refused, with the changed fields."""

    def test_stale_tag_edit_is_refused_with_the_changed_fields(self, sales: Any, client: Client) -> None:
        from .. import services

        tag = TagFactory.create(name="VIP", colour="blue")
        client.force_login(sales.admin)
        html = client.get(f"/settings/tags/{tag.pk}/edit/").content.decode()
        seen = {"version": _hidden(html, "version"), "snapshot": _hidden(html, "snapshot")}
        services.tag_update(tag=tag, by=sales.admin, data={"name": "大客户"})  # someone else, meanwhile
        r = client.post(
            f"/settings/tags/{tag.pk}/edit/",
            {"name": "VIP", "colour": "red", "is_active": "on", **seen},
            headers=HTMX,
        )
        body = r.content.decode()
        assert r.status_code == 200 and "Someone else changed" in body
        assert "Changed meanwhile: Name." in body
        tag.refresh_from_db()
        assert (tag.name, tag.colour, tag.version) == ("大客户", "blue", 2)
        # started from the current version: saved, and the version moves on
        html = client.get(f"/settings/tags/{tag.pk}/edit/").content.decode()
        seen = {"version": _hidden(html, "version"), "snapshot": _hidden(html, "snapshot")}
        r = client.post(
            f"/settings/tags/{tag.pk}/edit/",
            {"name": "大客户", "colour": "red", "is_active": "on", **seen},
            headers=HTMX,
        )
        assert r.status_code == 204
        tag.refresh_from_db()
        assert (tag.colour, tag.version) == ("red", 3)

    def test_stale_tag_group_edit_is_refused_in_chinese(self, sales: Any, client: Client) -> None:
        from .. import services

        group = TagGroupFactory.create(name="等级")
        client.force_login(sales.admin)
        html = client.get(f"/settings/tags/groups/{group.pk}/edit/").content.decode()
        seen = {"version": _hidden(html, "version"), "snapshot": _hidden(html, "snapshot")}
        services.tag_group_update(group=group, by=sales.admin, data={"exclusive": True})
        r = client.post(
            f"/settings/tags/groups/{group.pk}/edit/",
            {"name": "客户等级", "colour": "blue", **seen},
            headers={"Accept-Language": "zh-hans"},
        )
        body = r.content.decode()
        assert r.status_code == 400 and "在此期间已被他人修改的字段：每条记录限一个标签。" in body
        group.refresh_from_db()
        assert (group.name, group.exclusive, group.version) == ("等级", True, 2)
