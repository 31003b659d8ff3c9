"""Library queries: the entries a user has (read by every write that files items), writing and
removing entries, and the library read rows (all-items and the ratings read render the same)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Hashable, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from itertools import product
from typing import Any

from simkl_server.domain.kinds import LIST_STATUS_OF_WORD
from simkl_server.domain.models import (
    ROWS_KEPT,
    CatalogItem,
    KeptReads,
    LibraryEntry,
    LibraryQuery,
    LibraryRow,
    LibraryState,
    LibraryWrite,
    Memo,
    keeps_rows,
)
from simkl_server.storage.activities import ActivityQueries, touch_sql
from simkl_server.storage.catalog import (
    ITEM_COLUMN_COUNT,
    ITEM_COLUMNS,
    item_from_row,
    new_item_from_row,
)
from simkl_server.storage.credentials import settle_by
from simkl_server.storage.dialect import SqlDialect, Statement, json_text, statement
from simkl_server.storage.drivers import Connection, Row, converted

# Episodes not aired yet, counted only for items still airing: an ended show has aired them all.
_NOT_AIRED = (
    "CASE WHEN c.type = 'movie' OR c.status = 'ended' THEN 0 ELSE ("
    "SELECT COUNT(*) FROM catalog_episodes e WHERE e.item_id = c.id AND e.season > 0 "
    "AND (e.aired_at IS NULL OR e.aired_at > :now)) END"
)
# A library row as read endpoints render it: the catalog item, then the entry's own columns,
# then the auth stamp, so that a read of one statement also settles the request's cached
# authentication (`settle_by`) instead of reading the stamp in a round trip of its own.
ROW_COLUMNS = (
    f"{ITEM_COLUMNS}, l.status, l.user_rating, l.user_rated_at, l.last_watched_at, "
    f"l.last_watched, l.next_to_watch, l.added_at, l.watched_episodes, {_NOT_AIRED}, "
    "l.memo_text, l.memo_private, (SELECT n FROM auth_stamp WHERE id = 1)"
)
_STAMP_AT = ITEM_COLUMN_COUNT + 11  # the row's columns before the auth stamp
_AIRS_NEXT_AT = _STAMP_AT + 3
# What a small read also returns, to be answered again without reading its rows: the catalog
# and library stamps it was read under and, for an item still airing, when its next episode
# airs (the read's `not_aired` counts hold until the first of them).
_STAMPS = (
    "(SELECT n FROM catalog_stamp WHERE id = 1), "
    "(SELECT n FROM library_stamp WHERE user_id = :user_id)"
)
_AIRS_NEXT = (
    "CASE WHEN c.type = 'movie' OR c.status = 'ended' THEN NULL ELSE ("
    "SELECT MIN(e.aired_at) FROM catalog_episodes e WHERE e.item_id = c.id AND e.season > 0 "
    "AND e.aired_at > :now) END"
)
SMALL_ROW_COLUMNS = f"{ROW_COLUMNS}, {_STAMPS}, {_AIRS_NEXT}"
# The stamps alone, the auth stamp first: whether a kept read still holds, in one statement.
STAMPS = statement(f"SELECT (SELECT n FROM auth_stamp WHERE id = 1), {_STAMPS}")
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
# The entries with the user's library stamp as they were read (0 before the user's first
# entry), for a write run ahead of the user's lock (storage/ahead.py): its one row with NULL
# entry columns when the user has none of the items.
LIBRARY_STAMP = "COALESCE((SELECT n FROM library_stamp WHERE user_id = :user_id), 0)"
_ENTRY_NAMES = _ENTRY_COLUMNS.split(", ")
ENTRY_COLUMNS_OF_L = ", ".join(f"l.{name}" for name in _ENTRY_NAMES)
ENTRIES_STAMPED = statement(
    lambda d: (
        f"SELECT {LIBRARY_STAMP}, {ENTRY_COLUMNS_OF_L} FROM (SELECT 1) AS one "
        "LEFT JOIN library l ON l.user_id = :user_id AND "
        + d.in_array("l.item_id", "item_ids", "BIGINT")
    )
)
# PostgreSQL: the entries a write computed ahead of the user's lock, saved in one call that
# takes the lock and checks what they were computed from still stands (migration 0012).
SAVE_AHEAD = statement(
    "SELECT simkl_save_library(CAST(:user_id AS INTEGER), CAST(:now AS BIGINT), "
    "CAST(:auth_stamp AS BIGINT), CAST(:catalog_stamp AS BIGINT), "
    "CAST(:library_stamp AS BIGINT), CAST(:rows AS JSONB), CAST(:marks AS JSONB), "
    "CAST(:buckets AS TEXT[]))"
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


# Whole entries as the domain computed them (it read them first, under the user's lock). The
# delta stamps move only for what changed: the list side (`date_from` of all-items) and the
# rating (`date_from` of the ratings read). `excluded` holds only table columns, so a row that
# leaves the list side alone carries -1 there, a sentinel no stamp takes (a new entry always
# changes the list side).
def _save_sql(d: SqlDialect) -> str:
    return (
        "INSERT INTO library (user_id, item_id, "
        + ", ".join(_KEPT)
        + ", list_changed_at, rating_changed_at) "
        "SELECT CAST(:user_id AS INTEGER), r.item_id, "
        + ", ".join(f"r.{name}" for name in _KEPT)
        + ", CASE WHEN r.list_changed THEN CAST(:now AS BIGINT) ELSE -1 END"
        ", CASE WHEN r.rating_changed THEN CAST(:now AS BIGINT) END "
        f"FROM ({d.json_rows('rows', _WRITE_COLUMNS)}) AS r WHERE true "
        "ON CONFLICT (user_id, item_id) DO UPDATE SET "
        + ", ".join(f"{name} = excluded.{name}" for name in _KEPT)
        + ", list_changed_at = CASE WHEN excluded.list_changed_at < 0 "
        "THEN library.list_changed_at ELSE excluded.list_changed_at END"
        ", rating_changed_at = COALESCE(excluded.rating_changed_at, library.rating_changed_at)"
    )


SAVE = statement(_save_sql)
# The save and the activity touch of a write in one statement where the database allows it
# (`writes_in_with`): one round trip fewer on PostgreSQL. The two write different tables, so
# neither needs to see the other's rows.
SAVE_TOUCHING = statement(lambda d: f"WITH saved AS ({_save_sql(d)}) {touch_sql(d, 'now')}")
REMOVE = statement(
    lambda d: (
        "DELETE FROM library WHERE user_id = :user_id AND "
        f"{d.in_array('item_id', 'item_ids', 'BIGINT')} RETURNING item_id, user_rating"
    )
)


def library_row(row: Row) -> LibraryRow:
    """A LibraryRow from the ROW_COLUMNS, kept for the next read."""
    return _kept_row(row[:_STAMP_AT])


@dataclass(frozen=True, slots=True)
class KeptRead:
    """A small read's rows as fetched and as made, the stamps they were read under (None
    when no row returned them) and the span of the clock over which they hold."""

    fetched: list[Row]
    made: tuple[LibraryRow, ...]
    stamps: tuple[Any, ...] | None
    read_at: int
    airs_next: int | None

    def holds_at(self, now: int) -> bool:
        """Whether the rows' counts of episodes not aired hold at `now` (a clock set back
        may un-air an episode)."""
        return (
            self.stamps is not None
            and self.read_at <= now
            and (self.airs_next is None or now < self.airs_next)
        )


# Small reads by user and query, kept by each Store (a process may open several databases).
# A read whose stamps still stand, on a clock its rows hold at, is answered with the rows made
# then, in one statement of three numbers. Otherwise it is read again, and rows fetched equal
# to the kept ones (compared as fetched, in C) still take the rows made then, skipping every
# row's lookup in the rows kept; the same row objects let wire find the rendered read.
SmallReads = KeptReads[Hashable, KeptRead]


async def small_read(
    conn: Connection,
    reads: SmallReads,
    user_id: int,
    query: Hashable,
    *,
    now: int,
    limit: int,
    fetch: Callable[[int], Awaitable[list[Row]]],
) -> list[LibraryRow] | None:
    """A small read's LibraryRows, or None when there are more than `limit` of them (`fetch`
    runs its SMALL_ROW_COLUMNS statement for at most the rows it is given)."""
    key = (user_id, query, limit)
    kept = reads.get(key)
    if kept is not None and kept.holds_at(now):
        stamps = await conn.fetchrow(STAMPS, {"user_id": user_id})
        if stamps is not None and tuple(stamps) == kept.stamps:
            settle_by(stamps[0])
            return list(kept.made)
    fetched = await fetch(limit + 1)  # one more than `limit` tells a read too large
    if len(fetched) > limit:
        return None
    made = _made(kept, fetched)
    reads.put(key, _kept_read(fetched, made, now), rows=len(made))
    return list(made)


def _made(kept: KeptRead | None, fetched: list[Row]) -> tuple[LibraryRow, ...]:
    if kept is not None and kept.fetched == fetched:
        return kept.made
    return tuple(library_row(row) for row in fetched)


def _kept_read(fetched: list[Row], made: tuple[LibraryRow, ...], now: int) -> KeptRead:
    if not fetched:
        return KeptRead(fetched, made, None, now, None)
    first = fetched[0]
    airs = [row[_AIRS_NEXT_AT] for row in fetched if row[_AIRS_NEXT_AT] is not None]
    stamps = (first[_STAMP_AT], first[_STAMP_AT + 1], first[_STAMP_AT + 2])
    return KeptRead(fetched, made, stamps, now, min(airs, default=None))


def row_maker(count: int) -> Callable[[Row], LibraryRow]:
    """How to make the rows of a read of `count` rows: kept, or anew (see `keeps_rows`)."""
    return library_row if keeps_rows(count) else _new_row


def settled(rows: list[Row]) -> list[Row]:
    """The rows read, having settled the request's deferred authentication by their stamp."""
    if rows:
        settle_by(rows[0][_STAMP_AT])
    return rows


def _new_row(row: Row) -> LibraryRow:
    return _row(row, new_item_from_row)


def _row(row: Row, item: Callable[[Row], CatalogItem]) -> LibraryRow:
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
    ) = row[ITEM_COLUMN_COUNT:_STAMP_AT]
    return LibraryRow(
        item(row),
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


# Rows kept by every column read (a changed entry or item is another key): a library read
# again makes the same rows, and a row made once is the same object each time, so the
# renderings kept by row (wire/library.py) find it by identity.
@lru_cache(maxsize=ROWS_KEPT)
def _kept_row(row: tuple[Any, ...]) -> LibraryRow:
    return _row(row, item_from_row)


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


def entries_from_rows(rows: Sequence[Row], offset: int) -> dict[int, LibraryEntry]:
    """The entries in rows that hold ENTRY_COLUMNS_OF_L from `offset` (NULL there: none)."""
    end = offset + len(_ENTRY_NAMES)
    return {row[offset]: _entry(row[offset:end]) for row in rows if row[offset] is not None}


def _rows_sql(
    d: SqlDialect, *, by_status: bool, by_date: bool, anime_movies: bool, limited: bool
) -> str:
    columns = SMALL_ROW_COLUMNS if limited else ROW_COLUMNS
    sql = (
        f"SELECT {columns} FROM library l "
        f"{d.join_each_row('catalog_items', 'c', 'c.id = l.item_id')} "
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
    """Library statements on one connection; `reads`: the Store's small reads kept."""

    def __init__(self, conn: Connection, reads: SmallReads) -> None:
        self._conn = conn
        self._reads = reads

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

    async def entries_stamped(
        self, user_id: int, item_ids: Collection[int]
    ) -> tuple[dict[int, LibraryEntry], int]:
        """`entries`, and the user's library stamp they were read under, in one statement."""
        params = {"user_id": user_id, "item_ids": self._conn.array(item_ids)}
        rows = await self._conn.fetch(ENTRIES_STAMPED, params)
        return entries_from_rows(rows, 1), int(rows[0][0])

    async def save(
        self,
        user_id: int,
        writes: Sequence[LibraryWrite],
        *,
        now: int,
        touching: Collection[str] = (),
    ) -> None:
        """Create or rewrite entries as given, moving each delta stamp only where flagged, and
        move the activity buckets `touching` to `now` (ActivityQueries.touch)."""
        payload, names = saved_rows(writes, touching)
        params: dict[str, Any] = {"user_id": user_id, "rows": payload, "now": now}
        if payload is not None and names and self._conn.dialect.writes_in_with:
            await self._conn.execute(SAVE_TOUCHING, params | {"buckets": self._conn.array(names)})
            return
        if payload is not None:
            await self._conn.execute(SAVE, params)
        await ActivityQueries(self._conn).touch(user_id, names, at=now)

    async def remove(self, user_id: int, item_ids: Collection[int]) -> dict[int, int | None]:
        """Delete entries (their episodes and rewatches go with them); the rating each had."""
        if not item_ids:
            return {}
        params = {"user_id": user_id, "item_ids": self._conn.array(item_ids)}
        return {row[0]: row[1] for row in await self._conn.fetch(REMOVE, params)}

    async def rows(self, user_id: int, query: LibraryQuery, *, now: int) -> list[LibraryRow]:
        """Library rows of the wanted types and statuses, changed after the delta start."""
        rows = await self._rows(user_id, query, now, None)
        return await converted(rows, row_maker(len(rows)))

    async def rows_up_to(
        self, user_id: int, query: LibraryQuery, *, now: int, limit: int
    ) -> list[LibraryRow] | None:
        """`rows` when there are at most `limit` of them, else None (read no further)."""
        return await small_read(
            self._conn,
            self._reads,
            user_id,
            query,
            now=now,
            limit=limit,
            fetch=partial(self._rows, user_id, query, now),
        )

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
        return settled(await self._conn.fetch(ROWS[flags], params))


def saved_rows(
    writes: Sequence[LibraryWrite], touching: Collection[str]
) -> tuple[str | None, list[str]]:
    """A save's parameters: its rows as JSON text (None: no rows) and its buckets in order."""
    payload = json_text(_write_row(write) for write in writes) if writes else None
    return payload, sorted(set(touching))


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
