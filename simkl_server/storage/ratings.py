"""Ratings queries: clear, set (filing new items) and the ratings read."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from typing import Any

from simkl_server.domain.models import LibraryRow, RatingsQuery, RatingWrite
from simkl_server.storage.dialect import SqlDialect, Statement, json_text, statement
from simkl_server.storage.drivers import Connection
from simkl_server.storage.library import ROW_COLUMNS, library_row

CLEAR = statement(
    lambda d: (
        "UPDATE library SET user_rating = NULL, user_rated_at = NULL, "
        "rating_changed_at = :now WHERE user_id = :user_id AND user_rating IS NOT NULL "
        f"AND {d.in_array('item_id', 'item_ids', 'BIGINT')} RETURNING item_id"
    )
)
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
    sql = (
        f"SELECT {ROW_COLUMNS} FROM library l JOIN catalog_items c ON c.id = l.item_id "
        f"WHERE l.user_id = :user_id AND {d.in_array('c.type', 'types', 'TEXT')}"
    )
    if by_rating:
        sql += f" AND {d.in_array('l.user_rating', 'ratings', 'SMALLINT')}"
    if by_date:
        sql += " AND l.rating_changed_at > :changed_after"
    return sql + " ORDER BY l.item_id" + (" LIMIT :limit" if limited else "")


def _rows_variant(by_rating: bool, by_date: bool, limited: bool) -> Statement:
    return statement(lambda d: _rows_sql(d, by_rating=by_rating, by_date=by_date, limited=limited))


ROWS = {
    (r, t, n): _rows_variant(r, t, n)
    for r in (False, True)
    for t in (False, True)
    for n in (False, True)
}


class RatingsQueries:
    """Ratings statements on one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def clear(self, user_id: int, item_ids: Collection[int], *, now: int) -> list[int]:
        """Clear the ratings on those items; return the ids that actually had one."""
        params = {"user_id": user_id, "item_ids": self._conn.array(item_ids), "now": now}
        return [row[0] for row in await self._conn.fetch(CLEAR, params)]

    async def save(self, user_id: int, rows: Sequence[RatingWrite], *, now: int) -> None:
        """Set ratings, filing items that are not yet in the library under their status."""
        if rows:
            payload = json_text((r.item_id, r.status.value, r.rating, r.rated_at) for r in rows)
            await self._conn.execute(SAVE, {"user_id": user_id, "rows": payload, "now": now})

    async def rows(
        self, user_id: int, query: RatingsQuery, *, limit: int | None = None
    ) -> list[LibraryRow]:
        """Library rows of the wanted types, with the rating and delta filters applied (the
        first `limit` of them, when given)."""
        variant, params = self._rows_query(user_id, query, limited=limit is not None)
        params["limit"] = limit
        return [library_row(row) for row in await self._conn.fetch(variant, params)]

    async def row_batches(
        self, user_id: int, query: RatingsQuery, *, size: int
    ) -> AsyncIterator[list[LibraryRow]]:
        """The same rows in lists of at most `size`, read as they are consumed (in a snapshot:
        a whole library is never held at once)."""
        variant, params = self._rows_query(user_id, query, limited=False)
        async for rows in self._conn.batches(variant, params, size=size):
            yield [library_row(row) for row in rows]

    def _rows_query(
        self, user_id: int, query: RatingsQuery, *, limited: bool
    ) -> tuple[Statement, dict[str, Any]]:
        variant = ROWS[(query.ratings is not None, query.changed_after is not None, limited)]
        return variant, {
            "user_id": user_id,
            "types": self._conn.array(sorted(query.types)),
            "ratings": self._conn.array(sorted(query.ratings or ())),
            "changed_after": query.changed_after,
        }
