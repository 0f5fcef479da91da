"""The duplicates pages: the review queue, a group, "not duplicates", merge, the match rules and
the data quality panel — anonymous / no permission / allowed, and records out of scope hidden."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kehu.core.models import Job
from kehu.customers.tests.factories import AccountFactory, ContactFactory
from kehu.dedup import scanning
from kehu.dedup.models import DuplicateGroup, DuplicateStat, MatchRule, NotDuplicate

pytestmark = pytest.mark.django_db


def _client(user: Any = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def groups(sales: Any) -> dict[str, Any]:
    """Two contact groups: rep1's pair (north) and rep3's pair (east)."""
    acme = AccountFactory.create(owner=sales.rep1, name="北京字节跳动科技有限公司")
    east = AccountFactory.create(owner=sales.rep3, name="上海航空有限公司")
    a1 = ContactFactory.create(owner=sales.rep1, account=acme, name="张伟", email="zhang.wei@bytedance.com")
    a2 = ContactFactory.create(
        owner=sales.rep1, account=acme, name="Zhang Wei", email="zhang.wei@bytedance.com"
    )
    b1 = ContactFactory.create(owner=sales.rep3, account=east, name="李娜", mobile="13900001111")
    b2 = ContactFactory.create(owner=sales.rep3, account=east, name="李娜", mobile="13900001111")
    scanning.dedup_scan("customers.contact")
    return {
        "north": DuplicateGroup.objects.get(key=f"{a1.pk},{a2.pk}"),
        "east": DuplicateGroup.objects.get(key=f"{b1.pk},{b2.pk}"),
        "a1": a1,
        "a2": a2,
    }


def _queue_ids(response: Any) -> set[int]:
    return {row["group"].pk for row in response.context["rows"]}


def test_queue_permission_matrix(sales: Any, groups: Any) -> None:
    url = reverse("dedup:queue")
    anonymous = _client().get(url)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    assert _client(sales.nobody).get(url).status_code == 403
    north, east = groups["north"].pk, groups["east"].pk
    assert _queue_ids(_client(sales.rep1).get(url)) == {north}
    assert _queue_ids(_client(sales.rep3).get(url)) == {east}
    assert _queue_ids(_client(sales.director).get(url)) == {north, east}
    assert _queue_ids(_client(sales.admin).get(url)) == {north, east}


def test_queue_filters_and_order(sales: Any, groups: Any) -> None:
    client = _client(sales.admin)
    url = reverse("dedup:queue")
    rows = client.get(url).context["rows"]
    assert [r["group"].score for r in rows] == sorted((r["group"].score for r in rows), reverse=True)
    assert _queue_ids(client.get(url, {"model": "customers.account"})) == set()
    assert _queue_ids(client.get(url, {"model": "customers.contact", "level": "certain"})) == {
        groups["north"].pk,
        groups["east"].pk,
    }
    assert _queue_ids(client.get(url, {"level": "possible"})) == set()
    assert _queue_ids(client.get(url, {"status": "dismissed"})) == set()
    page = client.get(url).content.decode()
    assert "张伟 · Zhang Wei" in page


def test_group_page(sales: Any, groups: Any) -> None:
    group = groups["north"]
    url = reverse("dedup:group", args=[group.pk])
    assert _client().get(url).status_code == 302
    assert _client(sales.nobody).get(url).status_code == 403
    assert _client(sales.rep3).get(url).status_code == 404  # records out of scope: no existence leak
    response = _client(sales.rep1).get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "zhang.wei@bytedance.com" in page and "Zhang Wei" in page
    assert 'data-action="dismiss"' in page and 'data-action="merge"' in page
    rows = {r["name"]: r for r in response.context["detail"]["rows"]}
    assert rows["emails"]["values"] == ["zhang.wei@bytedance.com", "zhang.wei@bytedance.com"]
    assert rows["emails"]["differs"] is False and rows["name"]["differs"] is True
    pair = response.context["detail"]["pairs"][0]
    assert (pair["a"], pair["b"]) == (groups["a1"].pk, groups["a2"].pk)
    assert {r["field"] for r in pair["reasons"]} == {"e-mails", "name", "company"}


def test_view_only_user_sees_no_actions(sales: Any, groups: Any) -> None:
    from kehu.core.choices import Action, Scope
    from kehu.users.models import RolePermission
    from kehu.users.tests.factories import grant

    RolePermission.objects.filter(role=sales.role_all).delete()
    grant(sales.role_all, "customers.contact", Action.VIEW, scope=Scope.ALL)
    group = groups["north"]
    page = _client(sales.viewer_all).get(reverse("dedup:group", args=[group.pk])).content.decode()
    assert 'data-action="dismiss"' not in page
    response = _client(sales.viewer_all).post(reverse("dedup:group_dismiss", args=[group.pk]))
    assert response.status_code == 404
    assert not NotDuplicate.objects.exists()


def test_dismiss(sales: Any, groups: Any) -> None:
    group = groups["north"]
    url = reverse("dedup:group_dismiss", args=[group.pk])
    assert _client().post(url).status_code == 302
    assert _client(sales.nobody).post(url).status_code == 403
    assert _client(sales.rep3).post(url).status_code == 404
    assert not NotDuplicate.objects.exists()
    response = _client(sales.rep1).post(url)
    assert response.status_code == 302 and response["Location"] == reverse("dedup:queue")
    group.refresh_from_db()
    assert group.status == "dismissed" and group.resolved_by == sales.rep1
    assert NotDuplicate.objects.filter(low_id=groups["a1"].pk, high_id=groups["a2"].pk).exists()
    # a second dismissal is refused with a message, nothing changes
    again = _client(sales.rep1).post(url, follow=True)
    assert "already been resolved" in again.content.decode()


def test_merge_page(sales: Any, groups: Any) -> None:
    """The merge page shows the preview and merges through the merge service."""
    from kehu.customers.models import Contact

    group = groups["north"]
    url = reverse("dedup:group_merge", args=[group.pk])
    assert _client().get(url).status_code == 302
    assert _client(sales.nobody).get(url).status_code == 403
    assert _client(sales.rep3).get(url).status_code == 404
    response = _client(sales.rep1).get(url)
    assert response.status_code == 200
    assert response.context["preview"].master_id == groups["a2"].pk  # the newest by default
    response = _client(sales.rep1).post(url, {"master": groups["a1"].pk, "value_name": groups["a2"].pk})
    assert response.status_code == 302, response.content[:500]
    group.refresh_from_db()
    assert group.status == "merged"
    kept = Contact.objects.get(pk=groups["a1"].pk)
    assert kept.name == "Zhang Wei"
    assert not Contact.objects.filter(pk=groups["a2"].pk).exists()


def test_rules_page_permissions_and_save(sales: Any) -> None:
    url = reverse("dedup:rules")
    assert _client().get(url).status_code == 302
    assert _client(sales.director).get(url).status_code == 403
    assert _client(sales.director).post(url, {"model": "customers.contact"}).status_code == 403
    client = _client(sales.admin)
    response = client.get(url, {"model": "customers.contact"})
    assert response.status_code == 200
    assert response.context["form"].initial["possible"] == 0.6
    assert client.get(url, {"model": "customers.tag"}).status_code == 404
    data = {
        "model": "customers.contact",
        "enabled": "on",
        "auto_merge": "on",
        "possible": "0.7",
        "certain": "0.95",
        "max_block": "50",
        "blocking": ["phone", "email"],
        "use_phones": "on",
        "method_phones": "normalised",
        "weight_phones": "0.6",
        "use_name": "on",
        "method_name": "fuzzy",
        "weight_name": "0.4",
        "threshold_name": "0.8",
        "penalty_name": "0.3",
    }
    response = client.post(f"{url}?model=customers.contact", data)
    assert response.status_code == 302
    row = MatchRule.objects.get(model_label="customers.contact")
    assert (row.enabled, row.auto_merge) == (True, True)
    rule = scanning.match_rule_get("customers.contact")
    assert (rule.possible, rule.certain, rule.max_block, rule.blocking) == (0.7, 0.95, 50, ("phone", "email"))
    assert [(f.field, f.method, f.weight) for f in rule.fields] == [
        ("name", "fuzzy", 0.4),
        ("phones", "normalised", 0.6),
    ]


def test_rules_page_shows_validation_errors(sales: Any) -> None:
    client = _client(sales.admin)
    data = {
        "model": "customers.contact",
        "possible": "0.9",
        "certain": "0.8",
        "max_block": "50",
        "blocking": ["phone"],
        "use_name": "on",
        "method_name": "fuzzy",
        "weight_name": "0",
    }
    response = client.post(reverse("dedup:rules"), data)
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["certain"] == ["The certain score may not be below the possible score."]
    assert form.errors["weight_name"] == ["Enter a weight above 0 and at most 1."]
    assert not MatchRule.objects.exists()


def test_scan_now_and_reset(sales: Any, groups: Any, django_capture_on_commit_callbacks: Any) -> None:
    url = reverse("dedup:scan_start")
    assert _client(sales.director).post(url, {"model": "customers.contact"}).status_code == 403
    with django_capture_on_commit_callbacks(execute=False):
        response = _client(sales.admin).post(url, {"model": "customers.contact"})
    assert response.status_code == 302
    job = Job.objects.get(kind="dedup.scan")
    page = _client(sales.admin).get(reverse("dedup:rules"), {"model": "customers.contact"}).content.decode()
    assert f'id="job-progress-{job.pk}"' in page
    scanning.match_rule_save(
        by=sales.admin,
        model_label="customers.contact",
        rule=scanning.default_rule("customers.contact"),
        auto_merge=True,
    )
    reset = _client(sales.admin).post(reverse("dedup:rules_reset"), {"model": "customers.contact"})
    assert reset.status_code == 302
    assert MatchRule.objects.get(model_label="customers.contact").auto_merge is True


def test_quality_panel(sales: Any, groups: Any) -> None:
    url = reverse("dedup:quality_panel")
    assert _client().get(url).status_code == 302
    assert _client(sales.nobody).get(url).status_code == 403
    rates = {r["model"]: r for r in _client(sales.admin).get(url).context["rates"]}
    stat = DuplicateStat.objects.get(model_label="customers.contact")
    assert (stat.records, stat.duplicates, stat.groups) == (4, 4, 2)
    assert rates["customers.contact"]["rate"] == 100.0
    assert rates["customers.account"]["rate"] is None  # never scanned
    # a rep sees the record types but not the company-wide figures
    mine = {r["model"]: r for r in _client(sales.rep1).get(url).context["rates"]}
    assert mine["customers.contact"]["rate"] is None and mine["customers.contact"]["trend"] == []


def test_queue_and_group_queries_do_not_grow_with_the_groups(sales: Any, groups: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = _client(sales.director)
    url = reverse("dedup:queue")
    client.get(url)  # warm the per-user caches
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    account = AccountFactory.create(owner=sales.rep1, name="深圳市腾讯计算机系统有限公司")
    for i in range(3):
        for _ in range(2):
            ContactFactory.create(owner=sales.rep1, account=account, name=f"陈{i}", email=f"chen{i}@qq.com")
    scanning.dedup_scan("customers.contact")
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(response.context["rows"]) == 5
    assert len(many) == len(few)
    group_url = reverse("dedup:group", args=[groups["north"].pk])
    client.get(group_url)
    with CaptureQueriesContext(connection) as page:
        client.get(group_url)
    assert len(page) <= 20


def test_a_group_left_with_one_live_record_leaves_the_queue(sales: Any, groups: Any) -> None:
    """A record deleted since the scan: its pair has nothing left to review (for anyone), and a
    deleted record no longer hides a group from a user who may see the live ones."""
    from kehu.customers.models import Contact
    from kehu.customers.tests.factories import ContactFactory
    from kehu.dedup.models import DuplicateMember

    url = reverse("dedup:queue")
    north, east = groups["north"], groups["east"]
    Contact.objects.filter(pk=groups["a2"].pk).delete()
    for user in (sales.rep1, sales.admin):
        assert north.pk not in _queue_ids(_client(user).get(url))
    # a third member, rep1's, then deleted: rep3 still reviews the two live records of the group
    third = ContactFactory.create(owner=sales.rep1, account=groups["a1"].account, name="李娜")
    DuplicateMember.objects.create(group=east, object_id=third.pk)
    assert east.pk not in _queue_ids(_client(sales.rep3).get(url))  # rep3 may not see rep1's contact
    Contact.objects.filter(pk=third.pk).delete()
    assert _queue_ids(_client(sales.rep3).get(url)) == {east.pk}
