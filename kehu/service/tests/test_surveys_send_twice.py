""" "Send now" on an NPS survey starts one sending: a second click or an API retry while a sending
is queued or running, or less than `SEND_AGAIN_AFTER` after one started, is refused (each sending is
a run of its own, so a second one would e-mail everyone again)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kehu.core.models import Job
from kehu.service.services import surveys as services
from kehu.service.services.surveys import SurveyError
from kehu.service.tests.factories_surveys import SurveyFactory
from kehu.users.tests.factories import grant

pytestmark = pytest.mark.django_db


def _age(job: Job, minutes: int, status: str = "succeeded") -> None:
    then = timezone.now() - dt.timedelta(minutes=minutes)
    Job.objects.filter(pk=job.pk).update(status=status, created_at=then, started_at=then, finished_at=then)


def test_send_now_is_refused_while_a_sending_is_recent_or_unfinished(company: Any) -> None:
    survey = SurveyFactory.create(created_by=company.admin)
    other = SurveyFactory.create(created_by=company.admin)
    first = services.survey_send_now(survey=survey, by=company.admin)

    with pytest.raises(SurveyError) as refused:  # a second click a second later: a run of its own
        services.survey_send_now(
            survey=survey, by=company.admin, now=timezone.now() + dt.timedelta(seconds=1)
        )
    assert refused.value.code == SurveyError.SENDING and refused.value.status == 409
    assert "10 minutes" in str(refused.value.message)
    assert Job.objects.filter(kind=services.JOB_KIND).count() == 1
    assert services.survey_send_now(survey=other, by=company.admin)  # another survey is not held up

    _age(first, minutes=5)  # finished, but started 5 minutes ago
    with pytest.raises(SurveyError):
        services.survey_send_now(survey=survey, by=company.admin)
    _age(first, minutes=60, status="pending")  # still queued an hour later (no worker)
    with pytest.raises(SurveyError):
        services.survey_send_now(survey=survey, by=company.admin)
    _age(first, minutes=11)  # finished 11 minutes ago: a new sending is allowed
    second = services.survey_send_now(survey=survey, by=company.admin)
    assert second.pk != first.pk


def test_a_scheduled_sending_under_way_holds_up_send_now(company: Any) -> None:
    survey = SurveyFactory.create(
        created_by=company.admin, next_run_at=timezone.now() - dt.timedelta(minutes=1)
    )
    assert len(services.surveys_run_due()) == 1
    with pytest.raises(SurveyError) as refused:
        services.survey_send_now(survey=survey, by=company.admin)
    assert refused.value.code == SurveyError.SENDING


def test_second_click_and_api_retry_get_the_message(company: Any, client: Client) -> None:
    grant(company.role_manager, "service.survey", "view", "change")
    survey = SurveyFactory.create(created_by=company.admin)
    client.force_login(company.manager1)
    assert client.post(reverse("service:survey_send", args=[survey.pk])).status_code == 302
    again = client.post(reverse("service:survey_send", args=[survey.pk]), follow=True)
    assert "10 minutes" in again.content.decode() or "10 分钟" in again.content.decode()
    retried = client.post(f"/api/v1/service/surveys/{survey.pk}/send/")
    assert retried.status_code == 409
    assert retried.json()["code"] == SurveyError.SENDING and retried.json()["message"]
    assert Job.objects.filter(kind=services.JOB_KIND).count() == 1
