"""Survey scores and answer counts (the list page, the API's `score` and `response_count`) are
computed from the answers the user may see: a role that may view surveys but not their answers
sees no score, a role that sees only some accounts' answers sees the score of those."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kehu.customers.tests.factories import AccountFactory
from kehu.service.tests.factories_surveys import SurveyFactory, response
from kehu.users.tests.factories import grant

pytestmark = pytest.mark.django_db


def _survey(company: Any) -> Any:
    north = AccountFactory.create(owner=company.rep1, name="北方客户")
    east = AccountFactory.create(owner=company.rep3, name="东方客户")
    survey = SurveyFactory.create(name="年度净推荐值", name_en="Yearly NPS")
    response(survey, 10, account=north)
    response(survey, 3, account=east)
    response(survey, 2, account=east)
    return survey


def _api_row(client: Client, survey: Any) -> dict[str, Any]:
    listed = client.get("/api/v1/service/surveys/")
    assert listed.status_code == 200
    rows = {row["id"]: row for row in listed.json()["results"]}
    one = client.get(f"/api/v1/service/surveys/{survey.pk}/").json()
    assert (one["score"], one["response_count"]) == (
        rows[survey.pk]["score"],
        rows[survey.pk]["response_count"],
    )
    return rows[survey.pk]


def _list_cells(client: Client, survey: Any) -> str:
    page = client.get(reverse("service:survey_list"))
    assert page.status_code == 200
    html = page.content.decode()
    start = html.index(f'data-survey="{survey.pk}"')
    return html[start : html.index("</tr>", start)]


def test_without_the_answers_permission_no_score(company: Any, client: Client) -> None:
    grant(company.role_manager, "service.survey", "view")
    grant(company.role_manager, "customers.account", "view", scope="all")
    survey = _survey(company)
    client.force_login(company.manager1)
    row = _api_row(client, survey)
    assert row["score"] is None and row["response_count"] == 0  # was −33 over 3 answers
    cells = _list_cells(client, survey)
    assert "-33" not in cells and "—" in cells


def test_answers_of_accounts_out_of_scope_do_not_count(company: Any, client: Client) -> None:
    grant(company.role_manager, "service.survey", "view")
    grant(company.role_manager, "service.surveyresponse", "view")
    grant(company.role_manager, "customers.account", "view", scope="department")
    survey = _survey(company)
    client.force_login(company.manager1)
    row = _api_row(client, survey)
    assert row["score"] == 100.0 and row["response_count"] == 1  # only the northern answer
    cells = _list_cells(client, survey)
    assert "100" in cells and "-33" not in cells

    grant(company.role_all, "service.survey", "view")
    grant(company.role_all, "service.surveyresponse", "view")
    grant(company.role_all, "customers.account", "view", scope="all")
    client.force_login(company.viewer_all)
    row = _api_row(client, survey)
    assert row["score"] == -33.0 and row["response_count"] == 3  # every account: every answer
