"""The OpenAPI schema of ``POST /api/v1/service/surveys/{id}/send/`` documents its own answers:
202 (the job), 400 (not an NPS survey, code ``not_nps``) and 409 (a sending of this survey is
already running, code ``survey_sending``), each with the error body."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_send_documents_the_conflict_answer() -> None:
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    answers = response.json()["paths"]["/api/v1/service/surveys/{id}/send/"]["post"]["responses"]
    assert {"202", "400", "409"} <= set(answers)
    for code in ("400", "409"):
        assert answers[code]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    assert "survey_sending" in answers["409"]["description"]
    assert "not_nps" in answers["400"]["description"]
