"""PostgreSQL: library writes prepared outside the user's lock and sent as one statement.

A library write (a rating added, an item filed, a watch recorded) reads the user's entries,
applies the rules in Python, and writes the result. Run statement by statement under the
user's lock, that is six or more loopback round trips. Instead the server reads the entries in
one statement without the lock, computes the write, and sends it as one statement whose first
step is `simkl_claim_write`: it takes the user's lock and goes ahead only if the user's write
count (`user_writes`) still is what it was when the entries were read, and the auth and
catalog stamps still are what the request relied on. Every user write moves the count under
the lock: the ordinary lock statement, the ratings clear (replaced here to do so) and the
claim itself. When the claim refuses, the statement changes nothing and the server runs the
write the ordinary way.

The claim is a function so that the checks after the lock see what other writes committed
while it waited (each statement of a PL/pgSQL function takes a fresh snapshot); the rest of
the statement runs on its own snapshot, which holds everything the user's rows had before the
claim, since the unchanged count says no write of theirs committed after the entries were read.

SQLite gets the table, so both schemas are one, but no function: its statements cost no round
trip, and its writes are never prepared outside the lock.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# A NULL stamp means nothing to check (the comparison is then NULL, which IF takes as false).
_CLAIM_WRITE = """
CREATE FUNCTION simkl_claim_write(
    p_user INTEGER, p_auth_stamp BIGINT, p_catalog_stamp BIGINT, p_writes BIGINT
) RETURNS BOOLEAN LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM users WHERE id = p_user FOR UPDATE;
    IF NOT FOUND
        OR p_auth_stamp <> (SELECT n FROM auth_stamp WHERE id = 1)
        OR p_catalog_stamp <> (SELECT n FROM catalog_stamp WHERE id = 1)
        OR p_writes <> COALESCE((SELECT n FROM user_writes WHERE user_id = p_user), 0)
    THEN
        RETURN false;
    END IF;COUNT
    RETURN true;
END $$
"""
_COUNT_WRITE = """
    INSERT INTO user_writes (user_id, n) VALUES (p_user, 1)
    ON CONFLICT (user_id) DO UPDATE SET n = user_writes.n + 1;"""
# Migration 0009's function; COUNT is where this migration has it move the user's write count.
_CLEAR_RATINGS = """
CREATE OR REPLACE FUNCTION simkl_clear_ratings(
    p_user INTEGER, p_now BIGINT, p_auth_stamp BIGINT, p_catalog_stamp BIGINT,
    p_items BIGINT[], p_buckets TEXT[]
) RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    v_now BIGINT;
BEGIN
    PERFORM 1 FROM users WHERE id = p_user FOR UPDATE;
    IF NOT FOUND OR p_auth_stamp <> (SELECT n FROM auth_stamp WHERE id = 1) THEN
        RETURN NULL;
    END IF;
    IF p_catalog_stamp <> (SELECT n FROM catalog_stamp WHERE id = 1) THEN
        RETURN -1;
    END IF;COUNT
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
    """Create the write counts; on PostgreSQL the claim, and the ratings clear that counts."""
    op.create_table(
        "user_writes",
        sa.Column("user_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("n", sa.BigInteger, nullable=False),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_CLAIM_WRITE.replace("COUNT", _COUNT_WRITE))
    op.execute(_CLEAR_RATINGS.replace("COUNT", _COUNT_WRITE))


def downgrade() -> None:
    """Drop the claim and the table; the ratings clear goes back to migration 0009's."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION simkl_claim_write(INTEGER, BIGINT, BIGINT, BIGINT)")
        op.execute(_CLEAR_RATINGS.replace("COUNT", ""))
    op.drop_table("user_writes")
