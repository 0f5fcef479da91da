"""Core list machinery: tables (columns, sort whitelist, field masking) and the search registry."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model

from kehu.core import search
from kehu.core.generic import LitePage, paginate
from kehu.core.masking import has_reveal_recorder, mask_value, register_reveal_recorder, reveal_value
from kehu.core.tables import Column, Table

pytestmark = pytest.mark.django_db

User = get_user_model()


class UserTable(Table):
    model = User
    key = "tests.user"
    columns = [
        Column("username", "Username", order_by="username", required=True),
        Column("email", "E-mail", order_by="email"),
        Column("phone", "Phone", default=False),
    ]


def test_columns_sort_whitelist_and_defaults(company) -> None:
    table = UserTable(user=company.admin, visible=None, sort="-email")
    assert [c.name for c in table.visible] == ["username", "email"]
    assert table.sort_column is not None and table.sort_descending
    assert str(table.order(User.objects.all()).query).endswith(
        'ORDER BY "users_user"."email" DESC, "users_user"."id" DESC'
    )
    ignored = UserTable(user=company.admin, sort="password")
    assert ignored.sort_column is None
    chosen = UserTable(user=company.admin, visible=["phone", "nope"])
    assert [c.name for c in chosen.visible] == ["username", "phone"]  # required stays


def test_hidden_columns_disappear_and_masked_ones_are_masked(company) -> None:
    FieldPermission = apps.get_model("users", "FieldPermission")
    FieldPermission.objects.create(role=company.role_rep, model="users.user", field="email", mode="hidden")
    FieldPermission.objects.create(role=company.role_rep, model="users.user", field="phone", mode="masked")
    company.rep2.phone = "+8613812345678"
    table = UserTable(user=company.rep1, visible=["email", "phone"])
    assert [c.name for c in table.visible] == ["username", "phone"]
    (row,) = table.rows([company.rep2])
    assert "138****5678" in str(row.cells[1].content)
    assert "13812345678" not in str(row.cells[1].content)


def test_lite_pagination_needs_no_count(company, django_assert_num_queries) -> None:
    qs = User.objects.order_by("pk")
    with django_assert_num_queries(1):
        page = paginate(qs, "2", 3)
    assert isinstance(page, LitePage)
    assert (page.number, page.has_previous, page.has_next, page.start_index, page.end_index) == (
        2,
        True,
        True,
        4,
        6,
    )
    assert paginate(qs, "abc", 3).number == 1
    last = paginate(qs, "3", 3)
    assert (last.has_next, len(last.object_list)) == (False, User.objects.count() - 6)


def test_search_registry_skips_providers_the_user_may_not_view(company) -> None:
    calls: list[Any] = []

    def provider(user: Any, q: str, limit: int) -> list[search.SearchHit]:
        calls.append((user, q, limit))
        return [search.SearchHit(title=f"{q}-{i}", url="/", score=i) for i in range(limit)]

    search.register_provider("tests.users", "Users", provider, model="users.user", order=1)
    try:
        assert search.search(company.rep1, "  a   b ") == []  # no view on users.user: not even asked
        assert calls == []
        (group,) = [g for g in search.search(company.admin, " a   b ", limit=2) if g.key == "tests.users"]
        assert [h.title for h in group.hits] == ["a b-2", "a b-1"]  # best score first
        assert group.more is True
        assert calls[-1] == (company.admin, "a b", 3)
    finally:
        search.unregister_provider("tests.users")


def test_reveal_recorders_are_told(company) -> None:
    seen: list[tuple[Any, Any, str]] = []
    key = "tests.recorder"
    register_reveal_recorder(key, lambda *, user, obj, field: seen.append((user, obj, field)))
    try:
        assert has_reveal_recorder(key)
        company.rep2.phone = "+8613812345678"
        assert reveal_value(user=company.rep1, obj=company.rep2, field="phone") == "+8613812345678"
        assert seen == [(company.rep1, company.rep2, "phone")]
    finally:
        from kehu.core import masking

        masking._reveal_recorders.pop(key)


def test_mask_value_kinds() -> None:
    assert mask_value("+8613812345678", "phone") == "+86 138****5678"
    assert mask_value("+862351858033", "phone") == "+86 23****033"  # a landline keeps its country code
    assert mask_value("13812345678", "phone") == "138****5678"
    assert mask_value("zhang.wei@example.com", "email") == "z***@example.com"
    assert mask_value("", "phone") == ""


def _mask_by_parsing(value: str) -> str:
    import phonenumbers

    from kehu.core.masking import _mask_digits

    number = phonenumbers.parse(value, None)
    return f"+{number.country_code} {_mask_digits(phonenumbers.national_significant_number(number))}"


def test_mask_phone_without_parsing_matches_phonenumbers_for_every_region() -> None:
    """The E.164 shortcut masks every region's example numbers (fixed line, mobile, toll free) as a
    full ``phonenumbers.parse`` does."""
    import phonenumbers
    from phonenumbers import PhoneNumberType

    checked = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            assert mask_value(e164, "phone") == _mask_by_parsing(e164), e164
            checked += 1
    assert checked > 400
    # Not E.164 digits: the parsing path (or the digits-only fallback) still answers.
    assert mask_value("+86 138 1234 5678", "phone") == "+86 138****5678"
    assert mask_value("+999", "phone") == "****"


@pytest.mark.parametrize(
    "query", ["", "page=2", "q=张&sort=-name&page=3&_count=1", "owner=1&owner=2&per_page=50&page=1"]
)
def test_footer_links_are_what_querystring_writes(rf, query: str) -> None:
    from django.template import engines

    from kehu.core.generic import LitePage, page_queries

    request = rf.get(f"/x/?{query}")
    number = int(request.GET.get("page", "1"))
    page = LitePage(object_list=[1], number=number, per_page=25, has_next=True)
    links = page_queries(request.GET, page)
    template = engines["django"].from_string(
        "{% querystring _count=1 page=None %}|{% querystring page=n|add:-1 %}|{% querystring page=n|add:1 %}"
    )
    count, previous, following = template.render({"n": number}, request).split("|")
    assert links["count_query"] == count.replace("&amp;", "&")
    assert links["next_query"] == following.replace("&amp;", "&")
    assert links["previous_query"] == (previous.replace("&amp;", "&") if number > 1 else "")
