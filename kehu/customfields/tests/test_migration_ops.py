"""The GIN index operation: created and dropped on PostgreSQL, nothing elsewhere."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.db.migrations.state import ProjectState

from kehu.customfields.migration_ops import AddCustomFieldsIndex

pytestmark = pytest.mark.django_db


def index_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [name])
        return cursor.fetchone() is not None


class RecordingEditor:
    """A schema editor on the real connection that records the SQL it is asked to run."""

    def __init__(self) -> None:
        self.connection = connection
        self.sql: list[str] = []

    def execute(self, sql: str, params: Any = ()) -> None:
        self.sql.append(sql)

    def quote_name(self, name: str) -> str:
        return connection.ops.quote_name(name)


def test_gin_index_on_postgresql_only() -> None:
    op = AddCustomFieldsIndex("account", name="test_customfields_gin")
    state = ProjectState.from_apps(apps)
    assert op.describe() == "Create a GIN index test_customfields_gin on account.custom (PostgreSQL only)"
    if connection.vendor == "postgresql":
        with connection.schema_editor() as editor:
            op.database_forwards("customers", editor, state, state)
        assert index_exists("test_customfields_gin")
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'test_customfields_gin'")
            assert "USING gin (custom jsonb_path_ops)" in cursor.fetchone()[0]
        with connection.schema_editor() as editor:
            op.database_backwards("customers", editor, state, state)
        assert not index_exists("test_customfields_gin")
    else:
        recorder = RecordingEditor()
        op.database_forwards("customers", recorder, state, state)
        op.database_backwards("customers", recorder, state, state)
        assert recorder.sql == []
