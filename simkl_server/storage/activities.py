"""Activity queries: one row per (user, bucket), moved forward only; the per-user write lock."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from simkl_server.storage.credentials import settle_by
from simkl_server.storage.dialect import SqlDialect, statement
from simkl_server.storage.drivers import Connection


def touch_sql(d: SqlDialect, at: str) -> str:
    """TOUCH's SQL, stamping with the parameter named `at`."""
    return (
        "INSERT INTO activity (user_id, bucket, at) "
        f"SELECT CAST(:user_id AS INTEGER), value, CAST(:{at} AS BIGINT) "
        f"FROM ({d.array_source('buckets', 'TEXT')}) AS b "
        "WHERE true ON CONFLICT (user_id, bucket) "
        f"DO UPDATE SET at = {d.greatest('activity.at', 'excluded.at')}"
    )


TOUCH = statement(lambda d: touch_sql(d, "at"))
# With the auth stamp (one row even for a user without activity), so the request's cached
# authentication is settled by this one statement.
ALL = statement(
    "SELECT a.bucket, a.at, s.n FROM auth_stamp s "
    "LEFT JOIN activity a ON a.user_id = :user_id WHERE s.id = 1"
)
# Taken first in every write of a user: serialises that user's writes across processes, and
# reads the newest stamp so a write's `now` never falls behind one already recorded (and the
# account's plan, which decides what some writes may do, and the auth stamp, which tells
# whether the request's cached authentication still holds, and the catalog stamp, against
# which a lookup the process remembers holds, at no extra cost).
LOCK_USER = statement(
    lambda d: (
        "SELECT (SELECT MAX(at) FROM activity WHERE user_id = :user_id), account_type, "
        "(SELECT n FROM auth_stamp WHERE id = 1), (SELECT n FROM catalog_stamp WHERE id = 1) "
        f"FROM users WHERE id = :user_id{d.lock_suffix}"
    )
)


class UserLock(NamedTuple):
    """What taking a user's write lock tells: the newest stamp the user has (0 when none),
    the account's plan (`free`, `pro`, `vip`), the auth stamp and the catalog stamp."""

    latest: int
    account_type: str
    auth_stamp: int
    catalog_stamp: int


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
        if rows:
            settle_by(rows[0][2])
        return {row[0]: row[1] for row in rows if row[0] is not None}

    async def lock_user(self, user_id: int) -> UserLock:
        """Take the user's write lock (a user deleted meanwhile: nothing to lock)."""
        row = await self._conn.fetchrow(LOCK_USER, {"user_id": user_id})
        if row is None:
            return UserLock(0, "free", -1, -1)
        latest = row[0] if row[0] is not None else 0
        return UserLock(latest, row[1], int(row[2] or 0), int(row[3] or 0))
