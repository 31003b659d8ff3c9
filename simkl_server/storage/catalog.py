"""Catalog queries: the batch lookup every sync write resolves against, and bulk upserts."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import astuple
from functools import lru_cache, partial
from itertools import product
from typing import Any

import orjson

from simkl_server.domain.kinds import MEDIA_TYPE_OF_WORD
from simkl_server.domain.models import (
    CatalogEpisode,
    CatalogHits,
    CatalogItem,
    CatalogQuery,
    CatalogUpsert,
    StoredIds,
)
from simkl_server.storage.dialect import SqlDialect, json_text, statement
from simkl_server.storage.drivers import Connection, Row

ITEM_COLUMNS = (
    "c.id, c.type, c.title, c.year, c.status, c.total_episodes, c.anime_type, c.release_date, "
    "c.ids, c.poster, c.runtime"
)
ITEM_COLUMN_COUNT = 11
_UPSERT_COLUMNS = (
    ("id", "BIGINT"),
    ("type", "TEXT"),
    ("title", "TEXT"),
    ("title_key", "TEXT"),
    ("year", "INTEGER"),
    ("status", "TEXT"),
    ("total_episodes", "INTEGER"),
    ("anime_type", "TEXT"),
    ("release_date", "TEXT"),
    ("ids", "TEXT"),
    ("poster", "TEXT"),
    ("runtime", "INTEGER"),
)
_EPISODE_COLUMNS = (
    ("item_id", "BIGINT"),
    ("season", "INTEGER"),
    ("number", "INTEGER"),
    ("title", "TEXT"),
    ("aired_at", "BIGINT"),
    ("runtime", "INTEGER"),
    ("tvdb_id", "BIGINT"),
    ("tvdb_season", "INTEGER"),
    ("tvdb_number", "INTEGER"),
    ("anidb_id", "BIGINT"),
)
EPISODE_COLUMNS = ", ".join(f"e.{name}" for name, _ in _EPISODE_COLUMNS[1:])


def item_from_row(row: Row, offset: int = 0) -> CatalogItem:
    """A CatalogItem from the ITEM_COLUMNS starting at `offset`, kept for the next read."""
    return _kept_item(tuple(row[offset : offset + ITEM_COLUMN_COUNT]))


def new_item_from_row(row: Row, offset: int = 0) -> CatalogItem:
    """A CatalogItem from the ITEM_COLUMNS starting at `offset`, not kept (reads larger than
    what is kept would only push every item out before it came round again)."""
    return _item(row[offset : offset + ITEM_COLUMN_COUNT])


def _item(columns: Sequence[Any]) -> CatalogItem:
    (item_id, type_, title, year, status, episodes, anime_type, release, ids, poster, runtime) = (
        columns
    )
    return CatalogItem(
        id=item_id,
        type=MEDIA_TYPE_OF_WORD[type_],
        title=title,
        year=year,
        status=status,
        total_episodes=episodes,
        anime_type=anime_type,
        release_date=release,
        ids=StoredIds(ids),
        poster=poster,
        runtime=runtime,
    )


# Items kept, by every column they were read from (a changed item is another key): reads
# and writes meet the same items again and again. About 1 KB each.
_ITEMS_KEPT = 8_192
_kept_item = lru_cache(maxsize=_ITEMS_KEPT)(_item)


def episode_from_row(row: Row, offset: int = 0) -> CatalogEpisode:
    """A CatalogEpisode from the EPISODE_COLUMNS starting at `offset`."""
    return CatalogEpisode(*row[offset : offset + len(_EPISODE_COLUMNS) - 1])


_STAMP_COLUMN = "(SELECT n FROM catalog_stamp WHERE id = 1)"
STAMP = statement(f"SELECT {_STAMP_COLUMN}")
# Lookups a process keeps before it starts afresh: more keys than a day of syncs names.
CACHE_LIMIT = 100_000


# One round trip for a whole batch: simkl ids, external-id keys and folded titles. A variant
# per combination of what the batch carries, so a lone simkl id costs one lookup. Each row
# carries the catalog stamp, which tells under which the hits may be kept.
FindMask = tuple[bool, bool, bool]


def find_sql(d: SqlDialect, mask: FindMask) -> str:
    """The lookup of the branches `mask` names (simkl ids, keys, titles): rows of `hit` (s,
    k or t), `hit_key`, the item's columns and the catalog stamp (FIND_WIDTH columns)."""
    branches = (
        f"SELECT 's' AS hit, CAST(c.id AS TEXT) AS hit_key, {ITEM_COLUMNS}, {_STAMP_COLUMN} "
        f"FROM catalog_items c WHERE {d.in_array('c.id', 'simkl_ids', 'BIGINT')}",
        f"SELECT 'k', k.key, {ITEM_COLUMNS}, {_STAMP_COLUMN} FROM catalog_ids k "
        "JOIN catalog_items c ON c.id = k.item_id "
        f"WHERE {d.in_array('k.key', 'keys', 'TEXT')}",
        f"SELECT 't', c.title_key, {ITEM_COLUMNS}, {_STAMP_COLUMN} FROM catalog_items c "
        f"WHERE {d.in_array('c.title_key', 'titles', 'TEXT')}",
    )
    return " UNION ALL ".join(
        branch for branch, wanted in zip(branches, mask, strict=True) if wanted
    )


FIND_WIDTH = ITEM_COLUMN_COUNT + 3
FIND_MASKS: list[FindMask] = [
    (simkl, keys, titles)
    for simkl, keys, titles in product((False, True), repeat=3)
    if simkl or keys or titles
]
FIND = {mask: statement(partial(find_sql, mask=mask)) for mask in FIND_MASKS}


def find_params(query: CatalogQuery, array: Callable[[Iterable[Any]], Any]) -> dict[str, Any]:
    """The parameters of the query's FIND variant (`find_mask`), arrays made by `array`."""
    params = {}
    if query.simkl_ids:
        params["simkl_ids"] = array(query.simkl_ids)
    if query.id_keys:
        params["keys"] = array(query.id_keys)
    if query.title_keys:
        params["titles"] = array(query.title_keys)
    return params


def find_mask(query: CatalogQuery) -> FindMask:
    """Which branches of FIND the query needs (none: nothing to look up)."""
    return (bool(query.simkl_ids), bool(query.id_keys), bool(query.title_keys))


def hits_from_rows(rows: Sequence[Row]) -> tuple[CatalogHits, int | None]:
    """The hits of a lookup's rows (their first FIND_WIDTH columns), and the catalog stamp
    they were read under (None when nothing hit)."""
    hits = CatalogHits()
    built: dict[int, CatalogItem] = {}  # an item matched by several ids is built once
    for row in rows:
        item = built.get(row[2]) or built.setdefault(row[2], item_from_row(row, 2))
        if row[0] == "s":
            hits.by_simkl[item.id] = item
        elif row[0] == "k":
            hits.by_key[row[1]] = item
        else:
            hits.by_title.setdefault(row[1], []).append(item)
    return hits, int(rows[0][FIND_WIDTH - 1]) if rows else None


UPSERT_ITEMS = statement(
    lambda d: (
        f"INSERT INTO catalog_items ({', '.join(n for n, _ in _UPSERT_COLUMNS)}) "
        f"SELECT {', '.join(n for n, _ in _UPSERT_COLUMNS)} "
        f"FROM ({d.json_rows('rows', _UPSERT_COLUMNS)}) AS r WHERE true "
        "ON CONFLICT (id) DO UPDATE SET "
        + ", ".join(f"{name} = excluded.{name}" for name, _ in _UPSERT_COLUMNS[1:])
    )
)
DELETE_ITEM_KEYS = statement(
    lambda d: f"DELETE FROM catalog_ids WHERE {d.in_array('item_id', 'item_ids', 'BIGINT')}"
)
INSERT_ITEM_KEYS = statement(
    lambda d: (
        "INSERT INTO catalog_ids (key, item_id) SELECT r.key, r.item_id FROM ("
        + d.json_rows("rows", (("key", "TEXT"), ("item_id", "BIGINT")))
        + ") AS r WHERE true"
    )
)
OWNERS = statement(
    lambda d: f"SELECT key, item_id FROM catalog_ids WHERE {d.in_array('key', 'keys', 'TEXT')}"
)
ITEMS = statement(
    lambda d: (
        f"SELECT {ITEM_COLUMNS} FROM catalog_items c "
        f"WHERE {d.in_array('c.id', 'item_ids', 'BIGINT')}"
    )
)
PAGE = statement(
    f"SELECT {ITEM_COLUMNS} FROM catalog_items c WHERE c.id > :after ORDER BY c.id LIMIT :size"
)
EPISODES = statement(
    lambda d: (
        f"SELECT e.item_id, {EPISODE_COLUMNS} FROM catalog_episodes e "
        f"WHERE {d.in_array('e.item_id', 'item_ids', 'BIGINT')} "
        "ORDER BY e.item_id, e.season, e.number"
    )
)
EPISODES_AT = statement(
    lambda d: (
        f"SELECT e.item_id, {EPISODE_COLUMNS} FROM catalog_episodes e JOIN ("
        + d.json_rows("keys", (("item_id", "BIGINT"), ("season", "INTEGER"), ("number", "INTEGER")))
        + ") AS k ON e.item_id = k.item_id AND e.season = k.season AND e.number = k.number"
    )
)
DELETE_EPISODES = statement(
    lambda d: f"DELETE FROM catalog_episodes WHERE {d.in_array('item_id', 'item_ids', 'BIGINT')}"
)
INSERT_EPISODES = statement(
    lambda d: (
        f"INSERT INTO catalog_episodes ({', '.join(n for n, _ in _EPISODE_COLUMNS)}) "
        f"SELECT {', '.join(n for n, _ in _EPISODE_COLUMNS)} "
        f"FROM ({d.json_rows('rows', _EPISODE_COLUMNS)}) AS r WHERE true"
    )
)
ADD_EPISODES = statement(
    lambda d: (
        "INSERT INTO catalog_episodes (item_id, season, number) SELECT r.item_id, r.season, "
        "r.number FROM ("
        + d.json_rows("rows", (("item_id", "BIGINT"), ("season", "INTEGER"), ("number", "INTEGER")))
        + ") AS r WHERE true ON CONFLICT (item_id, season, number) DO NOTHING"
    )
)
SIZE = statement("SELECT COUNT(*) FROM catalog_items")
MAX_ID = statement("SELECT MAX(id) FROM catalog_items WHERE id >= :at_least")
ANALYZE = statement("ANALYZE")


# Learned items are plain inserts: an id or key another transaction took meanwhile fails the
# write with a unique violation, which the driver replays (never an overwrite).
INSERT_ITEMS = statement(
    lambda d: (
        f"INSERT INTO catalog_items ({', '.join(n for n, _ in _UPSERT_COLUMNS)}) "
        f"SELECT {', '.join(n for n, _ in _UPSERT_COLUMNS)} "
        f"FROM ({d.json_rows('rows', _UPSERT_COLUMNS)}) AS r"
    )
)
# Ids added to known items are merged in the database, so two writes adding different ids to
# one item at once both keep theirs.
FILL_IDS = statement(
    lambda d: (
        f"UPDATE catalog_items SET ids = {d.json_fill('catalog_items.ids', 'r.patch')} "
        f"FROM ({d.json_rows('rows', (('item_id', 'BIGINT'), ('patch', 'TEXT')))}) AS r "
        "WHERE catalog_items.id = r.item_id"
    )
)


class CatalogMoved(Exception):
    """The catalog changed since the lookup a write relied on was kept: look again."""

    def __init__(self) -> None:
        super().__init__("the catalog changed since the lookup this write relied on")


class CatalogCache:
    """One process's memory of catalog lookups: what each key (simkl id, external-id key,
    folded title) found, or that it found nothing, under the catalog stamp it was read at. A
    query is answered from here only when every key of it is here. The stamp moves whenever
    the catalog's items or ids change (PostgreSQL's triggers, any process), so an item the
    catalog gains is found at once: a write relying on an answer from here checks it, and a
    moved stamp (CatalogMoved) starts the memory afresh."""

    def __init__(self, limit: int = CACHE_LIMIT) -> None:
        self._limit = limit
        self._lock = threading.Lock()  # a large write runs in a worker thread
        self._stamp: int | None = None
        # None, or no items: the key found nothing.
        self._simkl: dict[int, CatalogItem | None] = {}
        self._keys: dict[str, CatalogItem | None] = {}
        self._titles: dict[str, list[CatalogItem]] = {}

    def answer(self, query: CatalogQuery) -> CatalogHits | None:
        """The hits of the query, stamped, if every key of it is here."""
        with self._lock:
            if self._stamp is None:
                return None
            try:
                by_simkl = [(item_id, self._simkl[item_id]) for item_id in query.simkl_ids]
                by_key = [(key, self._keys[key]) for key in query.id_keys]
                by_title = [(title, self._titles[title]) for title in query.title_keys]
            except KeyError:
                return None
            stamp = self._stamp
        return CatalogHits(
            {item_id: item for item_id, item in by_simkl if item is not None},
            {key: item for key, item in by_key if item is not None},
            {title: items for title, items in by_title if items},
            stamp=stamp,
        )

    def keep(self, query: CatalogQuery, hits: CatalogHits, stamp: int) -> None:
        """Remember what a lookup of `query` read under `stamp`, the keys that found nothing
        too (another stamp: start afresh)."""
        with self._lock:
            size = len(self._simkl) + len(self._keys) + len(self._titles)
            if stamp != self._stamp or size >= self._limit:
                self._forget()
                self._stamp = stamp
            self._simkl.update(dict.fromkeys(query.simkl_ids))
            self._simkl.update(hits.by_simkl)
            self._keys.update(dict.fromkeys(query.id_keys))
            self._keys.update(hits.by_key)
            self._titles.update({title: [] for title in query.title_keys})
            self._titles.update(hits.by_title)

    def forget(self) -> None:
        """Start afresh."""
        with self._lock:
            self._forget()

    def _forget(self) -> None:
        self._stamp = None
        self._simkl.clear()
        self._keys.clear()
        self._titles.clear()


class CatalogQueries:
    """Catalog statements on one connection; `kept`, the Store's memory of lookups, for a
    session whose `find` may answer from it."""

    def __init__(self, conn: Connection, kept: CatalogCache | None = None) -> None:
        self._conn = conn
        self._kept = kept
        # Set once this session changes the catalog: its lookups may then see its own
        # uncommitted rows, under a stamp that a rollback would hand to another change.
        self._changed = False
        self._stamp_read: int | None = None

    def stamp_read(self, stamp: int) -> None:
        """The catalog stamp as this transaction's first statement read it (the user's
        lock): a lookup answered from memory holds to it instead of reading the stamp again,
        until this session changes the catalog."""
        self._stamp_read = stamp

    async def find(self, query: CatalogQuery) -> CatalogHits:
        """Look up every id and title of a batch in one round trip. With a memory of lookups
        that holds every key of the batch, that round trip reads the catalog stamp alone (or
        none, in a write whose lock read it), and the remembered hits are used while it
        stands (they were read under it), as found here and now: scrobbles and syncs send
        the same items again and again."""
        kept = self._kept
        if kept is not None:
            hits = kept.answer(query)
            if hits is not None:
                read = self._stamp_read
                now = await self.stamp() if read is None or self._changed else read
                if now == hits.stamp:
                    hits.stamp = None  # checked here: nothing left for the write to check
                    return hits
                kept.forget()
        hits, stamp = await self.find_stamped(query)
        if kept is not None and stamp is not None and not self._changed:
            kept.keep(query, hits, stamp)
        return hits

    async def stamp(self) -> int:
        """The catalog stamp (see `CatalogCache`)."""
        row = await self._conn.fetchrow(STAMP, {})
        return int(row[0]) if row is not None and row[0] is not None else 0

    async def find_stamped(self, query: CatalogQuery) -> tuple[CatalogHits, int | None]:
        """`find`, and the catalog stamp the hits were read under (None when nothing hit)."""
        mask = find_mask(query)
        if not any(mask):
            return CatalogHits(), None
        return hits_from_rows(
            await self._conn.fetch(FIND[mask], find_params(query, self._conn.array))
        )

    async def upsert(self, items: Sequence[CatalogUpsert]) -> None:
        """Create or update catalog items and replace their index keys."""
        self._changed = True
        if not items:
            return
        await self._conn.execute(UPSERT_ITEMS, {"rows": json_text(map(_upsert_row, items))})
        item_ids = self._conn.array(u.item.id for u in items)
        await self._conn.execute(DELETE_ITEM_KEYS, {"item_ids": item_ids})
        key_rows = json_text((key, u.item.id) for u in items for key in u.keys)
        await self._conn.execute(INSERT_ITEM_KEYS, {"rows": key_rows})

    async def episodes(self, item_ids: Collection[int]) -> dict[int, list[CatalogEpisode]]:
        """The episodes the catalog knows of those items, in season and number order."""
        found: dict[int, list[CatalogEpisode]] = {}
        if not item_ids:
            return found
        params = {"item_ids": self._conn.array(item_ids)}
        for row in await self._conn.fetch(EPISODES, params):
            found.setdefault(row[0], []).append(episode_from_row(row, 1))
        return found

    async def episodes_at(
        self, keys: Collection[tuple[int, int, int]]
    ) -> dict[tuple[int, int, int], CatalogEpisode]:
        """The catalog's episodes at these (item id, season, number) places."""
        if not keys:
            return {}
        rows = await self._conn.fetch(EPISODES_AT, {"keys": json_text(sorted(keys))})
        found = {}
        for row in rows:
            episode = episode_from_row(row, 1)
            found[(row[0], episode.season, episode.number)] = episode
        return found

    async def replace_episodes(self, episodes: Mapping[int, Sequence[CatalogEpisode]]) -> None:
        """Set the episode lists of those items (an empty list clears one)."""
        self._changed = True
        if not episodes:
            return
        await self._conn.execute(DELETE_EPISODES, {"item_ids": self._conn.array(episodes)})
        rows = [(item_id, *astuple(e)) for item_id, eps in episodes.items() for e in eps]
        if rows:
            await self._conn.execute(INSERT_EPISODES, {"rows": json_text(rows)})

    async def add_episodes(self, keys: Collection[tuple[int, int, int]]) -> None:
        """Add bare episodes at these (item id, season, number) places; known ones stay."""
        self._changed = True
        if keys:
            await self._conn.execute(ADD_EPISODES, {"rows": json_text(sorted(keys))})

    async def owners(self, keys: Collection[str]) -> dict[str, int]:
        """Which item currently owns each of these index keys."""
        rows = await self._conn.fetch(OWNERS, {"keys": self._conn.array(keys)})
        return {row[0]: row[1] for row in rows}

    async def items(self, item_ids: Collection[int]) -> dict[int, CatalogItem]:
        """Catalog items by simkl id."""
        rows = await self._conn.fetch(ITEMS, {"item_ids": self._conn.array(item_ids)})
        return {item.id: item for item in map(item_from_row, rows)}

    async def pages(self, batch: int = 1000) -> AsyncIterator[Sequence[CatalogItem]]:
        """Every catalog item, in id order, in batches."""
        after = 0
        while rows := await self._conn.fetch(PAGE, {"after": after, "size": batch}):
            items = [item_from_row(row) for row in rows]
            yield items
            after = items[-1].id

    async def size(self) -> int:
        """Number of catalog items."""
        row = await self._conn.fetchrow(SIZE, {})
        return int(row[0]) if row else 0

    async def max_id(self, *, at_least: int) -> int | None:
        """Largest simkl id at or above `at_least` (local ids are minted above it)."""
        row = await self._conn.fetchrow(MAX_ID, {"at_least": at_least})
        return None if row is None or row[0] is None else int(row[0])

    async def refresh_statistics(self) -> None:
        """Let the query planner see the tables' current sizes (after bulk loads)."""
        await self._conn.execute(ANALYZE, {})

    async def insert_new(self, items: Sequence[CatalogUpsert]) -> None:
        """Create catalog items with their index keys; an id or key already taken fails the
        transaction (a unique violation) instead of overwriting anything."""
        self._changed = True
        if not items:
            return
        await self._conn.execute(INSERT_ITEMS, {"rows": json_text(map(_upsert_row, items))})
        key_rows = json_text((key, u.item.id) for u in items for key in u.keys)
        await self._conn.execute(INSERT_ITEM_KEYS, {"rows": key_rows})

    async def add_ids(
        self, additions: Mapping[int, tuple[Mapping[str, str], Sequence[str]]]
    ) -> None:
        """Give known items more external ids: item id -> (ids by kind, their index keys).
        Ids an item already has keep their value."""
        self._changed = True
        if not additions:
            return
        keys = json_text((key, item_id) for item_id, (_, ks) in additions.items() for key in ks)
        await self._conn.execute(INSERT_ITEM_KEYS, {"rows": keys})
        patches = json_text(
            (item_id, orjson.dumps(dict(ids)).decode()) for item_id, (ids, _) in additions.items()
        )
        await self._conn.execute(FILL_IDS, {"rows": patches})


def _upsert_row(upsert: CatalogUpsert) -> tuple[Any, ...]:
    item = upsert.item
    return (
        item.id,
        item.type.value,
        item.title,
        upsert.title_key,
        item.year,
        item.status,
        item.total_episodes,
        item.anime_type,
        item.release_date,
        orjson.dumps(dict(item.ids)).decode(),
        item.poster,
        item.runtime,
    )
