"""The data quality page: figures, scope restriction, drill-down lists, snapshots, permissions; and
the race safety of unique data standards on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kehu.core.errors import DomainError
from kehu.customers.models import Account, Contact
from kehu.customers.tests.factories import AccountFactory, ContactFactory
from kehu.customfields.models import FieldRule
from kehu.customfields.rules import rules_check
from kehu.quality import selectors, services
from kehu.quality.models import QualitySnapshot
from kehu.quality.registry import get
from kehu.users.tests.factories import grant

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def signed_in(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def data(company):
    """Four accounts: a1 (rep1, north) clean; a2 (rep2, north) invalid e-mail, never contacted;
    a3 (rep3, east) invalid phone, contacted 45 days ago; a4 without owner (pool)."""
    now = timezone.now()
    a1 = AccountFactory.create(
        owner=company.rep1, phone="13812345678", email="a@example.com", industry="it", completeness=80
    )
    a1.last_activity_at = now - dt.timedelta(days=2)
    a1.save()
    a2 = AccountFactory.create(owner=company.rep2, completeness=10)
    a3 = AccountFactory.create(owner=company.rep3, completeness=50)
    a4 = Account.objects.create(name="公海客户", completeness=30)
    Account.objects.filter(pk=a2.pk).update(email="not-an-email")
    Account.objects.filter(pk=a3.pk).update(phone="12345", last_activity_at=now - dt.timedelta(days=45))
    grant(company.role_manager, "customers.account", "view", scope="department")
    grant(company.role_manager, "quality.qualitysnapshot", "view")
    return {"a1": a1, "a2": a2, "a3": a3, "a4": a4}


def fig(user_or_none, label="customers.account", **kw):
    entry = get(label)
    assert entry is not None
    qs = (
        entry.model._default_manager.all()
        if user_or_none is None
        else entry.model._default_manager.restrict(user_or_none)  # type: ignore[attr-defined]
    )
    return selectors.figures(entry, qs, **kw)


def field(figures, key):
    return next(f for f in figures["fields"] if f["key"] == key)


# --- figures --------------------------------------------------------------------------------------


def test_figures_over_the_whole_company(data) -> None:
    f = fig(None)
    assert f["total"] == 4
    assert field(f, "name")["filled"] == 4 and field(f, "name")["share"] == 100.0
    assert field(f, "phone")["filled"] == 2 and field(f, "phone")["share"] == 50.0
    assert field(f, "industry")["filled"] == 1
    assert f["average_completeness"] == 42.5
    assert [b["count"] for b in f["distribution"]] == [1, 1, 1, 0, 1]
    assert f["no_owner"] == 1
    assert f["no_follow_up"] == {"30": 3, "60": 2, "90": 2}
    assert f["invalid"] == {"phones": 1, "emails": 1, "fields": {"phone": 1, "email": 1}}


def test_contacts_check_both_phone_fields(company) -> None:
    c = ContactFactory.create(owner=company.rep1, mobile="13812345678")
    Contact.objects.filter(pk=c.pk).update(phone="999", mobile="abc")
    f = fig(None, "customers.contact")
    assert f["invalid"]["phones"] == 1
    assert f["invalid"]["fields"] == {"phone": 1, "mobile": 1, "email": 0}


def test_validity_checks() -> None:
    assert selectors.phone_is_valid("+8613812345678")
    assert selectors.phone_is_valid("+861065529988")  # a Beijing landline: parsed
    assert not selectors.phone_is_valid("12345")
    assert not selectors.phone_is_valid("138 1234 5678")  # not normalised
    assert selectors.email_is_valid("zhang.wei@example.com")
    assert not selectors.email_is_valid("zhang@")


def test_manager_sees_figures_of_their_scope_only(company, data) -> None:
    f = fig(company.manager1)
    assert f["total"] == 2  # a1 and a2 (华北区)
    assert f["invalid"] == {"phones": 0, "emails": 1, "fields": {"phone": 0, "email": 1}}
    assert f["no_owner"] == 0


# --- page -----------------------------------------------------------------------------------------


def test_page_for_admin_shows_figures_links_and_echarts(company, data) -> None:
    response = signed_in(company.admin).get(reverse("quality:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        'data-quality-model="customers.account"' in html and 'data-quality-model="customers.contact"' in html
    )
    assert "vendor/echarts/echarts.min.js" in html
    assert "?has_owner=false" in html and "?no_activity_days=30" in html and "?completeness_max=59" in html
    assert "problem=empty&amp;field=industry" in html
    card = html.split('data-quality-model="customers.account"')[1].split("data-quality-model=")[0]
    assert 'data-figure="total">4<' in card
    assert 'data-figure="no-owner">1<' in card
    html60 = signed_in(company.admin).get(reverse("quality:index"), {"days": "60"}).content.decode()
    assert "?no_activity_days=60" in html60
    # the lazily loaded invalid counts
    response = signed_in(company.admin).get(
        reverse("quality:invalid", args=["customers.account"]), headers=HTMX
    )
    assert 'data-figure="invalid-phones">1<' in response.content.decode()


def test_page_for_manager_is_scoped_and_has_no_company_trend(company, data) -> None:
    services.quality_snapshot_take()
    c = signed_in(company.manager1)
    html = c.get(reverse("quality:index")).content.decode()
    card = html.split('data-quality-model="customers.account"')[1]
    assert 'data-figure="total">2<' in card
    assert 'data-chart="trend"' not in card
    # the manager cannot view contacts: no contact card
    assert 'data-quality-model="customers.contact"' not in html
    assert c.get(reverse("quality:invalid", args=["customers.contact"])).status_code == 404
    response = c.get(reverse("quality:invalid", args=["customers.account"]), headers=HTMX)
    assert 'data-figure="invalid-phones">0<' in response.content.decode()
    # the admin sees the trend of the snapshot
    admin_html = signed_in(company.admin).get(reverse("quality:index")).content.decode()
    assert 'data-chart="trend"' in admin_html


def test_page_permissions(company, data) -> None:
    for url in (
        reverse("quality:index"),
        reverse("quality:invalid", args=["customers.account"]),
        reverse("quality:records", args=["customers.account"]) + "?problem=invalid_phone",
    ):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
        for who in ("rep1", "nobody", "viewer_all"):
            assert signed_in(getattr(company, who)).get(url).status_code == 403, (who, url)
    from kehu.core.navigation import menu_for

    def names(user):
        return {i["url_name"] for g in menu_for(user) for i in g["items"]}

    assert "quality:index" in names(company.admin) and "quality:index" in names(company.manager1)
    assert "quality:index" not in names(company.rep1)


def test_drill_down_lists_are_restricted(company, data) -> None:
    base = reverse("quality:records", args=["customers.account"])
    admin = signed_in(company.admin)
    html = admin.get(base, {"problem": "invalid_phone"}).content.decode()
    assert f'data-id="{data["a3"].pk}"' in html and f'data-id="{data["a1"].pk}"' not in html
    assert data["a3"].get_absolute_url() in html
    manager = signed_in(company.manager1)
    html = manager.get(base, {"problem": "invalid_phone"}).content.decode()
    assert f'data-id="{data["a3"].pk}"' not in html
    html = manager.get(base, {"problem": "invalid_email"}).content.decode()
    assert f'data-id="{data["a2"].pk}"' in html
    html = manager.get(base, {"problem": "empty", "field": "industry"}).content.decode()
    assert f'data-id="{data["a2"].pk}"' in html and f'data-id="{data["a1"].pk}"' not in html
    assert f'data-id="{data["a4"].pk}"' not in html
    assert manager.get(base, {"problem": "nope"}).status_code == 404
    assert manager.get(base, {"problem": "empty", "field": "owner"}).status_code == 404
    assert manager.get(base, {"problem": "empty", "field": "industry", "after": "x"}).status_code == 200


def test_drill_down_pages_with_keyset(company) -> None:
    from kehu.quality import views

    accounts = [AccountFactory.create(owner=company.rep1) for _ in range(views.PAGE_SIZE + 3)]
    Account.objects.update(phone="1")
    c = signed_in(company.admin)
    base = reverse("quality:records", args=["customers.account"])
    first = c.get(base, {"problem": "invalid_phone"})
    assert first.content.decode().count("data-id=") == views.PAGE_SIZE
    nxt = first.context["next_url"]
    second = c.get(nxt).content.decode()
    assert second.count("data-id=") == 3
    assert f'data-id="{accounts[-1].pk}"' in second


def test_page_query_count_does_not_grow_with_rows(company, data, django_assert_max_num_queries) -> None:
    c = signed_in(company.admin)
    c.get(reverse("quality:index"))
    with django_assert_max_num_queries(30):
        c.get(reverse("quality:index"))
    for _ in range(20):
        AccountFactory.create(owner=company.rep1)
    with django_assert_max_num_queries(30):
        c.get(reverse("quality:index"))
    with django_assert_max_num_queries(15):
        c.get(
            reverse("quality:records", args=["customers.account"]), {"problem": "empty", "field": "industry"}
        )


# --- snapshots ------------------------------------------------------------------------------------


def test_snapshot_is_one_row_per_model_per_day(data) -> None:
    day = dt.date(2026, 5, 1)
    services.quality_snapshot_take(date=day)
    assert QualitySnapshot.objects.filter(date=day).count() == 2
    first = QualitySnapshot.objects.get(date=day, model="customers.account")
    assert first.figures["total"] == 4
    Account.objects.create(name="新客户")
    services.quality_snapshot_take(date=day)  # rerun the same day: replaced, not added
    assert QualitySnapshot.objects.filter(date=day).count() == 2
    assert QualitySnapshot.objects.get(date=day, model="customers.account").figures["total"] == 5
    services.quality_snapshot_take(date=day + dt.timedelta(days=1))
    assert QualitySnapshot.objects.count() == 4


def test_daily_task_is_scheduled() -> None:
    from kehu.quality.tasks import snapshot_daily

    entry = settings.CELERY_BEAT_SCHEDULE["quality-snapshot-daily"]
    assert entry["task"] == snapshot_daily.name
    assert snapshot_daily() == 2


# --- race safety of unique standards (PostgreSQL) -------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_creates_with_the_same_unique_tax_number() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    FieldRule.objects.create(model="customers.account", field="tax_number", unique=True)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                rules_check(model=Account, values={"name": name, "tax_number": "91110000MA01ABCDE1"})
                time.sleep(0.3)  # the other caller checks meanwhile
                Account.objects.create(name=name, tax_number="91110000MA01ABCDE1")
            with lock:
                outcomes.append("created")
        except DomainError as exc:
            with lock:
                outcomes.append(str(exc.fields["tax_number"][0]))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("甲", "乙")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["Another account already has this value.", "created"]
    assert Account.objects.filter(tax_number="91110000MA01ABCDE1").count() == 1
