"""Customer records (issue 4): typed phones/e-mails/addresses, regions, tax number, parent accounts,
lifecycle, contacts with several accounts and roles."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import pytest
from django.http import QueryDict
from django.utils import timezone

from kehu.audit.models import TimelineEvent
from kehu.core.errors import DomainError, StaleObjectError
from kehu.customers import regions, services
from kehu.customers.filtersets import AccountFilterSet, ContactFilterSet
from kehu.customers.models import Account, AccountAddress, AccountContactRelation, AccountPhone, Contact
from kehu.customers.templatetags.kehu_customers import phone
from kehu.customers.validators import normalise_tax_number

from .factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db

VALID_USCC = "91350100M000100Y43"


def _fields(exc: pytest.ExceptionInfo[DomainError]) -> dict[str, list[str]]:
    return exc.value.fields


# --- tax number -------------------------------------------------------------------------------


def test_tax_number_check_digit_length_and_alphabet() -> None:
    assert normalise_tax_number(" 91350100m000100y43 ") == VALID_USCC
    assert normalise_tax_number("９１３５０１００Ｍ０００１００Ｙ４３") == VALID_USCC
    assert normalise_tax_number("") == ""
    for bad, words in (
        ("91350100M000100Y44", "check digit"),
        ("91350100M000100Y4", "18 characters"),
        ("91350100M000100I43", "I"),
    ):
        with pytest.raises(Exception) as exc:
            normalise_tax_number(bad)
        assert words in " ".join(exc.value.messages)  # type: ignore[attr-defined]


def test_account_tax_number_is_validated_by_the_service(sales) -> None:
    with pytest.raises(DomainError) as exc:
        services.account_create(by=sales.rep1, data={"name": "A", "tax_number": "91350100M000100Y44"})
    assert list(_fields(exc)) == ["tax_number"]
    account = services.account_create(by=sales.rep1, data={"name": "A", "tax_number": "91350100m000100y43"})
    assert account.tax_number == VALID_USCC


# --- phones, e-mails, addresses ---------------------------------------------------------------


def test_phones_and_emails_lists_keep_one_primary_and_the_denormalised_columns(sales) -> None:
    account = services.account_create(
        by=sales.rep1,
        data={
            "name": "A",
            "phones": [
                {"kind": "work", "number": "010 6552 9988"},
                {"kind": "mobile", "number": "138 1234 5678", "is_primary": True},
            ],
            "emails": [{"kind": "work", "email": " Sales@Example.CN "}],
        },
    )
    assert account.phone == "+8613812345678"
    assert account.email == "sales@example.cn"
    rows = list(account.phones.values_list("kind", "number", "is_primary"))
    assert rows == [("mobile", "+8613812345678", True), ("work", "+861065529988", False)]
    # A plain `phone` (older callers, imports) edits the primary row.
    services.account_update(account=account, by=sales.rep1, data={"phone": "139 1234 5678"})
    account.refresh_from_db()
    assert account.phone == "+8613912345678"
    assert sorted(account.phones.values_list("number", flat=True)) == ["+861065529988", "+8613912345678"]
    # Emptying the list empties the primary columns.
    services.account_update(account=account, by=sales.rep1, data={"phones": [], "emails": []})
    account.refresh_from_db()
    assert (account.phone, account.email, account.phones.count()) == ("", "", 0)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"phones": [{"number": "12"}]}, "phones"),
        (
            {
                "phones": [
                    {"number": "13812345678", "is_primary": True},
                    {"number": "13912345678", "is_primary": True},
                ]
            },
            "phones",
        ),
        ({"phones": [{"number": "13812345678"}, {"number": "138 1234 5678"}]}, "phones"),
        ({"phones": [{"number": "13812345678", "kind": "pager"}]}, "phones"),
        ({"emails": [{"email": "not-an-address"}]}, "emails"),
        ({"addresses": [{"province": "440000", "city": "110100"}]}, "addresses"),
        ({"addresses": [{"street": "长" * 301}]}, "addresses"),
        ({"country": "XX"}, "country"),
        ({"country": "JP", "province": "440000"}, "province"),
        ({"province": "440000", "city": "440300", "district": "110108"}, "district"),
        ({"lifecycle_stage": "zombie"}, "lifecycle_stage"),
        ({"wechat": "w" * 65}, "wechat"),
    ],
)
def test_bad_details_are_refused_with_field_messages(sales, data, field) -> None:
    with pytest.raises(DomainError) as exc:
        services.account_create(by=sales.rep1, data={"name": "A", **data})
    assert field in _fields(exc)
    assert all(m for m in _fields(exc)[field])
    assert not Account.objects.exists()


def test_addresses_with_regions_and_the_primary_line(sales) -> None:
    account = services.account_create(
        by=sales.rep1,
        data={
            "name": "A",
            "province": "440000",
            "city": "440300",
            "district": "440305",
            "addresses": [
                {"kind": "billing", "province": "110000", "district": "110108", "street": "中关村大街1号"},
                {
                    "kind": "office",
                    "province": "440000",
                    "city": "440300",
                    "district": "440305",
                    "street": "科技园路2号",
                    "postcode": "518057",
                    "is_primary": True,
                },
            ],
        },
    )
    assert account.country == "CN"  # implied by the province
    assert account.address == "广东省深圳市南山区 科技园路2号 518057"
    assert account.addresses.get(kind="billing").country == "CN"
    # the address endpoint's services keep one primary and the line
    billing = account.addresses.get(kind="billing")
    services.account_address_update(by=sales.rep1, address=billing, data={"is_primary": True})
    account.refresh_from_db()
    assert account.address.startswith("北京市海淀区 中关村大街1号")
    assert AccountAddress.objects.filter(account=account, is_primary=True).count() == 1
    services.account_address_delete(by=sales.rep1, address=billing)
    account.refresh_from_db()
    assert account.address.startswith("广东省")


def test_region_data_cascades() -> None:
    assert ("440000", "广东省") in regions.provinces()
    assert ("440300", "深圳市") in regions.cities("440000")
    assert ("440305", "南山区") in regions.districts("440300")
    assert ("110108", "海淀区") in regions.districts("110000")  # municipality: no city level
    assert regions.cities("110000") == []
    assert regions.region_errors(country="CN", province="110000", city="", district="110108") == {}


# --- parent accounts --------------------------------------------------------------------------


def test_parent_accounts_refuse_cycles_and_protect_the_parent(sales) -> None:
    group = services.account_create(by=sales.rep1, data={"name": "集团"})
    child = services.account_create(by=sales.rep1, data={"name": "子公司", "parent": group})
    grandchild = services.account_create(by=sales.rep1, data={"name": "孙公司", "parent": child})
    with pytest.raises(DomainError) as exc:
        services.account_update(account=group, by=sales.rep1, data={"parent": grandchild})
    assert "cycle" in _fields(exc)["parent"][0]
    with pytest.raises(DomainError):
        services.account_update(account=group, by=sales.rep1, data={"parent": group})
    other = AccountFactory.create(owner=sales.rep3)  # not visible to rep1
    with pytest.raises(DomainError) as exc:
        services.account_update(account=child, by=sales.rep1, data={"parent": other})
    assert list(_fields(exc)) == ["parent"]
    with pytest.raises(services.AccountHasChildrenError):
        services.account_delete(account=child, by=sales.rep1)
    services.account_delete(account=grandchild, by=sales.rep1)
    services.account_delete(account=child, by=sales.rep1)


# --- lifecycle --------------------------------------------------------------------------------


def test_lifecycle_change_sets_the_date_and_writes_a_timeline_event(sales) -> None:
    account = services.account_create(by=sales.rep1, data={"name": "A"})
    before = account.lifecycle_changed_at
    account = services.account_set_lifecycle(
        account=account, stage="active", by=sales.rep1, version=account.version
    )
    assert account.lifecycle_stage == "active"
    assert before is not None and account.lifecycle_changed_at is not None
    assert account.lifecycle_changed_at >= before
    event = TimelineEvent.objects.get(event=services.LIFECYCLE_EVENT)
    assert event.account_id == account.pk
    assert event.data["changes"] == {"lifecycle_stage": ["potential", "active"]}
    with pytest.raises(StaleObjectError):
        services.account_set_lifecycle(account=account, stage="mature", by=sales.rep1, version=1)
    # no change: no event
    services.account_update(account=account, by=sales.rep1, data={"lifecycle_stage": "active"})
    assert TimelineEvent.objects.filter(event=services.LIFECYCLE_EVENT).count() == 1


# --- contacts and relations -------------------------------------------------------------------


def test_contact_details_relations_and_roles(sales) -> None:
    a1 = services.account_create(by=sales.rep1, data={"name": "甲"})
    a2 = services.account_create(by=sales.rep1, data={"name": "乙"})
    contact = services.contact_create(
        by=sales.rep1,
        data={
            "account": a1,
            "name": "王伟",
            "role": "decision_maker",
            "gender": "male",
            "birthday": dt.date(1980, 5, 4),
            "preferred_channel": "wechat",
            "do_not_call": True,
            "phones": [
                {"kind": "mobile", "number": "13812345678"},
                {"kind": "work", "number": "010 6552 9988"},
            ],
            "relations": [{"account": a2, "role": "finance"}],
        },
    )
    assert (contact.phone, contact.mobile) == ("+8613812345678", "+8613812345678")
    rels = {r.account_id: (r.role, r.is_direct) for r in contact.account_relations.all()}
    assert rels == {a1.pk: ("decision_maker", True), a2.pk: ("finance", False)}
    with pytest.raises(services.DuplicateRelationError):
        services.contact_relation_add(by=sales.rep1, contact=contact, account=a2, role="user")
    with pytest.raises(DomainError):
        services.contact_relation_add(by=sales.rep1, contact=contact, account=a2, role="no-such-role")
    direct = contact.account_relations.get(is_direct=True)
    with pytest.raises(DomainError):
        services.contact_relation_remove(by=sales.rep1, relation=direct)
    # Making the other account direct moves the contact; the old one stays as a relation.
    services.contact_relation_update(
        by=sales.rep1, relation=contact.account_relations.get(account=a2), data={"is_direct": True}
    )
    contact.refresh_from_db()
    assert contact.account_id == a2.pk
    assert set(contact.account_relations.values_list("account_id", "is_direct")) == {
        (a1.pk, False),
        (a2.pk, True),
    }
    services.contact_relation_remove(by=sales.rep1, relation=contact.account_relations.get(account=a1))
    assert list(contact.account_relations.values_list("account_id", flat=True)) == [a2.pk]
    with pytest.raises(DomainError) as exc:
        services.contact_update(contact=contact, by=sales.rep1, data={"phones": [{"number": "bad"}]})
    assert list(_fields(exc)) == ["phones"]


def test_relations_to_accounts_the_user_cannot_see_are_kept(sales) -> None:
    contact = ContactFactory.create(owner=sales.rep1)
    hidden = AccountFactory.create(owner=sales.rep3)
    AccountContactRelation.objects.create(contact=contact, account=hidden, role="user")
    services.contact_update(contact=contact, by=sales.rep1, data={"relations": []})
    assert contact.account_relations.filter(account=hidden).exists()


# --- filters ----------------------------------------------------------------------------------


def test_account_filters(sales) -> None:
    now = timezone.now()
    old = AccountFactory.create(owner=sales.rep1, province="440000", country="CN", completeness=20)
    Account.objects.filter(pk=old.pk).update(last_activity_at=now - dt.timedelta(days=40))
    recent = AccountFactory.create(owner=sales.rep1, completeness=90)
    Account.objects.filter(pk=recent.pk).update(last_activity_at=now - dt.timedelta(days=2))
    never = AccountFactory.create(owner=None, completeness=0)
    qs = Account.objects.all()

    def ids(**params: str) -> set[int]:
        fs = AccountFilterSet(QueryDict(urlencode(params)), queryset=qs)
        assert fs.is_valid(), fs.errors
        return set(fs.qs.values_list("pk", flat=True))

    assert ids(no_activity_days="30") == {old.pk, never.pk}
    assert ids(completeness_max="50") == {old.pk, never.pk}
    assert ids(completeness_min="50") == {recent.pk}
    assert ids(has_owner="false") == {never.pk}
    assert ids(has_owner="true") == {old.pk, recent.pk}
    assert ids(province="440000") == {old.pk}
    assert ids(lifecycle_stage="potential") == {old.pk, recent.pk, never.pk}
    assert not AccountFilterSet(QueryDict("no_activity_days=-1"), queryset=qs).is_valid()


def test_contact_filters(sales) -> None:
    c1 = ContactFactory.create(
        owner=sales.rep1, birthday=dt.date(1990, 3, 8), gender="female", do_not_email=True
    )
    c2 = ContactFactory.create(owner=sales.rep1, preferred_channel="wechat")
    AccountContactRelation.objects.create(contact=c2, account=c1.account, role="purchaser")
    qs = Contact.objects.all()

    def ids(**params: str) -> set[int]:
        fs = ContactFilterSet(QueryDict(urlencode(params)), queryset=qs)
        assert fs.is_valid(), fs.errors
        return set(fs.qs.values_list("pk", flat=True))

    assert ids(account=str(c1.account_id)) == {c1.pk, c2.pk}
    assert ids(direct_account=str(c1.account_id)) == {c1.pk}
    assert ids(role="purchaser") == {c2.pk}
    assert ids(birthday_month="3") == {c1.pk}
    assert ids(gender="female") == {c1.pk}
    assert ids(do_not_email="true") == {c1.pk}
    assert ids(preferred_channel="wechat") == {c2.pk}
    assert ids(no_activity_days="1") == {c1.pk, c2.pk}


# --- display ----------------------------------------------------------------------------------


def test_phone_filter_formats_for_people() -> None:
    assert phone("+8613812345678") == "138 1234 5678"
    assert phone("+861065529988") == "010 6552 9988"
    assert phone("+81312345678") == "+81 3-1234-5678"
    assert phone("") == ""


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        # outside CN and US: international format, whichever way it was written
        ("+49301234567", "+49 30 1234567"),
        ("+49 30 1234567", "+49 30 1234567"),
        ("004930 1234567", "+49 30 1234567"),
        ("+442079460958", "+44 20 7946 0958"),
        ("+33142685300", "+33 1 42 68 53 00"),
        ("+12125550100", "+1 212-555-0100"),
        ("+85221234567", "+852 2123 4567"),
        # the default region (CN): national format, with or without the country code
        ("13812345678", "138 1234 5678"),
        ("0086 138 1234 5678", "138 1234 5678"),
        # not valid numbers: as they are
        ("+49 12", "+49 12"),
        ("12345", "12345"),
        ("call me", "call me"),
    ],
)
def test_phone_filter_formats_any_valid_number(value: str, shown: str) -> None:
    assert phone(value) == shown


def test_backfill_shape_rows_have_one_primary(sales) -> None:
    account = services.account_create(by=sales.rep1, data={"name": "A", "phone": "13812345678"})
    assert AccountPhone.objects.filter(account=account, is_primary=True).count() == 1


def test_a_plain_address_line_becomes_the_primary_address_row(sales) -> None:
    account = services.account_create(by=sales.rep1, data={"name": "A", "address": "成都市新华路782号"})
    assert list(account.addresses.values_list("street", "is_primary")) == [("成都市新华路782号", True)]
    assert account.address == "成都市新华路782号"
