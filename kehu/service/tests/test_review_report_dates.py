"""Report filters refuse dates outside 2000..2100 with a field error (a range ends at the next
day's midnight, and 9999-12-31 has none): the dashboard page and API, the SLA compliance report."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from kehu.service.forms_dashboard import DashboardFilterForm

pytestmark = pytest.mark.django_db

OUT_OF_RANGE = "Enter a date in the years 2000 to 2100."


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "2101-01-01", "1999-12-31"])
def test_dashboard_form_refuses_out_of_range_dates(company: Any, value: str) -> None:
    for name in ("date_from", "date_to"):
        form = DashboardFilterForm({name: value})
        assert not form.is_valid()
        assert form.errors[name] == [OUT_OF_RANGE]
    assert DashboardFilterForm({"date_from": "2000-01-01", "date_to": "2100-12-31"}).is_valid()


def test_dashboard_page_and_api_answer_400(company: Any, client: Client) -> None:
    client.force_login(company.admin)
    client.cookies["django_language"] = "en"
    response = client.get(reverse("service:dashboard"), {"date_to": "9999-12-31"})
    assert response.status_code == 400
    assert OUT_OF_RANGE in response.content.decode()
    api = APIClient()
    api.force_authenticate(company.admin)
    answer = api.get("/api/v1/service/dashboard/", {"date_to": "9999-12-31"}, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400
    assert OUT_OF_RANGE in str(answer.json())


def test_sla_report_answers_400_with_a_field_error(company: Any, client: Client) -> None:
    client.force_login(company.admin)
    client.cookies["django_language"] = "en"
    for value in ("9999-12-31", "0001-01-01"):
        response = client.get(reverse("service:sla_report"), {"date_to": value})
        assert response.status_code == 400
        assert OUT_OF_RANGE in response.content.decode()
    assert client.get(reverse("service:sla_report"), {"date_to": "2026-11-30"}).status_code == 200
