"""Title search: an FTS5 table kept in step with `catalog_items` by triggers (SQLite), or a GIN
index on the folded titles (PostgreSQL); both index what is already stored.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

from simkl_server.storage.dialect import SEARCH_VECTOR_SQL

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# External content: the FTS5 table holds only its index; the titles stay in catalog_items.
_SQLITE_UP = (
    "CREATE VIRTUAL TABLE catalog_search USING fts5(title_key, content='catalog_items', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER catalog_search_insert AFTER INSERT ON catalog_items BEGIN "
    "INSERT INTO catalog_search (rowid, title_key) VALUES (new.id, new.title_key); END",
    "CREATE TRIGGER catalog_search_delete AFTER DELETE ON catalog_items BEGIN "
    "INSERT INTO catalog_search (catalog_search, rowid, title_key) "
    "VALUES ('delete', old.id, old.title_key); END",
    "CREATE TRIGGER catalog_search_update AFTER UPDATE OF title_key ON catalog_items BEGIN "
    "INSERT INTO catalog_search (catalog_search, rowid, title_key) "
    "VALUES ('delete', old.id, old.title_key); "
    "INSERT INTO catalog_search (rowid, title_key) VALUES (new.id, new.title_key); END",
    "INSERT INTO catalog_search (catalog_search) VALUES ('rebuild')",
)
_SQLITE_DOWN = (
    "DROP TRIGGER catalog_search_update",
    "DROP TRIGGER catalog_search_delete",
    "DROP TRIGGER catalog_search_insert",
    "DROP TABLE catalog_search",
)
_POSTGRES_UP = (
    "CREATE INDEX catalog_search_title ON catalog_items USING gin "
    f"(({SEARCH_VECTOR_SQL.replace('c.title_key', 'title_key')}))",
)
_POSTGRES_DOWN = ("DROP INDEX catalog_search_title",)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for sql in _SQLITE_UP if sqlite else _POSTGRES_UP:
        op.execute(sql)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for sql in _SQLITE_DOWN if sqlite else _POSTGRES_DOWN:
        op.execute(sql)
