"""The service dashboard: exact numbers on a small seeded data set, scoped per user (a rep sees
the tickets they handle, the viewer of all sees everything), the queue and date filters, the page
(both languages, empty states, permissions) and the API returning the same numbers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kehu.core.choices import Action, Scope
from kehu.service.choices import SLAEventKind, SLAMetric, SurveyKind, TicketPriority
from kehu.service.models import SLAEvent
from kehu.service.selectors.dashboard import default_range, service_dashboard
from kehu.users.tests.factories import grant

from .factories import TicketFactory, queue_with, status
from .factories_surveys import SurveyFactory, csat, response

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


@pytest.fixture
def data(tickets_granted: Any) -> dict[str, Any]:
    c = tickets_granted
    qa, qb = queue_with(name="一线", name_en="First line"), queue_with(name="二线", name_en="Second line")
    t1 = TicketFactory(
        assignee=c.rep1,
        queue=qa,
        status=status("new"),
        priority=TicketPriority.HIGH,
        created_at=NOW - 2 * H,
        first_response_due=NOW + H,
    )
    t2: Any = TicketFactory(
        assignee=c.rep1,
        queue=qa,
        status=status("in_progress"),
        priority=TicketPriority.URGENT,
        created_at=NOW - 5 * D,
        first_responded_at=NOW - 5 * D + H,
        first_response_due=NOW - 4 * D,
        resolution_due=NOW - 3 * D,
        resolution_breached=True,
    )
    t3 = TicketFactory(
        assignee=c.rep2,
        queue=qb,
        status=status("resolved"),
        created_at=NOW - 10 * D,
        first_responded_at=NOW - 10 * D + 2 * H,
        resolved_at=NOW - 10 * D + 10 * H,
        first_response_due=NOW - 9 * D,
        resolution_due=NOW - 8 * D,
    )
    t4 = TicketFactory(assignee=c.rep2, queue=qb, status=status("waiting"), created_at=NOW - 40 * D)
    t5 = TicketFactory(
        assignee=c.rep1,
        queue=qb,
        status=status("closed"),
        created_at=NOW - 3 * D,
        first_responded_at=NOW - 3 * D + H / 2,
        resolved_at=NOW - 3 * D + 4 * H,
    )
    old = TicketFactory(assignee=c.rep1, queue=qa, status=status("closed"), created_at=NOW - 400 * D)
    SLAEvent.objects.create(
        ticket=t2,
        metric=SLAMetric.RESOLUTION,
        kind=SLAEventKind.BREACH,
        due_at=NOW - 3 * D,
        occurred_at=NOW - 3 * D,
    )
    SLAEvent.objects.create(
        ticket=t2,
        metric=SLAMetric.RESOLUTION,
        kind=SLAEventKind.WARNING,
        due_at=NOW - 3 * D,
        occurred_at=NOW - 4 * D,
    )
    survey = csat()
    response(survey, 5, at=NOW - 9 * D, ticket=t3)
    response(survey, 3, at=NOW - 2 * D, ticket=t5)
    response(survey, 1, at=NOW - 35 * D, ticket=t4)
    response(survey, 2, at=NOW - 300 * D, ticket=old)  # outside the range
    nps: Any = SurveyFactory(kind=SurveyKind.NPS)
    for score, days in ((10, 1), (9, 20), (3, 20), (7, 50)):
        response(nps, score, at=NOW - days * D)
    grant(c.role_all, "service.surveyresponse", Action.VIEW, scope=Scope.ALL)
    return {"c": c, "qa": qa, "qb": qb, "tickets": (t1, t2, t3, t4, t5)}


def _numbers(user: Any, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("date_from", (NOW - 60 * D).date())
    kwargs.setdefault("date_to", timezone.localdate(NOW))
    return service_dashboard(user=user, now=NOW, **kwargs)


def _counts(rows: list[dict[str, Any]]) -> dict[Any, int]:
    return {r["key"]: r["count"] for r in rows}


def test_viewer_of_all_sees_every_ticket(data: dict[str, Any]) -> None:
    d = _numbers(data["c"].viewer_all)
    assert d["open"]["total"] == 3
    assert _counts(d["open"]["by_status"]) == {"new": 1, "in_progress": 1, "waiting": 1}
    assert _counts(d["open"]["by_priority"]) == {4: 1, 3: 1, 2: 1}
    assert [r["key"] for r in d["open"]["by_priority"]] == [4, 3, 2]
    assert _counts(d["open"]["by_queue"]) == {data["qa"].pk: 2, data["qb"].pk: 1}
    assert _counts(d["backlog_age"]) == {"lt1d": 1, "1to3d": 0, "3to7d": 1, "7to30d": 0, "gt30d": 1}
    sla = d["sla"]
    assert (sla["tickets"], sla["with_targets"], sla["met"], sla["breached"], sla["running"]) == (
        5,
        3,
        1,
        1,
        1,
    )
    assert sla["compliance"] == 50.0
    metrics = {r["key"]: (r["tickets"], r["events"]) for r in sla["by_metric"]}
    assert metrics == {"first_response": (0, 0), "next_response": (0, 0), "resolution": (1, 1)}
    times = d["times"]
    assert times["basis"] == "wall_clock"
    assert times["first_response"] == {"count": 3, "average_seconds": 4200}  # (1 h + 2 h + 30 min) / 3
    assert times["resolution"] == {"count": 2, "average_seconds": 25200}  # (10 h + 4 h) / 2
    c = d["csat"]
    assert c["count"] == 3 and c["average"] == 3.0
    assert [r["count"] for r in c["distribution"]] == [1, 0, 1, 0, 1]
    assert sum(r["count"] for r in c["trend"]) == 3
    n = d["nps"]
    assert (n["count"], n["promoters"], n["passives"], n["detractors"], n["score"]) == (4, 2, 1, 1, 25)
    assert sum(r["count"] for r in n["trend"]) == 4


def test_query_count_does_not_grow_with_tickets(
    data: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    viewer = data["c"].viewer_all
    with django_assert_max_num_queries(16):
        _numbers(viewer)
    for _ in range(5):
        TicketFactory(assignee=data["c"].rep2, queue=data["qb"], status=status("new"), created_at=NOW - 2 * D)
    with django_assert_max_num_queries(16):
        assert _numbers(viewer)["open"]["total"] == 8


def test_rep_sees_only_their_tickets(data: dict[str, Any]) -> None:
    d = _numbers(data["c"].rep1)
    assert d["open"]["total"] == 2
    assert _counts(d["open"]["by_queue"]) == {data["qa"].pk: 2}
    assert _counts(d["backlog_age"])["gt30d"] == 0
    sla = d["sla"]
    assert (sla["tickets"], sla["with_targets"], sla["met"], sla["breached"], sla["running"]) == (
        3,
        2,
        0,
        1,
        1,
    )
    assert sla["compliance"] == 0.0
    assert d["times"]["first_response"] == {"count": 2, "average_seconds": 2700}
    assert d["times"]["resolution"] == {"count": 1, "average_seconds": 14400}
    assert d["csat"]["count"] == 1 and d["csat"]["average"] == 3.0
    assert d["nps"] is None  # no permission on survey answers
    assert _numbers(data["c"].rep3)["open"]["total"] == 0


def test_queue_and_date_filters(data: dict[str, Any]) -> None:
    viewer = data["c"].viewer_all
    d = _numbers(viewer, queue=data["qb"])
    assert d["open"]["total"] == 1 and d["sla"]["tickets"] == 3 and d["csat"]["count"] == 3
    d = _numbers(viewer, date_from=(NOW - 7 * D).date())
    assert d["sla"]["tickets"] == 3  # t1, t2, t5
    assert d["open"]["total"] == 3  # open tickets are as of now, whatever the range
    assert d["csat"]["count"] == 1 and d["nps"]["count"] == 1


def test_empty_data_set(tickets_granted: Any) -> None:
    d = _numbers(tickets_granted.viewer_all)
    assert d["open"]["total"] == 0 and d["sla"]["compliance"] is None
    assert d["times"]["first_response"]["average_seconds"] is None
    assert d["csat"] == {
        "count": 0,
        "average": None,
        "distribution": [{"score": s, "count": 0} for s in range(1, 6)],
        "trend": [],
    }


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_page_shows_numbers_charts_and_tables(client: Client, data: dict[str, Any], lang: str) -> None:
    client.force_login(data["c"].viewer_all)
    client.cookies["django_language"] = lang
    url = (
        reverse("service:dashboard") + f"?date_from={(NOW - 60 * D).date()}&date_to={timezone.localdate(NOW)}"
    )
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-kpi="open">3<' in html and 'data-kpi="compliance">50.0%<' in html
    assert "vendor/echarts/echarts.min.js" in html and 'id="service-dashboard-data"' in html
    assert 'id="chart-open-status"' in html and 'data-age="gt30d"' in html
    assert f'lang="{lang}"' in html


def test_page_empty_states_and_bad_filter(client: Client, tickets_granted: Any) -> None:
    client.force_login(tickets_granted.viewer_all)
    html = client.get(reverse("service:dashboard")).content.decode()
    assert 'data-empty="csat"' in html and 'data-kpi="open">0<' in html
    start, end = default_range()
    assert f'value="{start.isoformat()}"' in html and f'value="{end.isoformat()}"' in html
    bad = client.get(reverse("service:dashboard") + "?date_from=2026-05-01&date_to=2026-04-01")
    assert bad.status_code == 400 and "The end comes before the start." in bad.content.decode()


def test_permissions(client: Client, tickets_granted: Any) -> None:
    url = reverse("service:dashboard")
    assert client.get(url).status_code == 302
    client.force_login(tickets_granted.nobody)
    assert client.get(url).status_code == 403
    assert client.get("/api/v1/service/dashboard/").status_code == 403
    client.force_login(tickets_granted.rep1)
    assert client.get(url).status_code == 200


def test_menu_item_first_in_service_group(tickets_granted: Any) -> None:
    from kehu.core import navigation

    group = navigation.register_group("service", "", icon="", order=0)
    assert group.items[0].url_name == "service:dashboard"


def test_api_returns_the_same_numbers(client: Client, data: dict[str, Any]) -> None:
    viewer = data["c"].viewer_all
    client.force_login(viewer)
    start, end = (NOW - 60 * D).date(), timezone.localdate(NOW)
    response = client.get("/api/v1/service/dashboard/", {"date_from": str(start), "date_to": str(end)})
    assert response.status_code == 200
    body = response.json()
    expected = _numbers(viewer)
    for key in ("open", "sla", "times", "csat", "nps", "filters"):
        assert body[key] == expected[key], key
    assert client.get("/api/v1/service/dashboard/", {"queue": data["qb"].pk}).json()["open"]["total"] == 1
    bad = client.get("/api/v1/service/dashboard/", {"date_from": "nope"})
    assert bad.status_code == 400
    client.force_login(data["c"].rep1)
    assert client.get("/api/v1/service/dashboard/", {"date_from": str(start)}).json()["open"]["total"] == 2
