"""PostgreSQL: a server-side function for clearing ratings, so that write is one round trip;
and the catalog stamp, so the catalog lookup before it can come from the process's memory.

A user write sent statement by statement pays a loopback round trip for each (BEGIN, the
user's lock, the clear, the activity touch, COMMIT), and holds the user's lock across all of
them. The function takes the lock, checks the auth stamp the request's cached
authentication was read under and the catalog stamp its items were looked up under, clears
and touches, inside the one statement's transaction. When the user is gone or the auth stamp
moved it changes nothing and returns NULL: the server then runs the write the ordinary way,
which looks the token up again. When the catalog stamp moved it changes nothing and returns
-1: the server looks the items up again.

The catalog stamp is one counter that PostgreSQL's triggers move whenever the catalog's items
or their ids change. SQLite gets the table, so both schemas are one, but no triggers and no
function: its statements cost no round trip, so the server keeps no lookups there and never
reads the stamp.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_WATCHED = ("catalog_items", "catalog_ids")
# Statement triggers: an import of a million items moves the stamp once per statement.
_BUMP = """
CREATE FUNCTION catalog_stamp_bump() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN UPDATE catalog_stamp SET n = n + 1 WHERE id = 1; RETURN NULL; END $$
"""
# Each statement of a PL/pgSQL function gets a fresh snapshot (READ COMMITTED), so everything
# after the lock sees what the user's previous write committed, as in the ordinary write.
# A NULL stamp means nothing to check (the comparison is then NULL, which IF takes as false).
# Returns the time the change was stamped with (never before a stamp the user already has).
_CLEAR_RATINGS = """
CREATE FUNCTION simkl_clear_ratings(
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
    """Create the catalog stamp's one row; on PostgreSQL the triggers that move it and the
    ratings clear."""
    op.create_table(
        "catalog_stamp",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("n", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO catalog_stamp (id, n) VALUES (1, 0)")
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_BUMP)
    for table in _WATCHED:
        op.execute(
            f"CREATE TRIGGER catalog_stamp_{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION catalog_stamp_bump()"
        )
    op.execute(_CLEAR_RATINGS)


def downgrade() -> None:
    """Drop the functions, the triggers and the table."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION simkl_clear_ratings(INTEGER, BIGINT, BIGINT, BIGINT, BIGINT[], TEXT[])"
        )
        for table in _WATCHED:
            op.execute(f"DROP TRIGGER catalog_stamp_{table} ON {table}")
        op.execute("DROP FUNCTION catalog_stamp_bump()")
    op.drop_table("catalog_stamp")
