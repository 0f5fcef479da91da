"""The OpenAPI schema documents the collision check (撞单检查) on the account, contact and lead
create/edit operations: the 409 body (the `CollisionError` component with its matches) and the
``confirm_collisions`` request field."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db

REF = "#/components/schemas/"


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].removeprefix(REF)]
    return node


def _properties(schema: dict[str, Any], node: dict[str, Any]) -> set[str]:
    node = _resolve(schema, node)
    out = set(node.get("properties", {}))
    for part in node.get("allOf", []) + node.get("anyOf", []):
        out |= _properties(schema, part)
    return out


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/v1/customers/accounts/", "post"),
        ("/api/v1/customers/accounts/{id}/", "put"),
        ("/api/v1/customers/accounts/{id}/", "patch"),
        ("/api/v1/customers/contacts/", "post"),
        ("/api/v1/customers/contacts/{id}/", "patch"),
        ("/api/v1/sales/leads/", "post"),
        ("/api/v1/sales/leads/{id}/", "patch"),
    ],
)
def test_create_and_edit_document_the_collision_answer_and_the_confirm_field(
    schema: dict[str, Any], path: str, method: str
) -> None:
    operation = schema["paths"][path][method]
    conflict = operation["responses"]["409"]
    body = conflict["content"]["application/json"]["schema"]
    refs = [part["$ref"] for part in body["anyOf"]]
    assert f"{REF}CollisionError" in refs and f"{REF}Error" in refs
    assert "collision" in conflict["description"]
    request = operation["requestBody"]["content"]["application/json"]["schema"]
    assert "confirm_collisions" in _properties(schema, request)


def test_the_collision_component_lists_the_matches(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    collision = components["CollisionError"]
    assert {"code", "message", "policy", "confirm_field", "matches"} <= set(collision["properties"])
    match = _resolve(schema, collision["properties"]["matches"]["items"])
    assert {"model", "id", "label", "matched_on", "visible", "url"} <= set(match["properties"])
    confirm = components["CollisionConfirmRequest"]["properties"]["confirm_collisions"]
    assert confirm["type"] == "boolean"


def test_other_writes_keep_the_plain_conflict(schema: dict[str, Any]) -> None:
    delete = schema["paths"]["/api/v1/customers/accounts/{id}/"]["delete"]["responses"]["409"]
    assert delete["content"]["application/json"]["schema"] == {"$ref": f"{REF}Error"}


def test_lead_convert_documents_both_409_bodies(db: Any) -> None:
    """A conversion answers 409 for "already converted" / a stale version (code and message) and
    for a collision (with the matches): the schema offers both bodies."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    path = next(p for p in schema["paths"] if p.endswith("/sales/leads/{id}/convert/"))
    conflict = schema["paths"][path]["post"]["responses"]["409"]["content"]["application/json"]["schema"]
    assert conflict == {"$ref": "#/components/schemas/LeadConvertConflict"}
    one_of = schema["components"]["schemas"]["LeadConvertConflict"]["oneOf"]
    assert {ref["$ref"].rsplit("/", 1)[-1] for ref in one_of} == {"Error", "CollisionError"}
