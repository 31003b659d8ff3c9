"""The control plane: settings (the clock), faults on demand and the request journal.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the control plane's tables."""
    op.create_table(
        "control_settings",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "control_faults",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("respond", sa.String(32), nullable=False),
        sa.Column("times_left", sa.Integer),
        sa.Column("probability", sa.Float),
        sa.Column("seed", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("delay_ms", sa.Integer, nullable=False, server_default="0"),
        sa.Column("retry_after_s", sa.Integer, nullable=False, server_default="1"),
        sa.Column("hits", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "control_journal",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("headers", sa.Text, nullable=False),
        sa.Column("body", sa.Text),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("response_body", sa.Text),
        sa.Column("fault", sa.String(32)),
    )


def downgrade() -> None:
    """Drop the control plane's tables."""
    for table in ("control_journal", "control_faults", "control_settings"):
        op.drop_table(table)
