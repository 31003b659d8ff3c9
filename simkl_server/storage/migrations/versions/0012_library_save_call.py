"""PostgreSQL: a server-side function that saves library entries computed ahead of the user's
lock, so a one-item add, history or watchlist write is two round trips instead of six.

The ordinary write takes the user's lock, reads the entries, saves what the rules made of them
and commits: BEGIN, the lock, the read, the save and COMMIT, each a round trip, the lock held
across four of them, after the catalog lookup. Run ahead (storage/ahead.py), the server looks
the items up with the user's entries of them and the library stamp in one statement without
the lock, applies the rules, and sends the rows here.
The function takes the lock and checks, in snapshots taken after it holds it (each statement
of a PL/pgSQL function takes a fresh one in READ COMMITTED), that what the rows were computed
from still stands:

- the auth stamp the request's cached authentication was read under (NULL: none to check);
  when it moved, or the user is gone, it returns NULL;
- the catalog stamp the lookups relied on, and the user's library stamp as the entries were
  read (NULL: nothing relied on); no activity stamp of the user is newer than the write's
  time, so a write's time never goes back. When any of these moved it returns -1.

The server then runs the write the ordinary way. Otherwise it saves the rows and moves the
activity buckets as the ordinary save does (storage/library.py, SAVE_TOUCHING), marks the
episodes it was given (storage/history.py, MARK: a blind write, which reads nothing), and returns
the time they were stamped with. The library stamp of a user who never had an entry is 0.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_SIGNATURE = "simkl_save_library(INTEGER, BIGINT, BIGINT, BIGINT, BIGINT, JSONB, JSONB, TEXT[])"
# The rows are the ordinary save's: (item_id, status, added_at, last_watched_at, user_rating,
# user_rated_at, watched_episodes, last_watched, next_to_watch, memo_text, memo_private,
# list_changed, rating_changed); a delta stamp moves only where its flag is set. The episodes
# marked are (item_id, season, number, watched_at), saved after the entries that own them; an
# episode already watched keeps its date, as in the ordinary write (storage/history.py, MARK).
_SAVE_LIBRARY = """
CREATE FUNCTION simkl_save_library(
    p_user INTEGER, p_now BIGINT, p_auth_stamp BIGINT, p_catalog_stamp BIGINT,
    p_library_stamp BIGINT, p_rows JSONB, p_marks JSONB, p_buckets TEXT[]
) RETURNS BIGINT LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM users WHERE id = p_user FOR UPDATE;
    IF NOT FOUND OR p_auth_stamp <> (SELECT n FROM auth_stamp WHERE id = 1) THEN
        RETURN NULL;
    END IF;
    IF p_catalog_stamp <> (SELECT n FROM catalog_stamp WHERE id = 1)
        OR p_library_stamp <> COALESCE((SELECT n FROM library_stamp WHERE user_id = p_user), 0)
        OR EXISTS (SELECT 1 FROM activity WHERE user_id = p_user AND at > p_now) THEN
        RETURN -1;
    END IF;
    INSERT INTO library (user_id, item_id, status, added_at, last_watched_at, user_rating,
        user_rated_at, watched_episodes, last_watched, next_to_watch, memo_text, memo_private,
        list_changed_at, rating_changed_at)
    SELECT p_user, CAST(x->>0 AS BIGINT), x->>1, CAST(x->>2 AS BIGINT), CAST(x->>3 AS BIGINT),
        CAST(x->>4 AS SMALLINT), CAST(x->>5 AS BIGINT), CAST(x->>6 AS INTEGER), x->>7, x->>8,
        x->>9, CAST(x->>10 AS BOOLEAN),
        CASE WHEN CAST(x->>11 AS BOOLEAN) THEN p_now ELSE -1 END,
        CASE WHEN CAST(x->>12 AS BOOLEAN) THEN p_now END
    FROM jsonb_array_elements(p_rows) AS t(x)
    ON CONFLICT (user_id, item_id) DO UPDATE SET status = excluded.status,
        added_at = excluded.added_at, last_watched_at = excluded.last_watched_at,
        user_rating = excluded.user_rating, user_rated_at = excluded.user_rated_at,
        watched_episodes = excluded.watched_episodes, last_watched = excluded.last_watched,
        next_to_watch = excluded.next_to_watch, memo_text = excluded.memo_text,
        memo_private = excluded.memo_private,
        list_changed_at = CASE WHEN excluded.list_changed_at < 0
            THEN library.list_changed_at ELSE excluded.list_changed_at END,
        rating_changed_at = COALESCE(excluded.rating_changed_at, library.rating_changed_at);
    INSERT INTO user_episodes (user_id, item_id, season, number, watched_at)
    SELECT p_user, CAST(x->>0 AS BIGINT), CAST(x->>1 AS INTEGER), CAST(x->>2 AS INTEGER),
        CAST(x->>3 AS BIGINT)
    FROM jsonb_array_elements(p_marks) AS t(x)
    ON CONFLICT (user_id, item_id, season, number)
    DO UPDATE SET watched_at = COALESCE(user_episodes.watched_at, excluded.watched_at);
    INSERT INTO activity (user_id, bucket, at)
    SELECT p_user, b.bucket, p_now FROM unnest(p_buckets) AS b(bucket)
    ON CONFLICT (user_id, bucket) DO UPDATE SET at = GREATEST(activity.at, excluded.at);
    RETURN p_now;
END $$
"""


def upgrade() -> None:
    """Create the function (PostgreSQL only: SQLite's statements cost no round trip)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_SAVE_LIBRARY)


def downgrade() -> None:
    """Drop it."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION {_SIGNATURE}")
