"""Browser sessions and attempt counters."""

from __future__ import annotations

from simkl_server.storage.dialect import statement
from simkl_server.storage.drivers import Connection

INSERT_SESSION = statement(
    "INSERT INTO sessions (session_hash, user_id, created_at, expires_at) "
    "VALUES (:session_hash, :user_id, :now, :expires_at)"
)
SESSION_USER = statement(
    "SELECT s.user_id, u.username FROM sessions s JOIN users u ON u.id = s.user_id "
    "WHERE s.session_hash = :session_hash AND s.expires_at > :now"
)
DELETE_SESSION = statement("DELETE FROM sessions WHERE session_hash = :session_hash")
EXPIRED_SESSIONS = statement("DELETE FROM sessions WHERE expires_at <= :now")
# One fixed window per key: a window older than :window_ms starts again at 1.
COUNT_ATTEMPT = statement(
    "INSERT INTO attempts (key, window_start, count) VALUES (:key, :now, 1) "
    "ON CONFLICT (key) DO UPDATE SET "
    "count = CASE WHEN attempts.window_start <= CAST(:stale AS BIGINT) THEN 1 "
    "ELSE attempts.count + 1 END, "
    "window_start = CASE WHEN attempts.window_start <= CAST(:stale AS BIGINT) "
    "THEN excluded.window_start ELSE attempts.window_start END "
    "RETURNING count, window_start"
)
# COUNT_ATTEMPT by more than one at once (a budget spent in bulk).
ADD_ATTEMPTS = statement(
    "INSERT INTO attempts (key, window_start, count) VALUES (:key, :now, :n) "
    "ON CONFLICT (key) DO UPDATE SET "
    "count = CASE WHEN attempts.window_start <= CAST(:stale AS BIGINT) THEN excluded.count "
    "ELSE attempts.count + excluded.count END, "
    "window_start = CASE WHEN attempts.window_start <= CAST(:stale AS BIGINT) "
    "THEN excluded.window_start ELSE attempts.window_start END"
)
ATTEMPTS = statement(
    "SELECT count, window_start FROM attempts WHERE key = :key AND window_start > :stale"
)
CLEAR_ATTEMPTS = statement("DELETE FROM attempts WHERE key = :key")
OLD_ATTEMPTS = statement("DELETE FROM attempts WHERE window_start <= :before")


class SessionQueries:
    """Session and attempt-counter statements on one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def create(self, *, session_hash: str, user_id: int, now: int, expires_at: int) -> None:
        """Store a new session."""
        params = {
            "session_hash": session_hash,
            "user_id": user_id,
            "now": now,
            "expires_at": expires_at,
        }
        await self._conn.execute(INSERT_SESSION, params)

    async def user(self, session_hash: str, *, now: int) -> tuple[int, str] | None:
        """(user id, username) of a live session."""
        params = {"session_hash": session_hash, "now": now}
        row = await self._conn.fetchrow(SESSION_USER, params)
        return None if row is None else (int(row[0]), str(row[1]))

    async def delete(self, session_hash: str) -> None:
        """End a session."""
        await self._conn.execute(DELETE_SESSION, {"session_hash": session_hash})

    async def purge_expired(self, *, now: int) -> None:
        """Forget sessions past their lifetime."""
        await self._conn.execute(EXPIRED_SESSIONS, {"now": now})

    async def count_attempt(self, key: str, *, now: int, window_ms: int) -> tuple[int, int]:
        """Count one attempt; (attempts in the current window, when that window began)."""
        params = {"key": key, "now": now, "stale": now - window_ms}
        row = await self._conn.fetchrow(COUNT_ATTEMPT, params)
        assert row is not None
        return int(row[0]), int(row[1])

    async def attempts(self, key: str, *, now: int, window_ms: int) -> tuple[int, int] | None:
        """(attempts, window start) of a key's current window, if it has one."""
        row = await self._conn.fetchrow(ATTEMPTS, {"key": key, "stale": now - window_ms})
        return None if row is None else (int(row[0]), int(row[1]))

    async def clear_attempts(self, key: str) -> None:
        """Forget a key's attempts (a successful sign-in)."""
        await self._conn.execute(CLEAR_ATTEMPTS, {"key": key})

    async def purge_attempts(self, *, before: int) -> None:
        """Forget windows that began before `before`."""
        await self._conn.execute(OLD_ATTEMPTS, {"before": before})

    async def add_attempts(self, key: str, count: int, *, now: int, window_ms: int) -> None:
        """Count `count` attempts at once (a window older than `window_ms` starts again)."""
        params = {"key": key, "now": now, "n": count, "stale": now - window_ms}
        await self._conn.execute(ADD_ATTEMPTS, params)
