"""An index of the running scrobble sessions alone.

Every playback a user ends stays (a later stop's duplicate hour reads it), so a user's
playbacks grow by one for every movie or episode scrobbled, while the sessions still running
(started or checked in) are one or two. Each scrobble, each playback read and the check-in
sweep look for the running ones: without this index each of them went through all of the
user's playbacks (the sweep through everyone's).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_RUNNING = "state IN ('playing', 'checkin')"


def upgrade() -> None:
    """Create the partial index."""
    op.create_index(
        "ix_playbacks_live",
        "playbacks",
        ["user_id", "expires_at"],
        sqlite_where=sa.text(_RUNNING),
        postgresql_where=sa.text(_RUNNING),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_playbacks_live", table_name="playbacks")
