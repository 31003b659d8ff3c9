"""SqlStore: the Store protocol over either driver, mapping rows to domain values."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Sequence
from typing import Any, TypeVar

import orjson

from simkl_server.clock import Clock
from simkl_server.domain.models import (
    CatalogHits,
    CatalogItem,
    CatalogQuery,
    LibraryRow,
    LibraryState,
    ListStatus,
    MediaType,
    StoredIds,
    UserProfile,
)
from simkl_server.storage.base import (
    AppRecord,
    AuthLookup,
    CatalogUpsert,
    RatingsFilter,
    RatingWrite,
    WriteTx,
)
from simkl_server.storage.engine import Connection, Driver, Row
from simkl_server.storage.sql import Queries, build_queries

T = TypeVar("T")


# Plain lookups: constructing an enum from its value is several times slower, per row.
_MEDIA_TYPES = {member.value: member for member in MediaType}
_STATUSES = {member.value: member for member in ListStatus}


ArrayEncoder = Callable[[Iterable[Any]], Any]


def _json(values: Iterable[Any]) -> str:
    return orjson.dumps(list(values)).decode()


def _item(row: Row, offset: int = 0) -> CatalogItem:
    """Build a CatalogItem from the nine item columns starting at `offset`."""
    (item_id, type_, title, year, status, episodes, anime_type, release, ids) = row[
        offset : offset + 9
    ]
    return CatalogItem(
        id=item_id,
        type=_MEDIA_TYPES[type_],
        title=title,
        year=year,
        status=status,
        total_episodes=episodes,
        anime_type=anime_type,
        release_date=release,
        ids=StoredIds(ids),
    )


async def _find_catalog(
    conn: Connection, q: Queries, array: ArrayEncoder, query: CatalogQuery
) -> CatalogHits:
    hits = CatalogHits()
    variant = (bool(query.simkl_ids), bool(query.id_keys), bool(query.title_keys))
    if not any(variant):
        return hits
    params = {}
    if query.simkl_ids:
        params["simkl_ids"] = array(query.simkl_ids)
    if query.id_keys:
        params["keys"] = array(query.id_keys)
    if query.title_keys:
        params["titles"] = array(query.title_keys)
    rows = await conn.fetch(q.find_catalog[variant], params)
    built: dict[int, CatalogItem] = {}  # an item matched by several ids is built once
    for row in rows:
        item = built.get(row[2]) or built.setdefault(row[2], _item(row, 2))
        if row[0] == "s":
            hits.by_simkl[item.id] = item
        elif row[0] == "k":
            hits.by_key[row[1]] = item
        else:
            hits.by_title.setdefault(row[1], []).append(item)
    return hits


class SqlTx:
    """A write transaction of one user (implements storage.base.WriteTx)."""

    def __init__(
        self, conn: Connection, queries: Queries, array: ArrayEncoder, now_ms: int
    ) -> None:
        self._conn = conn
        self._q = queries
        self._array = array
        self.now_ms = now_ms

    async def find_catalog(self, query: CatalogQuery) -> CatalogHits:
        """Look up every id and title of a batch in one round trip."""
        return await _find_catalog(self._conn, self._q, self._array, query)

    async def library_states(
        self, user_id: int, item_ids: Collection[int]
    ) -> dict[int, LibraryState]:
        """The library entries the user has among `item_ids`."""
        rows = await self._conn.fetch(
            self._q.library_states, {"user_id": user_id, "item_ids": self._array(item_ids)}
        )
        return {row[0]: LibraryState(_STATUSES[row[1]], row[2], row[3]) for row in rows}

    async def clear_ratings(self, user_id: int, item_ids: Collection[int]) -> list[int]:
        """Clear the ratings on those items; return the ids that actually had one."""
        rows = await self._conn.fetch(
            self._q.clear_ratings,
            {"user_id": user_id, "item_ids": self._array(item_ids), "now": self.now_ms},
        )
        return [row[0] for row in rows]

    async def save_ratings(self, user_id: int, rows: Sequence[RatingWrite]) -> None:
        """Set ratings, filing items that are not yet in the library under their status."""
        if not rows:
            return
        payload = _json((r.item_id, r.status.value, r.rating, r.rated_at) for r in rows)
        await self._conn.execute(
            self._q.save_ratings, {"user_id": user_id, "rows": payload, "now": self.now_ms}
        )

    async def touch_activities(self, user_id: int, buckets: Iterable[str]) -> None:
        """Move the named activity buckets to `now_ms` (never backwards)."""
        names = sorted(set(buckets))
        if names:
            await self._conn.execute(
                self._q.touch_activities,
                {"user_id": user_id, "buckets": self._array(names), "at": self.now_ms},
            )


class SqlStore:
    """The Store protocol over a Driver (SQLite or PostgreSQL)."""

    def __init__(self, driver: Driver, clock: Clock, *, inline_batch_items: int) -> None:
        self._driver = driver
        self._clock = clock
        self._q = build_queries(driver.dialect)
        self._array: ArrayEncoder = driver.dialect.encode_array
        self._inline_batch_items = inline_batch_items

    @property
    def dialect_name(self) -> str:
        """ "sqlite" or "postgresql"."""
        return self._driver.dialect.name

    async def close(self) -> None:
        """Release connections."""
        await self._driver.close()

    async def authenticate(self, client_id: str, token: str | None) -> AuthLookup:
        """Check an app's client_id and, when given, a token issued to a user for that app."""
        row = await self._driver.reader.fetchrow(
            self._q.authenticate, {"client_id": client_id, "token": token}
        )
        if row is None:
            return AuthLookup(None, None)
        return AuthLookup(row[0], row[1])

    async def write(self, user_id: int, work: Callable[[WriteTx], Awaitable[T]], *, size: int) -> T:
        """Run `work` as one transaction after taking the user's write lock."""

        async def locked(conn: Connection) -> T:
            row = await conn.fetchrow(self._q.lock_user, {"user_id": user_id})
            latest = row[0] if row is not None and row[0] is not None else 0
            now = max(self._clock.now_ms(), latest)
            return await work(SqlTx(conn, self._q, self._array, now))

        return await self._driver.transaction(locked, offload=size > self._inline_batch_items)

    async def find_catalog(self, query: CatalogQuery) -> CatalogHits:
        """Look up every id and title of a batch in one round trip (outside a write)."""
        return await _find_catalog(self._driver.reader, self._q, self._array, query)

    async def ratings_rows(self, user_id: int, wanted: RatingsFilter) -> list[LibraryRow]:
        """Library rows joined with their catalog items."""
        query = self._q.ratings_rows[(wanted.ratings is not None, wanted.changed_after is not None)]
        rows = await self._driver.reader.fetch(
            query,
            {
                "user_id": user_id,
                "types": self._array(sorted(wanted.types)),
                "ratings": self._array(sorted(wanted.ratings or ())),
                "changed_after": wanted.changed_after,
            },
        )
        return [LibraryRow(_item(row), _STATUSES[row[9]], *row[10:15]) for row in rows]

    async def activities(self, user_id: int) -> dict[str, int]:
        """Every activity bucket the user has, in epoch milliseconds."""
        rows = await self._driver.reader.fetch(self._q.activities, {"user_id": user_id})
        return {row[0]: row[1] for row in rows}

    async def user_profile(self, user_id: int) -> UserProfile | None:
        """The user's account facts."""
        row = await self._driver.reader.fetchrow(self._q.user_profile, {"user_id": user_id})
        return None if row is None else UserProfile(*row)

    async def create_app(
        self,
        *,
        name: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str | None,
        created_at: int,
    ) -> AppRecord:
        """Register a client application."""
        params = {
            "name": name,
            "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uri": redirect_uri,
            "created_at": created_at,
        }
        row = await self._single_write(lambda c: c.fetchrow(self._q.insert_app, params))
        assert row is not None
        return AppRecord(row[0], name, client_id, client_secret, redirect_uri)

    async def find_app(self, client_id: str) -> AppRecord | None:
        """The app with this client_id."""
        row = await self._driver.reader.fetchrow(self._q.find_app, {"client_id": client_id})
        return None if row is None else AppRecord(*row)

    async def create_user(self, *, username: str, created_at: int) -> int:
        """Create a user; its settings activity starts at its creation time."""

        async def work(conn: Connection) -> int:
            row = await conn.fetchrow(
                self._q.insert_user, {"username": username, "created_at": created_at}
            )
            assert row is not None
            tx = SqlTx(conn, self._q, self._array, created_at)
            await tx.touch_activities(row[0], ["settings.all"])
            return int(row[0])

        return await self._driver.transaction(work, offload=False)

    async def find_user(self, username: str) -> int | None:
        """The id of the user with this name."""
        row = await self._driver.reader.fetchrow(self._q.find_user, {"username": username})
        return None if row is None else int(row[0])

    async def token_for(self, *, app_id: int, user_id: int) -> str | None:
        """The live token of this (app, user) pair."""
        row = await self._driver.reader.fetchrow(
            self._q.token_for, {"app_id": app_id, "user_id": user_id}
        )
        return None if row is None else str(row[0])

    async def create_token(self, *, token: str, app_id: int, user_id: int, created_at: int) -> None:
        """Store a newly issued access token."""
        params = {"token": token, "app_id": app_id, "user_id": user_id, "created_at": created_at}
        await self._single_write(lambda c: c.execute(self._q.insert_token, params))

    async def revoke_token(self, *, token: str, revoked_at: int) -> bool:
        """Revoke a live access token; False when there was none to revoke."""
        params = {"token": token, "revoked_at": revoked_at}
        row = await self._single_write(lambda c: c.fetchrow(self._q.revoke_token, params))
        return row is not None

    async def upsert_catalog(self, items: Sequence[CatalogUpsert]) -> None:
        """Create or update catalog items and replace their index keys, in one transaction."""
        if not items:
            return
        item_rows = _json(_catalog_row(u) for u in items)
        key_rows = _json((key, u.item.id) for u in items for key in u.keys)
        item_ids = self._array(u.item.id for u in items)

        async def work(conn: Connection) -> None:
            await conn.execute(self._q.upsert_items, {"rows": item_rows})
            await conn.execute(self._q.delete_item_keys, {"item_ids": item_ids})
            await conn.execute(self._q.insert_item_keys, {"rows": key_rows})

        await self._driver.transaction(work, offload=True)

    async def catalog_owners(self, keys: Collection[str]) -> dict[str, int]:
        """Which item currently owns each of these index keys."""
        rows = await self._driver.reader.fetch(self._q.catalog_owners, {"keys": self._array(keys)})
        return {row[0]: row[1] for row in rows}

    async def catalog_items(self, item_ids: Collection[int]) -> dict[int, CatalogItem]:
        """Catalog items by simkl id."""
        rows = await self._driver.reader.fetch(
            self._q.catalog_items, {"item_ids": self._array(item_ids)}
        )
        return {item.id: item for item in map(_item, rows)}

    async def iter_catalog(self, batch: int = 1000) -> AsyncIterator[Sequence[CatalogItem]]:
        """Every catalog item, in id order, in batches."""
        after = 0
        while True:
            rows = await self._driver.reader.fetch(
                self._q.catalog_page, {"after": after, "size": batch}
            )
            if not rows:
                return
            items = [_item(row) for row in rows]
            yield items
            after = items[-1].id

    async def catalog_size(self) -> int:
        """Number of catalog items."""
        row = await self._driver.reader.fetchrow(self._q.catalog_size, {})
        return int(row[0]) if row else 0

    async def max_catalog_id(self, *, at_least: int) -> int | None:
        """Largest simkl id at or above `at_least`."""
        row = await self._driver.reader.fetchrow(self._q.max_catalog_id, {"at_least": at_least})
        return None if row is None or row[0] is None else int(row[0])

    async def refresh_statistics(self) -> None:
        """Let the query planner see the tables' current sizes (after bulk loads)."""
        await self._driver.reader.execute(self._q.refresh_statistics, {})

    async def reset(self, *, keep_catalog: bool) -> None:
        """Delete all user state (and the catalog unless kept)."""
        statements = self._q.reset_tables + (() if keep_catalog else self._q.reset_catalog)

        async def work(conn: Connection) -> None:
            for statement in statements:
                await conn.execute(statement, {})

        await self._driver.transaction(work, offload=False)

    async def _single_write(self, run: Callable[[Connection], Awaitable[T]]) -> T:
        return await self._driver.transaction(run, offload=False)


def _catalog_row(upsert: CatalogUpsert) -> tuple[Any, ...]:
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
    )
