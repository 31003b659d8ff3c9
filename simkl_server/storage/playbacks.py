"""Playback queries: a user's scrobble state per movie or episode, the paused playbacks list,
and the per-user scrobble lock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simkl_server.domain.models import EpisodeKey, PausedQuery, Playback
from simkl_server.storage.dialect import statement
from simkl_server.storage.drivers import Connection, Row
from simkl_server.storage.tables import LIVE_PLAYBACKS

if TYPE_CHECKING:
    from simkl_server.storage.base import WriteTx

_COLUMNS = (
    "id, item_id, season, number, state, progress, started_at, paused_at, expires_at, "
    "scrobbled_at, rewatch"
)
# A user's running sessions are few, and every playback a user ever ended stays (a stop's
# duplicate hour reads it): the running ones are found through an index of their own
# (ix_playbacks_live), whose condition (LIVE_PLAYBACKS) each such statement spells as the index
# does, so that SQLite uses it.
# The running sessions and the one playback of a movie or episode, in one statement.
LIVE_AND_ONE = statement(
    f"SELECT {_COLUMNS} FROM playbacks WHERE user_id = :user_id AND {LIVE_PLAYBACKS} "
    f"UNION ALL SELECT {_COLUMNS} FROM playbacks WHERE user_id = :user_id "
    "AND item_id = :item_id AND season = :season AND number = :number "
    f"AND NOT {LIVE_PLAYBACKS}"
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
    f"SELECT {_COLUMNS} FROM playbacks WHERE user_id = :user_id AND {LIVE_PLAYBACKS} "
    "AND state = 'checkin' AND expires_at <= :now ORDER BY expires_at"
)
DUE_USERS = statement(
    f"SELECT DISTINCT user_id FROM playbacks WHERE {LIVE_PLAYBACKS} AND state = 'checkin' "
    "AND expires_at <= :now LIMIT :limit"
)
# Taken only when free or when its holder's lease ran out: a second scrobble of the same user
# while one runs gets nothing back.
ACQUIRE = statement(
    "INSERT INTO scrobble_locks (user_id, held_until) VALUES (:user_id, :until) "
    "ON CONFLICT (user_id) DO UPDATE SET held_until = excluded.held_until "
    "WHERE scrobble_locks.held_until <= :now RETURNING user_id"
)
# ACQUIRE as one statement of its own (a transaction of its own on PostgreSQL), which also
# holds the request's cached authentication to the auth stamp it was read under: NULL, with
# nothing taken, when the user is gone or the stamp moved.
ACQUIRE_AT_ONCE = statement(
    "WITH checked AS (SELECT EXISTS (SELECT 1 FROM users WHERE id = :user_id) "
    "AND (CAST(:auth_stamp AS BIGINT) IS NULL "
    "OR (SELECT n FROM auth_stamp WHERE id = 1) = CAST(:auth_stamp AS BIGINT)) AS ok), "
    "taken AS (INSERT INTO scrobble_locks (user_id, held_until) "
    "SELECT :user_id, :until FROM checked WHERE ok "
    "ON CONFLICT (user_id) DO UPDATE SET held_until = excluded.held_until "
    "WHERE scrobble_locks.held_until <= :now RETURNING user_id) "
    "SELECT CASE WHEN ok THEN EXISTS (SELECT 1 FROM taken) END FROM checked"
)
RELEASE = statement(
    "UPDATE scrobble_locks SET held_until = 0 WHERE user_id = :user_id AND held_until = :until"
)


def _by_id(playback: Playback) -> int:
    return playback.id


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

    async def live_and_one(
        self, user_id: int, item_id: int, key: EpisodeKey
    ) -> tuple[list[Playback], Playback | None]:
        """The user's running sessions (started or checked in; by id) and the user's playback
        of one movie or episode (which may be among them), read at once."""
        params = {"user_id": user_id, "item_id": item_id, "season": key[0], "number": key[1]}
        rows = [_playback(row) for row in await self._conn.fetch(LIVE_AND_ONE, params)]
        one = next((p for p in rows if p.item_id == item_id and p.key == key), None)
        return sorted((p for p in rows if p.running), key=_by_id), one

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


@dataclass(frozen=True, slots=True)
class TakeScrobbleLock:
    """A user write: take the user's scrobble lock until `until` unless another holder's
    lease still runs at `now`; True when taken. One statement on PostgreSQL (a round trip
    instead of four), else the user's write transaction."""

    user_id: int
    now: int
    until: int
    call = ACQUIRE_AT_ONCE

    def params(self, *, now: int, auth_stamp: int | None) -> dict[str, Any]:
        """The statement's parameters: the lease's own times, whatever the clock says now."""
        del now
        return {
            "user_id": self.user_id,
            "now": self.now,
            "until": self.until,
            "auth_stamp": auth_stamp,
        }

    def result(self, row: Row) -> bool:
        """Whether the lock was taken."""
        return bool(row[0])

    async def run(self, tx: WriteTx) -> bool:
        """The same write as an ordinary statement, in the user's write transaction."""
        return await tx.playbacks.acquire(self.user_id, now=self.now, until=self.until)
