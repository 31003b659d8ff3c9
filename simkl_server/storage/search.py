"""Catalog reads behind the search and media endpoints: title search, one item by id and
kind, random picks.

Title search runs on an index that stays current by itself whatever writes the catalog (the
importers, learn mode, anything later): on SQLite an FTS5 table that triggers on
`catalog_items` keep in step, on PostgreSQL a GIN index on an expression of `title_key`
(migration 0005). The one difference in SQL is `dialect.title_search_source`.
"""

from __future__ import annotations

from collections.abc import Sequence

from simkl_server.domain.models import CatalogItem
from simkl_server.storage.catalog import ITEM_COLUMNS, item_from_row
from simkl_server.storage.dialect import statement, title_search_query, title_search_source
from simkl_server.storage.drivers import Connection

# Rank: the whole folded title equal to the query, then titles that start with it, then
# shorter titles (closer to the words asked), then the older id; the same on both databases.
_RANKED = (
    "ORDER BY CASE WHEN c.title_key = :key THEN 0 WHEN c.title_key LIKE :prefix THEN 1 "
    "ELSE 2 END, length(c.title_key), c.id"
)
SEARCH = statement(
    lambda d: (
        f"SELECT {ITEM_COLUMNS} FROM {title_search_source(d, 'match')} "
        f"AND c.type = :type {_RANKED} LIMIT :limit OFFSET :offset"
    )
)
COUNT = statement(
    lambda d: (
        f"SELECT COUNT(*) FROM (SELECT 1 FROM {title_search_source(d, 'match')} "
        "AND c.type = :type LIMIT :cap) AS found"
    )
)
ITEM = statement(f"SELECT {ITEM_COLUMNS} FROM catalog_items c WHERE c.id = :id")
ID_RANGE = statement("SELECT MIN(id), MAX(id) FROM catalog_items")
_PICK_FILTER = (
    "(CAST(:type AS TEXT) IS NULL OR c.type = CAST(:type AS TEXT)) "
    "AND (CAST(:year_from AS INTEGER) IS NULL OR c.year >= CAST(:year_from AS INTEGER)) "
    "AND (CAST(:year_to AS INTEGER) IS NULL OR c.year <= CAST(:year_to AS INTEGER)) "
    "AND (CAST(:service AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM catalog_ids k "
    "WHERE k.item_id = c.id AND k.key LIKE CAST(:service AS TEXT) || ':%'))"
)
PICK_FROM = statement(
    f"SELECT {ITEM_COLUMNS} FROM catalog_items c WHERE c.id >= :pivot AND {_PICK_FILTER} "
    "ORDER BY c.id LIMIT :limit"
)
PICK_BEFORE = statement(
    f"SELECT {ITEM_COLUMNS} FROM catalog_items c WHERE c.id < :pivot AND {_PICK_FILTER} "
    "ORDER BY c.id LIMIT :limit"
)


class SearchQueries:
    """Search statements on one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def titles(
        self, words: list[str], *, key: str, type_: str, limit: int, offset: int
    ) -> list[CatalogItem]:
        """Items of one type whose title holds every word (as a word prefix), best first."""
        params = self._search_params(words, key=key, type_=type_)
        rows = await self._conn.fetch(SEARCH, {**params, "limit": limit, "offset": offset})
        return [item_from_row(row) for row in rows]

    async def count(self, words: list[str], *, key: str, type_: str, cap: int) -> int:
        """How many items `titles` can reach, counted up to `cap`."""
        params = self._search_params(words, key=key, type_=type_)
        del params["key"], params["prefix"]
        row = await self._conn.fetchrow(COUNT, {**params, "cap": cap})
        return int(row[0]) if row else 0

    def _search_params(self, words: list[str], *, key: str, type_: str) -> dict[str, object]:
        match = title_search_query(self._conn.dialect.name, words)
        return {"match": match, "key": key, "prefix": f"{key}%", "type": type_}

    async def item(self, item_id: int) -> CatalogItem | None:
        """One catalog item by simkl id."""
        row = await self._conn.fetchrow(ITEM, {"id": item_id})
        return item_from_row(row) if row else None

    async def id_range(self) -> tuple[int, int] | None:
        """The smallest and largest simkl id, None for an empty catalog."""
        row = await self._conn.fetchrow(ID_RANGE, {})
        return None if row is None or row[0] is None else (int(row[0]), int(row[1]))

    async def pick(
        self,
        pivot: int,
        *,
        type_: str | None,
        year_from: int | None,
        year_to: int | None,
        service: str | None,
        limit: int,
    ) -> Sequence[CatalogItem]:
        """Up to `limit` items passing the filters, from `pivot` on, wrapping to the start."""
        params = {
            "pivot": pivot,
            "type": type_,
            "year_from": year_from,
            "year_to": year_to,
            "service": service,
            "limit": limit,
        }
        rows = await self._conn.fetch(PICK_FROM, params)
        if len(rows) < limit:
            rows += await self._conn.fetch(PICK_BEFORE, {**params, "limit": limit - len(rows)})
        return [item_from_row(row) for row in rows]
