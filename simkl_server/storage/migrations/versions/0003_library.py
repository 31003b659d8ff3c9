"""The library: catalog posters, runtimes and episodes; watched episodes, memos and rewatch
sessions per user; rows filed by a rating brought to the library model.

Revision ID: 0003
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Rows a rating filed before this revision, brought to what the library model says of them:
# a completed movie was watched when it was filed; a single-episode show (or anime film)
# filed completed has its episode watched (no date of its own); a show filed watching with
# nothing watched is next to watch its first episode.
_FILED_ROWS = (
    "UPDATE library SET last_watched_at = added_at WHERE status = 'completed' "
    "AND last_watched_at IS NULL AND item_id IN (SELECT id FROM catalog_items "
    "WHERE type = 'movie' OR (type = 'anime' AND anime_type = 'movie'))",
    "INSERT INTO user_episodes (user_id, item_id, season, number, watched_at) "
    "SELECT l.user_id, l.item_id, 1, 1, NULL FROM library l "
    "JOIN catalog_items c ON c.id = l.item_id WHERE l.status = 'completed' "
    "AND c.total_episodes = 1 AND c.type <> 'movie'",
    "UPDATE library SET watched_episodes = 1, last_watched_at = COALESCE(last_watched_at, "
    "added_at) WHERE status = 'completed' AND item_id IN (SELECT id FROM catalog_items "
    "WHERE total_episodes = 1 AND type <> 'movie')",
    "UPDATE library SET next_to_watch = 'S01E01' WHERE status = 'watching' "
    "AND next_to_watch IS NULL AND watched_episodes = 0 AND item_id IN "
    "(SELECT id FROM catalog_items WHERE type <> 'movie')",
)


def upgrade() -> None:
    """Add the columns and tables, then bring rows filed by a rating up to date."""
    with op.batch_alter_table("catalog_items") as batch:
        batch.add_column(sa.Column("poster", sa.Text))
        batch.add_column(sa.Column("runtime", sa.Integer))
    op.create_table(
        "catalog_episodes",
        sa.Column(
            "item_id",
            sa.BigInteger,
            sa.ForeignKey("catalog_items.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("season", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("title", sa.Text),
        sa.Column("aired_at", sa.BigInteger),
        sa.Column("runtime", sa.Integer),
        sa.Column("tvdb_id", sa.BigInteger),
        sa.Column("tvdb_season", sa.Integer),
        sa.Column("tvdb_number", sa.Integer),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("library") as batch:
        batch.add_column(
            sa.Column("watched_episodes", sa.Integer, nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("memo_text", sa.Text))
        batch.add_column(sa.Column("memo_private", sa.Boolean))
    op.create_index("ix_library_user_list_changed", "library", ["user_id", "list_changed_at"])
    _create_user_tables()
    for sql in _FILED_ROWS:
        op.execute(sql)


def _create_user_tables() -> None:
    op.create_table(
        "user_episodes",
        sa.Column("user_id", sa.Integer, primary_key=True),
        sa.Column("item_id", sa.BigInteger, primary_key=True),
        sa.Column("season", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("watched_at", sa.BigInteger),
        sa.ForeignKeyConstraint(
            ["user_id", "item_id"], ["library.user_id", "library.item_id"], ondelete="CASCADE"
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "rewatches",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("item_id", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.BigInteger, nullable=False),
        sa.Column("last_watched_at", sa.BigInteger),
        sa.Column("changed_at", sa.BigInteger, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id", "item_id"], ["library.user_id", "library.item_id"], ondelete="CASCADE"
        ),
    )
    op.create_index("ix_rewatches_user_item", "rewatches", ["user_id", "item_id"])
    op.create_table(
        "rewatch_episodes",
        sa.Column(
            "rewatch_id",
            sa.BigInteger,
            sa.ForeignKey("rewatches.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("season", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("watched_at", sa.BigInteger),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    """Drop what this revision added."""
    for table in ("rewatch_episodes", "rewatches", "user_episodes", "catalog_episodes"):
        op.drop_table(table)
    op.drop_index("ix_library_user_list_changed", "library")
    with op.batch_alter_table("library") as batch:
        for column in ("memo_private", "memo_text", "watched_episodes"):
            batch.drop_column(column)
    with op.batch_alter_table("catalog_items") as batch:
        batch.drop_column("runtime")
        batch.drop_column("poster")
