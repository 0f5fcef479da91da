"""The HTML error pages (400, 403, 404, 500): the app's own layout and words, for signed-in and
anonymous users; the 500 page needs neither the request nor the database. Under /api/ the JSON error
body stays."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views import defaults

from kehu.core.api import errors as api_errors

pytestmark = pytest.mark.django_db

STYLED = ('id="kehu-error"', "vendor/tabler/tabler.min.css", 'id="kehu-error-home"')


def _assert_styled(response: Any, status: int, heading: str) -> str:
    assert response.status_code == status
    html = response.content.decode()
    for marker in STYLED:
        assert marker in html, marker
    assert heading in html
    assert "<h1>Forbidden" not in html and "<h1>Not Found" not in html  # not Django's plain pages
    return html


def test_a_refused_page_renders_the_styled_403_template(company: Any, client: Client) -> None:
    client.force_login(company.nobody)
    response = client.get(reverse("users:user_list"))
    assert [t.name for t in response.templates][:2] == ["403.html", "error_base.html"]
    html = _assert_styled(response, 403, "Access denied")
    assert 'id="kehu-error-login"' not in html  # signed in: no sign-in link


def test_the_403_page_offers_an_anonymous_user_to_sign_in() -> None:
    request = RequestFactory().get("/settings/users/?q=x")
    request.user = AnonymousUser()
    response = api_errors.api_permission_denied(request, PermissionDenied())
    html = _assert_styled(response, 403, "Access denied")
    assert 'id="kehu-error-login"' in html
    assert "next=/settings/users/%3Fq%3Dx" in html


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed in"])
def test_an_unknown_page_renders_the_styled_404_template(
    company: Any, client: Client, signed_in: bool
) -> None:
    if signed_in:
        client.force_login(company.rep1)
    response = client.get("/no/such/page/")
    _assert_styled(response, 404, "Page not found")


def test_the_api_keeps_its_json_error_bodies(company: Any, client: Client) -> None:
    client.force_login(company.rep1)
    response = client.get("/api/v1/no-such-endpoint/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_500_and_400_pages_render_without_the_request_context_or_any_query(
    django_assert_num_queries: Any,
) -> None:
    request = RequestFactory().get("/anything/")
    with django_assert_num_queries(0):
        server_error = defaults.server_error(request)
        bad_request = defaults.bad_request(request, Exception("bad"))
    _assert_styled(server_error, 500, "Server error")
    _assert_styled(bad_request, 400, "Bad request")
