"""Under /api/, Django-level errors (no matching route, errors outside DRF) answer the JSON shape too."""

from __future__ import annotations

import pytest
from django.test import Client

from kehu.core.api.errors import api_bad_request, api_permission_denied, api_server_error
from kehu.users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_unknown_api_url_answers_json_404(client: Client) -> None:
    client.force_login(UserFactory(username="u404"))
    response = client.get("/api/v1/no-such-thing/%F0%96%86%82%17/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": "not_found", "message": "Not found.", "fields": {}}


def test_unknown_page_outside_the_api_stays_html(client: Client) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_other_handlers_answer_json_under_api(rf: pytest.FixtureRequest) -> None:
    request = rf.get("/api/v1/anything/")  # type: ignore[attr-defined]
    assert api_bad_request(request).status_code == 400
    assert api_permission_denied(request).status_code == 403
    response = api_server_error(request)
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert (
        response.content == b'{"code": "server_error", "message": "A server error occurred.", "fields": {}}'
    )


def test_other_handlers_stay_html_outside_the_api(rf: pytest.FixtureRequest) -> None:
    request = rf.get("/customers/")  # type: ignore[attr-defined]
    assert api_server_error(request)["Content-Type"].startswith("text/html")
    assert api_bad_request(request)["Content-Type"].startswith("text/html")
