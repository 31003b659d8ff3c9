"""Scrobbling: playback sessions (started, paused, checked in) and the per-user scrobble lock.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the playback and lock tables, and episodes' AniDB ids (scrobbles name episodes by
    them)."""
    with op.batch_alter_table("catalog_episodes") as batch:
        batch.add_column(sa.Column("anidb_id", sa.BigInteger))
    op.create_table(
        "playbacks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("item_id", sa.BigInteger, sa.ForeignKey("catalog_items.id"), nullable=False),
        sa.Column("season", sa.Integer, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("progress", sa.Integer, nullable=False),
        sa.Column("started_at", sa.BigInteger, nullable=False),
        sa.Column("paused_at", sa.BigInteger),
        sa.Column("expires_at", sa.BigInteger),
        sa.Column("scrobbled_at", sa.BigInteger),
        sa.Column("rewatch", sa.Boolean, nullable=False, server_default=sa.text("false")),
    )
    op.create_index(
        "ux_playbacks_user_item",
        "playbacks",
        ["user_id", "item_id", "season", "number"],
        unique=True,
    )
    op.create_index("ix_playbacks_user_paused", "playbacks", ["user_id", "paused_at"])
    op.create_table(
        "scrobble_locks",
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("held_until", sa.BigInteger, nullable=False),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    """Drop what this revision added."""
    op.drop_table("scrobble_locks")
    op.drop_table("playbacks")
    with op.batch_alter_table("catalog_episodes") as batch:
        batch.drop_column("anidb_id")
