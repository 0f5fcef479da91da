"""Job pages, the progress partial, downloads, cancel and the export start view."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from kehu.core import exports, services
from kehu.core.choices import JobStatus, Scope
from kehu.core.models import Job
from kehu.users.models import User
from kehu.users.tests.factories import grant

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def finished_job(owner: Any, content: bytes = b"a,b\r\n", **kwargs: Any) -> Job:
    job = services.job_create(kind="export", owner=owner, title=f"Export of {owner.username}")
    services.job_start(job_id=job.pk, total=2)
    return services.job_finish(
        job_id=job.pk,
        message="2 rows exported.",
        result={"filename": "Users-1.csv"},
        result_file=("u.csv", content),
        **kwargs,
    )


def test_my_jobs_lists_only_my_own(client, company) -> None:
    mine = finished_job(company.rep1)
    theirs = finished_job(company.rep2)
    client.force_login(company.rep1)
    response = client.get(reverse("core:job_list"))
    assert response.status_code == 200
    assert list(response.context["jobs"]) == [mine]
    assert response.context["sees_others"] is False
    # Asking for everyone's jobs without the right still shows only mine.
    response = client.get(reverse("core:job_list") + "?scope=all")
    assert list(response.context["jobs"]) == [mine]
    assert theirs.title not in response.content.decode()


def test_admins_filter_between_mine_and_everyone(client, company) -> None:
    a = finished_job(company.rep1)
    b = finished_job(company.admin)
    client.force_login(company.admin)
    assert list(client.get(reverse("core:job_list")).context["jobs"]) == [b]
    response = client.get(reverse("core:job_list") + "?scope=all")
    assert list(response.context["jobs"]) == [b, a]
    assert list(client.get(reverse("core:job_list") + "?scope=all&status=failed").context["jobs"]) == []


def test_a_role_may_grant_seeing_others_jobs(client, company) -> None:
    a = finished_job(company.rep1)
    grant(company.role_manager, "core.job", "view", scope=Scope.ALL)
    client.force_login(company.manager1)
    assert list(client.get(reverse("core:job_list") + "?scope=all").context["jobs"]) == [a]
    assert client.get(reverse("core:job_detail", args=[a.pk])).status_code == 200
    # view is not change: they may not cancel it
    running = services.job_create(kind="x", owner=company.rep1)
    assert client.post(reverse("core:job_cancel", args=[running.pk])).status_code == 404
    assert Job.objects.get(pk=running.pk).status == JobStatus.PENDING


def test_other_peoples_jobs_answer_404_everywhere(client, company) -> None:
    job = finished_job(company.rep2)
    running = services.job_create(kind="x", owner=company.rep2)
    client.force_login(company.rep1)
    for url in (
        reverse("core:job_detail", args=[job.pk]),
        reverse("core:job_progress", args=[job.pk]),
        reverse("core:job_download", args=[job.pk, "result"]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("core:job_cancel", args=[running.pk])).status_code == 404
    assert Job.objects.get(pk=running.pk).status == JobStatus.PENDING


def test_anonymous_users_are_sent_to_login(client, company) -> None:
    job = finished_job(company.rep1)
    for url in (
        reverse("core:job_list"),
        reverse("core:job_detail", args=[job.pk]),
        reverse("core:job_progress", args=[job.pk]),
        reverse("core:job_download", args=[job.pk, "result"]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    # A progress poll after the session ended stops polling instead of swapping in the login page.
    assert client.get(reverse("core:job_progress", args=[job.pk]), HTTP_HX_REQUEST="true").status_code == 286


def test_download_serves_the_file_as_attachment(client, company) -> None:
    job = finished_job(company.rep1, content="名字\r\n".encode())
    client.force_login(company.rep1)
    response = client.get(reverse("core:job_download", args=[job.pk, "result"]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == "名字\r\n".encode()
    assert response["Content-Disposition"] == 'attachment; filename="Users-1.csv"'
    assert response["Cache-Control"] == "private, no-store"
    assert client.get(reverse("core:job_download", args=[job.pk, "error"])).status_code == 404
    assert client.get(reverse("core:job_download", args=[job.pk, "other"])).status_code == 404


def test_admin_may_download_anyones_result(client, company) -> None:
    job = finished_job(company.rep1)
    client.force_login(company.admin)
    assert client.get(reverse("core:job_download", args=[job.pk, "result"])).status_code == 200


def test_progress_partial_polls_while_running_and_stops_when_finished(client, company) -> None:
    job = services.job_create(kind="export", owner=company.rep1, title="Export")
    services.job_start(job_id=job.pk, total=200)
    services.job_progress(job_id=job.pk, done=50, message="Exported 50 of 200 rows")
    client.force_login(company.rep1)
    url = reverse("core:job_progress", args=[job.pk])
    response = client.get(url, **HTMX)
    html = response.content.decode()
    assert f'hx-get="{url}"' in html and 'hx-trigger="every 1s"' in html
    assert "50 of 200" in html and "25%" in html and "Exported 50 of 200 rows" in html
    assert "HX-Trigger" not in response
    assert reverse("core:job_cancel", args=[job.pk]) in html  # the owner may cancel

    services.job_finish(job_id=job.pk, message="200 rows exported.", result_file=("a.csv", b"x"))
    response = client.get(url, **HTMX)
    html = response.content.decode()
    assert "hx-trigger" not in html
    assert "100%" in html and "200 rows exported." in html
    assert reverse("core:job_download", args=[job.pk, "result"]) in html
    assert response["HX-Trigger"] == '{"kehu:notifications": {}}'


def test_job_detail_page_renders_progress_from_the_row(client, company) -> None:
    job = services.job_create(
        kind="export", owner=company.rep1, title="Export: Users", params={"format": "csv"}
    )
    services.job_start(job_id=job.pk, total=10)
    services.job_progress(job_id=job.pk, done=3)
    client.force_login(company.rep1)
    response = client.get(reverse("core:job_detail", args=[job.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Export: Users" in html and "30%" in html and 'hx-trigger="every 1s"' in html
    assert f"#{job.pk} · Export</div>" in html  # the kind's display name
    assert response.context["can_cancel"] is True


def test_owner_cancels_a_running_job(client, company) -> None:
    job = services.job_create(kind="export", owner=company.rep1)
    services.job_start(job_id=job.pk)
    client.force_login(company.rep1)
    response = client.post(reverse("core:job_cancel", args=[job.pk]), **HTMX)
    assert response.status_code == 200
    assert "The job was cancelled." in response["HX-Trigger"]
    assert Job.objects.get(pk=job.pk).status == JobStatus.CANCELLED
    # Again: it has already ended.
    response = client.post(reverse("core:job_cancel", args=[job.pk]), **HTMX)
    assert "This job has already ended." in response["HX-Trigger"]
    response = client.post(reverse("core:job_cancel", args=[job.pk]))
    assert response.status_code == 302


def test_cancel_needs_post(client, company) -> None:
    job = services.job_create(kind="export", owner=company.rep1)
    client.force_login(company.rep1)
    assert client.get(reverse("core:job_cancel", args=[job.pk])).status_code == 405
    assert Job.objects.get(pk=job.pk).status == JobStatus.PENDING


# --- export start and the export button ---------------------------------------------------------


@pytest.fixture
def exporter() -> Any:
    exp = exports.Exporter(
        name="test.users",
        model=User,
        title="Users",
        columns=lambda user: [exports.Column("username", "Username")],
        queryset=lambda user, params: (
            User.objects.restrict(user, "export")
            .filter(username__startswith=params.get("q", ""))
            .order_by("username")
        ),
    )
    exports.register_exporter(exp)
    yield exp
    exports._exporters.pop("test.users", None)


def test_export_start_with_htmx_answers_the_progress_modal(
    client, company, exporter, django_capture_on_commit_callbacks
) -> None:
    grant(company.role_all, "users.user", "export", scope=Scope.ALL)
    client.force_login(company.viewer_all)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("core:export_start"),
            {"exporter": "test.users", "fmt": "csv", "params": "q=rep&page=2"},
            **HTMX,
        )
    assert response.status_code == 200
    job = Job.objects.get()
    assert job.owner == company.viewer_all
    assert job.params["filters"] == {"q": "rep"}
    assert f'id="job-progress-{job.pk}"' in response.content.decode()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.result_file.read().decode("utf-8-sig") == "Username\r\nrep1\r\nrep2\r\nrep3\r\n"


def test_export_start_without_htmx_redirects_to_the_job(client, company, exporter) -> None:
    grant(company.role_all, "users.user", "export", scope=Scope.ALL)
    client.force_login(company.viewer_all)
    response = client.post(
        reverse("core:export_start"), {"exporter": "test.users", "fmt": "xlsx", "params": ""}
    )
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("core:job_detail", args=[job.pk])


def test_export_start_refused_without_permission(client, company, exporter) -> None:
    client.force_login(company.rep1)
    response = client.post(reverse("core:export_start"), {"exporter": "test.users", "fmt": "csv"}, **HTMX)
    assert response.status_code == 204
    assert "You may not export users." in response["HX-Trigger"]
    response = client.post(reverse("core:export_start"), {"exporter": "nope", "fmt": "csv"})
    assert response.status_code == 302
    assert Job.objects.count() == 0
    assert client.get(reverse("core:export_start")).status_code == 405


def test_export_button_shows_only_with_permission(rf, company, exporter) -> None:
    from django.template.loader import render_to_string

    request = rf.get("/users/?q=rep&sort=name")
    request.user = company.rep1
    assert (
        render_to_string("core/_export_button.html", {"exporter": "test.users"}, request=request).strip()
        == ""
    )
    grant(company.role_rep, "users.user", "export", scope=Scope.OWN)
    request.user = User.objects.get(pk=company.rep1.pk)
    html = render_to_string("core/_export_button.html", {"exporter": "test.users"}, request=request)
    assert reverse("core:export_start") in html
    assert 'name="params" value="q=rep&amp;sort=name"' in html
    assert 'value="csv"' in html and 'value="xlsx"' in html
    assert (
        render_to_string("core/_export_button.html", {"exporter": "unknown"}, request=request).strip() == ""
    )


def test_polling_the_progress_is_cheap(client, company, django_assert_max_num_queries) -> None:
    job = services.job_create(kind="export", owner=company.rep1)
    services.job_start(job_id=job.pk)
    client.force_login(company.rep1)
    url = reverse("core:job_progress", args=[job.pk])
    client.get(url, **HTMX)
    # session, user, the MFA middleware's check, restrict() (admin? grants), the job
    with django_assert_max_num_queries(6):
        assert client.get(url, **HTMX).status_code == 200
