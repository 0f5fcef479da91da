"""/api/schema/ is generated once per language and API version (config.api.CachedSchemaView), and
again when a custom field changes (the schema lists them)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer

from config.api import SCHEMA_DATA_MODELS, CachedSchemaView
from kehu.customfields.tests.factories import CustomFieldFactory

pytestmark = pytest.mark.django_db

SCHEMA = "/api/schema/"


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    CachedSchemaView.clear()
    yield
    CachedSchemaView.clear()


@pytest.fixture
def generated() -> Iterator[mock.MagicMock]:
    with mock.patch.object(
        SchemaGenerator, "get_schema", autospec=True, side_effect=SchemaGenerator.get_schema
    ) as m:
        yield m


def _get(client: Client, **params: str) -> tuple[Any, float, int]:
    start = time.process_time()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(SCHEMA, params)
    assert response.status_code == 200
    return response, time.process_time() - start, len(queries)


def test_the_second_request_answers_the_same_schema_without_generating_it(
    client: Client, generated: mock.MagicMock
) -> None:
    first, first_cpu, _ = _get(client, format="json")
    with mock.patch.object(
        OpenApiJsonRenderer, "render", autospec=True, side_effect=OpenApiJsonRenderer.render
    ) as rendered:
        second, second_cpu, second_queries = _get(client, format="json")
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    assert second["Content-Disposition"] == first["Content-Disposition"]
    assert generated.call_count == 1
    assert rendered.call_count == 0  # the rendered JSON is kept too
    assert second_queries <= len(SCHEMA_DATA_MODELS)  # the custom field digest only
    assert second_cpu < first_cpu / 4, (first_cpu, second_cpu)
    assert "/api/v1/activities/tasks/" in first.json()["paths"]


def test_each_language_and_format_has_its_own_schema(client: Client, generated: mock.MagicMock) -> None:
    english, _, _ = _get(client, format="json", lang="en")
    chinese, _, _ = _get(client, format="json", lang="zh-hans")
    assert generated.call_count == 2
    assert _get(client, format="json", lang="zh-hans")[0].content == chinese.content
    assert _get(client, format="json", lang="en")[0].content == english.content
    with mock.patch.object(
        OpenApiYamlRenderer, "render", autospec=True, side_effect=OpenApiYamlRenderer.render
    ) as rendered:
        yaml_1, _, _ = _get(client, lang="en")
        yaml_2, _, _ = _get(client, lang="en")
    assert yaml_1.content == yaml_2.content and yaml_1.content.startswith(b"openapi:")
    assert rendered.call_count == 1
    assert generated.call_count == 2  # one generation per language, whatever the format


def test_a_new_custom_field_generates_the_schema_again(client: Client, generated: mock.MagicMock) -> None:
    before, _, _ = _get(client, format="json")
    CustomFieldFactory.create(model="customers.account", name="purchase_channel")
    after, _, _ = _get(client, format="json")
    assert generated.call_count == 2
    assert b"purchase_channel" not in before.content
    assert b"purchase_channel" in after.content
