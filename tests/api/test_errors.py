"""Every API error answers the one shape `{"code", "message", "fields"}` with the right status."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import DataError
from django.test import Client

from kehu.core.api.errors import exception_handler
from kehu.users.services import api_token_create
from kehu.users.tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.api.fake_api")]

URL = "/api/v1/gadgets/"


@pytest.fixture
def api(client: Client) -> Client:
    client.force_login(UserFactory(username="apiuser"))
    return client


def body(response: Any) -> dict[str, Any]:
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert set(data) == {"code", "message", "fields"}
    return data


def post_json(client: Client, url: str, data: Any, **extra: Any) -> Any:
    return client.post(
        url, json.dumps(data) if not isinstance(data, str) else data, "application/json", **extra
    )


def test_validation_error_lists_messages_per_field(api: Client) -> None:
    response = post_json(api, URL, {"name": "x" * 21, "count": -1})
    assert response.status_code == 400
    assert body(response) == {
        "code": "invalid",
        "message": "Some fields are not valid.",
        "fields": {
            "name": ["Ensure this field has no more than 20 characters."],
            "count": ["Ensure this value is greater than or equal to 0."],
        },
    }


def test_missing_fields(api: Client) -> None:
    response = post_json(api, URL, {})
    assert response.status_code == 400
    assert body(response)["fields"] == {
        "name": ["This field is required."],
        "count": ["This field is required."],
    }


def test_nul_character_in_json_is_refused_with_400(api: Client) -> None:
    response = post_json(api, URL, {"name": "a\x00b", "count": 1})
    assert response.status_code == 400
    assert body(response) == {
        "code": "parse_error",
        "message": "Text must not contain NUL (\\u0000) characters.",
        "fields": {},
    }


def test_nul_character_in_a_nested_key_is_refused(api: Client) -> None:
    response = post_json(api, URL, {"name": "ok", "count": 1, "extra": [{"k\x00": "v"}]})
    assert response.status_code == 400
    assert body(response)["code"] == "parse_error"


def test_malformed_json(api: Client) -> None:
    response = post_json(api, URL, '{"name": ')
    assert response.status_code == 400
    data = body(response)
    assert data["code"] == "parse_error"
    assert data["message"].startswith("JSON parse error")


def test_not_found(api: Client) -> None:
    response = api.get(f"{URL}999/")
    assert response.status_code == 404
    assert body(response) == {"code": "not_found", "message": "Not found.", "fields": {}}


def test_anonymous_gets_401_with_www_authenticate(client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert body(response) == {
        "code": "not_authenticated",
        "message": "Authentication credentials were not provided.",
        "fields": {},
    }


def test_invalid_token_gets_401(client: Client) -> None:
    response = client.get(URL, HTTP_AUTHORIZATION="Token not-a-real-key")
    assert response.status_code == 401
    assert body(response) == {"code": "authentication_failed", "message": "Invalid token.", "fields": {}}


def test_valid_personal_token_authenticates(client: Client) -> None:
    user = UserFactory(username="tokenuser")
    _token, key = api_token_create(user=user, name="ci")
    response = client.get(URL, HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    assert response.json() == [{"id": 1, "name": "one", "count": 1}]


def test_method_not_allowed(api: Client) -> None:
    response = api.put(URL, "{}", "application/json")
    assert response.status_code == 405
    assert body(response) == {
        "code": "method_not_allowed",
        "message": 'Method "PUT" not allowed.',
        "fields": {},
    }


def test_unsupported_media_type(api: Client) -> None:
    response = api.post(URL, "<x/>", "application/xml")
    assert response.status_code == 415
    assert body(response)["code"] == "unsupported_media_type"


def test_domain_error_keeps_its_code_and_status(api: Client) -> None:
    response = post_json(api, URL, {"name": "domain", "count": 1})
    assert response.status_code == 400
    assert body(response) == {"code": "not_here", "message": "Not allowed here.", "fields": {}}


def test_conflict_error_answers_409_with_fields(api: Client) -> None:
    response = post_json(api, URL, {"name": "taken", "count": 1})
    assert response.status_code == 409
    assert body(response) == {
        "code": "name_taken",
        "message": "This name is taken.",
        "fields": {"name": ["Taken."]},
    }


def test_success_is_untouched(api: Client) -> None:
    response = post_json(api, URL, {"name": "new", "count": 3})
    assert response.status_code == 201
    assert response.json() == {"id": 2, "name": "new", "count": 3}


def test_invalid_cursor_answers_404_with_the_shape(api: Client) -> None:
    response = api.get("/api/v1/jobs/", {"cursor": "garbage"})
    assert response.status_code == 404
    assert body(response) == {"code": "not_found", "message": "Invalid cursor", "fields": {}}


def test_keyset_pagination_shape(api: Client) -> None:
    response = api.get("/api/v1/jobs/", {"page_size": "2"})
    assert response.status_code == 200
    assert response.json() == {"next": None, "previous": None, "results": []}


def test_number_too_big_for_the_database_is_never_a_500(api: Client) -> None:
    from django.db import connection

    assert api.get("/api/v1/jobs/exists/12/").json() == {"exists": False}
    response = api.get(f"/api/v1/jobs/exists/{10**30}/")
    if connection.vendor == "sqlite":  # SQLite cannot even bind the number: OverflowError
        assert response.status_code == 400
        assert body(response) == {"code": "out_of_range", "message": "A value is out of range.", "fields": {}}
    else:  # PostgreSQL compares it as numeric
        assert response.status_code == 200
        assert response.json() == {"exists": False}


@pytest.mark.parametrize("exc", [OverflowError("Python int too large"), DataError("value out of range")])
def test_database_range_errors_map_to_400(exc: Exception) -> None:
    response = exception_handler(exc, {})
    assert response is not None
    assert response.status_code == 400
    assert response.data == {"code": "out_of_range", "message": "A value is out of range.", "fields": {}}


def test_other_exceptions_are_left_to_django() -> None:
    assert exception_handler(KeyError("x"), {}) is None
