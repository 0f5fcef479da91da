"""Report pages and API (scopes, CSV exports, filters), targets (services, attainment, pages, API)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from kehu.core.choices import Action, Scope
from kehu.core.errors import DomainError, PermissionDeniedError
from kehu.customers.tests.factories import AccountFactory
from kehu.users.tests.factories import grant

from ..choices import PeriodKind, StageKind
from ..models import Opportunity, Target
from ..selectors.targets import attainment
from ..services.targets import period_end_of, period_start_of, target_set, target_split
from .test_reports_math import END, START, world  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

QUERY = {"period": "custom", "start": START.isoformat(), "end": END.isoformat(), "mode": "cohort"}


@pytest.mark.parametrize(
    ("who", "status"), [("anonymous", 302), ("nobody", 403), ("rep1", 200), ("viewer_all", 200)]
)
@pytest.mark.parametrize("name", ["sales:report_funnel", "sales:report_performance", "sales:forecast"])
def test_report_pages_permissions(client: Any, world: Any, who: str, status: int, name: str) -> None:  # noqa: F811
    if who != "anonymous":
        client.force_login(getattr(world, who))
    response = client.get(reverse(name), {**QUERY, "pipeline": world.pipeline.pk})
    assert response.status_code == status


def test_funnel_page_tables_and_csv(client: Any, world: Any) -> None:  # noqa: F811
    client.force_login(world.rep1)
    query = {**QUERY, "pipeline": world.pipeline.pk}
    page = client.get(reverse("sales:report_funnel"), query).content.decode()
    assert "75.0 %" in page and "50.0 %" in page and "33.3 %" in page
    assert "转化率 = 出口阶段的商机个数 / 入口阶段的商机个数" in page
    csv_text = client.get(reverse("sales:report_funnel"), {**query, "export": "conversion"}).content.decode(
        "utf-8-sig"
    )
    lines = csv_text.strip().splitlines()
    assert lines[1:] == ["A,4,3,75.0", "B,4,2,50.0", "C,3,1,33.3"]
    funnel_csv = client.get(reverse("sales:report_funnel"), {**query, "export": "funnel"}).content.decode(
        "utf-8-sig"
    )
    assert "A,4,1000" in funnel_csv.replace(".00", "")
    # the whole company for the viewer of everything
    client.force_login(world.viewer_all)
    csv_all = client.get(reverse("sales:report_funnel"), {**query, "export": "conversion"}).content.decode(
        "utf-8-sig"
    )
    assert "A,5,4,80.0" in csv_all


def test_bad_filters_fall_back_and_say_so(client: Any, world: Any) -> None:  # noqa: F811
    client.force_login(world.rep1)
    response = client.get(
        reverse("sales:report_funnel"), {"period": "custom", "start": "2026-05-01", "end": "2026-01-01"}
    )
    assert response.status_code == 200
    assert "is-invalid" in response.content.decode()
    api = APIClient()
    api.force_authenticate(world.rep1)
    bad = api.get("/api/v1/sales/funnel/", {"period": "custom", "start": "2026-05-01", "end": "2026-01-01"})
    assert bad.status_code == 400 and "end" in bad.json()["fields"]


def test_api_funnel_performance_forecast(world: Any) -> None:  # noqa: F811
    api = APIClient()
    api.force_authenticate(world.rep1)
    query = {**QUERY, "pipeline": world.pipeline.pk}
    body = api.get("/api/v1/sales/funnel/", query).json()
    rates = {s["name"]: s["conversion_rate"] for s in body["stages"]}
    assert rates == {"A": 75.0, "B": 50.0, "C": 33.3, "W": None, "L": None}
    perf = api.get("/api/v1/sales/performance/", query).json()
    assert (perf["won"], perf["lost"], perf["win_rate"]) == (1, 2, 33.3)
    fc = api.get("/api/v1/sales/forecast/", query).json()
    assert (fc["closed"], fc["commit"], fc["weighted"], fc["history_based"]) == (
        "100.00",
        "500.00",
        "420.00",
        "800.00",
    )
    assert [o["owner"] for o in fc["owners"]] == [world.rep1.pk]
    api.force_authenticate(world.nobody)
    assert api.get("/api/v1/sales/funnel/", query).status_code == 403


# --- targets -------------------------------------------------------------------------------------


@pytest.fixture
def targets_org(company: Any) -> Any:
    grant(
        company.role_manager,
        "sales.target",
        Action.VIEW,
        Action.ADD,
        Action.CHANGE,
        Action.DELETE,
        scope=Scope.DEPARTMENT,
    )
    grant(company.role_rep, "sales.target", Action.VIEW, scope=Scope.OWN)
    grant(
        company.role_all,
        "sales.target",
        Action.VIEW,
        Action.ADD,
        Action.CHANGE,
        Action.DELETE,
        scope=Scope.ALL,
    )
    return company


def test_period_helpers() -> None:
    assert period_start_of(PeriodKind.QUARTER, dt.date(2026, 8, 17)) == dt.date(2026, 7, 1)
    assert period_end_of(PeriodKind.QUARTER, dt.date(2026, 10, 1)) == dt.date(2026, 12, 31)
    assert period_end_of(PeriodKind.MONTH, dt.date(2028, 2, 1)) == dt.date(2028, 2, 29)
    assert period_end_of(PeriodKind.YEAR, dt.date(2026, 1, 1)) == dt.date(2026, 12, 31)


def test_target_set_upserts_and_validates(targets_org: Any) -> None:
    org = targets_org
    first = target_set(
        by=org.manager1,
        user=org.rep1,
        period_kind="month",
        period_start=dt.date(2026, 3, 1),
        amount=Decimal("50000"),
    )
    again = target_set(
        by=org.manager1,
        user=org.rep1,
        period_kind="month",
        period_start=dt.date(2026, 3, 1),
        amount=Decimal("60000"),
    )
    assert first.pk == again.pk and again.amount == Decimal("60000") and again.department == org.north
    for kwargs, field in (
        ({"period_start": dt.date(2026, 3, 2)}, "period_start"),
        ({"amount": Decimal("-1")}, "amount"),
        ({"currency": "XXX"}, "currency"),
    ):
        values: dict[str, Any] = {
            "period_kind": "month",
            "period_start": dt.date(2026, 4, 1),
            "amount": Decimal("1"),
            **kwargs,
        }
        with pytest.raises(DomainError) as exc:
            target_set(by=org.manager1, user=org.rep1, **values)
        assert field in exc.value.fields
    # a manager of 华北区 may not set a target for rep3 (华东区); a rep may not set any
    with pytest.raises(DomainError):
        target_set(
            by=org.manager1,
            user=org.rep3,
            period_kind="month",
            period_start=dt.date(2026, 3, 1),
            amount=Decimal("1"),
        )
    with pytest.raises(PermissionDeniedError):
        target_set(
            by=org.rep1,
            user=org.rep1,
            period_kind="month",
            period_start=dt.date(2026, 3, 1),
            amount=Decimal("1"),
        )
    assert Target.objects.count() == 1


def test_split_equal_with_cents_and_by_shares(targets_org: Any) -> None:
    org = targets_org
    dept = target_set(
        by=org.viewer_all,
        department=org.north,
        period_kind="quarter",
        period_start=dt.date(2026, 1, 1),
        amount=Decimal("100000.00"),
    )
    shares = target_split(by=org.viewer_all, target=dept)
    # 华北区 has rep1, rep2, manager1 and nobody: 4 users → 25,000 each
    assert sorted(t.amount for t in shares) == [Decimal("25000.00")] * 4
    odd = target_set(
        by=org.viewer_all,
        department=org.north,
        period_kind="month",
        period_start=dt.date(2026, 2, 1),
        amount=Decimal("100.01"),
    )
    amounts = sorted(t.amount for t in target_split(by=org.viewer_all, target=odd))
    assert sum(amounts) == Decimal("100.01") and amounts[-1] - amounts[0] == Decimal("0.01")
    with pytest.raises(DomainError) as exc:
        target_split(by=org.viewer_all, target=odd, shares={org.rep1.pk: Decimal("1")})
    assert "shares" in exc.value.fields
    with pytest.raises(DomainError):
        target_split(by=org.viewer_all, target=odd, shares={org.rep3.pk: Decimal("100.01")})


def test_attainment_counts_won_in_period(targets_org: Any) -> None:
    org = targets_org
    grant(org.role_all, "sales.opportunity", Action.VIEW, scope=Scope.ALL)
    from ..models import Pipeline

    pipeline = Pipeline.objects.get(is_default=True)
    won_stage = pipeline.stages.get(kind=StageKind.WON)
    account = AccountFactory.create(owner=org.rep1)
    for amount, day in (
        ("3000", dt.date(2026, 3, 5)),
        ("2000", dt.date(2026, 3, 30)),
        ("9999", dt.date(2026, 4, 1)),
    ):
        Opportunity.objects.create(
            name="x",
            account=account,
            owner=org.rep1,
            department=org.north,
            pipeline=pipeline,
            stage=won_stage,
            status=StageKind.WON,
            amount=Decimal(amount),
            closed_at=timezone.make_aware(dt.datetime.combine(day, dt.time(12))),
        )
    target_set(
        by=org.viewer_all,
        user=org.rep1,
        period_kind="month",
        period_start=dt.date(2026, 3, 1),
        amount=Decimal("10000"),
    )
    target_set(
        by=org.viewer_all,
        department=org.sales,
        period_kind="month",
        period_start=dt.date(2026, 3, 1),
        amount=Decimal("20000"),
    )
    rows = {
        (r.target.user_id, r.target.department_id): r
        for r in attainment(user=org.viewer_all, period_kind="month", period_start=dt.date(2026, 3, 1))
    }
    mine = rows[(org.rep1.pk, org.north.pk)]
    assert mine.actual == Decimal("5000") and mine.percent == 50.0
    dept = rows[(None, org.sales.pk)]  # 销售部 includes 华北区 below it
    assert dept.actual == Decimal("5000") and dept.percent == 25.0
    # a rep sees only their own target
    assert [
        r.target.user_id
        for r in attainment(user=org.rep1, period_kind="month", period_start=dt.date(2026, 3, 1))
    ] == [org.rep1.pk]


def test_target_pages(client: Any, targets_org: Any) -> None:
    org = targets_org
    client.force_login(org.rep1)
    assert client.get(reverse("sales:target_list")).status_code == 200
    assert client.get(reverse("sales:target_set")).status_code == 403
    client.force_login(org.manager1)
    response = client.post(
        reverse("sales:target_set"),
        {
            "user": org.rep1.pk,
            "period_kind": "month",
            "period_start": "2026-03-01",
            "amount": "8000",
            "currency": "CNY",
        },
    )
    assert response.status_code == 302
    assert Target.objects.get(user=org.rep1).amount == Decimal("8000")
    bad = client.post(
        reverse("sales:target_set"),
        {
            "user": org.rep1.pk,
            "period_kind": "month",
            "period_start": "2026-03-02",
            "amount": "8000",
            "currency": "CNY",
        },
    )
    assert bad.status_code == 400 and "is-invalid" in bad.content.decode()
    page = client.get(reverse("sales:target_list"), {"kind": "month", "start": "2026-03-01"}).content.decode()
    assert "8,000.00" in page or "8000.00" in page


def test_targets_api(targets_org: Any) -> None:
    org = targets_org
    api = APIClient()
    api.force_authenticate(org.manager1)
    created = api.post(
        "/api/v1/sales/targets/",
        {"user": org.rep1.pk, "period_kind": "quarter", "period_start": "2026-04-01", "amount": "30000.00"},
        format="json",
    )
    assert created.status_code == 201, created.content
    bad = api.post(
        "/api/v1/sales/targets/",
        {"user": org.rep1.pk, "period_kind": "quarter", "period_start": "2026-05-01", "amount": "1"},
        format="json",
    )
    assert bad.status_code == 400 and "period_start" in bad.json()["fields"]
    api.force_authenticate(org.viewer_all)
    dept = api.post(
        "/api/v1/sales/targets/",
        {"department": org.east.pk, "period_kind": "month", "period_start": "2026-04-01", "amount": "900"},
        format="json",
    ).json()
    split = api.post(f"/api/v1/sales/targets/{dept['id']}/split/", {}, format="json")
    assert split.status_code == 200 and [t["user"] for t in split.json()] == [org.rep3.pk]
    api.force_authenticate(org.rep1)
    listed = api.get("/api/v1/sales/targets/").json()
    assert {t["user"] for t in listed["results"]} == {org.rep1.pk}
