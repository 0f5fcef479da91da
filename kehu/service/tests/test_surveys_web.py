"""Survey pages: the customer's answer page (one answer, range, expired and tampered links), the
staff pages (list, form, detail, send now, export) with their permissions, and the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kehu.customers.tests.factories import AccountFactory, ContactFactory
from kehu.service.choices import SurveyKind
from kehu.service.models import Survey, SurveyResponse
from kehu.service.services import surveys as services
from kehu.service.tests.factories import TicketFactory, status
from kehu.service.tests.factories_surveys import InvitationFactory, SurveyFactory, csat, response
from kehu.users.tests.factories import grant

pytestmark = pytest.mark.django_db


def link(invitation: Any, **query: Any) -> str:
    url = reverse("help:survey_answer", args=[services.invitation_signed(invitation)])
    return url + (f"?score={query['score']}" if "score" in query else "")


def csat_invitation(company: Any, **kwargs: Any) -> Any:
    account = AccountFactory.create(owner=company.rep1)
    ticket = TicketFactory.create(
        account=account, assignee=company.rep2, status=status("resolved"), resolved_at=timezone.now()
    )
    return InvitationFactory.create(survey=csat(), ticket=ticket, account=account, **kwargs)


# --- the public answer page -----------------------------------------------------------------------


def test_answer_page_preselects_and_records_one_answer(company: Any, client: Client) -> None:
    invitation = csat_invitation(company, language="en")
    page = client.get(link(invitation, score=4))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="4" checked' in html
    assert invitation.ticket.number in html

    done = client.post(link(invitation), {"score": "4", "comment": "处理很快"})
    assert done.status_code == 200
    assert "survey-message" in done.content.decode()
    answer = SurveyResponse.objects.get()
    assert (answer.score, answer.comment, answer.agent, answer.account) == (
        4,
        "处理很快",
        company.rep2,
        invitation.account,
    )

    second = client.post(link(invitation), {"score": "1", "comment": "改主意"})
    assert second.status_code == 409
    assert list(SurveyResponse.objects.values_list("score", flat=True)) == [4]
    again = client.get(link(invitation))
    assert again.status_code == 200 and "already been answered" in again.content.decode()


@pytest.mark.parametrize("score", ["0", "6", "x", ""])
def test_answer_page_refuses_out_of_range(company: Any, client: Client, score: str) -> None:
    invitation = csat_invitation(company)
    page = client.post(link(invitation), {"score": score})
    assert page.status_code == 400
    assert 'data-error="score"' in page.content.decode()
    assert not SurveyResponse.objects.exists()


def test_nps_answer_page(company: Any, client: Client) -> None:
    invitation = InvitationFactory.create(survey=SurveyFactory.create(kind=SurveyKind.NPS))
    page = client.get(link(invitation))
    assert page.status_code == 200
    assert 'id="score-0"' in page.content.decode() and 'id="score-10"' in page.content.decode()
    assert client.post(link(invitation), {"score": "11"}).status_code == 400
    assert client.post(link(invitation), {"score": "0"}).status_code == 200
    assert SurveyResponse.objects.get().score == 0


def test_expired_and_tampered_links(company: Any, client: Client) -> None:
    expired = csat_invitation(company, language="en", expires_at=timezone.now() - dt.timedelta(days=1))
    page = client.get(link(expired))
    assert page.status_code == 410 and "expired" in page.content.decode()
    assert client.post(link(expired), {"score": "5"}).status_code == 410
    assert not SurveyResponse.objects.exists()

    signed = services.invitation_signed(csat_invitation(company))
    for bad in (signed[:-3] + "abc", "nonsense", signed.split(":")[0]):
        page = client.get(reverse("help:survey_answer", args=[bad]))
        assert page.status_code == 404
        assert "not valid" in page.content.decode()


def test_answer_page_in_the_invitation_language_unless_chosen(company: Any, client: Client) -> None:
    invitation = csat_invitation(company, language="en")
    assert '<html lang="en"' in client.get(link(invitation)).content.decode()
    client.cookies["django_language"] = "zh-hans"
    assert '<html lang="zh-hans"' in client.get(link(invitation)).content.decode()
    chinese = csat_invitation(company, language="zh-hans")
    client.cookies.clear()
    assert '<html lang="zh-hans"' in client.get(link(chinese)).content.decode()


# --- staff pages ------------------------------------------------------------------------------------


def test_survey_pages_need_permission(company: Any, client: Client) -> None:
    survey = SurveyFactory.create()
    for url in (reverse("service:survey_list"), survey.get_absolute_url(), reverse("service:survey_add")):
        assert client.get(url).status_code == 302  # anonymous: to the login
    client.force_login(company.nobody)
    for url in (reverse("service:survey_list"), survey.get_absolute_url(), reverse("service:survey_add")):
        assert client.get(url).status_code == 403
    assert client.post(reverse("service:survey_send", args=[survey.pk])).status_code == 403


def test_survey_list_detail_and_edit(company: Any, client: Client) -> None:
    grant(company.role_manager, "service.survey", "view", "add", "change")
    grant(company.role_manager, "service.surveyresponse", "view", "export")
    grant(company.role_manager, "customers.account", "view", scope="department")
    account = AccountFactory.create(owner=company.rep1, name="北方客户")
    hidden = AccountFactory.create(owner=company.rep3, name="东方客户")
    survey = SurveyFactory.create(name="年度净推荐值", name_en="")
    response(survey, 10, account=account, comment="推荐")
    response(survey, 3, account=hidden, comment="不推荐")
    client.force_login(company.manager1)

    listing = client.get(reverse("service:survey_list"))
    assert listing.status_code == 200 and "年度净推荐值" in listing.content.decode()

    detail = client.get(survey.get_absolute_url())
    html = detail.content.decode()
    assert detail.status_code == 200
    assert "推荐" in html and "不推荐" not in html  # answers of accounts out of scope are not shown
    assert "survey-chart" in html and "service.surveyresponse" in html

    page = client.post(
        reverse("service:survey_add"),
        {
            "kind": "nps",
            "name": "季度 NPS",
            "frequency": "quarterly",
            "valid_days": "30",
            "audience": "title=采购",
        },
    )
    assert page.status_code == 302
    created = Survey.objects.get(name="季度 NPS")
    assert created.audience == {"title": "采购"} and created.frequency == "quarterly"

    bad = client.post(
        reverse("service:survey_edit", args=[created.pk]),
        {"kind": "nps", "name": "季度 NPS", "frequency": "quarterly", "valid_days": "0", "audience": ""},
    )
    assert bad.status_code == 400
    created.refresh_from_db()
    assert created.valid_days == 30


def test_send_now_starts_a_job(company: Any, client: Client, django_capture_on_commit_callbacks: Any) -> None:
    from django.core import mail

    from kehu.core.models import Job

    grant(company.role_manager, "service.survey", "view", "change")
    ContactFactory.create(owner=company.rep1, email="buyer@example.com")
    survey = SurveyFactory.create(created_by=company.admin)  # the audience is what its author sees
    client.force_login(company.manager1)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse("service:survey_send", args=[survey.pk]))
    assert answer.status_code == 302
    job = Job.objects.get(kind=services.JOB_KIND)
    assert job.status == "succeeded" and job.owner == company.manager1
    assert [m.to for m in mail.outbox] == [["buyer@example.com"]]


def test_ticket_rating_selector_and_account_panel(company: Any, client: Client) -> None:
    grant(company.role_rep, "customers.account", "view", scope="own")
    grant(company.role_rep, "service.surveyresponse", "view")
    invitation = csat_invitation(company)
    services.survey_answer(invitation=invitation, score=5, comment="非常满意")
    client.force_login(company.rep1)
    page = client.get(invitation.account.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-panel="satisfaction"' in html and "非常满意" in html


# --- API ----------------------------------------------------------------------------------------------


def test_api_surveys_and_responses(company: Any, client: Client) -> None:
    grant(company.role_manager, "service.survey", "view", "add", "change", "delete")
    grant(company.role_manager, "service.surveyresponse", "view")
    grant(company.role_manager, "customers.account", "view", scope="department")
    account = AccountFactory.create(owner=company.rep1)
    other = AccountFactory.create(owner=company.rep3)
    nps = SurveyFactory.create()
    response(nps, 9, account=account)
    response(nps, 2, account=other)
    response(csat(), 5, account=account)
    client.force_login(company.manager1)

    listed = client.get("/api/v1/service/surveys/").json()
    names = {row["id"]: row for row in listed["results"]}
    assert names[nps.pk]["score"] == 100.0 or names[nps.pk]["score"] == 0.0

    created = client.post(
        "/api/v1/service/surveys/",
        {"kind": "nps", "name": "API NPS", "audience": {"title": "采购"}},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    bad = client.post(
        "/api/v1/service/surveys/",
        {"kind": "nps", "name": "x", "audience": {"completeness_min": "lots"}},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "audience" in bad.json()["fields"]

    answers = client.get(f"/api/v1/service/survey-responses/?survey={nps.pk}").json()["results"]
    assert [a["account"] for a in answers] == [account.pk]  # the other region's answer is out of scope
    by_account = client.get(f"/api/v1/service/survey-responses/?account={account.pk}").json()["results"]
    assert {a["kind"] for a in by_account} == {"nps", "csat"}

    send_csat = client.post(f"/api/v1/service/surveys/{csat().pk}/send/")
    assert send_csat.status_code == 400 and send_csat.json()["code"] == "not_nps"

    client.force_login(company.nobody)
    assert client.get("/api/v1/service/surveys/").status_code == 403
    assert client.get("/api/v1/service/survey-responses/").status_code == 403
