"""Indexes on the item of library rows and playbacks: deleting a catalog item checks that no
row names it, and without them each check read the whole table (52,000 learned items undone
on a 1.2-million-row library took more than ten minutes on PostgreSQL).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Index library and playbacks by item."""
    op.create_index("ix_library_item_id", "library", ["item_id"])
    op.create_index("ix_playbacks_item_id", "playbacks", ["item_id"])


def downgrade() -> None:
    """Drop the indexes."""
    op.drop_index("ix_playbacks_item_id", "playbacks")
    op.drop_index("ix_library_item_id", "library")
