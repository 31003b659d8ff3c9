"""Watch-history queries: the episodes a user has watched, marked and unmarked in batches."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from simkl_server.domain.models import WatchedEpisode, WatchedEpisodes
from simkl_server.storage.dialect import json_text, statement
from simkl_server.storage.drivers import Connection, slices

_KEY_COLUMNS = (("item_id", "BIGINT"), ("season", "INTEGER"), ("number", "INTEGER"))

WATCHED = statement(
    lambda d: (
        "SELECT item_id, season, number, watched_at FROM user_episodes "
        f"WHERE user_id = :user_id AND {d.in_array('item_id', 'item_ids', 'BIGINT')}"
    )
)
# An episode already watched keeps its date; one marked without a date (a whole show marked at
# once) takes the date a later write gives it.
MARK = statement(
    lambda d: (
        "INSERT INTO user_episodes (user_id, item_id, season, number, watched_at) "
        "SELECT CAST(:user_id AS INTEGER), r.item_id, r.season, r.number, r.watched_at FROM ("
        + d.json_rows("rows", (*_KEY_COLUMNS, ("watched_at", "BIGINT")))
        + ") AS r WHERE true ON CONFLICT (user_id, item_id, season, number) "
        "DO UPDATE SET watched_at = COALESCE(user_episodes.watched_at, excluded.watched_at)"
    )
)
DETAILS = statement(
    lambda d: (
        "SELECT u.item_id, u.season, u.number, u.watched_at, e.runtime, e.tvdb_id, "
        "e.tvdb_season, e.tvdb_number FROM user_episodes u LEFT JOIN catalog_episodes e "
        "ON e.item_id = u.item_id AND e.season = u.season AND e.number = u.number "
        f"WHERE u.user_id = :user_id AND {d.in_array('u.item_id', 'item_ids', 'BIGINT')} "
        "ORDER BY u.item_id, u.season, u.number LIMIT :limit"
    )
)
UNMARK = statement(
    lambda d: (
        "DELETE FROM user_episodes WHERE user_id = :user_id "
        "AND (item_id, season, number) IN (SELECT r.item_id, r.season, r.number FROM ("
        + d.json_rows("rows", _KEY_COLUMNS)
        + ") AS r)"
    )
)


class HistoryQueries:
    """Watched-episode statements on one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def watched(self, user_id: int, item_ids: Collection[int]) -> dict[int, WatchedEpisodes]:
        """Each item's watched episodes: (season, number) -> watched_at (None: no date)."""
        found: dict[int, WatchedEpisodes] = {}
        if not item_ids:
            return found
        params = {"user_id": user_id, "item_ids": self._conn.array(item_ids)}
        for item_id, season, number, at in await self._conn.fetch(WATCHED, params):
            found.setdefault(item_id, {})[(season, number)] = at
        return found

    async def details(
        self, user_id: int, item_ids: Collection[int], *, limit: int
    ) -> dict[int, list[WatchedEpisode]] | None:
        """Each item's watched episodes in order, with what the catalog knows of them; None
        when they are more than `limit`."""
        found: dict[int, list[WatchedEpisode]] = {}
        if not item_ids:
            return found
        params = {"user_id": user_id, "item_ids": self._conn.array(item_ids), "limit": limit + 1}
        rows = await self._conn.fetch(DETAILS, params)
        if len(rows) > limit:
            return None
        async for chunk in slices(rows):
            for row in chunk:
                found.setdefault(row[0], []).append(WatchedEpisode(*row[1:]))
        return found

    async def mark(self, user_id: int, rows: Sequence[tuple[int, int, int, int | None]]) -> None:
        """Mark episodes watched: (item id, season, number, watched_at)."""
        if rows:
            await self._conn.execute(MARK, {"user_id": user_id, "rows": json_text(rows)})

    async def unmark(self, user_id: int, rows: Sequence[tuple[int, int, int]]) -> None:
        """Unmark episodes: (item id, season, number)."""
        if rows:
            await self._conn.execute(UNMARK, {"user_id": user_id, "rows": json_text(rows)})
