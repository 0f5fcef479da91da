"""Merge gaps of issue 6: parent loops, opportunity contact roles, the survivor's history under the
merged records' old ids, groups left with one record."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from kehu.audit import selectors as audit_selectors
from kehu.audit.models import ObjectChange
from kehu.core.context import acting_as
from kehu.customers.models import Account, Contact
from kehu.customers.tests.factories import AccountFactory, ContactFactory
from kehu.dedup.choices import GroupStatus, MatchLevel
from kehu.dedup.merging import former_ids, records_merge
from kehu.dedup.models import DuplicateGroup, DuplicateMember
from kehu.sales.models import OpportunityContactRole
from kehu.sales.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db

ACCOUNT = "customers.account"
CONTACT = "customers.contact"


@pytest.fixture
def rep(sales: Any) -> Any:
    from kehu.core.choices import Action, Scope
    from kehu.users.tests.factories import grant

    grant(sales.role_rep, "sales.opportunity", Action.VIEW, Action.CHANGE, scope=Scope.OWN)
    return sales.rep1


def _parent(account: Any) -> int | None:
    return Account.objects.filter(pk=account.pk).values_list("parent_id", flat=True).get()


def _assert_no_loops() -> None:
    """Every account's chain of parents ends at a root."""
    parents = dict(Account.objects.values_list("pk", "parent_id"))
    for pk in parents:
        seen: set[int] = set()
        current: int | None = pk
        while current is not None:
            assert current not in seen, f"account {pk} is in a loop of parents"
            seen.add(current)
            current = parents[current]


# --- 1. parent accounts -------------------------------------------------------------------------


def test_merging_a_company_with_its_parent_puts_it_where_the_parent_was(rep: Any) -> None:
    group = AccountFactory.create(owner=rep, name="控股集团")
    parent = AccountFactory.create(owner=rep, name="华东公司", parent=group)
    keep = AccountFactory.create(owner=rep, name="华东公司（上海）", parent=parent)
    sibling = AccountFactory.create(owner=rep, name="华东公司（杭州）", parent=parent)

    records_merge(by=rep, model_label=ACCOUNT, master_id=keep.pk, ids=[parent.pk])

    assert _parent(keep) == group.pk
    assert _parent(sibling) == keep.pk  # the parent's other children follow it into the survivor
    _assert_no_loops()
    change = ObjectChange.objects.get(
        model=ACCOUNT, object_id=keep.pk, action="update", bulk=True, changes__has_key="parent"
    )
    assert change.changes["parent"] == [
        {"id": parent.pk, "repr": "华东公司"},
        {"id": group.pk, "repr": "控股集团"},
    ]


def test_merging_an_ancestor_further_up_leaves_no_loop(rep: Any) -> None:
    """top → middle → keep; merging top into keep would make middle (top's child, now the
    survivor's child) the survivor's parent: the survivor takes top's place instead."""
    root = AccountFactory.create(owner=rep, name="根")
    top = AccountFactory.create(owner=rep, name="集团", parent=root)
    middle = AccountFactory.create(owner=rep, name="区域公司", parent=top)
    keep = AccountFactory.create(owner=rep, name="集团（重复）", parent=middle)

    records_merge(by=rep, model_label=ACCOUNT, master_id=keep.pk, ids=[top.pk])

    assert (_parent(keep), _parent(middle)) == (root.pk, keep.pk)
    _assert_no_loops()


def test_merging_into_the_parent_keeps_the_parents_place(rep: Any) -> None:
    root = AccountFactory.create(owner=rep, name="根")
    keep = AccountFactory.create(owner=rep, name="集团", parent=root)
    child = AccountFactory.create(owner=rep, name="集团（重复）", parent=keep)
    grandchild = AccountFactory.create(owner=rep, name="分公司", parent=child)

    records_merge(by=rep, model_label=ACCOUNT, master_id=keep.pk, ids=[child.pk])

    assert (_parent(keep), _parent(grandchild)) == (root.pk, keep.pk)
    assert not ObjectChange.objects.filter(
        model=ACCOUNT, object_id=keep.pk, action="update", changes__has_key="parent"
    ).exists()
    _assert_no_loops()


def test_a_survivor_without_parent_takes_the_merged_records_unless_it_is_below_it(rep: Any) -> None:
    group = AccountFactory.create(owner=rep, name="集团")
    keep = AccountFactory.create(owner=rep, name="甲公司")
    gone = AccountFactory.create(owner=rep, name="甲公司（重复）", parent=group)
    records_merge(by=rep, model_label=ACCOUNT, master_id=keep.pk, ids=[gone.pk])
    assert _parent(keep) == group.pk

    # keep2 → below → gone2: gone2's parent is the survivor's own descendant, so no parent
    keep2 = AccountFactory.create(owner=rep, name="乙公司")
    below = AccountFactory.create(owner=rep, name="乙公司分部", parent=keep2)
    gone2 = AccountFactory.create(owner=rep, name="乙公司（重复）", parent=below)
    records_merge(by=rep, model_label=ACCOUNT, master_id=keep2.pk, ids=[gone2.pk])
    assert (_parent(keep2), _parent(below)) == (None, keep2.pk)
    _assert_no_loops()


def test_merging_a_parent_and_its_child_into_a_third_account(rep: Any) -> None:
    keep = AccountFactory.create(owner=rep, name="丙公司")
    upper = AccountFactory.create(owner=rep, name="丙集团")
    lower = AccountFactory.create(owner=rep, name="丙公司（重复）", parent=upper)
    branch = AccountFactory.create(owner=rep, name="丙分公司", parent=lower)

    records_merge(by=rep, model_label=ACCOUNT, master_id=keep.pk, ids=[upper.pk, lower.pk])

    assert (_parent(keep), _parent(branch)) == (None, keep.pk)
    assert set(Account.objects.values_list("pk", flat=True)) == {keep.pk, branch.pk}
    _assert_no_loops()


# --- 2. opportunity contact roles ---------------------------------------------------------------


def _roles(opportunity: Any) -> list[tuple[int, str, bool]]:
    return list(
        OpportunityContactRole.objects.filter(opportunity=opportunity)
        .order_by("pk")
        .values_list("contact_id", "role", "is_primary")
    )


def test_both_contacts_on_one_opportunity_leave_one_row_that_stays_primary(rep: Any) -> None:
    account = AccountFactory.create(owner=rep)
    keep = ContactFactory.create(owner=rep, account=account, name="王伟")
    gone = ContactFactory.create(owner=rep, account=account, name="王伟")
    other = ContactFactory.create(owner=rep, account=account, name="李娜")
    both = OpportunityFactory.create(owner=rep, account=account)
    only_gone = OpportunityFactory.create(owner=rep, account=account)
    kept_row = OpportunityContactRole.objects.create(opportunity=both, contact=keep, role="")
    OpportunityContactRole.objects.create(opportunity=both, contact=gone, role="决策人", is_primary=True)
    OpportunityContactRole.objects.create(opportunity=both, contact=other, role="财务")
    moved = OpportunityContactRole.objects.create(opportunity=only_gone, contact=gone, role="采购")

    records_merge(by=rep, model_label=CONTACT, master_id=keep.pk, ids=[gone.pk])

    assert _roles(both) == [(keep.pk, "决策人", True), (other.pk, "财务", False)]
    assert OpportunityContactRole.objects.get(pk=kept_row.pk).is_primary
    assert _roles(only_gone) == [(keep.pk, "采购", False)]
    assert OpportunityContactRole.objects.get(pk=moved.pk).contact_id == keep.pk
    change = ObjectChange.objects.get(model="sales.opportunitycontactrole", object_id=kept_row.pk, bulk=True)
    assert change.changes == {"is_primary": [False, True], "role": ["", "决策人"]}


def test_the_survivors_own_role_and_primary_flag_win(rep: Any) -> None:
    account = AccountFactory.create(owner=rep)
    keep, gone = (ContactFactory.create(owner=rep, account=account) for _ in range(2))
    opp = OpportunityFactory.create(owner=rep, account=account)
    OpportunityContactRole.objects.create(opportunity=opp, contact=keep, role="使用者", is_primary=True)
    OpportunityContactRole.objects.create(opportunity=opp, contact=gone, role="决策人")
    records_merge(by=rep, model_label=CONTACT, master_id=keep.pk, ids=[gone.pk])
    assert _roles(opp) == [(keep.pk, "使用者", True)]

    # the survivor's row is not the primary one and neither was the merged one's: none becomes it
    third = ContactFactory.create(owner=rep, account=account)
    lead_contact = ContactFactory.create(owner=rep, account=account)
    opp2 = OpportunityFactory.create(owner=rep, account=account)
    OpportunityContactRole.objects.create(opportunity=opp2, contact=lead_contact, is_primary=True)
    OpportunityContactRole.objects.create(opportunity=opp2, contact=keep, role="使用者")
    OpportunityContactRole.objects.create(opportunity=opp2, contact=third, role="")
    records_merge(by=rep, model_label=CONTACT, master_id=keep.pk, ids=[third.pk])
    assert _roles(opp2) == [(lead_contact.pk, "", True), (keep.pk, "使用者", False)]


def test_two_merged_contacts_on_one_opportunity_the_survivor_is_not_on(rep: Any) -> None:
    account = AccountFactory.create(owner=rep)
    keep, first, second = (ContactFactory.create(owner=rep, account=account) for _ in range(3))
    opp = OpportunityFactory.create(owner=rep, account=account)
    first_row = OpportunityContactRole.objects.create(opportunity=opp, contact=first, role="使用者")
    OpportunityContactRole.objects.create(opportunity=opp, contact=second, role="决策人", is_primary=True)

    records_merge(by=rep, model_label=CONTACT, master_id=keep.pk, ids=[first.pk, second.pk])

    assert _roles(opp) == [(keep.pk, "使用者", True)]
    change = ObjectChange.objects.get(model="sales.opportunitycontactrole", object_id=first_row.pk, bulk=True)
    assert change.changes["is_primary"] == [False, True]
    assert change.changes["contact"][1]["id"] == keep.pk
    assert not Contact.objects.filter(pk__in=[first.pk, second.pk]).exists()


# --- 3. the survivor's history shows the merged records' change log -----------------------------


def test_history_of_the_survivor_includes_the_merged_records_changes(rep: Any, client: Any) -> None:
    keep = AccountFactory.create(owner=rep, name="甲公司")
    gone = AccountFactory.create(owner=rep, name="乙公司")
    earlier = AccountFactory.create(owner=rep, name="乙公司（旧）")
    with acting_as(rep.pk):
        gone.website = "https://gone.example"
        gone.save()
        earlier.notes = "老客户的备注"
        earlier.save()
        contact = ContactFactory.create(owner=rep, account=gone, name="赵敏")
        contact.title = "总经理"
        contact.save()
    records_merge(by=rep, model_label=ACCOUNT, master_id=gone.pk, ids=[earlier.pk])
    records_merge(by=rep, model_label=ACCOUNT, master_id=keep.pk, ids=[gone.pk])

    assert former_ids(ACCOUNT, keep.pk) == sorted([gone.pk, earlier.pk])
    assert audit_selectors.record_ids(ACCOUNT, keep.pk) == [keep.pk, *sorted([gone.pk, earlier.pk])]
    history = audit_selectors.object_history(user=rep, obj=Account.objects.get(pk=keep.pk))
    rows = set(history.values_list("model", "object_id"))
    assert {(ACCOUNT, keep.pk), (ACCOUNT, gone.pk), (ACCOUNT, earlier.pk), (CONTACT, contact.pk)} <= rows
    # the merged records' rows stay where they were written (the log is append-only)
    assert ObjectChange.objects.filter(model=ACCOUNT, object_id=gone.pk, changes__has_key="website").exists()

    client.force_login(rep)
    html = client.get(reverse("audit:object_history", args=[ACCOUNT, keep.pk])).content.decode()
    assert "https://gone.example" in html and "老客户的备注" in html and "总经理" in html
    # another record's history is its own
    other = AccountFactory.create(owner=rep, name="丁公司")
    assert audit_selectors.record_ids(ACCOUNT, other.pk) == [other.pk]
    assert not audit_selectors.object_history(user=rep, obj=other).filter(object_id=gone.pk).exists()


def test_history_of_a_merged_contacts_survivor(rep: Any) -> None:
    account = AccountFactory.create(owner=rep)
    keep = ContactFactory.create(owner=rep, account=account)
    gone = ContactFactory.create(owner=rep, account=account)
    with acting_as(rep.pk):
        gone.title = "采购经理"
        gone.save()
    records_merge(by=rep, model_label=CONTACT, master_id=keep.pk, ids=[gone.pk])
    history = audit_selectors.object_history(user=rep, obj=Contact.objects.get(pk=keep.pk))
    assert history.filter(model=CONTACT, object_id=gone.pk, changes__has_key="title").exists()
    # shown under the merged contact's own name, as a child row is
    from kehu.audit.display import ModesCache, present

    modes = ModesCache(rep)
    # keyed by model and id: a related row (an account-contact relation) may share the contact's id
    views = {
        (c.model, c.object_id): present(c, modes, parent_label=CONTACT, parent_pk=keep.pk) for c in history
    }
    merged_view = views[(CONTACT, gone.pk)]
    assert merged_view is not None and merged_view.is_child
    assert str(gone) in merged_view.object_repr
    assert all(not v.is_child for key, v in views.items() if key == (CONTACT, keep.pk) and v is not None)


def test_timeline_of_the_survivor_includes_the_merged_records_changes(rep: Any) -> None:
    keep = AccountFactory.create(owner=rep, name="甲公司")
    gone = AccountFactory.create(owner=rep, name="乙公司")
    with acting_as(rep.pk):
        gone.website = "https://gone.example"
        gone.save()
    records_merge(by=rep, model_label=ACCOUNT, master_id=keep.pk, ids=[gone.pk])
    page = audit_selectors.account_timeline(user=rep, account_id=keep.pk, types={"changes"})
    assert any(e.object_id == gone.pk and e.source == "change" for e in page.entries)


# --- 4. groups left with one record -------------------------------------------------------------


def test_another_group_left_with_one_record_is_resolved(rep: Any) -> None:
    keep, gone, third = (AccountFactory.create(owner=rep) for _ in range(3))
    pair = DuplicateGroup.objects.create(model_label=ACCOUNT, level=MatchLevel.CERTAIN, score=0.9, key="p")
    trio = DuplicateGroup.objects.create(model_label=ACCOUNT, level=MatchLevel.POSSIBLE, score=0.7, key="t")
    for g, pk in ((pair, keep.pk), (pair, gone.pk), (trio, keep.pk), (trio, gone.pk), (trio, third.pk)):
        DuplicateMember.objects.create(group=g, object_id=pk)

    records_merge(by=rep, model_label=ACCOUNT, master_id=keep.pk, ids=[gone.pk])

    pair.refresh_from_db()
    trio.refresh_from_db()
    assert (pair.status, pair.resolved_by_id) == (GroupStatus.CLOSED, rep.pk)
    assert pair.resolved_at is not None
    assert trio.status == GroupStatus.OPEN
    assert set(trio.members.values_list("object_id", flat=True)) == {keep.pk, third.pk}
