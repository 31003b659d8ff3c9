"""Rewatch-session queries: a user's sessions of some items with their episodes, fresh session
ids, and writing sessions and their episodes in batches."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from simkl_server.domain.models import RewatchSession
from simkl_server.storage.dialect import json_text, statement
from simkl_server.storage.drivers import Connection

SESSIONS = statement(
    lambda d: (
        "SELECT r.id, r.item_id, r.status, r.started_at, r.last_watched_at, r.changed_at, "
        "e.season, e.number, e.watched_at FROM rewatches r "
        "LEFT JOIN rewatch_episodes e ON e.rewatch_id = r.id "
        f"WHERE r.user_id = :user_id AND {d.in_array('r.item_id', 'item_ids', 'BIGINT')} "
        "ORDER BY r.id, e.season, e.number"
    )
)
NEW_IDS = statement(lambda d: d.new_ids("rewatches", "count"))
_SESSION_COLUMNS = (
    ("id", "BIGINT"),
    ("item_id", "BIGINT"),
    ("status", "TEXT"),
    ("started_at", "BIGINT"),
    ("last_watched_at", "BIGINT"),
    ("changed_at", "BIGINT"),
)
SAVE = statement(
    lambda d: (
        "INSERT INTO rewatches (id, user_id, item_id, status, started_at, last_watched_at, "
        "changed_at) SELECT r.id, CAST(:user_id AS INTEGER), r.item_id, r.status, r.started_at, "
        f"r.last_watched_at, r.changed_at FROM ({d.json_rows('rows', _SESSION_COLUMNS)}) AS r "
        "WHERE true ON CONFLICT (id) DO UPDATE SET status = excluded.status, "
        "last_watched_at = excluded.last_watched_at, changed_at = excluded.changed_at"
    )
)
MARK = statement(
    lambda d: (
        "INSERT INTO rewatch_episodes (rewatch_id, season, number, watched_at) "
        "SELECT r.rewatch_id, r.season, r.number, r.watched_at FROM ("
        + d.json_rows(
            "rows",
            (
                ("rewatch_id", "BIGINT"),
                ("season", "INTEGER"),
                ("number", "INTEGER"),
                ("watched_at", "BIGINT"),
            ),
        )
        + ") AS r WHERE true ON CONFLICT (rewatch_id, season, number) "
        "DO UPDATE SET watched_at = excluded.watched_at"
    )
)


class RewatchQueries:
    """Rewatch statements on one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def sessions(
        self, user_id: int, item_ids: Collection[int]
    ) -> dict[int, list[RewatchSession]]:
        """Each item's sessions, oldest first, with their episodes."""
        found: dict[int, list[RewatchSession]] = {}
        if not item_ids:
            return found
        params = {"user_id": user_id, "item_ids": self._conn.array(item_ids)}
        current: RewatchSession | None = None
        for row in await self._conn.fetch(SESSIONS, params):
            if current is None or current.id != row[0]:
                current = RewatchSession(*row[:6])
                found.setdefault(current.item_id, []).append(current)
            if row[6] is not None:
                current.episodes[(row[6], row[7])] = row[8]
        return found

    async def new_ids(self, count: int) -> list[int]:
        """`count` ids no session has."""
        if count <= 0:
            return []
        return [int(row[0]) for row in await self._conn.fetch(NEW_IDS, {"count": count})]

    async def save(
        self,
        user_id: int,
        sessions: Sequence[RewatchSession],
        episodes: Sequence[tuple[int, int, int, int | None]],
    ) -> None:
        """Create or update sessions, then add (or re-date) episodes of them:
        (session id, season, number, watched_at)."""
        if sessions:
            rows: list[Any] = [
                (s.id, s.item_id, s.status, s.started_at, s.last_watched_at, s.changed_at)
                for s in sessions
            ]
            await self._conn.execute(SAVE, {"user_id": user_id, "rows": json_text(rows)})
        if episodes:
            await self._conn.execute(MARK, {"rows": json_text(episodes)})
