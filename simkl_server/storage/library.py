"""Library queries: the entries a user has (read by every write that files items), writing and
removing entries, and the library read rows (all-items and the ratings read render the same)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from itertools import product
from typing import Any

import orjson

from simkl_server.domain.kinds import LIST_STATUS_OF_WORD
from simkl_server.domain.models import (
    CatalogEpisode,
    LibraryBasis,
    LibraryEntry,
    LibraryQuery,
    LibraryRow,
    LibrarySave,
    LibraryState,
    LibraryWrite,
    Memo,
    WatchedEpisodes,
)
from simkl_server.storage.activities import touch_sql
from simkl_server.storage.catalog import (
    EPISODE_COLUMNS,
    ITEM_COLUMN_COUNT,
    ITEM_COLUMNS,
    episode_from_row,
    item_from_row,
)
from simkl_server.storage.dialect import SqlDialect, Statement, json_text, statement
from simkl_server.storage.drivers import Connection, Row, converted
from simkl_server.storage.history import mark_sql, marked_rows, unmark_sql, unmarked_rows

# Episodes not aired yet, counted only for items still airing: an ended show has aired them all.
_NOT_AIRED = (
    "CASE WHEN c.type = 'movie' OR c.status = 'ended' THEN 0 ELSE ("
    "SELECT COUNT(*) FROM catalog_episodes e WHERE e.item_id = c.id AND e.season > 0 "
    "AND (e.aired_at IS NULL OR e.aired_at > :now)) END"
)
# A library row as read endpoints render it: the catalog item, then the entry's own columns.
ROW_COLUMNS = (
    f"{ITEM_COLUMNS}, l.status, l.user_rating, l.user_rated_at, l.last_watched_at, "
    f"l.last_watched, l.next_to_watch, l.added_at, l.watched_episodes, {_NOT_AIRED}, "
    "l.memo_text, l.memo_private"
)
_ENTRY_COLUMNS = (
    "item_id, status, added_at, last_watched_at, user_rating, user_rated_at, "
    "watched_episodes, last_watched, next_to_watch, memo_text, memo_private"
)

STATES = statement(
    lambda d: (
        "SELECT item_id, status, user_rating, user_rated_at FROM library "
        f"WHERE user_id = :user_id AND {d.in_array('item_id', 'item_ids', 'BIGINT')}"
    )
)
ENTRIES = statement(
    lambda d: (
        f"SELECT {_ENTRY_COLUMNS} FROM library "
        f"WHERE user_id = :user_id AND {d.in_array('item_id', 'item_ids', 'BIGINT')}"
    )
)
_WRITE_COLUMNS = (
    ("item_id", "BIGINT"),
    ("status", "TEXT"),
    ("added_at", "BIGINT"),
    ("last_watched_at", "BIGINT"),
    ("user_rating", "SMALLINT"),
    ("user_rated_at", "BIGINT"),
    ("watched_episodes", "INTEGER"),
    ("last_watched", "TEXT"),
    ("next_to_watch", "TEXT"),
    ("memo_text", "TEXT"),
    ("memo_private", "BOOLEAN"),
    ("list_changed", "BOOLEAN"),
    ("rating_changed", "BOOLEAN"),
)
_KEPT = [name for name, _ in _WRITE_COLUMNS[1:11]]


def _save_sql(d: SqlDialect, rows: str, gate: str) -> str:
    """Whole entries as the domain computed them (it read them first, under the user's lock or
    checked by the claim). The delta stamps move only for what changed: the list side
    (`date_from` of all-items) and the rating (`date_from` of the ratings read). `excluded`
    holds only table columns, so a row that leaves the list side alone carries -1 there, a
    sentinel no stamp takes (a new entry always changes the list side)."""
    return (
        "INSERT INTO library (user_id, item_id, "
        + ", ".join(_KEPT)
        + ", list_changed_at, rating_changed_at) "
        "SELECT CAST(:user_id AS INTEGER), r.item_id, "
        + ", ".join(f"r.{name}" for name in _KEPT)
        + ", CASE WHEN r.list_changed THEN CAST(:now AS BIGINT) ELSE -1 END"
        ", CASE WHEN r.rating_changed THEN CAST(:now AS BIGINT) END "
        f"FROM ({d.json_rows(rows, _WRITE_COLUMNS)}) AS r WHERE {gate} "
        "ON CONFLICT (user_id, item_id) DO UPDATE SET "
        + ", ".join(f"{name} = excluded.{name}" for name in _KEPT)
        + ", list_changed_at = CASE WHEN excluded.list_changed_at < 0 "
        "THEN library.list_changed_at ELSE excluded.list_changed_at END"
        ", rating_changed_at = COALESCE(excluded.rating_changed_at, library.rating_changed_at)"
    )


def _remove_sql(d: SqlDialect, gate: str) -> str:
    return (
        "DELETE FROM library WHERE user_id = :user_id AND "
        f"{d.in_array('item_id', 'item_ids', 'BIGINT')} AND {gate}"
    )


SAVE = statement(lambda d: _save_sql(d, "rows", "true"))
REMOVE = statement(lambda d: _remove_sql(d, "true") + " RETURNING item_id, user_rating")
# PostgreSQL: a library write prepared outside the user's lock, as one statement (migration
# 0010): the claim takes the lock and checks that nothing moved since the entries were read;
# every part writes only if it did. The parts are the ordinary write's statements, so a write
# may not remove and save the same entry, or unmark and mark the same episode (one statement
# would meet the same row twice): such a write is run the ordinary way.
_CLAIMED = "(SELECT claimed FROM claim)"
SAVE_AT_ONCE = statement(
    lambda d: (
        "WITH claim AS (SELECT simkl_claim_write(CAST(:user_id AS INTEGER), "
        "CAST(:auth_stamp AS BIGINT), CAST(:catalog_stamp AS BIGINT), CAST(:writes AS BIGINT)"
        ") AS claimed), "
        f"removed AS ({_remove_sql(d, _CLAIMED)}), "
        f"saved AS ({_save_sql(d, 'rows', _CLAIMED)}), "
        f"unmarked AS ({unmark_sql(d, 'unmarks', _CLAIMED)}), "
        f"marked AS ({mark_sql(d, 'marks', _CLAIMED)}), "
        f"touched AS ({touch_sql(d, _CLAIMED)}) "
        "SELECT claimed FROM claim"
    )
)
# PostgreSQL: what such a write reads first, in one statement and so on one snapshot: the
# user's write count and newest stamp, the entries of the write's items, the watched episodes
# of its shows and the episodes the catalog lists for them (as JSON arrays of the ordinary
# reads' rows). No row: no such user.
BASIS = statement(
    lambda d: (
        "SELECT COALESCE((SELECT n FROM user_writes WHERE user_id = u.id), 0), "
        "COALESCE((SELECT MAX(at) FROM activity WHERE user_id = u.id), 0), "
        f"(SELECT json_agg(json_build_array({_ENTRY_COLUMNS})) FROM library "
        f"WHERE user_id = u.id AND {d.in_array('item_id', 'item_ids', 'BIGINT')}), "
        "(SELECT json_agg(json_build_array(item_id, season, number, watched_at)) "
        "FROM user_episodes WHERE user_id = u.id AND "
        f"{d.in_array('item_id', 'show_ids', 'BIGINT')}), "
        f"(SELECT json_agg(json_build_array(e.item_id, {EPISODE_COLUMNS}) "
        "ORDER BY e.item_id, e.season, e.number) FROM catalog_episodes e "
        f"WHERE {d.in_array('e.item_id', 'show_ids', 'BIGINT')}) "
        "FROM users u WHERE u.id = :user_id"
    )
)


def library_row(row: Row) -> LibraryRow:
    """A LibraryRow from the ROW_COLUMNS."""
    (
        status,
        rating,
        rated_at,
        seen_at,
        last,
        next_,
        added,
        watched,
        not_aired,
        memo,
        private,
    ) = row[ITEM_COLUMN_COUNT:]
    return LibraryRow(
        item_from_row(row),
        LIST_STATUS_OF_WORD[status],
        user_rating=rating,
        user_rated_at=rated_at,
        last_watched_at=seen_at,
        last_watched=last,
        next_to_watch=next_,
        added_at=added,
        watched_episodes=watched,
        not_aired=not_aired,
        memo=None if memo is None else Memo(memo, bool(private)),
    )


def _entry(row: Row) -> LibraryEntry:
    (item_id, status, added, seen_at, rating, rated_at, watched, last, next_, memo, private) = row
    return LibraryEntry(
        item_id,
        LIST_STATUS_OF_WORD[status],
        added_at=added,
        last_watched_at=seen_at,
        user_rating=rating,
        user_rated_at=rated_at,
        watched_episodes=watched,
        last_watched=last,
        next_to_watch=next_,
        memo=None if memo is None else Memo(memo, bool(private)),
    )


def _rows_sql(
    d: SqlDialect, *, by_status: bool, by_date: bool, anime_movies: bool, limited: bool
) -> str:
    sql = (
        f"SELECT {ROW_COLUMNS} FROM library l JOIN catalog_items c ON c.id = l.item_id "
        f"WHERE l.user_id = :user_id AND {d.in_array('c.type', 'types', 'TEXT')}"
    )
    if by_status:
        sql += f" AND {d.in_array('l.status', 'statuses', 'TEXT')}"
    if by_date:
        sql += " AND l.list_changed_at > :changed_after"
    if anime_movies:
        sql += " AND (c.type <> 'anime' OR c.anime_type = 'movie')"
    return sql + " ORDER BY l.item_id" + (" LIMIT :limit" if limited else "")


def _rows_variant(flags: tuple[bool, ...]) -> Statement:
    by_status, by_date, anime_movies, limited = flags
    return statement(
        lambda d: _rows_sql(
            d, by_status=by_status, by_date=by_date, anime_movies=anime_movies, limited=limited
        )
    )


ROWS = {flags: _rows_variant(flags) for flags in product((False, True), repeat=4)}


class LibraryQueries:
    """Library statements on one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def states(self, user_id: int, item_ids: Collection[int]) -> dict[int, LibraryState]:
        """The library entries the user has among `item_ids`."""
        rows = await self._conn.fetch(
            STATES, {"user_id": user_id, "item_ids": self._conn.array(item_ids)}
        )
        return {row[0]: LibraryState(LIST_STATUS_OF_WORD[row[1]], row[2], row[3]) for row in rows}

    async def entries(self, user_id: int, item_ids: Collection[int]) -> dict[int, LibraryEntry]:
        """The whole entries the user has among `item_ids`."""
        if not item_ids:
            return {}
        params = {"user_id": user_id, "item_ids": self._conn.array(item_ids)}
        return {row[0]: _entry(row) for row in await self._conn.fetch(ENTRIES, params)}

    async def save(self, user_id: int, writes: Sequence[LibraryWrite], *, now: int) -> None:
        """Create or rewrite entries as given, moving each delta stamp only where flagged."""
        if writes:
            payload = json_text(_write_row(write) for write in writes)
            await self._conn.execute(SAVE, {"user_id": user_id, "rows": payload, "now": now})

    async def basis(
        self, user_id: int, item_ids: Collection[int], show_ids: Collection[int]
    ) -> LibraryBasis | None:
        """What a write of these items prepared outside the user's lock needs (PostgreSQL's
        BASIS); None when there is no such user."""
        array = self._conn.array
        params = {"user_id": user_id, "item_ids": array(item_ids), "show_ids": array(show_ids)}
        row = await self._conn.fetchrow(BASIS, params)
        if row is None:
            return None
        writes, latest, entries, watched, episodes = row
        watched_by_item: dict[int, WatchedEpisodes] = {}
        for item_id, season, number, at in _json_rows(watched):
            watched_by_item.setdefault(item_id, {})[(season, number)] = at
        episodes_by_item: dict[int, list[CatalogEpisode]] = {}
        for episode in _json_rows(episodes):
            episodes_by_item.setdefault(episode[0], []).append(episode_from_row(episode, 1))
        return LibraryBasis(
            writes,
            latest,
            {entry.item_id: entry for entry in map(_entry, _json_rows(entries))},
            watched_by_item,
            episodes_by_item,
        )

    async def remove(self, user_id: int, item_ids: Collection[int]) -> dict[int, int | None]:
        """Delete entries (their episodes and rewatches go with them); the rating each had."""
        if not item_ids:
            return {}
        params = {"user_id": user_id, "item_ids": self._conn.array(item_ids)}
        return {row[0]: row[1] for row in await self._conn.fetch(REMOVE, params)}

    async def rows(self, user_id: int, query: LibraryQuery, *, now: int) -> list[LibraryRow]:
        """Library rows of the wanted types and statuses, changed after the delta start."""
        return await converted(await self._rows(user_id, query, now, None), library_row)

    async def rows_up_to(
        self, user_id: int, query: LibraryQuery, *, now: int, limit: int
    ) -> list[LibraryRow] | None:
        """`rows` when there are at most `limit` of them, else None (read no further)."""
        rows = await self._rows(user_id, query, now, limit + 1)
        return None if len(rows) > limit else [library_row(row) for row in rows]

    async def _rows(
        self, user_id: int, query: LibraryQuery, now: int, limit: int | None
    ) -> list[Row]:
        flags = (
            query.statuses is not None,
            query.changed_after is not None,
            query.anime_movies,
            limit is not None,
        )
        params: dict[str, Any] = {
            "user_id": user_id,
            "types": self._conn.array(sorted(query.types)),
            "now": now,
            "limit": limit,
        }
        if query.statuses is not None:
            params["statuses"] = self._conn.array(sorted(query.statuses))
        if query.changed_after is not None:
            params["changed_after"] = query.changed_after
        return await self._conn.fetch(ROWS[flags], params)


def save_at_once_params(
    user_id: int,
    save: LibrarySave,
    *,
    now: int,
    writes: int,
    auth_stamp: int | None,
    catalog_stamp: int | None,
) -> dict[str, Any]:
    """SAVE_AT_ONCE's parameters: the write, claimed if the user's write count still is
    `writes` and the stamps (None: not checked) still stand."""
    return {
        "user_id": user_id,
        "auth_stamp": auth_stamp,
        "catalog_stamp": catalog_stamp,
        "writes": writes,
        "item_ids": save.removed,
        "rows": json_text(_write_row(write) for write in save.writes),
        "now": now,
        "unmarks": unmarked_rows(save.unmarks),
        "marks": marked_rows(save.marks),
        "buckets": sorted(save.buckets),
        "at": now,
    }


def _json_rows(value: str | None) -> list[list[Any]]:
    """The rows of a json_agg of arrays (NULL when there were none)."""
    return [] if value is None else orjson.loads(value)


def _write_row(write: LibraryWrite) -> tuple[Any, ...]:
    entry = write.entry
    memo = entry.memo
    return (
        entry.item_id,
        entry.status.value,
        entry.added_at,
        entry.last_watched_at,
        entry.user_rating,
        entry.user_rated_at,
        entry.watched_episodes,
        entry.last_watched,
        entry.next_to_watch,
        None if memo is None else memo.text,
        None if memo is None else memo.is_private,
        write.list_changed,
        write.rating_changed,
    )
