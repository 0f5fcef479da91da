"""Job status in the API: list (own by default), detail, cancel."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from kehu.core import services
from kehu.core.choices import JobStatus, Scope
from kehu.core.models import Job
from kehu.users.tests.factories import grant

pytestmark = pytest.mark.django_db


def api(user: Any = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_list_is_own_jobs_with_progress_and_result_url(company) -> None:
    job = services.job_create(kind="export", owner=company.rep1, title="Export")
    services.job_start(job_id=job.pk, total=4)
    services.job_progress(job_id=job.pk, done=1, message="1 of 4")
    services.job_create(kind="export", owner=company.rep2)
    response = api(company.rep1).get("/api/v1/core/jobs/")
    assert response.status_code == 200
    [item] = response.json()["results"]
    assert item["id"] == job.pk
    assert (item["status"], item["progress_done"], item["progress_total"], item["percent"]) == (
        "running",
        1,
        4,
        25,
    )
    assert item["message"] == "1 of 4"
    assert item["is_finished"] is False
    assert item["result_url"] is None

    services.job_finish(job_id=job.pk, result_file=("r.csv", b"x"))
    item = api(company.rep1).get(f"/api/v1/core/jobs/{job.pk}/").json()
    assert item["status"] == "succeeded" and item["percent"] == 100
    assert item["result_url"] == f"http://testserver/jobs/{job.pk}/download/result/"


def test_scope_all_and_filters(company) -> None:
    a = services.job_create(kind="export", owner=company.rep1)
    b = services.job_create(kind="import", owner=company.admin)
    ids = lambda r: [i["id"] for i in r.json()["results"]]  # noqa: E731
    assert ids(api(company.admin).get("/api/v1/core/jobs/")) == [b.pk]
    assert ids(api(company.admin).get("/api/v1/core/jobs/?scope=all")) == [b.pk, a.pk]
    assert ids(api(company.admin).get("/api/v1/core/jobs/?scope=all&kind=export")) == [a.pk]
    assert ids(api(company.rep1).get("/api/v1/core/jobs/?scope=all")) == [a.pk]
    assert api(company.rep1).get("/api/v1/core/jobs/?status=nonsense").status_code == 400


def test_detail_of_another_users_job_is_404(company) -> None:
    job = services.job_create(kind="export", owner=company.rep2)
    assert api(company.rep1).get(f"/api/v1/core/jobs/{job.pk}/").status_code == 404
    assert api(company.admin).get(f"/api/v1/core/jobs/{job.pk}/").status_code == 200
    grant(company.role_manager, "core.job", "view", scope=Scope.ALL)
    assert api(company.manager1).get(f"/api/v1/core/jobs/{job.pk}/").status_code == 200


def test_cancel(company) -> None:
    job = services.job_create(kind="export", owner=company.rep1)
    assert api(company.rep2).post(f"/api/v1/core/jobs/{job.pk}/cancel/").status_code == 404
    response = api(company.rep1).post(f"/api/v1/core/jobs/{job.pk}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    response = api(company.rep1).post(f"/api/v1/core/jobs/{job.pk}/cancel/")
    assert response.status_code == 409
    assert response.json() == {"code": "job_finished", "message": "This job has already ended.", "fields": {}}
    assert Job.objects.get(pk=job.pk).status == JobStatus.CANCELLED


def test_anonymous_is_refused(company) -> None:
    assert api().get("/api/v1/core/jobs/").status_code in (401, 403)
