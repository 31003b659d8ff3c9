"""The library stamp, and the catalog stamp on SQLite and over episodes: what a small library
read kept whole checks before it is answered again without reading its rows.

A read's rows depend on the user's library rows, on their catalog items (with their ids and
episodes) and on the clock. Triggers move a per-user counter whenever a statement writes or
deletes any of the user's library rows, and the catalog stamp whenever a statement changes
the catalog's items, ids or episodes, so no writer (another process, the command line, a
state load, a hand-written statement) can change either behind a kept read. The clock is
the reader's own: it keeps a read only until the next episode among its rows airs.

On PostgreSQL the triggers run once per statement (the library's over its transition table,
so a batch of a hundred rows moves its user's counter once). SQLite has only row triggers.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_EVENTS = ("INSERT", "UPDATE", "DELETE")
_CATALOG_TABLES = ("catalog_items", "catalog_ids", "catalog_episodes")
_BUMP_CATALOG = "UPDATE catalog_stamp SET n = n + 1 WHERE id = 1"
_BUMP_LIBRARY = (
    "INSERT INTO library_stamp (user_id, n) {rows} "
    "ON CONFLICT (user_id) DO UPDATE SET n = library_stamp.n + 1"
)
_POSTGRES_LIBRARY_BUMP = f"""
CREATE FUNCTION library_stamp_bump() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN {_BUMP_LIBRARY.format(rows="SELECT DISTINCT user_id, 1 FROM changed")}; RETURN NULL;
END $$
"""


def _sqlite_up() -> list[str]:
    catalog = [
        f"CREATE TRIGGER catalog_stamp_{table}_{event.lower()} AFTER {event} ON {table} "
        f"BEGIN {_BUMP_CATALOG}; END"
        for table in _CATALOG_TABLES
        for event in _EVENTS
    ]
    library = [
        f"CREATE TRIGGER library_stamp_{event.lower()} AFTER {event} ON library BEGIN "
        + _BUMP_LIBRARY.format(rows=f"VALUES ({'OLD' if event == 'DELETE' else 'NEW'}.user_id, 1)")
        + "; END"
        for event in _EVENTS
    ]
    return catalog + library


def _postgres_up() -> list[str]:
    episodes = (
        "CREATE TRIGGER catalog_stamp_catalog_episodes AFTER INSERT OR UPDATE OR DELETE OR "
        "TRUNCATE ON catalog_episodes FOR EACH STATEMENT EXECUTE FUNCTION catalog_stamp_bump()"
    )
    library = [
        f"CREATE TRIGGER library_stamp_{event.lower()} AFTER {event} ON library "
        f"REFERENCING {'OLD' if event == 'DELETE' else 'NEW'} TABLE AS changed "
        "FOR EACH STATEMENT EXECUTE FUNCTION library_stamp_bump()"
        for event in _EVENTS
    ]
    return [episodes, _POSTGRES_LIBRARY_BUMP, *library]


def upgrade() -> None:
    """Create the library stamp's table and the triggers that move both stamps."""
    op.create_table(
        "library_stamp",
        sa.Column("user_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("n", sa.BigInteger, nullable=False),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    for sql in _sqlite_up() if sqlite else _postgres_up():
        op.execute(sql)


def downgrade() -> None:
    """Drop the triggers, the function and the table."""
    if op.get_bind().dialect.name == "sqlite":
        for table in _CATALOG_TABLES:
            for event in _EVENTS:
                op.execute(f"DROP TRIGGER catalog_stamp_{table}_{event.lower()}")
        for event in _EVENTS:
            op.execute(f"DROP TRIGGER library_stamp_{event.lower()}")
    else:
        op.execute("DROP TRIGGER catalog_stamp_catalog_episodes ON catalog_episodes")
        for event in _EVENTS:
            op.execute(f"DROP TRIGGER library_stamp_{event.lower()} ON library")
        op.execute("DROP FUNCTION library_stamp_bump()")
    op.drop_table("library_stamp")
