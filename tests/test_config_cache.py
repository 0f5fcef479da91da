"""The process-wide configuration cache (kehu.core.confcache): grants, field permissions and
department subtrees are read once per process, and every change is seen by the next request, in
this process and in another one (a second cache instance stands for the other gunicorn worker)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kehu.core import confcache
from kehu.customers.tests.factories import AccountFactory
from kehu.users.tests.factories import grant

pytestmark = pytest.mark.django_db
API = "/api/v1/customers/accounts/"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    confcache.cache.clear()
    yield
    confcache.cache.clear()


def _sql(queries: Any, table: str) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if f'FROM "{table}"' in q["sql"]]


def _ids(client: Any) -> set[int]:
    response = client.get(API)
    assert response.status_code == 200
    return {row["id"] for row in response.json()["results"]}


def test_grants_are_read_once_per_process_and_the_token_with_the_roles(company, client) -> None:
    grant(company.role_rep, "customers.account", "view", scope="own")
    AccountFactory.create(owner=company.rep1)
    client.force_login(company.rep1)
    client.get(API)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(API).status_code == 200
    assert not _sql(queries, "users_rolepermission")
    assert not _sql(queries, "users_fieldpermission")
    # the token came with the roles: no query of its own
    assert [q for q in _sql(queries, "core_sequence") if 'FROM "users_role"' not in q] == []
    assert len(_sql(queries, "users_role")) == 1


def test_a_changed_grant_is_seen_by_the_next_request_in_every_process(company, client) -> None:
    from kehu.users.services import role_set_permissions

    grant(company.role_rep, "customers.account", "view", scope="own")
    mine = AccountFactory.create(owner=company.rep1)
    other = AccountFactory.create(owner=company.rep3)
    other_worker = confcache.ConfigCache()
    client.force_login(company.rep1)

    def as_other_worker() -> set[int]:
        original = confcache.cache
        confcache.cache = other_worker
        try:
            return _ids(client)
        finally:
            confcache.cache = original

    assert _ids(client) == {mine.pk}
    assert as_other_worker() == {mine.pk}
    # Through the service (as the role editor saves) ...
    role_set_permissions(role=company.role_rep, grants=[("customers.account", "view", "all")], by=None)
    assert _ids(client) == {mine.pk, other.pk}
    assert as_other_worker() == {mine.pk, other.pk}
    # ... and a direct write (admin, shell) alike.
    grant(company.role_rep, "customers.account", "view", scope="own")
    assert as_other_worker() == {mine.pk}
    assert _ids(client) == {mine.pk}
    company.role_rep.permissions.all().delete()
    assert client.get(API).status_code == 403
    original = confcache.cache  # the other worker answers 403 as well
    confcache.cache = other_worker
    try:
        assert client.get(API).status_code == 403
    finally:
        confcache.cache = original


def test_a_changed_field_permission_is_seen_by_the_next_request(company, client) -> None:
    from kehu.users.models import FieldPermission
    from kehu.users.services import role_set_field_permissions

    grant(company.role_rep, "customers.account", "view", scope="own")
    AccountFactory.create(owner=company.rep1, phone="+8613812345678")
    client.force_login(company.rep1)
    assert client.get(API).json()["results"][0]["phone"] == "+8613812345678"
    role_set_field_permissions(
        role=company.role_rep, field_permissions=[("customers.account", "phone", "masked")], by=None
    )
    assert "*" in client.get(API).json()["results"][0]["phone"]
    FieldPermission.objects.filter(role=company.role_rep).update(mode="hidden")  # no signal: ...
    confcache.bump()  # ... a bulk update must bump itself (none in the code base does this)
    assert "phone" not in client.get(API).json()["results"][0]
    FieldPermission.objects.filter(role=company.role_rep).delete()
    assert client.get(API).json()["results"][0]["phone"] == "+8613812345678"


def test_a_moved_department_changes_the_subtree_scope(company, client) -> None:
    from kehu.users.services import department_create, department_move

    grant(company.role_manager, "customers.account", "view", scope="subtree")
    team = department_create(name="华东一组", parent=company.east, by=None)
    from kehu.users.tests.factories import UserFactory

    member = UserFactory(username="east1", department=team, roles=[company.role_rep])
    theirs = AccountFactory.create(owner=member)
    client.force_login(company.manager1)  # manager of 华北区
    assert theirs.pk not in _ids(client)
    department_move(department=team, parent=company.north, by=None)
    assert theirs.pk in _ids(client)


def test_a_rolled_back_change_leaves_no_stale_entry(company, client) -> None:
    from django.db import transaction

    grant(company.role_rep, "customers.account", "view", scope="own")
    mine = AccountFactory.create(owner=company.rep1)
    other = AccountFactory.create(owner=company.rep3)
    client.force_login(company.rep1)
    assert _ids(client) == {mine.pk}
    with pytest.raises(RuntimeError), transaction.atomic():
        grant(company.role_rep, "customers.account", "view", scope="all")
        assert _ids(client) == {mine.pk, other.pk}  # seen inside the transaction
        raise RuntimeError
    assert _ids(client) == {mine.pk}


def test_outside_a_request_nothing_is_stale(company) -> None:
    from kehu.core.permissions import scope_q
    from kehu.customers.models import Account
    from kehu.users.backends import clear_cache

    grant(company.role_rep, "customers.account", "view", scope="own")
    assert scope_q(company.rep1, Account, "view") is not None
    grant(company.role_rep, "customers.account", "view", scope="all")
    clear_cache(company.rep1)
    assert str(scope_q(company.rep1, Account, "view")) == "(AND: )"


def _in_other_worker(other: confcache.ConfigCache, fetch: Any) -> Any:
    original = confcache.cache
    confcache.cache = other
    try:
        return fetch()
    finally:
        confcache.cache = original


def test_custom_fields_and_picklists_are_seen_by_every_worker_after_a_change(company, client) -> None:
    from kehu.customfields.models import CustomField, PicklistItem
    from kehu.customfields.services import custom_field_reorder, picklist_item_update

    grant(company.role_rep, "customers.account", "view", scope="own")
    AccountFactory.create(owner=company.rep1, level="vip")
    other = confcache.ConfigCache()
    client.force_login(company.rep1)

    def custom_keys() -> list[str]:
        return list(client.get(API).json()["results"][0]["custom"])

    assert custom_keys() == [] and _in_other_worker(other, custom_keys) == []
    a = CustomField.objects.create(model="customers.account", name="tax_no", label="税号", type="text")
    assert custom_keys() == ["tax_no"]
    assert _in_other_worker(other, custom_keys) == ["tax_no"]
    b = CustomField.objects.create(model="customers.account", name="staff", label="人数", type="integer")
    assert custom_keys() == ["tax_no", "staff"]
    custom_field_reorder(model="customers.account", ids=[b.pk, a.pk], by=company.admin)  # bulk_update
    assert custom_keys() == ["staff", "tax_no"]
    assert _in_other_worker(other, custom_keys) == ["staff", "tax_no"]

    def page() -> str:
        return client.get("/customers/accounts/").content.decode()

    assert "VIP" in page() and "VIP" in _in_other_worker(other, page)
    item = PicklistItem.objects.get(picklist__code="customer_level", value="vip")
    picklist_item_update(item=item, data={"label": "贵宾客户", "label_en": "Key account"}, by=company.admin)
    assert "Key account" in page() or "贵宾客户" in page()
    worker_page = _in_other_worker(other, page)
    assert "Key account" in worker_page or "贵宾客户" in worker_page


def test_a_token_read_before_a_bump_is_not_used_after_it(company) -> None:
    """A token remembered with the roles, then a change in the same transaction that rolls back:
    what was computed after the change is not kept under the token that comes back."""
    from django.db import transaction

    from kehu.users.backends import _grants, user_roles
    from kehu.users.models import User

    grant(company.role_rep, "customers.account", "view", scope="own")
    with pytest.raises(RuntimeError), transaction.atomic():
        user = User.objects.get(pk=company.rep1.pk)
        user_roles(user)  # the token before the change, remembered on the user
        grant(company.role_rep, "customers.account", "view", scope="all")
        assert _grants(user)[("customers.account", "view")] == "all"
        raise RuntimeError
    fresh = User.objects.get(pk=company.rep1.pk)
    assert _grants(fresh)[("customers.account", "view")] == "own"


def test_tags_are_read_once_per_process_and_every_change_is_seen(company, client) -> None:
    """A list reads only its records' (record, tag) pairs; a renamed, regrouped, new or deleted tag
    is seen by the next request in this process and in another one."""
    from kehu.customers.models import Account
    from kehu.tags.models import TaggedItem
    from kehu.tags.services import tag_delete, tag_group_update, tag_update, tags_add
    from kehu.tags.tests.factories import TagFactory, TagGroupFactory

    grant(company.role_rep, "customers.account", "view", scope="own")
    account = AccountFactory.create(owner=company.rep1)
    group = TagGroupFactory.create(name="意向")
    hot = TagFactory.create(name="意向高", group=group)
    tags_add(model=Account, ids=[account.pk], tags=[hot], by=company.admin)
    other = confcache.ConfigCache()
    client.force_login(company.rep1)

    def names() -> list[str]:
        return [t["name"] for t in client.get(API).json()["results"][0]["tags"]]

    assert names() == ["意向高"] and _in_other_worker(other, names) == ["意向高"]
    with CaptureQueriesContext(connection) as queries:
        assert names() == ["意向高"]
    assert not _sql(queries, "tags_tag"), "the tags themselves come from the process cache"
    assert len(_sql(queries, "tags_taggeditem")) == 1

    tag_update(tag=hot, by=company.admin, data={"name": "高意向"})
    assert names() == ["高意向"] and _in_other_worker(other, names) == ["高意向"]
    new = TagFactory.create(name="展会获客")  # a plain save (no service) counts too
    tags_add(model=Account, ids=[account.pk], tags=[new], by=company.admin)
    assert sorted(names()) == ["展会获客", "高意向"]
    assert sorted(_in_other_worker(other, names)) == ["展会获客", "高意向"]
    tag_group_update(group=group, by=company.admin, data={"name": "客户意向"})
    group_of = {t["name"]: t["group"] for t in client.get(API).json()["results"][0]["tags"]}
    assert group_of["高意向"] == group.pk
    tag_delete(tag=new, by=company.admin)
    assert names() == ["高意向"] and _in_other_worker(other, names) == ["高意向"]
    assert TaggedItem.objects.filter(object_id=account.pk).count() == 1


def test_a_tag_made_after_the_token_was_read_is_still_shown(company) -> None:
    """Another process tags a record with a tag it just made, after this request read the token
    (its cache has no such tag): the tag is read from the database, not dropped."""
    from kehu.tags.models import Tag, TaggedItem
    from kehu.tags.selectors import all_tags, tags_for

    account = AccountFactory.create(owner=company.rep1)
    all_tags()  # cached under the current token
    tag = Tag.objects.bulk_create([Tag(name="新标签")])[0]  # no signal: the token stays
    TaggedItem.objects.create(tag=tag, model="customers.account", object_id=account.pk)
    assert tag.pk not in all_tags()
    assert [t.name for t in tags_for([account])[account.pk]] == ["新标签"]
