from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from kehu.customers.filtersets import AccountFilterSet, ContactFilterSet
from kehu.customers.models import Account, Contact
from kehu.customers.tests.factories import AccountFactory, ContactFactory
from kehu.tags.services import tags_set

from .factories import StaticGroupFactory, StaticGroupMemberFactory, TagFactory, TaggedItemFactory


def run(filterset: Any, model: Any, user: Any, params: dict[str, Any]) -> set[int] | None:
    request = RequestFactory().get("/")
    request.user = user
    from django.http import QueryDict

    data = QueryDict(mutable=True)
    for key, value in params.items():
        data.setlist(key, value if isinstance(value, list) else [value])
    fs = filterset(data, queryset=model.objects.restrict(user, "view"), request=request)
    if not fs.is_valid():
        return None
    return set(fs.qs.values_list("pk", flat=True))


@pytest.fixture
def data(sales: Any) -> Any:
    class D:
        vip, hot = TagFactory.create(name="VIP"), TagFactory.create(name="hot")
        a_both = AccountFactory.create(owner=sales.rep1)
        a_vip = AccountFactory.create(owner=sales.rep1)
        a_none = AccountFactory.create(owner=sales.rep1)
        a_other = AccountFactory.create(owner=sales.rep3)

    TaggedItemFactory.create(tag=D.vip, obj=D.a_both)
    TaggedItemFactory.create(tag=D.hot, obj=D.a_both)
    TaggedItemFactory.create(tag=D.vip, obj=D.a_vip)
    TaggedItemFactory.create(tag=D.vip, obj=D.a_other)
    return D


class TestTagFilter:
    def test_any_all_none(self, sales: Any, data: Any) -> None:
        u = sales.viewer_all
        vip, hot = str(data.vip.pk), str(data.hot.pk)
        assert run(AccountFilterSet, Account, u, {"tags": [vip, hot]}) == {
            data.a_both.pk,
            data.a_vip.pk,
            data.a_other.pk,
        }
        assert run(AccountFilterSet, Account, u, {"tags": [vip, hot], "tags_mode": "all"}) == {data.a_both.pk}
        assert run(AccountFilterSet, Account, u, {"tags": "none"}) == {data.a_none.pk}
        assert run(AccountFilterSet, Account, u, {"tags": ["none", hot]}) == {data.a_none.pk, data.a_both.pk}
        assert run(AccountFilterSet, Account, u, {"tags": ["none", hot], "tags_mode": "all"}) == set()
        assert run(AccountFilterSet, Account, u, {}) == {
            data.a_both.pk,
            data.a_vip.pk,
            data.a_none.pk,
            data.a_other.pk,
        }

    def test_respects_scope(self, sales: Any, data: Any) -> None:
        assert run(AccountFilterSet, Account, sales.rep1, {"tags": str(data.vip.pk)}) == {
            data.a_both.pk,
            data.a_vip.pk,
        }

    def test_unknown_tag_and_bad_mode_are_invalid(self, sales: Any, data: Any) -> None:
        assert run(AccountFilterSet, Account, sales.rep1, {"tags": "99999"}) is None
        assert run(AccountFilterSet, Account, sales.rep1, {"tags": "x"}) is None
        assert (
            run(AccountFilterSet, Account, sales.rep1, {"tags": str(data.vip.pk), "tags_mode": "x"}) is None
        )

    def test_contact_tags_are_separate(self, sales: Any, data: Any) -> None:
        contact = ContactFactory.create(owner=sales.rep1, account=data.a_none)
        # the account with the same id as a tagged account must not match through the account label
        assert run(ContactFilterSet, Contact, sales.rep1, {"tags": str(data.vip.pk)}) == set()
        TaggedItemFactory.create(tag=data.vip, obj=contact)
        assert run(ContactFilterSet, Contact, sales.rep1, {"tags": str(data.vip.pk)}) == {contact.pk}


class TestStaticGroupFilter:
    def test_members_within_scope(self, sales: Any) -> None:
        mine, theirs, out = (
            AccountFactory.create(owner=sales.rep1),
            AccountFactory.create(owner=sales.rep3),
            AccountFactory.create(owner=sales.rep1),
        )
        group = StaticGroupFactory.create(owner=sales.rep1, is_shared=True)
        StaticGroupMemberFactory.create(group=group, object_id=mine.pk)
        StaticGroupMemberFactory.create(group=group, object_id=theirs.pk)
        assert run(AccountFilterSet, Account, sales.rep1, {"group": str(group.pk)}) == {mine.pk}
        assert run(AccountFilterSet, Account, sales.viewer_all, {"group": str(group.pk)}) == {
            mine.pk,
            theirs.pk,
        }
        assert out.pk not in run(AccountFilterSet, Account, sales.viewer_all, {"group": str(group.pk)})  # type: ignore[operator]

    def test_private_group_of_someone_else_is_refused(self, sales: Any) -> None:
        group = StaticGroupFactory.create(owner=sales.rep1, is_shared=False)
        assert run(AccountFilterSet, Account, sales.rep2, {"group": str(group.pk)}) is None
        other_model = StaticGroupFactory.create(owner=sales.rep1, model="customers.contact")
        assert run(AccountFilterSet, Account, sales.rep1, {"group": str(other_model.pk)}) is None


@pytest.mark.django_db
def test_subqueries_not_joins(sales: Any) -> None:
    """The filter stays a sub-query (no join, no DISTINCT) so it composes with scope and paging."""
    tag = TagFactory.create()
    request = RequestFactory().get("/")
    request.user = sales.admin
    from django.http import QueryDict

    fs = AccountFilterSet(
        QueryDict(f"tags={tag.pk}&tags_mode=all"), queryset=Account.objects.all(), request=request
    )
    sql = str(fs.qs.query).upper()
    assert "DISTINCT" not in sql
    assert "JOIN" not in sql
    assert "TAGS_TAGGEDITEM" in sql


def test_tags_created_after_the_filter_field_was_built_are_valid(sales: Any) -> None:
    """The schema generator builds the base filter's form field once; tags created later must
    still be accepted by every new FilterSet (its filters are deep copies of the base ones)."""
    AccountFilterSet.base_filters["tags"].field  # noqa: B018 - builds and caches the field
    tag = TagFactory.create()
    account = AccountFactory.create(owner=sales.rep1)
    tags_set(obj=account, tags=[tag], by=sales.admin)
    assert run(AccountFilterSet, Account, sales.admin, {"tags": str(tag.pk)}) == {account.pk}


def test_filter_panel_help_is_for_people_and_the_schema_keeps_the_api_wording(sales: Any) -> None:
    """The HTML filter panel shows the form field's help text; the API schema describes the query
    parameter (ids, values)."""
    from django.utils import translation
    from drf_spectacular.generators import SchemaGenerator

    request = RequestFactory().get("/")
    request.user = sales.rep1
    form = AccountFilterSet(None, queryset=Account.objects.all(), request=request).form
    with translation.override("en"):
        assert "ids" not in str(form.fields["tags"].help_text)
        assert "(no tags)" in str(form.fields["tags"].help_text)
        assert str(form.fields["tags_mode"].help_text).startswith("Any: at least one")
        schema = SchemaGenerator().get_schema(request=None, public=True)
    params = {
        p["name"]: p.get("description", "")
        for p in schema["paths"]["/api/v1/customers/accounts/"]["get"]["parameters"]
    }
    assert params["tags"].startswith("Tag ids (repeat the parameter), or `none`")
    assert params["tags_mode"].startswith("any (default)")
