"""The demo company at scale (run at a few per cent: `KEHU_DEMO_SCALE`)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Max

from kehu.activities.models import Interaction, Reminder, Task
from kehu.audit.models import TimelineEvent
from kehu.customers.models import Account, AccountContactRelation, Contact
from kehu.customers.validators import normalise_tax_number
from kehu.demo import company
from kehu.demo.loader import load_demo
from kehu.quality.models import QualitySnapshot
from kehu.sales.models import PoolItem
from kehu.tags.models import StaticGroup, TaggedItem
from kehu.users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def small(settings: Any) -> None:
    settings.KEHU_DEMO_SCALE = 0.05


def test_full_scale_spec_is_seeded_and_about_two_thousand_accounts() -> None:
    specs = company.demo_company(company.BULK_ACCOUNTS)
    assert 1900 <= len(specs) + 60 <= 2150
    assert len({s.name for s in specs}) == len(specs)
    contacts = sum(len(s.contacts) for s in specs)
    assert 4500 <= contacts + 121 <= 5500
    chinese = sum(1 for s in specs if s.country == "CN" and s.kind == "company")
    assert chinese / len(specs) > 0.8
    assert any(s.country in ("US", "DE") for s in specs)
    assert any(s.parent for s in specs)
    assert 0.1 < sum(s.sparse for s in specs) / len(specs) < 0.2
    for s in specs:
        if s.tax_number:
            assert normalise_tax_number(s.tax_number) == s.tax_number
    assert company.demo_company(50) == company.demo_company(50)


def test_scale_loads_with_the_services_invariants(small: None) -> None:
    summary = load_demo()
    assert {"company", "activities", "extras"} <= set(summary.loaded)
    n = round(company.BULK_ACCOUNTS * 0.05)
    assert Account.objects.count() >= 60 + n
    users = {u.pk: u for u in User.objects.all()}
    pooled = set(
        PoolItem.objects.filter(account__isnull=False, in_pool=True).values_list("account_id", flat=True)
    )
    for a in Account.objects.all():
        if a.pk in pooled:  # in the 客户公海 (sales stage): no owner, no department
            assert a.owner_id is None and a.department_id is None
            continue
        assert a.owner_id in users
        assert a.department_id == users[a.owner_id].department_id
        assert a.created_by_id is not None
    for c in Contact.objects.select_related("account"):
        assert c.owner_id == c.account.owner_id and c.department_id == c.account.department_id
    # one direct relation per contact, at most one primary contact per account
    assert AccountContactRelation.objects.filter(is_direct=True).count() == Contact.objects.count()
    # last contact matches the interactions
    latest = dict(
        Interaction.objects.values("account_id").annotate(m=Max("occurred_at")).values_list("account_id", "m")
    )
    for pk, at in Account.objects.values_list("pk", "last_activity_at"):
        assert latest.get(pk) == at
    assert Account.objects.filter(last_activity_at__isnull=True).exists()  # some never contacted
    for i in Interaction.objects.all()[:200]:
        assert i.department_id == users[i.owner_id].department_id
    # every interaction is on its account's 360° timeline
    logged = set(
        TimelineEvent.objects.filter(event="interaction.logged").values_list("object_id", "account_id")
    )
    assert logged == set(Interaction.objects.values_list("pk", "account_id"))
    assert Task.objects.filter(status="done").exists() and Task.objects.filter(status="open").exists()
    assert Task.objects.exclude(recurrence="none").exists()
    assert Reminder.objects.exists()
    linked = Interaction.objects.filter(task__isnull=False)
    assert linked.exists() and all(i.task.interaction_id == i.pk for i in linked[:20])
    # completeness varies; tags, groups and a trend
    assert Account.objects.filter(completeness__lt=100).exists()
    assert TaggedItem.objects.filter(model="customers.account").exists()
    assert StaticGroup.objects.count() == 3
    assert QualitySnapshot.objects.filter(model="customers.account").count() == 9


def test_second_run_creates_nothing(small: None) -> None:
    load_demo()
    before = (
        Account.objects.count(),
        Contact.objects.count(),
        Interaction.objects.count(),
        Task.objects.count(),
        TimelineEvent.objects.count(),
        TaggedItem.objects.count(),
        QualitySnapshot.objects.count(),
    )
    assert load_demo().loaded == []
    again = load_demo(refresh=True)
    assert {"company", "activities", "extras"} <= set(again.loaded)
    for what in (
        "accounts",
        "contacts",
        "interactions",
        "tasks",
        "tags",
        "static groups",
        "quality snapshots",
    ):
        assert what not in again.created, what
    after = (
        Account.objects.count(),
        Contact.objects.count(),
        Interaction.objects.count(),
        Task.objects.count(),
        TimelineEvent.objects.count(),
        TaggedItem.objects.count(),
        QualitySnapshot.objects.count(),
    )
    assert after == before
