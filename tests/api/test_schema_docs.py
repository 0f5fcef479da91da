"""The OpenAPI schema generates without a warning, and the Swagger UI works offline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db


def test_schema_generates_and_validates_with_zero_warnings(tmp_path: Path) -> None:
    out = tmp_path / "schema.yaml"
    # --fail-on-warn turns every drf-spectacular warning or error into a failure.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert text.startswith("openapi: 3.0.3\n")
    assert "title: Kehu API" in text


def test_schema_endpoint_serves_openapi_json(client: Client) -> None:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"] == "3.0.3"
    assert schema["info"]["title"] == "Kehu API"
    for path, item in schema["paths"].items():
        assert path.startswith("/api/v1/"), path
        for method, operation in item.items():
            assert "401" in operation["responses"], f"{method.upper()} {path} does not document 401"


def test_swagger_ui_is_served_offline(client: Client) -> None:
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/schema/" in html
    # No CDN: every script, stylesheet and icon comes from our own static files.
    external = re.findall(r"""(?:src|href)\s*=\s*["'](?:https?:)?//[^"']+""", html)
    assert external == []
    assets = re.findall(r"""(?:src|href)\s*=\s*["'](/static/[^"']+)["']""", html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets), assets
    assert any(a.endswith("swagger-ui.css") for a in assets), assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_no_redoc_page_that_would_load_cdn_fonts(client: Client) -> None:
    assert client.get("/api/redoc/").status_code == 404
