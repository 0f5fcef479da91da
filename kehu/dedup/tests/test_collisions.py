"""The collision check (撞单检查): exact keys across leads, accounts and contacts, masking by data
scope, the policy (warn / block), and its cost."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kehu.core import confcache
from kehu.customers.models import AccountPhone
from kehu.customers.tests.factories import AccountFactory, ContactFactory
from kehu.dedup.errors import CollisionError
from kehu.dedup.models import CollisionPolicy
from kehu.dedup.services import (
    collision_check,
    collision_enforce,
    collision_policy,
    collision_policy_set,
    dedup_flush,
)

from .conftest import make_lead

pytestmark = pytest.mark.django_db

USCC = "91350100M000100Y43"


def _found(matches: list[Any]) -> set[tuple[str, int, str]]:
    return {(m.model_label, m.pk, m.matched_on) for m in matches}


@pytest.fixture
def records(sales: Any) -> dict[str, Any]:
    """rep1 (华北区) owns an account with a contact; rep3 (华东区) owns a lead."""
    account = AccountFactory.create(
        owner=sales.rep1, name="北京字节跳动科技有限公司", tax_number=USCC, phone="010-6552 9988"
    )
    AccountPhone.objects.create(account=account, number="+8613811112222", kind="mobile")
    contact = ContactFactory.create(
        owner=sales.rep1, account=account, name="李娜", mobile="13900001111", email="Li.Na@bytedance.com"
    )
    lead = make_lead(
        sales.rep3,
        name="王伟",
        company="Acme (China) Co., Ltd.",
        mobile="+8613700003333",
        email="wang@acme.com",
    )
    return {"account": account, "contact": contact, "lead": lead}


@pytest.mark.parametrize(
    ("model_label", "values", "expected"),
    [
        # a new lead against accounts, contacts and leads
        ("sales.lead", {"company": "北京字节跳动科技（北京）有限公司"}, {("customers.account", "company")}),
        ("sales.lead", {"tax_number": "91350100m000100y43"}, {("customers.account", "tax_number")}),
        ("sales.lead", {"phone": "+86 138 1111 2222"}, {("customers.account", "phone")}),
        ("sales.lead", {"mobile": "139-0000-1111"}, {("customers.contact", "phone")}),
        ("sales.lead", {"email": " LI.NA@ByteDance.com"}, {("customers.contact", "email")}),
        ("sales.lead", {"company": "ACME LLC", "phone": "13700003333"}, {("sales.lead", "phone")}),
        # a new account against leads, contacts and accounts
        ("customers.account", {"name": "Acme Ltd", "kind": "company"}, {("sales.lead", "company")}),
        ("customers.account", {"name": "Acme", "kind": "person"}, set()),
        ("customers.account", {"phones": [{"number": "+8613900001111"}]}, {("customers.contact", "phone")}),
        ("customers.account", {"emails": ["wang@acme.com"]}, {("sales.lead", "email")}),
        ("customers.account", {"phone": "(010) 65529988"}, {("customers.account", "phone")}),
        # a new contact against leads, accounts and contacts
        ("customers.contact", {"phones": ["13700003333"]}, {("sales.lead", "phone")}),
        ("customers.contact", {"mobile": "13811112222"}, {("customers.account", "phone")}),
        (
            "customers.contact",
            {"emails": [{"email": "li.na@bytedance.com"}]},
            {("customers.contact", "email")},
        ),
        ("customers.contact", {"phones": ["+8613000000000"], "email": "nobody@example.com"}, set()),
    ],
)
def test_each_model_pair(
    records: dict[str, Any], model_label: str, values: dict[str, Any], expected: set[Any]
) -> None:
    matches = collision_check(model_label=model_label, values=values, user=None)
    assert {(m.model_label, m.matched_on) for m in matches} == expected


def test_a_match_says_what_matched_and_who_owns_it(records: dict[str, Any], sales: Any) -> None:
    [match] = collision_check(
        model_label="sales.lead",
        values={"company": "字节跳动", "tax_number": USCC, "phone": "01065529988"},
        user=sales.rep1,
    )
    assert match.model_label == "customers.account"
    assert match.pk == records["account"].pk
    assert match.matched_on == "tax_number"
    assert match.kinds == ("tax_number", "phone")
    assert match.fields == ("phone", "tax_number")
    assert match.visible
    assert match.label == "北京字节跳动科技有限公司"
    assert match.owner_name == str(sales.rep1)
    assert match.url == records["account"].get_absolute_url()


@pytest.mark.parametrize(
    ("user", "sees_rep1", "sees_rep3"),
    [
        ("rep1", True, False),  # own
        ("rep2", False, False),  # own, someone else's records
        ("manager1", True, False),  # department (华北区)
        ("director", True, True),  # 销售部 and below
        ("viewer_all", True, True),  # all
        ("nobody", False, False),  # no permission at all
    ],
)
def test_records_outside_the_users_scope_are_masked(
    records: dict[str, Any], sales: Any, user: str, sees_rep1: bool, sees_rep3: bool
) -> None:
    actor = getattr(sales, user)
    matches = collision_check(
        model_label="customers.contact", values={"phones": ["13811112222", "13700003333"]}, user=actor
    )
    by_model = {m.model_label: m for m in matches}
    account, lead = by_model["customers.account"], by_model["sales.lead"]
    assert account.visible is sees_rep1
    assert lead.visible is sees_rep3
    for match, visible, obj, owner in (
        (account, sees_rep1, records["account"], sales.rep1),
        (lead, sees_rep3, records["lead"], sales.rep3),
    ):
        if visible:
            assert (match.label, match.owner_name, match.url) == (
                str(obj),
                str(owner),
                obj.get_absolute_url(),
            )
        else:
            assert match.label == str(obj)[:1] + "***"
            assert match.owner_name == str(owner)[:1] + "***"
            assert match.url == ""
            assert str(obj) not in str(match.as_dict())


def test_the_record_itself_and_its_old_keys_are_not_matched(records: dict[str, Any], sales: Any) -> None:
    account = records["account"]
    # editing the account: its own name, tax number and phone are no collision
    assert (
        collision_check(
            model_label="customers.account",
            values={
                "name": account.name,
                "kind": "company",
                "tax_number": USCC,
                "phones": ["+861065529988", "+8613811112222"],
            },
            exclude_pk=account.pk,
            user=sales.rep1,
        )
        == []
    )
    # adding the lead's mobile to it is
    matches = collision_check(
        model_label="customers.account",
        values={"phones": ["+861065529988", "+8613700003333"]},
        exclude_pk=account.pk,
        user=sales.rep1,
    )
    assert _found(matches) == {("sales.lead", records["lead"].pk, "phone")}


def test_a_key_the_record_shares_already_is_not_reported_again(records: dict[str, Any], sales: Any) -> None:
    # the contact's mobile also on a lead (saved anyway earlier): editing the contact's name is quiet
    make_lead(sales.rep2, mobile="+8613900001111")
    contact = records["contact"]
    assert (
        collision_check(
            model_label="customers.contact",
            values={"mobile": "+8613900001111"},
            exclude_pk=contact.pk,
            user=sales.rep1,
        )
        == []
    )


def test_converted_leads_are_not_matched(records: dict[str, Any]) -> None:
    lead = records["lead"]
    lead.status = "converted"
    lead.save()
    assert (
        collision_check(model_label="customers.contact", values={"phones": ["13700003333"]}, user=None) == []
    )


def test_pool_records_have_no_owner(records: dict[str, Any], sales: Any) -> None:
    pooled = make_lead(None, email="pool@example.com")
    [match] = collision_check(
        model_label="customers.contact", values={"email": "pool@example.com"}, user=sales.viewer_all
    )
    assert (match.pk, match.in_pool, match.owner_name) == (pooled.pk, True, "")


def test_empty_or_unparsable_values_match_nothing(
    records: dict[str, Any], django_assert_num_queries: Any
) -> None:
    dedup_flush()
    with django_assert_num_queries(0):
        assert (
            collision_check(
                model_label="sales.lead",
                values={"phone": "n/a", "email": "", "company": "有限公司"},
                user=None,
            )
            == []
        )


def _is_config_token(sql: str) -> bool:
    """The configuration token's own read: one row of ``core_sequence`` by its key."""
    return sql.startswith('SELECT "core_sequence"') and confcache.KEY in sql


def test_the_check_is_index_lookups_only(records: dict[str, Any], sales: Any) -> None:
    for i in range(30):  # noise that must not be read
        make_lead(sales.rep2, company=f"噪声{i}科技有限公司", mobile=f"+86137000{i:05d}")
    dedup_flush()  # the keys of the records just created
    values = {
        "company": "字节跳动科技",
        "tax_number": USCC,
        "mobile": "13900001111",
        "email": "wang@acme.com",
    }
    with CaptureQueriesContext(connection) as ctx:
        matches = collision_check(
            model_label="sales.lead", values=values, exclude_pk=10**9, user=sales.manager1
        )
    assert {m.model_label for m in matches} == {"customers.account", "customers.contact", "sales.lead"}
    sqls = [q["sql"] for q in ctx.captured_queries]
    # the user's roles, permissions, department and pool memberships (scope extensions), and the
    # configuration token their per-process cache is kept under (`kehu.core.confcache`: read with
    # the roles, or on its own where the roles were already loaded): what any restricted read
    # loads about the user, not the collision check's own lookups
    permission_reads = [
        q
        for q in sqls
        if q.startswith(('SELECT "users_', 'SELECT "sales_pool"'))
        or '"users_role" r' in q  # the roles with the tokens (kehu.users.backends, plain SQL)
        or _is_config_token(q)
    ]
    # own keys, keys by (kind, value), and per matched model: its rows and the visible ones by pk;
    # plus what any restricted read loads about the user once
    assert len(sqls) - len(permission_reads) <= 2 + 2 * 3, "\n".join(q[:150] for q in sqls)
    assert len(permission_reads) <= 5, permission_reads
    with CaptureQueriesContext(connection) as token_ctx:  # the recogniser still knows the token's read
        confcache._read_token()
    assert [_is_config_token(q["sql"]) for q in token_ctx.captured_queries] == [True]
    key_query = next(
        q["sql"] for q in ctx.captured_queries if '"dedup_matchkey"."kind"' in q["sql"] and "IN" in q["sql"]
    )
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            plan = " ".join(str(row) for row in cursor.execute("EXPLAIN QUERY PLAN " + key_query).fetchall())
        assert "dedup_matchkey_kind_value" in plan, plan


# --- policy and enforcement --------------------------------------------------------------------


def test_policy_defaults_to_warn_and_is_set_by_admins(sales: Any) -> None:
    assert collision_policy("customers.account") == "warn"
    from kehu.core.errors import DomainError, PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        collision_policy_set(model_label="customers.account", mode="block", by=sales.manager1)
    with pytest.raises(DomainError):
        collision_policy_set(model_label="customers.account", mode="explode", by=sales.admin)
    with pytest.raises(DomainError):
        collision_policy_set(model_label="users.user", mode="block", by=sales.admin)
    collision_policy_set(model_label="customers.account", mode="block", by=sales.admin)
    assert collision_policy("customers.account") == "block"
    assert collision_policy("customers.contact") == "warn"
    assert CollisionPolicy.objects.get().updated_by == sales.admin


def test_warn_raises_until_confirmed(records: dict[str, Any], sales: Any) -> None:
    values = {"mobile": "13900001111"}
    with pytest.raises(CollisionError) as caught:
        collision_enforce(model_label="sales.lead", values=values, user=sales.rep3)
    body = caught.value.as_dict()
    assert caught.value.status == 409
    assert body["code"] == "collision"
    assert body["policy"] == "warn"
    assert body["confirm_field"] == "confirm_collisions"
    assert [(m["model"], m["id"], m["visible"], m["label"]) for m in body["matches"]] == [
        ("customers.contact", records["contact"].pk, False, "李***")
    ]
    assert (
        len(collision_enforce(model_label="sales.lead", values=values, user=sales.rep3, confirmed=True)) == 1
    )
    assert (
        collision_enforce(model_label="sales.lead", values={"mobile": "13000000000"}, user=sales.rep3) == []
    )


def test_block_raises_even_when_confirmed(records: dict[str, Any], sales: Any) -> None:
    collision_policy_set(model_label="sales.lead", mode="block", by=sales.admin)
    with pytest.raises(CollisionError) as caught:
        collision_enforce(
            model_label="sales.lead", values={"company": "ACME Inc."}, user=sales.rep3, confirmed=True
        )
    assert caught.value.as_dict()["policy"] == "block"
    assert caught.value.as_dict()["confirm_field"] is None
    assert "may not be saved" in caught.value.as_dict()["message"]
