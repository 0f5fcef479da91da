"""The scheduled duplicate scan: planted duplicates found, re-scans idempotent, "not duplicates"
remembered, stale groups removed, the daily statistics, and the match rules' validation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings

from kehu.audit.models import ObjectChange
from kehu.core.errors import ConflictError, PermissionDeniedError
from kehu.core.models import Job
from kehu.customers.models import Account, Contact, ContactEmail
from kehu.customers.tests.factories import AccountFactory, ContactFactory
from kehu.dedup import matching, scanning
from kehu.dedup.models import DuplicateGroup, DuplicateMember, DuplicateStat, MatchRule, NotDuplicate
from kehu.dedup.services import dedup_reindex

from .conftest import make_lead

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 24)


def _groups(label: str, status: str = "open") -> list[tuple[int, ...]]:
    out = []
    for g in DuplicateGroup.objects.filter(model_label=label, status=status).order_by("key"):
        out.append(tuple(sorted(g.members.values_list("object_id", flat=True))))
    return out


@pytest.fixture
def contacts(sales: Any) -> dict[str, Any]:
    """Two planted duplicate pairs among five contacts: same e-mail (name in pinyin), and same
    mobile with a one-character name typo; plus two colleagues sharing an office line."""
    acme = AccountFactory.create(owner=sales.rep1, name="北京字节跳动科技有限公司")
    other = AccountFactory.create(owner=sales.rep3, name="上海航空有限公司")
    a1 = ContactFactory.create(owner=sales.rep1, account=acme, name="张伟", email="zhang.wei@bytedance.com")
    a2 = ContactFactory.create(
        owner=sales.rep1, account=acme, name="Zhang Wei", email="Zhang.Wei@bytedance.com"
    )
    b1 = ContactFactory.create(owner=sales.rep3, account=other, name="李娜娜", mobile="13900001111")
    b2 = ContactFactory.create(owner=sales.rep3, account=other, name="李娜", mobile="+86 139 0000 1111")
    c1 = ContactFactory.create(owner=sales.rep1, account=acme, name="王芳", phone="010-65529988")
    c2 = ContactFactory.create(owner=sales.rep1, account=acme, name="陈杰", phone="010-65529988")
    return {"a1": a1, "a2": a2, "b1": b1, "b2": b2, "c1": c1, "c2": c2}


def test_scan_finds_the_planted_duplicates(contacts: Any) -> None:
    c = contacts
    result = scanning.dedup_scan("customers.contact", today=DAY)
    assert result.records == 6
    assert result.created == 2
    assert _groups("customers.contact") == sorted([(c["a1"].pk, c["a2"].pk), (c["b1"].pk, c["b2"].pk)])
    group = DuplicateGroup.objects.get(key=f"{c['a1'].pk},{c['a2'].pk}")
    assert group.level == "certain"
    member = DuplicateMember.objects.get(group=group, object_id=c["a1"].pk)
    reasons = member.reasons[0]
    assert reasons["with"] == c["a2"].pk
    assert {"field": "emails", "how": "exact", "similarity": 1.0} in reasons["reasons"]
    assert {"field": "name", "how": "normalised", "similarity": 1.0} in reasons["reasons"]
    assert member.score == group.score == reasons["score"]


def test_rescan_is_idempotent(contacts: Any) -> None:
    scanning.dedup_scan("customers.contact", today=DAY)
    before = list(DuplicateGroup.objects.values_list("pk", "key", "score", "level", "status"))
    members = list(DuplicateMember.objects.values_list("pk", "group_id", "object_id", "score", "reasons"))
    again = scanning.dedup_scan("customers.contact", today=DAY)
    assert (again.created, again.refreshed, again.removed) == (0, 2, 0)
    assert list(DuplicateGroup.objects.values_list("pk", "key", "score", "level", "status")) == before
    assert (
        list(DuplicateMember.objects.values_list("pk", "group_id", "object_id", "score", "reasons"))
        == members
    )


def test_dismissed_pairs_are_never_proposed_again(contacts: Any) -> None:
    c = contacts
    scanning.dedup_scan("customers.contact", today=DAY)
    group = DuplicateGroup.objects.get(key=f"{c['b1'].pk},{c['b2'].pk}")
    scanning.group_dismiss(by=contacts["a1"].owner, group=group)
    group.refresh_from_db()
    assert group.status == "dismissed" and group.resolved_by == c["a1"].owner
    assert list(NotDuplicate.objects.values_list("model_label", "low_id", "high_id")) == [
        ("customers.contact", c["b1"].pk, c["b2"].pk)
    ]
    result = scanning.dedup_scan("customers.contact", today=DAY)
    assert result.dismissed_pairs == 1
    assert _groups("customers.contact") == [(c["a1"].pk, c["a2"].pk)]
    assert _groups("customers.contact", "dismissed") == [(c["b1"].pk, c["b2"].pk)]
    with pytest.raises(ConflictError):
        scanning.group_dismiss(by=None, group=group)


def test_groups_that_no_longer_match_are_removed(contacts: Any) -> None:
    c = contacts
    scanning.dedup_scan("customers.contact", today=DAY)
    # one record deleted (merged elsewhere), the other pair's records made different
    Contact.objects.filter(pk=c["a2"].pk).delete()
    # a bulk write: it fires no signals, so the writer re-keys the record (the scan reads the
    # phones and e-mails from the match keys)
    Contact.objects.filter(pk=c["b2"].pk).update(mobile="+8613700009999", name="赵强")
    dedup_reindex(model=Contact, ids=[c["b2"].pk])
    result = scanning.dedup_scan("customers.contact", today=DAY)
    assert (result.created, result.refreshed, result.removed) == (0, 0, 2)
    assert _groups("customers.contact") == []
    assert not DuplicateMember.objects.exists()


def test_a_changed_group_is_replaced(contacts: Any) -> None:
    """A third record joining a group makes a new group (new members key); the old one goes."""
    c = contacts
    scanning.dedup_scan("customers.contact", today=DAY)
    third = ContactFactory.create(owner=c["a1"].owner, account=c["a1"].account, name="张 伟")
    ContactEmail.objects.create(contact=third, email="zhang.wei@bytedance.com")
    result = scanning.dedup_scan("customers.contact", today=DAY)
    assert (result.created, result.removed) == (1, 1)
    assert (c["a1"].pk, c["a2"].pk, third.pk) in _groups("customers.contact")


def test_statistics_of_the_day(contacts: Any) -> None:
    scanning.dedup_scan("customers.contact", today=DAY)
    stat = DuplicateStat.objects.get(model_label="customers.contact", day=DAY)
    assert (stat.records, stat.duplicates, stat.groups) == (6, 4, 2)
    scanning.dedup_scan("customers.contact", today=DAY)
    assert DuplicateStat.objects.filter(model_label="customers.contact").count() == 1


def test_accounts_and_leads(sales: Any) -> None:
    one = AccountFactory.create(
        owner=sales.rep1, name="北京字节跳动科技有限公司", tax_number="91350100M000100Y43"
    )
    two = AccountFactory.create(
        owner=sales.rep3, name="字节跳动科技（北京）有限公司", tax_number="91350100M000100Y43"
    )
    AccountFactory.create(owner=sales.rep3, name="上海航空有限公司")
    person1 = AccountFactory.create(owner=sales.rep1, kind="person", name="陈静", phone="13800138000")
    person2 = AccountFactory.create(owner=sales.rep1, kind="person", name="陈静", phone="+8613800138000")
    result = scanning.dedup_scan("customers.account", today=DAY)
    assert result.records == 5
    assert _groups("customers.account") == sorted([(one.pk, two.pk), (person1.pk, person2.pk)])
    l1 = make_lead(sales.rep1, name="周杰", company="Acme Co., Ltd.", email="zhou@acme.com")
    l2 = make_lead(sales.rep3, name="周杰", company="ACME Inc.", email="ZHOU@acme.com")
    converted = make_lead(sales.rep3, name="周杰", company="Acme", email="zhou@acme.com")
    from kehu.sales.models import Lead

    Lead.objects.filter(pk=converted.pk).update(converted_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    scanning.dedup_scan("sales.lead", today=DAY)
    assert _groups("sales.lead") == [(l1.pk, l2.pk)]
    assert Account.objects.count() == 5


def test_a_disabled_rule_scans_nothing(contacts: Any, sales: Any) -> None:
    scanning.match_rule_save(
        by=sales.admin,
        model_label="customers.contact",
        rule=scanning.default_rule("customers.contact"),
        enabled=False,
    )
    assert scanning.dedup_scan("customers.contact").records == 0
    assert not DuplicateGroup.objects.exists()


def test_a_stricter_rule_reports_less(contacts: Any, sales: Any) -> None:
    c = contacts
    data = scanning.rule_to_json(scanning.default_rule("customers.contact"))
    data["fields"][2]["method"] = "normalised"  # the name: equal, or equal in pinyin
    scanning.match_rule_save(by=sales.admin, model_label="customers.contact", rule=data)
    assert scanning.match_rule_get("customers.contact").fields[2] == matching.FieldRule(
        "name", "normalised", weight=0.4, threshold=0.8, penalty=0.3
    )
    scanning.dedup_scan("customers.contact", today=DAY)
    # the pinyin pair still matches; the typo (李娜娜 / 李娜) now costs the penalty: 0.5 < 0.6
    assert _groups("customers.contact") == [(c["a1"].pk, c["a2"].pk)]


def test_scan_job_runs_with_progress(
    contacts: Any, sales: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = scanning.dedup_scan_start(by=sales.admin, model_label="customers.contact")
    assert len(callbacks) == 1 and job.kind == "dedup.scan" and job.params == {"model": "customers.contact"}
    scanning.dedup_scan_job(job_id=job.pk)
    job = Job.objects.get(pk=job.pk)
    assert job.status == "succeeded"
    assert job.result == {"records": 6, "groups": 2, "created": 2, "removed": 0, "merged": 0}
    assert set(DuplicateGroup.objects.values_list("scan_id", flat=True)) == {job.pk}
    with pytest.raises(PermissionDeniedError):
        scanning.dedup_scan_start(by=sales.rep1, model_label="customers.contact")


def test_auto_merge_is_opt_in_and_keeps_the_newest(contacts: Any, sales: Any) -> None:
    c = contacts
    scanning.dedup_scan("customers.contact", today=DAY)
    assert DuplicateGroup.objects.filter(status="open").count() == 2  # off by default
    scanning.match_rule_save(
        by=sales.admin,
        model_label="customers.contact",
        rule=scanning.default_rule("customers.contact"),
        auto_merge=True,
    )
    result = scanning.dedup_scan("customers.contact", today=DAY)
    assert result.merged == 2
    assert set(DuplicateGroup.objects.values_list("status", flat=True)) == {"merged"}
    remaining = set(Contact.objects.values_list("pk", flat=True))
    assert remaining == {c["a2"].pk, c["b2"].pk, c["c1"].pk, c["c2"].pk}
    stat = DuplicateStat.objects.get(model_label="customers.contact", day=DAY)
    assert (stat.records, stat.duplicates, stat.groups) == (4, 0, 0)


# --- rules ---------------------------------------------------------------------------------------


def test_default_rule_without_a_row() -> None:
    assert scanning.match_rule_get("customers.account") == matching.DEFAULT_RULES["customers.account"]
    data = scanning.rule_to_json(matching.DEFAULT_RULES["sales.lead"])
    assert scanning.rule_from_json("sales.lead", data) == matching.DEFAULT_RULES["sales.lead"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"possible": 1.5}, "possible"),
        ({"possible": "abc"}, "possible"),
        ({"certain": -0.1}, "certain"),
        ({"possible": 0.9, "certain": 0.8}, "certain"),
        ({"max_block": 1}, "max_block"),
        ({"blocking": ["phone", "shoe_size"]}, "blocking"),
        ({"blocking": []}, "blocking"),
        ({"fields": []}, "fields"),
        ({"fields": [{"field": "shoe_size", "method": "exact", "weight": 0.5}]}, "fields.0.field"),
        ({"fields": [{"field": "name", "method": "phonetic", "weight": 0.5}]}, "fields.0.method"),
        ({"fields": [{"field": "name", "method": "exact", "weight": 0}]}, "fields.0.weight"),
        (
            {"fields": [{"field": "name", "method": "fuzzy", "weight": 0.5, "threshold": 2}]},
            "fields.0.threshold",
        ),
        (
            {"fields": [{"field": "name", "weight": 0.5}, {"field": "name", "weight": 0.2}]},
            "fields.1.field",
        ),
    ],
)
def test_rule_validation(sales: Any, change: dict[str, Any], field: str) -> None:
    data = scanning.rule_to_json(matching.DEFAULT_RULES["customers.contact"]) | change
    with pytest.raises(scanning.MatchRuleError) as exc:
        scanning.match_rule_save(by=sales.admin, model_label="customers.contact", rule=data)
    assert field in exc.value.fields
    assert not MatchRule.objects.exists()


def test_rule_save_is_for_admins_and_audited(sales: Any) -> None:
    rule = matching.DEFAULT_RULES["customers.contact"]
    with pytest.raises(PermissionDeniedError):
        scanning.match_rule_save(by=sales.director, model_label="customers.contact", rule=rule)
    with pytest.raises(scanning.MatchRuleError):
        scanning.match_rule_save(by=sales.admin, model_label="customers.tag", rule=rule)
    row = scanning.match_rule_save(by=sales.admin, model_label="customers.contact", rule=rule)
    scanning.match_rule_save(by=sales.admin, model_label="customers.contact", rule=rule, auto_merge=True)
    scanning.match_rule_save(by=sales.admin, model_label="customers.contact", rule=rule, auto_merge=True)
    changes = list(
        ObjectChange.objects.filter(model="dedup.matchrule", object_id=row.pk)
        .order_by("pk")
        .values_list("action", "changes")
    )
    assert [a for a, _c in changes] == ["create", "update"]
    assert changes[1][1] == {"auto_merge": [False, True]}


def test_beat_entry() -> None:
    from kehu.dedup.tasks import BEAT_SCHEDULE

    entry = BEAT_SCHEDULE["dedup-scan-nightly"]
    assert entry["task"] == "kehu.dedup.tasks.dedup_scan_scheduled"
    scheduled = settings.CELERY_BEAT_SCHEDULE.get("dedup-scan-nightly")
    assert scheduled is None or scheduled["task"] == entry["task"]


def test_scheduled_scan_covers_every_type(contacts: Any) -> None:
    from kehu.dedup.tasks import dedup_scan_scheduled

    assert dedup_scan_scheduled() == {"customers.account": 0, "customers.contact": 2, "sales.lead": 0}
    assert set(DuplicateStat.objects.values_list("model_label", flat=True)) == set(scanning.SCAN_MODELS)


def _made(label: str) -> list[matching.Record]:
    """The engine records of every record as ``make_record`` builds them from the model's own
    fields and child rows (what the scan read before it took the phones and e-mails from the
    match keys)."""
    from kehu.sales.models import Lead

    out = []
    if label == "customers.contact":
        for c in (
            Contact.objects.select_related("account").prefetch_related("phones", "emails").order_by("pk")
        ):
            out.append(
                matching.make_record(
                    c.pk,
                    name=c.name,
                    company=c.account.name,
                    phones=[c.mobile, c.phone, *(p.number for p in c.phones.all())],
                    emails=[c.email, *(e.email for e in c.emails.all())],
                )
            )
    elif label == "customers.account":
        for a in Account.objects.prefetch_related("phones", "emails").order_by("pk"):
            person = a.kind == "person"
            out.append(
                matching.make_record(
                    a.pk,
                    name=a.name if person else "",
                    company="" if person else a.name,
                    phones=[a.phone, *(p.number for p in a.phones.all())],
                    emails=[a.email, *(e.email for e in a.emails.all())],
                    tax_number=a.tax_number,
                    address=a.address,
                )
            )
    else:
        for lead in Lead.objects.filter(converted_at__isnull=True).order_by("pk"):
            out.append(
                matching.make_record(
                    lead.pk,
                    name=lead.name,
                    company=lead.company,
                    phones=[lead.mobile, lead.phone],
                    emails=[lead.email],
                    tax_number=lead.tax_number,
                    address=lead.address,
                )
            )
    return [r._replace(phones=tuple(sorted(r.phones)), emails=tuple(sorted(r.emails))) for r in out]


def test_the_records_read_from_the_match_keys_equal_the_normalised_fields(contacts: Any, sales: Any) -> None:
    from kehu.customers.models import ContactPhone

    # a contact with a second phone and a second e-mail (child rows), as the services write them
    ContactPhone.objects.create(
        contact=contacts["a1"], kind="mobile", number="139 1234 5678", is_primary=False
    )
    ContactEmail.objects.create(contact=contacts["a1"], kind="work", email="ZW@Example.com", is_primary=False)
    AccountFactory.create(owner=sales.rep1, name="深圳腾讯（南山）分公司", tax_number="91350100m000100y43")
    AccountFactory.create(owner=sales.rep1, kind="person", name="Ｌｉ Ｎａ", phone="+86 138-0013-8000")
    make_lead(sales.rep1, name="周杰", company="Acme Co., Ltd.", email="Zhou@acme.com", mobile="13700001111")
    for label in ("customers.contact", "customers.account", "sales.lead"):
        read = [r for chunk in scanning.iter_records(label, chunk=2) for r in chunk]
        assert read == _made(label), label
        assert read
    contact_phones = {r.id: r.phones for r in scanning.iter_records("customers.contact").__next__()}
    assert contact_phones[contacts["a1"].pk] == ("+8613912345678",)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="the scan forks its readers on PostgreSQL only",
)
def test_the_scan_in_forked_workers_gives_the_same_groups(
    contacts: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside a transaction on PostgreSQL a large scan reads ranges of ids in forked workers, each
    on its own connection; the groups are those of a scan in this process."""
    c = contacts
    serial = scanning.dedup_scan("customers.contact", today=DAY, workers=1)
    expected = _groups("customers.contact")
    assert expected == sorted([(c["a1"].pk, c["a2"].pk), (c["b1"].pk, c["b2"].pk)])
    DuplicateGroup.objects.all().delete()
    monkeypatch.setattr(scanning, "PARALLEL_MIN", 1)
    monkeypatch.setattr(scanning, "RANGE_SIZE", 2)  # three ranges over the six contacts
    assert len(scanning._ranges("customers.contact", 6, 3)) == 3
    assert scanning._parallel("customers.contact", 6, 2)
    forked = scanning.dedup_scan("customers.contact", today=DAY, workers=2)
    assert _groups("customers.contact") == expected
    assert (forked.records, forked.created, forked.stats.blocks) == (6, 2, serial.stats.blocks)
    group = DuplicateGroup.objects.get(key=f"{c['a1'].pk},{c['a2'].pk}")
    assert group.level == "certain"
    assert DuplicateMember.objects.get(group=group, object_id=c["a1"].pk).reasons[0]["with"] == c["a2"].pk
