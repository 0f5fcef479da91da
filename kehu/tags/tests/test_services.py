from __future__ import annotations

from typing import Any

import pytest

from kehu.audit.models import ObjectChange
from kehu.core.errors import DomainError, PermissionDeniedError
from kehu.customers.models import Account
from kehu.customers.tests.factories import AccountFactory, ContactFactory
from kehu.users.tests.factories import grant

from .. import services
from ..models import StaticGroupMember, Tag, TaggedItem
from ..selectors import tags_for
from .factories import StaticGroupFactory, TagFactory, TaggedItemFactory, TagGroupFactory


def tag_names(obj: Any) -> list[str]:
    return sorted(t.name for t in tags_for([obj]).get(obj.pk, []))


@pytest.fixture
def acc(sales: Any) -> Account:
    return AccountFactory.create(owner=sales.rep1, name="华为")


class TestTagsSet:
    def test_sets_adds_and_removes_and_records_history(self, sales: Any, acc: Account) -> None:
        vip, hot, cold = (
            TagFactory.create(name="VIP"),
            TagFactory.create(name="hot"),
            TagFactory.create(name="cold"),
        )
        services.tags_set(obj=acc, tags=[vip, hot.pk], by=sales.rep1)
        assert tag_names(acc) == ["VIP", "hot"]
        services.tags_set(obj=acc, tags=[hot, cold], by=sales.rep1)
        assert tag_names(acc) == ["cold", "hot"]
        change = ObjectChange.objects.filter(model="customers.account", object_id=acc.pk).latest("id")
        before, after = change.changes["tags"]
        assert [t["repr"] for t in before] == ["VIP", "hot"]
        assert [t["repr"] for t in after] == ["cold", "hot"]
        assert change.user_id == sales.rep1.pk

    def test_no_change_records_nothing(self, sales: Any, acc: Account) -> None:
        vip = TagFactory.create(name="VIP")
        services.tags_set(obj=acc, tags=[vip], by=sales.rep1)
        n = ObjectChange.objects.count()
        services.tags_set(obj=acc, tags=[vip], by=sales.rep1)
        assert ObjectChange.objects.count() == n

    def test_contact_change_shows_on_its_account(self, sales: Any, acc: Account) -> None:
        contact = ContactFactory.create(owner=sales.rep1, account=acc)
        services.tags_set(obj=contact, tags=[TagFactory.create()], by=sales.rep1)
        change = ObjectChange.objects.get(model="customers.contact", object_id=contact.pk, action="update")
        assert (change.parent_model, change.parent_id) == ("customers.account", acc.pk)

    def test_needs_change_on_the_record(self, sales: Any, acc: Account) -> None:
        with pytest.raises(PermissionDeniedError):
            services.tags_set(obj=acc, tags=[TagFactory.create()], by=sales.rep3)
        with pytest.raises(PermissionDeniedError):
            services.tags_set(obj=acc, tags=[TagFactory.create()], by=sales.viewer_all)  # view only
        assert not TaggedItem.objects.exists()

    def test_create_by_name_needs_add_on_tags(self, sales: Any, acc: Account) -> None:
        with pytest.raises(DomainError) as exc:
            services.tags_set(obj=acc, tags=["新标签"], by=sales.rep1)
        assert exc.value.code == "tag_create_denied"
        assert "tags" in exc.value.fields
        assert not Tag.objects.exists()
        grant(sales.role_rep, "tags.tag", "add")
        rep1 = type(sales.rep1).objects.get(pk=sales.rep1.pk)  # fresh grants
        services.tags_set(obj=acc, tags=["新标签", " 新标签 "], by=rep1)
        assert tag_names(acc) == ["新标签"]
        assert Tag.objects.count() == 1

    def test_existing_name_is_reused_case_insensitively(self, sales: Any, acc: Account) -> None:
        vip = TagFactory.create(name="VIP")
        services.tags_set(obj=acc, tags=["vip"], by=sales.rep1)
        assert list(TaggedItem.objects.values_list("tag_id", flat=True)) == [vip.pk]

    def test_inactive_tags_stay_but_cannot_be_added(self, sales: Any, acc: Account) -> None:
        old = TagFactory.create(name="old", is_active=False)
        with pytest.raises(DomainError):
            services.tags_set(obj=acc, tags=[old], by=sales.rep1)
        TaggedItemFactory.create(tag=old, obj=acc)
        services.tags_set(obj=acc, tags=[old, TagFactory.create(name="new")], by=sales.rep1)
        assert tag_names(acc) == ["new", "old"]

    def test_unknown_tag_id_is_a_field_error(self, sales: Any, acc: Account) -> None:
        with pytest.raises(DomainError) as exc:
            services.tags_set(obj=acc, tags=[999999], by=sales.rep1)
        assert "tags" in exc.value.fields

    def test_group_limited_to_other_model(self, sales: Any, acc: Account) -> None:
        group = TagGroupFactory.create(model_labels=["customers.contact"])
        with pytest.raises(DomainError):
            services.tags_set(obj=acc, tags=[TagFactory.create(group=group)], by=sales.rep1)

    def test_exclusive_group_allows_one(self, sales: Any, acc: Account) -> None:
        group = TagGroupFactory.create(name="等级", exclusive=True)
        a, b = TagFactory.create(name="A", group=group), TagFactory.create(name="B", group=group)
        with pytest.raises(DomainError) as exc:
            services.tags_set(obj=acc, tags=[a, b], by=sales.rep1)
        assert exc.value.code == "tags_exclusive"


class TestBulk:
    def test_add_is_idempotent_and_counts(self, sales: Any) -> None:
        accounts = AccountFactory.create_batch(3, owner=sales.rep1)
        ids = [a.pk for a in accounts]
        vip = TagFactory.create()
        assert services.tags_add(model=Account, ids=ids, tags=[vip], by=sales.rep1) == 3
        assert services.tags_add(model=Account, ids=ids, tags=[vip.pk], by=sales.rep1) == 0
        assert TaggedItem.objects.count() == 3
        assert ObjectChange.objects.filter(model="customers.account", action="update", bulk=True).count() == 3

    def test_add_refilters_scope(self, sales: Any) -> None:
        mine = AccountFactory.create(owner=sales.rep1)
        theirs = AccountFactory.create(owner=sales.rep3)
        vip = TagFactory.create()
        assert (
            services.tags_add(model=Account, ids=[mine.pk, theirs.pk, 10**12], tags=[vip], by=sales.rep1) == 1
        )
        assert set(TaggedItem.objects.values_list("object_id", flat=True)) == {mine.pk}
        assert services.tags_remove(model=Account, ids=[mine.pk, theirs.pk], tags=[vip], by=sales.rep3) == 0
        assert TaggedItem.objects.count() == 1
        assert services.tags_add(model=Account, ids=[mine.pk], tags=[vip], by=sales.nobody) == 0

    def test_remove_is_idempotent(self, sales: Any) -> None:
        accounts = AccountFactory.create_batch(2, owner=sales.rep1)
        vip, hot = TagFactory.create(), TagFactory.create()
        for a in accounts:
            TaggedItemFactory.create(tag=vip, obj=a)
            TaggedItemFactory.create(tag=hot, obj=a)
        ids = [a.pk for a in accounts]
        assert services.tags_remove(model=Account, ids=ids, tags=[vip], by=sales.rep1) == 2
        assert services.tags_remove(model=Account, ids=ids, tags=[vip], by=sales.rep1) == 0
        assert set(TaggedItem.objects.values_list("tag_id", flat=True)) == {hot.pk}

    def test_exclusive_group_replaces(self, sales: Any) -> None:
        group = TagGroupFactory.create(exclusive=True)
        a, b = TagFactory.create(group=group), TagFactory.create(group=group)
        free = TagFactory.create()
        acc1, acc2 = AccountFactory.create_batch(2, owner=sales.rep1)
        TaggedItemFactory.create(tag=a, obj=acc1)
        TaggedItemFactory.create(tag=free, obj=acc1)
        assert services.tags_add(model=Account, ids=[acc1.pk, acc2.pk], tags=[b], by=sales.rep1) == 2
        assert set(TaggedItem.objects.filter(object_id=acc1.pk).values_list("tag_id", flat=True)) == {
            b.pk,
            free.pk,
        }
        with pytest.raises(DomainError):
            services.tags_add(model=Account, ids=[acc1.pk], tags=[a, b], by=sales.rep1)

    def test_names_are_refused_in_bulk(self, sales: Any) -> None:
        acc = AccountFactory.create(owner=sales.rep1)
        with pytest.raises(DomainError):
            services.tags_add(model=Account, ids=[acc.pk], tags=["x"], by=sales.admin)  # type: ignore[list-item]

    def test_untaggable_model(self, sales: Any) -> None:
        from kehu.users.models import Department

        with pytest.raises(DomainError):
            services.tags_add(model=Department, ids=[1], tags=[TagFactory.create()], by=sales.admin)

    def test_deleting_a_record_drops_its_tags(self, sales: Any) -> None:
        acc = AccountFactory.create(owner=sales.rep1)
        TaggedItemFactory.create(tag=TagFactory.create(), obj=acc)
        group = StaticGroupFactory.create(owner=sales.rep1)
        StaticGroupMember.objects.create(group=group, object_id=acc.pk)
        acc.delete()
        assert not TaggedItem.objects.exists()
        assert not StaticGroupMember.objects.exists()


class TestTagAdmin:
    def test_management_needs_permission(self, sales: Any) -> None:
        with pytest.raises(PermissionDeniedError):
            services.tag_create(by=sales.rep1, data={"name": "x"})
        tag = services.tag_create(by=sales.admin, data={"name": "x", "colour": "red"})
        assert tag.colour == "red"
        with pytest.raises(PermissionDeniedError):
            services.tag_update(tag=tag, by=sales.rep1, data={"name": "y"})
        with pytest.raises(PermissionDeniedError):
            services.tag_delete(tag=tag, by=sales.rep1)

    def test_name_unique_within_group(self, sales: Any) -> None:
        group = TagGroupFactory.create()
        services.tag_create(by=sales.admin, data={"name": "VIP", "group": group})
        services.tag_create(by=sales.admin, data={"name": "vip"})  # another group: fine
        with pytest.raises(DomainError) as exc:
            services.tag_create(by=sales.admin, data={"name": "Vip", "group": group.pk})
        assert "name" in exc.value.fields
        with pytest.raises(DomainError):
            services.tag_create(by=sales.admin, data={"name": "VIP"})

    def test_bad_input(self, sales: Any) -> None:
        for data in (
            {"name": ""},
            {"name": "x" * 51},
            {"name": "a", "colour": "mauve"},
            {"name": "a", "order": -1},
        ):
            with pytest.raises(DomainError):
                services.tag_create(by=sales.admin, data=data)
        with pytest.raises(DomainError):
            services.tag_create(by=sales.admin, data={"name": "a", "bogus": 1})

    def test_delete_removes_from_records_with_history(self, sales: Any) -> None:
        acc = AccountFactory.create(owner=sales.rep1)
        tag = TagFactory.create(name="gone")
        tag_id = tag.pk
        TaggedItemFactory.create(tag=tag, obj=acc)
        services.tag_delete(tag=tag, by=sales.admin)
        assert not TaggedItem.objects.exists()
        change = ObjectChange.objects.filter(
            model="customers.account", object_id=acc.pk, action="update"
        ).get()
        assert change.changes["tags"][0] == [{"id": tag_id, "repr": "gone"}]

    def test_merge(self, sales: Any) -> None:
        acc1, acc2 = AccountFactory.create_batch(2, owner=sales.rep1)
        source, target = TagFactory.create(name="贵宾"), TagFactory.create(name="VIP")
        TaggedItemFactory.create(tag=source, obj=acc1)
        TaggedItemFactory.create(tag=source, obj=acc2)
        TaggedItemFactory.create(tag=target, obj=acc2)
        assert services.tag_merge(source=source, target=target, by=sales.admin) == 1
        assert not Tag.objects.filter(pk=source.pk).exists()
        assert sorted(TaggedItem.objects.values_list("object_id", flat=True)) == sorted([acc1.pk, acc2.pk])
        with pytest.raises(DomainError):
            services.tag_merge(source=target, target=target, by=sales.admin)

    def test_group_delete_ungroups_or_deletes(self, sales: Any) -> None:
        group = TagGroupFactory.create()
        tag = TagFactory.create(group=group, name="x")
        services.tag_group_delete(group=group, by=sales.admin)
        tag.refresh_from_db()
        assert tag.group is None
        group2 = TagGroupFactory.create()
        TagFactory.create(group=group2, name="x")  # would clash with the ungrouped "x"
        with pytest.raises(DomainError):
            services.tag_group_delete(group=group2, by=sales.admin)
        services.tag_group_delete(group=group2, by=sales.admin, delete_tags=True)
        assert Tag.objects.count() == 1

    def test_group_cannot_become_exclusive_with_clashes(self, sales: Any) -> None:
        group = TagGroupFactory.create()
        acc = AccountFactory.create(owner=sales.rep1)
        TaggedItemFactory.create(tag=TagFactory.create(group=group), obj=acc)
        TaggedItemFactory.create(tag=TagFactory.create(group=group), obj=acc)
        with pytest.raises(DomainError):
            services.tag_group_update(group=group, by=sales.admin, data={"exclusive": True})

    def test_group_models_validated(self, sales: Any) -> None:
        with pytest.raises(DomainError):
            services.tag_group_create(by=sales.admin, data={"name": "g", "model_labels": ["users.user"]})
        group = services.tag_group_create(
            by=sales.admin, data={"name": "g", "model_labels": ["Customers.Account"]}
        )
        assert group.model_labels == ["customers.account"]


class TestStaticGroups:
    def test_owner_adds_visible_records_only(self, sales: Any) -> None:
        group = services.static_group_create(
            by=sales.rep1, data={"name": "展会", "model": "customers.account"}
        )
        mine = AccountFactory.create(owner=sales.rep1)
        theirs = AccountFactory.create(owner=sales.rep3)
        assert services.static_group_add(group=group, ids=[mine.pk, theirs.pk], by=sales.rep1) == 1
        assert services.static_group_add(group=group, ids=[mine.pk], by=sales.rep1) == 0
        assert list(group.members.values_list("object_id", flat=True)) == [mine.pk]
        assert services.static_group_remove(group=group, ids=[mine.pk], by=sales.rep1) == 1

    def test_only_owner_or_admin_manages(self, sales: Any) -> None:
        group = services.static_group_create(
            by=sales.rep1, data={"name": "g", "model": "customers.account", "is_shared": True}
        )
        acc = AccountFactory.create(owner=sales.rep2)
        with pytest.raises(PermissionDeniedError):
            services.static_group_add(group=group, ids=[acc.pk], by=sales.rep2)
        with pytest.raises(PermissionDeniedError):
            services.static_group_update(group=group, by=sales.rep2, data={"name": "x"})
        with pytest.raises(PermissionDeniedError):
            services.static_group_delete(group=group, by=sales.rep2)
        services.static_group_update(group=group, by=sales.admin, data={"name": "x"})

    def test_needs_view_on_model(self, sales: Any) -> None:
        with pytest.raises(PermissionDeniedError):
            services.static_group_create(by=sales.nobody, data={"name": "g", "model": "customers.account"})
        with pytest.raises(DomainError):
            services.static_group_create(by=sales.rep1, data={"name": "g", "model": "users.user"})

    def test_stale_version(self, sales: Any) -> None:
        group = services.static_group_create(by=sales.rep1, data={"name": "g", "model": "customers.contact"})
        services.static_group_update(group=group, by=sales.rep1, data={"name": "h"}, version=1)
        with pytest.raises(DomainError) as exc:
            services.static_group_update(group=group, by=sales.rep1, data={"name": "i"}, version=1)
        assert exc.value.status == 409


# --- labels in the audit log ------------------------------------------------------------------


def test_tag_changes_are_labelled_in_the_viewers_language_in_history(sales: Any, client: Any) -> None:
    from django.urls import reverse
    from django.utils import translation

    from kehu.audit.display import field_label

    account = AccountFactory.create(owner=sales.rep1)
    tag = TagFactory.create(name="重点")
    services.tags_set(obj=account, tags=[tag.pk], by=sales.rep1)
    with translation.override("zh-hans"):
        assert field_label(Account, "tags") == "标签"
    with translation.override("en"):
        assert field_label(Account, "tags") == "Tags"
    url = reverse("audit:object_history", args=["customers.account", account.pk])
    client.force_login(sales.rep1)
    client.cookies["django_language"] = "zh-hans"
    html = client.get(url, headers={"accept-language": "zh-hans"}).content.decode()
    assert 'data-field="tags"' in html
    tags_row = html[html.index('data-field="tags"') :][:400]
    assert "标签" in tags_row and "Tags" not in tags_row


@pytest.mark.django_db
def test_tags_for_reads_the_pairs_the_orm_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """`tags_for`'s plain statement (per number of records) and the ORM's query for longer lists
    give the same (record, tag) pairs; other models' pairs with the same ids stay out."""
    from kehu.core import rows

    from .. import selectors

    accounts = AccountFactory.create_batch(4)
    contact = ContactFactory.create()
    a, b = TagFactory.create(name="甲"), TagFactory.create(name="乙")
    for obj, tags in ((accounts[0], (a, b)), (accounts[2], (b,)), (contact, (a,))):
        for tag in tags:
            TaggedItemFactory.create(tag=tag, obj=obj)
    TaggedItem.objects.create(tag=a, model="customers.contact", object_id=accounts[1].pk)
    pks = [o.pk for o in accounts]
    expected = sorted(
        TaggedItem.objects.filter(model="customers.account", object_id__in=pks).values_list(
            "object_id", "tag_id"
        )
    )
    assert sorted(selectors._pairs("customers.account", pks)) == expected
    assert len(expected) == 3
    monkeypatch.setattr(rows, "MAX_PLAIN_IN", 2)  # the ORM's path for a longer list
    assert sorted(selectors._pairs("customers.account", pks)) == expected
    found = tags_for(accounts)
    assert [sorted(t.name for t in found[o.pk]) for o in accounts] == [sorted(["甲", "乙"]), [], ["乙"], []]


def test_chips_escape_what_users_type() -> None:
    """A tag's name, description and group name are escaped in its chip (written without
    format_html for speed), as format_html escapes them."""
    from django.utils.html import format_html

    from ..display import chip, chips
    from ..models import TagGroup

    group = TagGroup(pk=3, name='组<"&>')
    tag = Tag(pk=2, name="<script>x</script>", colour="blue", description='d"<>', group=group, group_id=3)
    title = f"{group.name} · {tag.name} — {tag.description}"
    assert chip(tag) == format_html(
        '<span class="badge {} kehu-tag" data-tag-id="{}" title="{}">{}</span>',
        "bg-blue-lt",
        2,
        title,
        tag.name,
    )
    assert "<script>" not in chips([tag]) and chips([]) == ""
