"""Activity queries: one row per (user, bucket), moved forward only; the per-user write lock."""

from __future__ import annotations

from collections.abc import Iterable

from simkl_server.storage.dialect import statement
from simkl_server.storage.drivers import Connection

TOUCH = statement(
    lambda d: (
        "INSERT INTO activity (user_id, bucket, at) "
        "SELECT CAST(:user_id AS INTEGER), value, CAST(:at AS BIGINT) "
        f"FROM ({d.array_source('buckets', 'TEXT')}) AS b "
        "WHERE true ON CONFLICT (user_id, bucket) "
        f"DO UPDATE SET at = {d.greatest('activity.at', 'excluded.at')}"
    )
)
ALL = statement("SELECT bucket, at FROM activity WHERE user_id = :user_id")
# Taken first in every write of a user: serialises that user's writes across processes, and
# reads the newest stamp so a write's `now` never falls behind one already recorded (and the
# account's plan, which decides what some writes may do, at no extra cost).
LOCK_USER = statement(
    lambda d: (
        "SELECT (SELECT MAX(at) FROM activity WHERE user_id = :user_id), account_type "
        f"FROM users WHERE id = :user_id{d.lock_suffix}"
    )
)


class ActivityQueries:
    """Activity statements on one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def touch(self, user_id: int, buckets: Iterable[str], *, at: int) -> None:
        """Move the named buckets (e.g. "movies.rated_at") to `at`, never backwards."""
        names = sorted(set(buckets))
        if names:
            params = {"user_id": user_id, "buckets": self._conn.array(names), "at": at}
            await self._conn.execute(TOUCH, params)

    async def all(self, user_id: int) -> dict[str, int]:
        """Every bucket the user has, by name, in epoch milliseconds."""
        rows = await self._conn.fetch(ALL, {"user_id": user_id})
        return {row[0]: row[1] for row in rows}

    async def lock_user(self, user_id: int) -> tuple[int, str]:
        """Take the user's write lock; the newest stamp the user has (0 when none) and the
        account's plan (`free`, `pro`, `vip`)."""
        row = await self._conn.fetchrow(LOCK_USER, {"user_id": user_id})
        if row is None:
            return 0, "free"
        return (row[0] if row[0] is not None else 0), row[1]
