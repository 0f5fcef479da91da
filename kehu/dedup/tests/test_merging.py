"""The merge service (kehu.dedup.merging): relations re-pointed, values chosen, audit, atomicity."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.apps import apps
from django.db import models
from django.utils import timezone

from kehu.activities.models import Interaction, Task
from kehu.activities.tests.factories import InteractionFactory, TaskFactory
from kehu.audit.models import ObjectChange, TimelineEvent
from kehu.customers.models import (
    Account,
    AccountContactRelation,
    AccountEmail,
    AccountPhone,
    Contact,
    ContactEmail,
)
from kehu.customers.tests.factories import AccountFactory, ContactFactory
from kehu.dedup import merging
from kehu.dedup.choices import GroupStatus, MatchLevel
from kehu.dedup.merging import DedupError, merge_preview, merge_relations, merged_into, records_merge
from kehu.dedup.models import DuplicateGroup, DuplicateMember, MatchKey, MergedRecord, NotDuplicate
from kehu.sales.models import Lead, Opportunity, OpportunityContactRole, Pool, PoolHistory, PoolItem
from kehu.sales.tests.factories import LeadFactory, OpportunityFactory
from kehu.tags.models import TaggedItem
from kehu.tags.tests.factories import TagFactory, TaggedItemFactory

pytestmark = pytest.mark.django_db

ACCOUNT = "customers.account"
CONTACT = "customers.contact"
LEAD = "sales.lead"


def _aged(obj: Any, days: int) -> Any:
    type(obj).objects.filter(pk=obj.pk).update(created_at=timezone.now() - dt.timedelta(days=days))
    obj.refresh_from_db()
    return obj


def _tags(label: str, pk: int) -> set[int]:
    return set(TaggedItem.objects.filter(model=label, object_id=pk).values_list("tag_id", flat=True))


# --- the registry covers every relation ---------------------------------------------------------


def test_every_relation_to_a_mergeable_record_is_registered() -> None:
    """A future app's foreign key to an account, contact or lead must be registered with
    register_merge_relation (or the merge would delete or orphan its rows)."""
    handled_elsewhere: set[str] = set()  # none: every foreign key goes through the registry
    for label in merging.MERGEABLE:
        target = apps.get_model(label)
        registered = {r.key for r in merge_relations(label)}
        wanted = set()
        for related_model in apps.get_models(include_auto_created=True):
            for f in related_model._meta.get_fields():
                if not isinstance(f, models.ForeignKey) or f.related_model is not target:
                    continue
                wanted.add(f"{related_model._meta.label_lower}.{f.name}")
        # the reverse relations Django knows agree with the scan above
        for rel in target._meta.related_objects:
            if not rel.many_to_many:
                wanted.add(f"{rel.related_model._meta.label_lower}.{rel.field.name}")
            else:
                through = rel.through
                fks = [
                    f.name
                    for f in through._meta.get_fields()
                    if isinstance(f, models.ForeignKey) and f.related_model is target
                ]
                assert fks, through
                wanted.update(f"{through._meta.label_lower}.{name}" for name in fks)
        missing = wanted - registered - handled_elsewhere
        assert not missing, f"{label}: register_merge_relation missing for {sorted(missing)}"
    assert "sales.opportunity.account" in {r.key for r in merge_relations(ACCOUNT)}
    assert "activities.interaction_participant_contacts.contact" in {r.key for r in merge_relations(CONTACT)}


def test_register_refuses_a_field_that_does_not_point_at_the_model() -> None:
    with pytest.raises(ValueError):
        merging.register_merge_relation(CONTACT, Opportunity, "account")
    with pytest.raises(ValueError):
        merging.register_merge_relation(ACCOUNT, Opportunity, "name")


# --- accounts -----------------------------------------------------------------------------------


@pytest.fixture
def rep(sales: Any) -> Any:
    from kehu.core.choices import Action, Scope
    from kehu.users.tests.factories import grant

    for label in ("sales.opportunity", "activities.interaction", "activities.task"):
        grant(sales.role_rep, label, Action.VIEW, Action.CHANGE, scope=Scope.OWN)
    return sales.rep1


def test_account_merge_repoints_every_relation(rep: Any) -> None:
    keep = _aged(AccountFactory.create(owner=rep, name="华为技术有限公司", phone="13812345678"), 10)
    gone = AccountFactory.create(owner=rep, name="华为技术", website="https://huawei.example")
    child = AccountFactory.create(owner=rep, name="华为南京", parent=gone)
    c_keep = ContactFactory.create(owner=rep, account=keep, is_primary=True)
    c_gone = ContactFactory.create(owner=rep, account=gone, is_primary=True)
    AccountContactRelation.objects.create(account=gone, contact=c_keep, role="buyer")  # clashes later
    opp = OpportunityFactory.create(owner=rep, account=gone)
    interaction = InteractionFactory.create(owner=rep, account=gone, contact=c_gone)
    task = TaskFactory.create(owner=rep, account=gone)
    lead = LeadFactory.create(owner=rep, converted_account=gone)
    pool = Pool.objects.create(name="公海", kind="account")
    item = PoolItem.objects.create(pool=pool, account=gone, in_pool=True)
    history = PoolHistory.objects.create(pool=pool, account=gone, action="claim", at=timezone.now())
    t_both, t_gone = TagFactory.create(), TagFactory.create()
    TaggedItemFactory.create(tag=t_both, obj=keep)
    TaggedItemFactory.create(tag=t_both, obj=gone)
    TaggedItemFactory.create(tag=t_gone, obj=gone)
    event = TimelineEvent.objects.create(
        event="x.y", model="sales.opportunity", object_id=opp.pk, account_id=gone.pk
    )
    own_event = TimelineEvent.objects.create(
        event="x.z", model=ACCOUNT, object_id=gone.pk, account_id=gone.pk
    )
    AccountPhone.objects.filter(account=keep).delete()
    AccountPhone.objects.create(account=keep, number="+8613812345678", is_primary=True)
    AccountPhone.objects.create(account=gone, number="+8613812345678", is_primary=False)
    AccountPhone.objects.create(account=gone, number="+8613900001111", is_primary=True)
    AccountEmail.objects.create(account=gone, email="info@huawei.example", is_primary=True)

    from kehu.search.models import SearchEntry
    from kehu.search.services import search_index_flush

    search_index_flush()
    assert SearchEntry.objects.filter(model=ACCOUNT, object_id=gone.pk).exists()

    kept = records_merge(by=rep, model_label=ACCOUNT, master_id=keep.pk, ids=[gone.pk])

    assert kept.pk == keep.pk
    assert not Account.objects.filter(pk=gone.pk).exists()
    assert Account.objects.get(pk=child.pk).parent_id == keep.pk
    c_gone.refresh_from_db()
    assert (c_gone.account_id, c_gone.is_primary) == (keep.pk, False)
    assert Contact.objects.get(pk=c_keep.pk).is_primary is True
    relations = set(AccountContactRelation.objects.values_list("account_id", "contact_id", "is_direct"))
    assert relations == {(keep.pk, c_keep.pk, True), (keep.pk, c_gone.pk, True)}
    assert Opportunity.objects.get(pk=opp.pk).account_id == keep.pk
    assert Interaction.objects.get(pk=interaction.pk).account_id == keep.pk
    assert Task.objects.get(pk=task.pk).account_id == keep.pk
    assert Lead.objects.get(pk=lead.pk).converted_account_id == keep.pk
    item.refresh_from_db()  # the sales app's merge hook: an owned record is not in the pool
    assert (item.account_id, item.in_pool) == (keep.pk, False)
    assert PoolHistory.objects.get(pk=history.pk).account_id == keep.pk
    assert _tags(ACCOUNT, keep.pk) == {t_both.pk, t_gone.pk}
    assert not TaggedItem.objects.filter(model=ACCOUNT, object_id=gone.pk).exists()
    assert TimelineEvent.objects.get(pk=event.pk).account_id == keep.pk
    own_event.refresh_from_db()
    assert (own_event.object_id, own_event.account_id) == (keep.pk, keep.pk)
    phones = set(AccountPhone.objects.filter(account=keep).values_list("number", "is_primary"))
    assert phones == {("+8613812345678", True), ("+8613900001111", False)}
    assert list(AccountEmail.objects.filter(account=keep).values_list("email", "is_primary")) == [
        ("info@huawei.example", True)
    ]
    # audit: the moved rows, the merged record's values, the survivor's timeline
    moved = ObjectChange.objects.get(model="sales.opportunity", object_id=opp.pk, bulk=True)
    assert moved.changes["account"][0]["id"] == gone.pk
    assert moved.changes["account"][1]["id"] == keep.pk
    record = MergedRecord.objects.get(model_label=ACCOUNT, old_id=gone.pk)
    assert (record.into_id, record.merged_by_id, record.data["name"]) == (keep.pk, rep.pk, "华为技术")
    assert record.data["website"] == "https://huawei.example"
    merged_event = TimelineEvent.objects.get(event="record.merged", object_id=keep.pk)
    assert merged_event.account_id == keep.pk
    assert merged_event.data["merged"] == [{"id": gone.pk, "repr": "华为技术"}]
    assert merged_event.data["moved"]["sales.opportunity.account"] == 1
    # the default values: master's name, the newest non-empty website
    keep.refresh_from_db()
    assert (keep.name, keep.website) == ("华为技术有限公司", "https://huawei.example")
    # match keys: the merged record has none left, the survivor has the moved phone's
    assert not MatchKey.objects.filter(content_type__model="account", object_id=gone.pk).exists()
    assert MatchKey.objects.filter(
        content_type__model="account", object_id=keep.pk, kind="phone", value="+8613900001111"
    ).exists()
    # search index: the merged record's entry is gone, the survivor's is there
    assert not SearchEntry.objects.filter(model=ACCOUNT, object_id=gone.pk).exists()
    assert SearchEntry.objects.filter(model=ACCOUNT, object_id=keep.pk).exists()
    assert merged_into(ACCOUNT, gone.pk) == keep.pk
    assert merged_into(ACCOUNT, keep.pk) is None


def test_master_pointing_at_a_merged_parent_loses_the_parent(rep: Any) -> None:
    gone = AccountFactory.create(owner=rep, name="集团")
    keep = AccountFactory.create(owner=rep, name="集团分公司", parent=gone)
    records_merge(by=rep, model_label=ACCOUNT, master_id=keep.pk, ids=[gone.pk])
    assert Account.objects.get(pk=keep.pk).parent_id is None


def test_value_choice_per_field_and_custom_fields(rep: Any) -> None:
    keep = _aged(AccountFactory.create(owner=rep, name="甲公司", custom={"budget": 1}), 5)
    other = _aged(AccountFactory.create(owner=rep, name="乙公司", industry="it", custom={"budget": 2}), 3)
    newest = AccountFactory.create(owner=rep, name="丙公司", industry="retail", custom={"region": "north"})

    preview = merge_preview(user=rep, model_label=ACCOUNT, ids=[other.pk, newest.pk], master_id=keep.pk)
    fields = {f.name: f for f in preview.fields}
    assert [r.pk for r in preview.records] == [keep.pk, other.pk, newest.pk]
    assert fields["name"].default_from == keep.pk and fields["name"].differs
    assert fields["industry"].default_from == newest.pk
    assert fields["custom.budget"].values == {keep.pk: 1, other.pk: 2, newest.pk: None}
    assert fields["custom.region"].default_from == newest.pk
    assert "id" not in fields and "custom" not in fields

    records_merge(
        by=rep,
        model_label=ACCOUNT,
        master_id=keep.pk,
        ids=[other.pk, newest.pk],
        values={"name": other.pk, "custom.budget": other.pk, "industry": other.pk},
    )
    keep.refresh_from_db()
    assert (keep.name, keep.industry) == ("乙公司", "it")
    assert keep.custom == {"budget": 2, "region": "north"}
    change = ObjectChange.objects.filter(model=ACCOUNT, object_id=keep.pk, action="update").latest("id")
    assert change.changes["name"] == ["甲公司", "乙公司"]
    assert set(MergedRecord.objects.values_list("old_id", flat=True)) == {other.pk, newest.pk}


def test_the_chosen_phone_becomes_the_primary_row(rep: Any) -> None:
    keep = AccountFactory.create(owner=rep, phone="13812345678")
    gone = AccountFactory.create(owner=rep, phone="13900001111")
    AccountPhone.objects.create(account=keep, number="+8613812345678", is_primary=True)
    AccountPhone.objects.create(account=gone, number="+8613900001111", is_primary=True)
    records_merge(by=rep, model_label=ACCOUNT, master_id=keep.pk, ids=[gone.pk], values={"phone": gone.pk})
    keep.refresh_from_db()
    assert keep.phone == "+8613900001111"
    phones = set(AccountPhone.objects.filter(account=keep).values_list("number", "is_primary"))
    assert phones == {("+8613812345678", False), ("+8613900001111", True)}
    # the moved row lost its flag on the move (the survivor had a primary), then took it back
    flips = ObjectChange.objects.filter(model="customers.accountphone", bulk=True).order_by("id")
    assert [(c.object_repr, c.changes["is_primary"]) for c in flips] == [
        ("+8613900001111", [True, False]),
        ("+8613812345678", [True, False]),
        ("+8613900001111", [False, True]),
    ]


def test_field_permissions_hide_mask_and_lock(rep: Any, sales: Any) -> None:
    from kehu.users.models import FieldPermission

    for name, mode in (("website", "hidden"), ("phone", "masked"), ("industry", "read_only")):
        FieldPermission.objects.create(role=sales.role_rep, model=ACCOUNT, field=name, mode=mode)
    keep = _aged(AccountFactory.create(owner=rep, name="甲"), 2)
    gone = AccountFactory.create(
        owner=rep, name="乙", website="https://b.example", phone="13900001111", industry="it"
    )

    fields = {f.name: f for f in merge_preview(user=rep, model_label=ACCOUNT, ids=[keep.pk, gone.pk]).fields}
    assert "website" not in fields
    assert fields["phone"].values[gone.pk] != "+8613900001111"
    assert "1111" in fields["phone"].values[gone.pk]
    assert fields["industry"].values[gone.pk] == "Information technology"  # read-only: shown, as its label
    for name in ("website", "industry"):
        with pytest.raises(DedupError) as exc:
            records_merge(
                by=rep, model_label=ACCOUNT, master_id=keep.pk, ids=[gone.pk], values={name: gone.pk}
            )
        assert f"values.{name}" in exc.value.fields
    records_merge(by=rep, model_label=ACCOUNT, master_id=keep.pk, ids=[gone.pk])
    keep.refresh_from_db()  # locked fields keep the master's (empty) values
    assert (keep.website, keep.phone, keep.industry) == ("", "", "")


def test_preview_counts_related_rows(rep: Any) -> None:
    keep = AccountFactory.create(owner=rep)
    gone = AccountFactory.create(owner=rep)
    OpportunityFactory.create(owner=rep, account=gone)
    OpportunityFactory.create(owner=rep, account=gone)
    preview = merge_preview(user=rep, model_label=ACCOUNT, ids=[keep.pk, gone.pk])
    assert preview.master_id == keep.pk  # the oldest by default
    assert preview.related["sales.opportunity.account"] == {keep.pk: 0, gone.pk: 2}


# --- contacts and leads -------------------------------------------------------------------------


def test_contact_merge(rep: Any) -> None:
    acc_a = AccountFactory.create(owner=rep)
    acc_b = AccountFactory.create(owner=rep)
    keep = ContactFactory.create(owner=rep, account=acc_a, email="wang@a.example")
    gone = ContactFactory.create(owner=rep, account=acc_b, title="采购经理")
    ContactEmail.objects.create(contact=keep, email="wang@a.example", is_primary=True)
    ContactEmail.objects.create(contact=gone, email="WANG@a.example", is_primary=True)
    ContactEmail.objects.create(contact=gone, email="wang@b.example")
    opp = OpportunityFactory.create(owner=rep, account=acc_b)
    role = OpportunityContactRole.objects.create(opportunity=opp, contact=gone, is_primary=True)
    interaction = InteractionFactory.create(owner=rep, account=acc_b, contact=gone)
    interaction.participant_contacts.add(gone, keep)
    other = InteractionFactory.create(owner=rep, account=acc_b)
    other.participant_contacts.add(gone)
    task = TaskFactory.create(owner=rep, account=acc_b, contact=gone)
    lead = LeadFactory.create(owner=rep, converted_contact=gone)
    event = TimelineEvent.objects.create(
        event="x.y", model="sales.lead", object_id=lead.pk, contact_id=gone.pk
    )

    records_merge(by=rep, model_label=CONTACT, master_id=keep.pk, ids=[gone.pk], values={"title": gone.pk})

    assert not Contact.objects.filter(pk=gone.pk).exists()
    keep.refresh_from_db()
    assert (keep.account_id, keep.title) == (acc_a.pk, "采购经理")
    relations = set(
        AccountContactRelation.objects.filter(contact=keep).values_list("account_id", "is_direct")
    )
    assert relations == {(acc_a.pk, True), (acc_b.pk, False)}
    assert OpportunityContactRole.objects.get(pk=role.pk).contact_id == keep.pk
    assert Interaction.objects.get(pk=interaction.pk).contact_id == keep.pk
    assert list(interaction.participant_contacts.values_list("pk", flat=True)) == [keep.pk]
    assert list(other.participant_contacts.values_list("pk", flat=True)) == [keep.pk]
    assert Task.objects.get(pk=task.pk).contact_id == keep.pk
    assert Lead.objects.get(pk=lead.pk).converted_contact_id == keep.pk
    assert TimelineEvent.objects.get(pk=event.pk).contact_id == keep.pk
    emails = set(ContactEmail.objects.filter(contact=keep).values_list("email", "is_primary"))
    assert emails == {("wang@a.example", True), ("wang@b.example", False)}
    merged_event = TimelineEvent.objects.get(event="record.merged", model=CONTACT)
    assert (merged_event.object_id, merged_event.contact_id, merged_event.account_id) == (
        keep.pk,
        keep.pk,
        acc_a.pk,
    )
    assert merged_into(CONTACT, gone.pk) == keep.pk


def test_lead_merge(rep: Any) -> None:
    keep = LeadFactory.create(owner=rep, name="李雷", phone="13800001111")
    gone = LeadFactory.create(owner=rep, name="李雷", email="li@x.example")
    opp = OpportunityFactory.create(owner=rep, lead=gone)
    interaction = InteractionFactory.create(owner=rep, account=None, lead=gone)
    task = TaskFactory.create(owner=rep, lead=gone)
    pool = Pool.objects.create(name="线索池")
    item = PoolItem.objects.create(pool=pool, lead=gone, in_pool=False)
    tag = TagFactory.create()
    TaggedItemFactory.create(tag=tag, obj=gone)

    records_merge(by=rep, model_label=LEAD, master_id=keep.pk, ids=[gone.pk])

    assert not Lead.objects.filter(pk=gone.pk).exists()
    keep.refresh_from_db()
    assert (keep.phone, keep.email) == ("+8613800001111", "li@x.example")
    assert Opportunity.objects.get(pk=opp.pk).lead_id == keep.pk
    assert Interaction.objects.get(pk=interaction.pk).lead_id == keep.pk
    assert Task.objects.get(pk=task.pk).lead_id == keep.pk
    assert PoolItem.objects.get(pk=item.pk).lead_id == keep.pk
    assert _tags(LEAD, keep.pk) == {tag.pk}
    assert merged_into(LEAD, gone.pk) == keep.pk


def test_one_to_one_keeps_the_survivors_row(rep: Any) -> None:
    keep = LeadFactory.create(owner=rep)
    gone = LeadFactory.create(owner=rep)
    pool = Pool.objects.create(name="线索池")
    kept_item = PoolItem.objects.create(pool=pool, lead=keep, in_pool=False)
    PoolItem.objects.create(pool=pool, lead=gone, in_pool=False)
    records_merge(by=rep, model_label=LEAD, master_id=keep.pk, ids=[gone.pk])
    assert list(PoolItem.objects.values_list("pk", "lead_id")) == [(kept_item.pk, keep.pk)]


# --- groups, chains, atomicity, permissions, bad input ------------------------------------------


def test_group_resolved_other_groups_and_pairs_follow(rep: Any) -> None:
    keep, gone, third = (AccountFactory.create(owner=rep) for _ in range(3))
    group = DuplicateGroup.objects.create(model_label=ACCOUNT, level=MatchLevel.CERTAIN, score=0.99, key="a")
    other = DuplicateGroup.objects.create(model_label=ACCOUNT, level=MatchLevel.POSSIBLE, score=0.7, key="b")
    for g, pk in ((group, keep.pk), (group, gone.pk), (other, gone.pk), (other, third.pk)):
        DuplicateMember.objects.create(group=g, object_id=pk)
    NotDuplicate.objects.create(
        model_label=ACCOUNT, low_id=min(gone.pk, third.pk), high_id=max(gone.pk, third.pk)
    )
    MergedRecord.objects.create(model_label=ACCOUNT, old_id=999_999, into_id=gone.pk)

    records_merge(by=rep, model_label=ACCOUNT, master_id=keep.pk, ids=[gone.pk], group=group)

    group.refresh_from_db()
    assert (group.status, group.resolved_by_id) == (GroupStatus.MERGED, rep.pk)
    assert group.resolved_at is not None
    assert set(other.members.values_list("object_id", flat=True)) == {keep.pk, third.pk}
    assert NotDuplicate.objects.get().low_id == min(keep.pk, third.pk)
    assert merged_into(ACCOUNT, 999_999) == keep.pk
    with pytest.raises(DedupError) as exc:  # a resolved group cannot be merged again
        records_merge(by=rep, model_label=ACCOUNT, master_id=keep.pk, ids=[third.pk], group=group)
    assert exc.value.status == 409
    with pytest.raises(DedupError) as exc:  # a group that does not exist
        records_merge(by=rep, model_label=ACCOUNT, master_id=keep.pk, ids=[third.pk], group=10**9)
    assert (exc.value.status, list(exc.value.fields)) == (404, ["group"])
    assert Account.objects.filter(pk=third.pk).exists()


def test_a_failure_in_the_middle_changes_nothing(rep: Any, monkeypatch: Any) -> None:
    keep = AccountFactory.create(owner=rep, name="甲")
    gone = AccountFactory.create(owner=rep, name="乙")
    contact = ContactFactory.create(owner=rep, account=gone)
    opp = OpportunityFactory.create(owner=rep, account=gone)
    tag = TagFactory.create()
    TaggedItemFactory.create(tag=tag, obj=gone)
    changes_before = ObjectChange.objects.count()

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(merging, "_delete_merged", boom)
    with pytest.raises(RuntimeError):
        records_merge(by=rep, model_label=ACCOUNT, master_id=keep.pk, ids=[gone.pk], values={"name": gone.pk})

    assert Account.objects.filter(pk=gone.pk).exists()
    assert Account.objects.get(pk=keep.pk).name == "甲"
    assert Contact.objects.get(pk=contact.pk).account_id == gone.pk
    assert Opportunity.objects.get(pk=opp.pk).account_id == gone.pk
    assert _tags(ACCOUNT, gone.pk) == {tag.pk}
    assert not MergedRecord.objects.exists()
    assert ObjectChange.objects.count() == changes_before
    assert not TimelineEvent.objects.filter(event="record.merged").exists()


def test_out_of_scope_record_is_refused_like_a_missing_one(rep: Any, sales: Any) -> None:
    keep = AccountFactory.create(owner=rep, name="甲")
    theirs = AccountFactory.create(owner=sales.rep3, name="乙")
    opp = OpportunityFactory.create(owner=sales.rep3, account=theirs)
    for ids in ([theirs.pk], [10**9]):
        with pytest.raises(DedupError) as exc:
            records_merge(by=rep, model_label=ACCOUNT, master_id=keep.pk, ids=ids)
        assert (exc.value.code, exc.value.status) == ("not_found", 404)
    with pytest.raises(DedupError):
        merge_preview(user=rep, model_label=ACCOUNT, ids=[keep.pk, theirs.pk])
    assert Account.objects.filter(pk=theirs.pk).exists()
    assert Opportunity.objects.get(pk=opp.pk).account_id == theirs.pk
    assert not MergedRecord.objects.exists()
    # the manager of both may merge them
    records_merge(by=sales.director, model_label=ACCOUNT, master_id=keep.pk, ids=[theirs.pk])
    assert Opportunity.objects.get(pk=opp.pk).account_id == keep.pk


def test_choosing_another_owner_needs_assign(rep: Any, sales: Any) -> None:
    keep = AccountFactory.create(owner=rep)
    gone = AccountFactory.create(owner=sales.rep2)
    with pytest.raises(DedupError):  # rep1 may not change rep2's account
        records_merge(by=rep, model_label=ACCOUNT, master_id=keep.pk, ids=[gone.pk])
    from kehu.core.errors import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):  # the manager holds change but not assign
        records_merge(
            by=sales.manager1,
            model_label=ACCOUNT,
            master_id=keep.pk,
            ids=[gone.pk],
            values={"owner": gone.pk},
        )
    assert Account.objects.filter(pk=gone.pk).exists()
    from kehu.core import confcache
    from kehu.core.choices import Action, Scope
    from kehu.users.tests.factories import grant

    grant(sales.role_manager, ACCOUNT, Action.ASSIGN, scope=Scope.DEPARTMENT)
    confcache.bump()
    manager = type(sales.manager1).objects.get(pk=sales.manager1.pk)  # no cached permissions
    records_merge(
        by=manager, model_label=ACCOUNT, master_id=keep.pk, ids=[gone.pk], values={"owner": gone.pk}
    )
    keep.refresh_from_db()
    assert (keep.owner_id, keep.department_id) == (sales.rep2.pk, sales.rep2.department_id)
    event = TimelineEvent.objects.get(event="record.merged")
    assert event.data["changes"]["owner"] == [str(rep), str(sales.rep2)]


@pytest.mark.parametrize(
    ("model_label", "ids", "values", "field"),
    [
        ("sales.opportunity", [2], None, "model"),
        (ACCOUNT, [], None, "ids"),
        (ACCOUNT, ["x"], None, "ids"),
        (ACCOUNT, [2], {"nope": 1}, "values.nope"),
        (ACCOUNT, [2], {"name": 12345}, "values.name"),
    ],
)
def test_bad_input(rep: Any, model_label: str, ids: list[Any], values: Any, field: str) -> None:
    keep = AccountFactory.create(owner=rep)
    gone = AccountFactory.create(owner=rep)
    ids = [gone.pk if i == 2 else i for i in ids]
    with pytest.raises(DedupError) as exc:
        records_merge(by=rep, model_label=model_label, master_id=keep.pk, ids=ids, values=values)
    assert exc.value.status == 400
    assert field in exc.value.fields
    assert Account.objects.filter(pk=gone.pk).exists()


def test_system_merge_without_a_user(rep: Any, sales: Any) -> None:
    """The scan's opt-in auto-merge runs as the system (by=None): no scope check, no actor."""
    keep = AccountFactory.create(owner=rep)
    gone = AccountFactory.create(owner=sales.rep3)
    records_merge(by=None, model_label=ACCOUNT, master_id=keep.pk, ids=[gone.pk])
    assert MergedRecord.objects.get(old_id=gone.pk).merged_by_id is None
    assert TimelineEvent.objects.get(event="record.merged").actor_id is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_opposite_merges_at_once_leave_one_survivor(sales: Any, tmp_path: Any) -> None:
    """A into B and B into A at the same moment, each on its own connection: the records are
    locked in id order, so one merge wins and the other finds a record gone (404), never both."""
    import importlib
    import threading

    from django.db import connections

    from kehu.core.tests.test_sequences import database_for_threads, in_thread

    # a transactional test's database starts without the data migrations' rows (skipped if there)
    importlib.import_module("kehu.sales.migrations.0002_default_pipeline").create_default(apps, None)
    rep = sales.rep1
    a = AccountFactory.create(owner=rep, name="甲")
    b = AccountFactory.create(owner=rep, name="乙")
    opp = OpportunityFactory.create(owner=rep, account=b)
    outcomes: list[Any] = []
    barrier = threading.Barrier(2)
    lock = threading.Lock()

    def work(master: int, other: int) -> None:
        try:
            barrier.wait()
            kept = records_merge(by=rep, model_label=ACCOUNT, master_id=master, ids=[other])
            result: Any = kept.pk
        except DedupError as exc:
            result = exc.code
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    with database_for_threads(tmp_path):
        threads = [threading.Thread(target=work, args=pair) for pair in ((a.pk, b.pk), (b.pk, a.pk))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        survivors, opp_account, merged = in_thread(
            lambda: (
                list(Account.objects.values_list("pk", flat=True)),
                Opportunity.objects.get(pk=opp.pk).account_id,
                MergedRecord.objects.count(),
            )
        )
    assert len(survivors) == 1, outcomes
    assert sorted(map(str, outcomes)) == sorted([str(survivors[0]), "not_found"])
    assert (opp_account, merged) == (survivors[0], 1)


def test_the_kept_records_pages_show_the_merge(rep: Any, client: Any) -> None:
    from django.urls import reverse

    keep = AccountFactory.create(owner=rep, name="甲公司")
    gone = AccountFactory.create(owner=rep, name="乙公司", website="https://b.example")
    OpportunityFactory.create(owner=rep, account=gone)
    records_merge(by=rep, model_label=ACCOUNT, master_id=keep.pk, ids=[gone.pk], values={"owner": keep.pk})
    client.force_login(rep)
    assert client.get(reverse("customers:account_detail", args=[keep.pk])).status_code == 200
    page = client.get(reverse("audit:record_timeline", args=[ACCOUNT, keep.pk]))
    assert page.status_code == 200
    assert f"乙公司 (#{gone.pk})" in page.content.decode()
    # the merged record's old page leads to the kept one
    old = client.get(reverse("customers:account_detail", args=[gone.pk]))
    assert old.status_code == 302 and old["Location"] == reverse("customers:account_detail", args=[keep.pk])


def test_the_page_of_a_merged_record_leads_to_the_kept_one(rep: Any, client: Any) -> None:
    """kehu.core.generic.ObjectDetailView asks kehu.dedup (register_moved_resolver) where a missing
    record went: a visible survivor → redirect (query kept); otherwise the usual 404."""
    keep = AccountFactory.create(owner=rep, name="保留的客户")
    gone = AccountFactory.create(owner=rep, name="合并掉的客户")
    contact_keep = ContactFactory.create(account=keep, owner=rep)
    contact_gone = ContactFactory.create(account=keep, owner=rep)
    records_merge(by=rep, model_label=ACCOUNT, master_id=keep.pk, ids=[gone.pk])
    records_merge(by=rep, model_label="customers.contact", master_id=contact_keep.pk, ids=[contact_gone.pk])
    client.force_login(rep)
    r = client.get(f"/customers/accounts/{gone.pk}/?tab=timeline")
    assert r.status_code == 302 and r["Location"] == f"/customers/accounts/{keep.pk}/?tab=timeline"
    assert client.get(r["Location"]).status_code == 200
    r = client.get(f"/customers/contacts/{contact_gone.pk}/")
    assert r.status_code == 302 and r["Location"] == f"/customers/contacts/{contact_keep.pk}/"
    # never existed: 404; the survivor out of the viewer's scope: 404, no hint where it went
    assert client.get("/customers/accounts/987654321/").status_code == 404
    other = AccountFactory.create(owner=rep.__class__.objects.exclude(pk=rep.pk).first(), name="别人的")
    gone2 = AccountFactory.create(owner=other.owner, name="别人的重复")
    records_merge(by=None, model_label=ACCOUNT, master_id=other.pk, ids=[gone2.pk])
    assert client.get(f"/customers/accounts/{gone2.pk}/").status_code == 404
