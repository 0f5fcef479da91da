"""The vendor-specific full-text structures beside ``search_searchentry`` (not in the model state).

PostgreSQL: a generated ``tsvector`` column built from the token columns without the text parser
(``array_to_tsvector``: the parser would drop or split Chinese depending on the database locale),
names weighted A and other tokens D, with a GIN index.

SQLite: an external-content FTS5 table ``search_fts`` (name_tokens, tokens) over the entry table,
kept in step by triggers, so every write to the entry table (ORM, bulk, flush) updates it.
"""

# ruff: noqa: S608  (DDL from constants)
from __future__ import annotations

from typing import Any

from django.db.migrations.operations.base import Operation

TABLE = "search_searchentry"
FTS = "search_fts"

PG_FORWARD = [
    f"""ALTER TABLE {TABLE} ADD COLUMN vector tsvector GENERATED ALWAYS AS (
        setweight(array_to_tsvector(string_to_array(name_tokens, ' ')), 'A')
        || setweight(array_to_tsvector(string_to_array(tokens, ' ')), 'D')
    ) STORED""",
    f"CREATE INDEX search_entry_vector_gin ON {TABLE} USING gin (vector)",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS search_entry_vector_gin",
    f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS vector",
]

SQLITE_FORWARD = [
    f"""CREATE VIRTUAL TABLE {FTS} USING fts5(
        name_tokens, tokens, content='{TABLE}', content_rowid='id',
        tokenize='unicode61 remove_diacritics 0'
    )""",
    f"""CREATE TRIGGER search_fts_ai AFTER INSERT ON {TABLE} BEGIN
        INSERT INTO {FTS}(rowid, name_tokens, tokens) VALUES (new.id, new.name_tokens, new.tokens);
    END""",
    f"""CREATE TRIGGER search_fts_ad AFTER DELETE ON {TABLE} BEGIN
        INSERT INTO {FTS}({FTS}, rowid, name_tokens, tokens)
        VALUES ('delete', old.id, old.name_tokens, old.tokens);
    END""",
    f"""CREATE TRIGGER search_fts_au AFTER UPDATE ON {TABLE} BEGIN
        INSERT INTO {FTS}({FTS}, rowid, name_tokens, tokens)
        VALUES ('delete', old.id, old.name_tokens, old.tokens);
        INSERT INTO {FTS}(rowid, name_tokens, tokens) VALUES (new.id, new.name_tokens, new.tokens);
    END""",
    f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS search_fts_ai",
    "DROP TRIGGER IF EXISTS search_fts_ad",
    "DROP TRIGGER IF EXISTS search_fts_au",
    f"DROP TABLE IF EXISTS {FTS}",
]


class AddFullTextIndex(Operation):
    reversible = True
    reduces_to_sql = False

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (self.__class__.__qualname__, [], {})

    def state_forwards(self, app_label: str, state: Any) -> None:
        """Not part of the model state (the autodetector must not touch it)."""

    @staticmethod
    def _run(schema_editor: Any, pg: list[str], sqlite: list[str]) -> None:
        vendor = schema_editor.connection.vendor
        for sql in pg if vendor == "postgresql" else sqlite if vendor == "sqlite" else []:
            schema_editor.execute(sql)

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        self._run(schema_editor, PG_FORWARD, SQLITE_FORWARD)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        self._run(schema_editor, PG_BACKWARD, SQLITE_BACKWARD)

    def describe(self) -> str:
        return "Full-text index on the search entries (PostgreSQL tsvector + GIN, SQLite FTS5)"

    @property
    def migration_name_fragment(self) -> str:
        return "fulltext"
