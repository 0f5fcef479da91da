"""KehuAutoSchema documents the error responses of every operation with the error body."""

from __future__ import annotations

from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

ERROR_REF = {"$ref": "#/components/schemas/Error"}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    generator = SchemaGenerator(urlconf="tests.api.fake_api")
    return generator.get_schema(request=None, public=True)


def codes(schema: dict[str, Any], path: str, method: str) -> list[str]:
    return sorted(schema["paths"][path][method]["responses"])


def test_list_documents_401_403_and_404_for_a_bad_cursor(schema: dict[str, Any]) -> None:
    # A ViewSet without pagination or filters: no query parameters, so no 400.
    assert codes(schema, "/api/v1/gadgets/", "get") == ["200", "401", "403"]


def test_create_documents_validation_auth_and_conflict(schema: dict[str, Any]) -> None:
    assert codes(schema, "/api/v1/gadgets/", "post") == ["201", "400", "401", "403", "409"]


def test_detail_documents_404(schema: dict[str, Any]) -> None:
    assert codes(schema, "/api/v1/gadgets/{id}/", "get") == ["200", "401", "403", "404"]
    assert codes(schema, "/api/v1/gadgets/{id}/", "delete") == ["204", "400", "401", "403", "404", "409"]


def test_open_endpoint_has_no_403(schema: dict[str, Any]) -> None:
    assert codes(schema, "/api/v1/ping/", "get") == ["200", "401"]


def test_error_responses_use_the_error_body(schema: dict[str, Any]) -> None:
    response = schema["paths"]["/api/v1/gadgets/"]["post"]["responses"]["409"]
    assert response["content"] == {"application/json": {"schema": ERROR_REF}}
    assert response["description"].startswith("The request conflicts")
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "fields", "message"]
    assert error["properties"]["fields"] == {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
        "description": "Messages per field, for validation errors.",
    }


def test_cursor_paginated_list_documents_400_and_404(schema: dict[str, Any]) -> None:
    operation = schema["paths"]["/api/v1/jobs/"]["get"]
    assert sorted(p["name"] for p in operation["parameters"]) == ["cursor", "page_size"]
    assert sorted(operation["responses"]) == ["200", "400", "401", "403", "404"]
