"""Initial schema: catalog, apps, users, tokens, library, activity.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create every table (tables keyed by their natural primary key are clustered on it in
    SQLite: WITHOUT ROWID)."""
    op.create_table(
        "catalog_items",
        # On SQLite an INTEGER primary key is the rowid itself: one B-tree lookup, not two.
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("type", sa.String(8), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("title_key", sa.Text, nullable=False),
        sa.Column("year", sa.Integer),
        sa.Column("status", sa.String(16)),
        sa.Column("total_episodes", sa.Integer),
        sa.Column("anime_type", sa.String(16)),
        sa.Column("release_date", sa.String(10)),
        sa.Column("ids", sa.Text, nullable=False),
    )
    op.create_index("ix_catalog_items_title_key", "catalog_items", ["title_key"])
    op.create_table(
        "catalog_ids",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column(
            "item_id",
            sa.BigInteger,
            sa.ForeignKey("catalog_items.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_catalog_ids_item_id", "catalog_ids", ["item_id"])
    op.create_table(
        "apps",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False, unique=True),
        sa.Column("client_secret", sa.String(128), nullable=False),
        sa.Column("redirect_uri", sa.Text),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(128), nullable=False, unique=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
        sa.Column("account_type", sa.String(8), nullable=False, server_default="free"),
    )
    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("token", sa.String(128), nullable=False, unique=True),
        sa.Column(
            "app_id", sa.Integer, sa.ForeignKey("apps.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("revoked_at", sa.BigInteger),
    )
    op.create_index("ix_tokens_app_user", "tokens", ["app_id", "user_id"])
    op.create_table(
        "library",
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("item_id", sa.BigInteger, sa.ForeignKey("catalog_items.id"), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("user_rating", sa.SmallInteger),
        sa.Column("user_rated_at", sa.BigInteger),
        sa.Column("rating_changed_at", sa.BigInteger),
        sa.Column("added_at", sa.BigInteger, nullable=False),
        sa.Column("list_changed_at", sa.BigInteger, nullable=False),
        sa.Column("last_watched_at", sa.BigInteger),
        sa.Column("last_watched", sa.String(16)),
        sa.Column("next_to_watch", sa.String(16)),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_library_user_rating_changed", "library", ["user_id", "rating_changed_at"])
    op.create_table(
        "activity",
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("bucket", sa.String(48), primary_key=True),
        sa.Column("at", sa.BigInteger, nullable=False),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    """Drop every table."""
    for table in ("activity", "library", "tokens", "users", "apps", "catalog_ids", "catalog_items"):
        op.drop_table(table)
