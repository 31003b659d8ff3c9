"""Playback queries: a user's scrobble state per movie or episode, the paused playbacks list,
and the per-user scrobble lock."""

from __future__ import annotations

from simkl_server.domain.models import PausedQuery, Playback
from simkl_server.storage.dialect import statement
from simkl_server.storage.drivers import Connection, Row

_COLUMNS = (
    "id, item_id, season, number, state, progress, started_at, paused_at, expires_at, "
    "scrobbled_at, rewatch"
)
FIND = statement(
    f"SELECT {_COLUMNS} FROM playbacks WHERE user_id = :user_id AND item_id = :item_id "
    "AND season = :season AND number = :number"
)
OPEN = statement(
    f"SELECT {_COLUMNS} FROM playbacks WHERE user_id = :user_id "
    "AND state IN ('playing', 'checkin') ORDER BY id"
)
SAVE = statement(
    "INSERT INTO playbacks (user_id, item_id, season, number, state, progress, started_at, "
    "paused_at, expires_at, scrobbled_at, rewatch) VALUES (:user_id, :item_id, :season, "
    ":number, :state, :progress, :started_at, :paused_at, :expires_at, :scrobbled_at, "
    ":rewatch) ON CONFLICT (user_id, item_id, season, number) DO UPDATE SET "
    "state = excluded.state, progress = excluded.progress, started_at = excluded.started_at, "
    "paused_at = excluded.paused_at, expires_at = excluded.expires_at, "
    "scrobbled_at = excluded.scrobbled_at, rewatch = excluded.rewatch RETURNING id"
)
PAUSED = statement(
    f"SELECT {_COLUMNS} FROM playbacks WHERE user_id = :user_id AND state = 'paused' "
    "AND paused_at >= :since AND paused_at >= :date_from AND paused_at < :date_to "
    "AND (:movies OR season <> -1) AND (:episodes OR season = -1) "
    "ORDER BY paused_at DESC, id DESC LIMIT :limit"
)
BY_ID = statement(f"SELECT {_COLUMNS} FROM playbacks WHERE user_id = :user_id AND id = :id")
END = statement(
    "UPDATE playbacks SET state = 'ended', paused_at = NULL, expires_at = NULL "
    "WHERE user_id = :user_id AND id = :id"
)
DUE_CHECKINS = statement(
    f"SELECT {_COLUMNS} FROM playbacks WHERE user_id = :user_id AND state = 'checkin' "
    "AND expires_at <= :now ORDER BY expires_at"
)
DUE_USERS = statement(
    "SELECT DISTINCT user_id FROM playbacks WHERE state = 'checkin' AND expires_at <= :now "
    "LIMIT :limit"
)
# Taken only when free or when its holder's lease ran out: a second scrobble of the same user
# while one runs gets nothing back.
ACQUIRE = statement(
    "INSERT INTO scrobble_locks (user_id, held_until) VALUES (:user_id, :until) "
    "ON CONFLICT (user_id) DO UPDATE SET held_until = excluded.held_until "
    "WHERE scrobble_locks.held_until <= :now RETURNING user_id"
)
RELEASE = statement(
    "UPDATE scrobble_locks SET held_until = 0 WHERE user_id = :user_id AND held_until = :until"
)


def _playback(row: Row) -> Playback:
    return Playback(
        row[0],
        row[1],
        (row[2], row[3]),
        row[4],
        row[5],
        row[6],
        row[7],
        row[8],
        row[9],
        bool(row[10]),
    )


class PlaybackQueries:
    """Playback statements on one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def find(self, user_id: int, item_id: int, key: tuple[int, int]) -> Playback | None:
        """The user's playback of one movie or episode."""
        params = {"user_id": user_id, "item_id": item_id, "season": key[0], "number": key[1]}
        row = await self._conn.fetchrow(FIND, params)
        return None if row is None else _playback(row)

    async def open(self, user_id: int) -> list[Playback]:
        """The user's sessions still running (started or checked in)."""
        return [_playback(row) for row in await self._conn.fetch(OPEN, {"user_id": user_id})]

    async def due_checkins(self, user_id: int, now: int) -> list[Playback]:
        """The user's check-ins whose runtime is over."""
        rows = await self._conn.fetch(DUE_CHECKINS, {"user_id": user_id, "now": now})
        return [_playback(row) for row in rows]

    async def due_users(self, now: int, *, limit: int) -> list[int]:
        """Users with a check-in whose runtime is over (at most `limit`)."""
        rows = await self._conn.fetch(DUE_USERS, {"now": now, "limit": limit})
        return [int(row[0]) for row in rows]

    async def save(self, user_id: int, playback: Playback) -> int:
        """Create or replace the playback of its movie or episode; its id."""
        params = {
            "user_id": user_id,
            "item_id": playback.item_id,
            "season": playback.key[0],
            "number": playback.key[1],
            "state": playback.state,
            "progress": playback.progress,
            "started_at": playback.started_at,
            "paused_at": playback.paused_at,
            "expires_at": playback.expires_at,
            "scrobbled_at": playback.scrobbled_at,
            "rewatch": playback.rewatch,
        }
        row = await self._conn.fetchrow(SAVE, params)
        assert row is not None
        return int(row[0])

    async def paused(self, user_id: int, query: PausedQuery) -> list[Playback]:
        """Paused playbacks, newest pause first."""
        params = {
            "user_id": user_id,
            "since": query.since,
            "date_from": query.date_from,
            "date_to": query.date_to,
            "movies": query.movies,
            "episodes": query.episodes,
            "limit": query.limit,
        }
        return [_playback(row) for row in await self._conn.fetch(PAUSED, params)]

    async def by_id(self, user_id: int, playback_id: int) -> Playback | None:
        """One of the user's playbacks by id."""
        row = await self._conn.fetchrow(BY_ID, {"user_id": user_id, "id": playback_id})
        return None if row is None else _playback(row)

    async def end(self, user_id: int, playback_id: int) -> None:
        """Close a playback: no longer paused, playing or checked in (its watch is kept)."""
        await self._conn.execute(END, {"user_id": user_id, "id": playback_id})

    async def acquire(self, user_id: int, *, now: int, until: int) -> bool:
        """Take the user's scrobble lock until `until`, unless another holds it."""
        params = {"user_id": user_id, "now": now, "until": until}
        return await self._conn.fetchrow(ACQUIRE, params) is not None

    async def release(self, user_id: int, *, until: int) -> None:
        """Give the lock back (only the lease this holder took)."""
        await self._conn.execute(RELEASE, {"user_id": user_id, "until": until})
