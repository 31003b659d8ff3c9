"""The auth stamp: one counter that moves whenever a credential may have stopped working, so
every process may cache authentications and still refuse a revoked token on its next request.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# What may end a credential: a token deleted or changed (revoked, refreshed away, its grant,
# app or user deleted: cascades delete tokens), an app or a user deleted or changed.
_WATCHED = (("tokens", "DELETE"), ("tokens", "UPDATE"), ("apps", "DELETE"),
            ("apps", "UPDATE"), ("users", "DELETE"))  # fmt: skip
_BUMP = "UPDATE auth_stamp SET n = n + 1 WHERE id = 1"


def _trigger(table: str, event: str) -> str:
    return f"auth_stamp_{table}_{event.lower()}"


def _sqlite_up() -> list[str]:
    return [
        f"CREATE TRIGGER {_trigger(table, event)} AFTER {event} ON {table} BEGIN {_BUMP}; END"
        for table, event in _WATCHED
    ]


def _postgres_up() -> list[str]:
    # Statement triggers: a reset deleting every token moves the stamp once, not per row.
    function = (
        "CREATE FUNCTION auth_stamp_bump() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN {_BUMP}; RETURN NULL; END $$"
    )
    return [function] + [
        f"CREATE TRIGGER {_trigger(table, event)} AFTER {event} ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION auth_stamp_bump()"
        for table, event in _WATCHED
    ]


def upgrade() -> None:
    """Create the stamp's one row and the triggers that move it."""
    op.create_table(
        "auth_stamp",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("n", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO auth_stamp (id, n) VALUES (1, 0)")
    sqlite = op.get_bind().dialect.name == "sqlite"
    for sql in _sqlite_up() if sqlite else _postgres_up():
        op.execute(sql)


def downgrade() -> None:
    """Drop the triggers, the function and the table."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, event in _WATCHED:
        op.execute(f"DROP TRIGGER {_trigger(table, event)}" + ("" if sqlite else f" ON {table}"))
    if not sqlite:
        op.execute("DROP FUNCTION auth_stamp_bump()")
    op.drop_table("auth_stamp")
