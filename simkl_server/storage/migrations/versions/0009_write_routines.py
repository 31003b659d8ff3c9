"""PostgreSQL: a server-side function for clearing ratings, so that write is one round trip.

A user write sent statement by statement pays a loopback round trip for each (BEGIN, the
user's lock, the clear, the activity touch, COMMIT), and holds the user's lock across all of
them. The function takes the lock, checks the auth stamp the request's cached
authentication was read under, clears and touches, inside the one statement's transaction.
When the user is gone or the stamp has moved it changes nothing and returns NULL: the server
then runs the write the ordinary way, which looks the token up again. SQLite, whose
statements cost no round trip, has no functions and needs none.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# Each statement of a PL/pgSQL function gets a fresh snapshot (READ COMMITTED), so everything
# after the lock sees what the user's previous write committed, as in the ordinary write.
# Returns the time the change was stamped with (never before a stamp the user already has).
_CLEAR_RATINGS = """
CREATE FUNCTION simkl_clear_ratings(
    p_user INTEGER, p_now BIGINT, p_auth_stamp BIGINT, p_items BIGINT[], p_buckets TEXT[]
) RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    v_now BIGINT;
BEGIN
    PERFORM 1 FROM users WHERE id = p_user FOR UPDATE;
    IF NOT FOUND OR p_auth_stamp <> (SELECT n FROM auth_stamp WHERE id = 1) THEN
        RETURN NULL;
    END IF;
    SELECT GREATEST(p_now, COALESCE(MAX(at), 0)) INTO v_now FROM activity WHERE user_id = p_user;
    WITH cleared AS (
        UPDATE library SET user_rating = NULL, user_rated_at = NULL, rating_changed_at = v_now
        WHERE user_id = p_user AND user_rating IS NOT NULL AND item_id = ANY(p_items)
        RETURNING item_id
    )
    INSERT INTO activity (user_id, bucket, at)
    SELECT DISTINCT p_user, b.bucket, v_now
    FROM cleared JOIN unnest(p_items, p_buckets) AS b(item_id, bucket) USING (item_id)
    ON CONFLICT (user_id, bucket) DO UPDATE SET at = GREATEST(activity.at, excluded.at);
    RETURN v_now;
END $$
"""


def upgrade() -> None:
    """Create the function (PostgreSQL only)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_CLEAR_RATINGS)


def downgrade() -> None:
    """Drop the function."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION simkl_clear_ratings(INTEGER, BIGINT, BIGINT, BIGINT[], TEXT[])")
