"""Account and contact services: normalisation, owner and department, assign, optimistic locking,
the re-check after writes, field permissions, picklists and refusals."""

from __future__ import annotations

import pytest

from kehu.core.choices import Action, FieldMode, Scope
from kehu.core.errors import DomainError, OutOfScopeError, PermissionDeniedError, StaleObjectError
from kehu.customers import services
from kehu.customers.models import Account, Contact
from kehu.customfields.models import Picklist, PicklistItem
from kehu.users.models import FieldPermission
from kehu.users.tests.factories import grant

from .factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


def test_create_normalises_and_takes_owner_and_department_from_the_user(sales) -> None:
    account = services.account_create(
        by=sales.rep1,
        data={
            "name": "  北京远大科技有限公司 ",
            "phone": "138-1234-5678",
            "email": " Zhang.Wei@Example.COM ",
        },
    )
    account.refresh_from_db()
    assert account.name == "北京远大科技有限公司"
    assert account.phone == "+8613812345678"
    assert account.email == "zhang.wei@example.com"
    assert account.owner == sales.rep1
    assert account.department == sales.north
    assert account.created_by == sales.rep1
    assert account.version == 1


def test_invalid_phone_and_email_are_refused_with_field_messages(sales) -> None:
    with pytest.raises(DomainError) as exc:
        services.account_create(
            by=sales.rep1, data={"name": "X", "phone": "12345", "email": "not-an-address"}
        )
    assert set(exc.value.fields) == {"phone", "email"}
    assert Account.objects.count() == 0


def test_create_needs_the_add_permission(company) -> None:
    with pytest.raises(PermissionDeniedError):
        services.account_create(by=company.rep1, data={"name": "X"})
    assert Account.objects.count() == 0


def test_update_bumps_the_version_and_refuses_a_stale_one(sales) -> None:
    account = AccountFactory.create(owner=sales.rep1, name="旧名")
    updated = services.account_update(account=account, by=sales.rep1, data={"name": "新名"}, version=1)
    assert (updated.name, updated.version) == ("新名", 2)
    with pytest.raises(StaleObjectError) as exc:
        services.account_update(account=account, by=sales.rep1, data={"name": "第三个名字"}, version=1)
    assert exc.value.status == 409
    assert "Someone else changed this account" in str(exc.value.message)
    account.refresh_from_db()
    assert (account.name, account.version) == ("新名", 2)


def test_an_update_that_changes_nothing_keeps_the_version(sales) -> None:
    account = AccountFactory.create(owner=sales.rep1, name="同名")
    services.account_update(account=account, by=sales.rep1, data={"name": "同名"})
    account.refresh_from_db()
    assert account.version == 1


def test_giving_an_account_to_someone_else_needs_assign(sales) -> None:
    account = AccountFactory.create(owner=sales.rep1)
    with pytest.raises(PermissionDeniedError) as exc:
        services.account_update(account=account, by=sales.rep1, data={"owner": sales.rep3})
    assert "owner" in exc.value.fields
    with pytest.raises(PermissionDeniedError):
        services.account_create(by=sales.rep1, data={"name": "X", "owner": sales.rep2})
    account.refresh_from_db()
    assert account.owner == sales.rep1
    assert Account.objects.count() == 1


def test_assign_moves_the_department_with_the_owner_even_out_of_reach(sales) -> None:
    grant(sales.role_manager, "customers.account", Action.ASSIGN, scope=Scope.DEPARTMENT)
    account = AccountFactory.create(owner=sales.rep1)
    moved = services.account_update(account=account, by=sales.manager1, data={"owner": sales.rep3})
    assert (moved.owner, moved.department) == (sales.rep3, sales.east)
    # manager1 (华北区) handed it to 华东区 on purpose: it is now outside their scope.
    assert not Account.objects.restrict(sales.manager1, Action.VIEW).filter(pk=account.pk).exists()


def test_assign_is_checked_against_its_own_scope(sales) -> None:
    grant(sales.role_rep, "customers.account", Action.ASSIGN, scope=Scope.OWN)
    account = AccountFactory.create(owner=sales.rep2)
    grant(sales.role_rep, "customers.account", Action.CHANGE, scope=Scope.DEPARTMENT)
    with pytest.raises(PermissionDeniedError):
        services.account_update(account=account, by=sales.rep1, data={"owner": sales.rep1})


def test_an_edit_that_would_move_the_record_out_of_scope_is_refused(sales) -> None:
    """Every write re-syncs the department from the owner. rep2 has moved to 华东区: manager1
    (华北区) may still see rep2's old account (its stored department), but saving it would move it to
    华东区, out of manager1's reach, so the edit is refused and nothing changes."""
    account = AccountFactory.create(owner=sales.rep2, name="原名")
    sales.rep2.department = sales.east
    sales.rep2.save(update_fields=["department"])
    with pytest.raises(OutOfScopeError) as exc:
        services.account_update(account=account, by=sales.manager1, data={"name": "改了"})
    assert "outside your data scope" in str(exc.value.message)
    account.refresh_from_db()
    assert (account.name, account.department, account.version) == ("原名", sales.north, 1)
    # The director (销售部 and below) still reaches it after the move: the same edit goes through.
    moved = services.account_update(account=account, by=sales.director, data={"name": "改了"})
    assert (moved.name, moved.department) == ("改了", sales.east)


def test_delete_is_refused_while_the_account_has_contacts(sales) -> None:
    account = AccountFactory.create(owner=sales.rep1, name="有联系人的客户")
    ContactFactory.create(owner=sales.rep2, account=account)  # even one rep1 cannot see
    with pytest.raises(services.AccountHasContactsError) as exc:
        services.account_delete(account=account, by=sales.rep1)
    assert exc.value.status == 409
    assert "still has 1 contact" in str(exc.value.message)
    assert Account.objects.filter(pk=account.pk).exists()
    Contact.objects.filter(account=account).delete()
    services.account_delete(account=account, by=sales.rep1)
    assert not Account.objects.filter(pk=account.pk).exists()


def test_delete_needs_the_record_in_the_delete_scope(sales) -> None:
    account = AccountFactory.create(owner=sales.rep2)
    with pytest.raises(PermissionDeniedError):
        services.account_delete(account=account, by=sales.rep1)
    assert Account.objects.filter(pk=account.pk).exists()


def test_field_permissions_lock_fields_in_the_service(sales) -> None:
    FieldPermission.objects.create(
        role=sales.role_rep, model="customers.account", field="phone", mode=FieldMode.MASKED
    )
    account = AccountFactory.create(owner=sales.rep1, phone="13800138000")
    with pytest.raises(PermissionDeniedError) as exc:
        services.account_update(account=account, by=sales.rep1, data={"phone": "13900139000"})
    assert exc.value.fields == {"phone": ["You may not change this field."]}
    # The unchanged value may be sent back (e.g. by a PUT that repeats what it read).
    services.account_update(account=account, by=sales.rep1, data={"phone": "+8613800138000", "name": "OK"})
    account.refresh_from_db()
    assert (account.phone, account.name) == ("+8613800138000", "OK")


def test_picklist_fields_hold_picklist_values(sales) -> None:
    picklist, _ = Picklist.objects.get_or_create(code="customer_level", defaults={"name": "客户等级"})
    PicklistItem.objects.filter(picklist=picklist).delete()
    PicklistItem.objects.create(picklist=picklist, value="vip", label="VIP")
    PicklistItem.objects.create(picklist=picklist, value="old", label="旧", is_active=False)
    account = services.account_create(by=sales.rep1, data={"name": "A", "level": "vip"})
    assert account.level == "vip"
    with pytest.raises(DomainError) as exc:
        services.account_create(by=sales.rep1, data={"name": "B", "level": "nonsense"})
    assert "level" in exc.value.fields
    with pytest.raises(DomainError):
        services.account_update(account=account, by=sales.rep1, data={"level": "old"})
    # A record that already holds an inactive value keeps it.
    Account.objects.filter(pk=account.pk).update(level="old")
    services.account_update(account=account, by=sales.rep1, data={"level": "old", "name": "A2"})


def test_contact_needs_an_account_the_user_can_see(sales) -> None:
    theirs = AccountFactory.create(owner=sales.rep2)
    with pytest.raises(DomainError) as exc:
        services.contact_create(by=sales.rep1, data={"account": theirs, "name": "张伟"})
    assert "account" in exc.value.fields
    mine = AccountFactory.create(owner=sales.rep1)
    contact = services.contact_create(
        by=sales.rep1, data={"account": mine, "name": "张伟", "mobile": "+86 139 0000 1111"}
    )
    assert (contact.mobile, contact.department) == ("+8613900001111", sales.north)


def test_one_primary_contact_per_account(sales) -> None:
    account = AccountFactory.create(owner=sales.rep1)
    first = services.contact_create(
        by=sales.rep1, data={"account": account, "name": "甲", "is_primary": True}
    )
    second = services.contact_create(
        by=sales.rep1, data={"account": account, "name": "乙", "is_primary": True}
    )
    first.refresh_from_db()
    assert (first.is_primary, first.version, second.is_primary) == (False, 2, True)
    services.contact_update(contact=first, by=sales.rep1, data={"is_primary": True})
    second.refresh_from_db()
    assert list(Contact.objects.filter(is_primary=True)) == [first]
    assert second.is_primary is False


def test_contact_update_and_delete(sales) -> None:
    contact = ContactFactory.create(owner=sales.rep1, name="旧")
    updated = services.contact_update(contact=contact, by=sales.rep1, data={"email": "A@B.CN"}, version=1)
    assert (updated.email, updated.version) == ("a@b.cn", 2)
    with pytest.raises(StaleObjectError):
        services.contact_update(contact=contact, by=sales.rep1, data={"name": "新"}, version=1)
    services.contact_delete(contact=contact, by=sales.rep1)
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_writes_are_audited(sales) -> None:
    from kehu.audit.models import ObjectChange

    account = services.account_create(by=sales.rep1, data={"name": "审计客户"})
    services.account_update(account=account, by=sales.rep1, data={"name": "审计客户2"})
    contact = services.contact_create(by=sales.rep1, data={"account": account, "name": "联系人"})
    changes = ObjectChange.objects.filter(model="customers.account", object_id=account.pk).order_by("id")
    assert [c.action for c in changes] == ["create", "update"]
    assert changes[1].changes["name"] == ["审计客户", "审计客户2"]
    # A contact's changes also show on its account's history.
    assert ObjectChange.objects.filter(
        model="customers.contact",
        object_id=contact.pk,
        parent_model="customers.account",
        parent_id=account.pk,
    ).exists()
