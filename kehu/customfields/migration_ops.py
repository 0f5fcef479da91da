"""A migration operation for customizable models: on PostgreSQL, a GIN index on the ``custom``
column (``jsonb_path_ops``), which the choice and yes/no list filters use (``custom @> {...}``).
Other databases: nothing to do. Use it in the customizable app's own migration::

    from kehu.customfields.migration_ops import AddCustomFieldsIndex

    operations = [AddCustomFieldsIndex("account", name="customers_account_custom_gin")]
"""

from __future__ import annotations

from typing import Any

from django.db.migrations.operations.base import Operation


class AddCustomFieldsIndex(Operation):
    reversible = True
    reduces_to_sql = False

    def __init__(self, model_name: str, name: str) -> None:
        self.model_name = model_name
        self.name = name

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (self.__class__.__qualname__, [], {"model_name": self.model_name, "name": self.name})

    def state_forwards(self, app_label: str, state: Any) -> None:
        """The index is not part of the model state (the autodetector must not drop it)."""

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        model = to_state.apps.get_model(app_label, self.model_name)
        qn = schema_editor.quote_name
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {qn(self.name)} ON {qn(model._meta.db_table)} "
            f"USING gin ({qn('custom')} jsonb_path_ops)"
        )

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(self.name)}")

    def describe(self) -> str:
        return f"Create a GIN index {self.name} on {self.model_name}.custom (PostgreSQL only)"

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.model_name}_custom_gin"
