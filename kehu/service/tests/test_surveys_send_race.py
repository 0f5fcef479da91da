"""Two "Send now" of one NPS survey at once on PostgreSQL (real transactions and connections): one
sending starts, the other is refused (checked under the survey's row lock)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from kehu.core.models import Job
from kehu.service.services import surveys as services
from kehu.service.services.surveys import SurveyError
from kehu.service.tests.factories_surveys import SurveyFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="parallel transactions need PostgreSQL"),
]


def test_two_clicks_at_once_start_one_sending(company: Any) -> None:
    survey = SurveyFactory.create(created_by=company.admin)
    start = threading.Barrier(4)
    started: list[int] = []
    refused: list[str] = []

    def click() -> None:
        try:
            start.wait()
            started.append(services.survey_send_now(survey=survey, by=company.admin).pk)
        except SurveyError as exc:
            refused.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=click) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(started) == 1 and refused == [SurveyError.SENDING] * 3
    assert list(Job.objects.filter(kind=services.JOB_KIND).values_list("pk", flat=True)) == started
