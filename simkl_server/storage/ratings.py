"""Ratings queries: clear, set (filing new items) and the ratings read."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import product
from typing import TYPE_CHECKING, Any

from simkl_server.domain.models import LibraryRow, RatingsQuery, RatingWrite
from simkl_server.storage.catalog import CatalogMoved
from simkl_server.storage.dialect import SqlDialect, Statement, json_text, statement
from simkl_server.storage.drivers import Connection, Row
from simkl_server.storage.library import (
    ROW_COLUMNS,
    SMALL_ROW_COLUMNS,
    SmallReads,
    row_maker,
    settled,
    small_read,
)

if TYPE_CHECKING:
    from simkl_server.storage.base import WriteTx

CLEAR = statement(
    lambda d: (
        "UPDATE library SET user_rating = NULL, user_rated_at = NULL, "
        "rating_changed_at = :now WHERE user_id = :user_id AND user_rating IS NOT NULL "
        f"AND {d.in_array('item_id', 'item_ids', 'BIGINT')} RETURNING item_id"
    )
)
# PostgreSQL: lock, auth check, CLEAR and the activity touch in one call (migration 0009).
CLEAR_AT_ONCE = statement(
    "SELECT simkl_clear_ratings(CAST(:user_id AS INTEGER), CAST(:now AS BIGINT), "
    "CAST(:auth_stamp AS BIGINT), CAST(:catalog_stamp AS BIGINT), "
    "CAST(:item_ids AS BIGINT[]), CAST(:buckets AS TEXT[]))"
)
_CATALOG_MOVED = -1  # what the call returns when the catalog stamp moved
# New rows are filed under their computed status; existing rows keep theirs.
SAVE = statement(
    lambda d: (
        "INSERT INTO library (user_id, item_id, status, user_rating, user_rated_at, "
        "rating_changed_at, added_at, list_changed_at) "
        "SELECT CAST(:user_id AS INTEGER), r.item_id, r.status, r.rating, r.rated_at, "
        "CAST(:now AS BIGINT), CAST(:now AS BIGINT), CAST(:now AS BIGINT) FROM ("
        + d.json_rows(
            "rows",
            (
                ("item_id", "BIGINT"),
                ("status", "TEXT"),
                ("rating", "SMALLINT"),
                ("rated_at", "BIGINT"),
            ),
        )
        + ") AS r WHERE true "
        "ON CONFLICT (user_id, item_id) DO UPDATE SET user_rating = excluded.user_rating, "
        "user_rated_at = excluded.user_rated_at, rating_changed_at = excluded.rating_changed_at"
    )
)


def _rows_sql(d: SqlDialect, *, by_rating: bool, by_date: bool, limited: bool) -> str:
    columns = SMALL_ROW_COLUMNS if limited else ROW_COLUMNS
    sql = (
        f"SELECT {columns} FROM library l "
        f"{d.join_each_row('catalog_items', 'c', 'c.id = l.item_id')} "
        f"WHERE l.user_id = :user_id AND {d.in_array('c.type', 'types', 'TEXT')}"
    )
    if by_rating:
        sql += f" AND {d.in_array('l.user_rating', 'ratings', 'SMALLINT')}"
    if by_date:
        sql += " AND l.rating_changed_at > :changed_after"
    return sql + " ORDER BY l.item_id" + (" LIMIT :limit" if limited else "")


def _rows_variant(flags: tuple[bool, ...]) -> Statement:
    by_rating, by_date, limited = flags
    return statement(lambda d: _rows_sql(d, by_rating=by_rating, by_date=by_date, limited=limited))


ROWS = {flags: _rows_variant(flags) for flags in product((False, True), repeat=3)}


class RatingsQueries:
    """Ratings statements on one connection; `reads`: the Store's small reads kept."""

    def __init__(self, conn: Connection, reads: SmallReads) -> None:
        self._conn = conn
        self._reads = reads

    async def clear(self, user_id: int, item_ids: Collection[int], *, now: int) -> list[int]:
        """Clear the ratings on those items; return the ids that actually had one."""
        params = {"user_id": user_id, "item_ids": self._conn.array(item_ids), "now": now}
        return [row[0] for row in await self._conn.fetch(CLEAR, params)]

    async def save(self, user_id: int, rows: Sequence[RatingWrite], *, now: int) -> None:
        """Set ratings, filing items that are not yet in the library under their status."""
        if rows:
            payload = json_text((r.item_id, r.status.value, r.rating, r.rated_at) for r in rows)
            await self._conn.execute(SAVE, {"user_id": user_id, "rows": payload, "now": now})

    async def rows(self, user_id: int, query: RatingsQuery, *, now: int) -> list[LibraryRow]:
        """Library rows of the wanted types, with the rating and delta filters applied."""
        rows = await self._rows(user_id, query, now, None)
        return list(map(row_maker(len(rows)), rows))

    async def rows_up_to(
        self, user_id: int, query: RatingsQuery, *, now: int, limit: int
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
        self, user_id: int, query: RatingsQuery, now: int, limit: int | None
    ) -> list[Row]:
        flags = (query.ratings is not None, query.changed_after is not None, limit is not None)
        params = {
            "user_id": user_id,
            "types": self._conn.array(sorted(query.types)),
            "ratings": self._conn.array(sorted(query.ratings or ())),
            "changed_after": query.changed_after,
            "now": now,
            "limit": limit,
        }
        return settled(await self._conn.fetch(ROWS[flags], params))


@dataclass(frozen=True, slots=True)
class ClearRatings:
    """A user write: clear the user's ratings on these items, and move the activity bucket
    of each item (`buckets`, by item id) whose rating was cleared; CatalogMoved, with nothing
    changed, when `catalog_stamp` (that of the lookup the items came from, if it was kept
    from an earlier request) no longer stands."""

    user_id: int
    buckets: Mapping[int, str]
    catalog_stamp: int | None = None
    call = CLEAR_AT_ONCE

    def params(self, *, now: int, auth_stamp: int | None) -> dict[str, Any]:
        """The call's parameters (`auth_stamp`: the one to hold the request's token to)."""
        item_ids = sorted(self.buckets)
        return {
            "user_id": self.user_id,
            "now": now,
            "auth_stamp": auth_stamp,
            "catalog_stamp": self.catalog_stamp,
            "item_ids": item_ids,
            "buckets": [self.buckets[item_id] for item_id in item_ids],
        }

    def result(self, row: Row) -> None:
        """Nothing to tell (the domain counts matches, not clears) unless the catalog moved."""
        if row[0] == _CATALOG_MOVED:
            raise CatalogMoved

    async def run(self, tx: WriteTx) -> None:
        """The same write as ordinary statements, in the user's write transaction."""
        if self.catalog_stamp is not None and await tx.catalog.stamp() != self.catalog_stamp:
            raise CatalogMoved
        cleared = await tx.ratings.clear(self.user_id, self.buckets.keys(), now=tx.now_ms)
        await tx.activities.touch(
            self.user_id, {self.buckets[item_id] for item_id in cleared}, at=tx.now_ms
        )
