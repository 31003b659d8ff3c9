"""Putting the database back between runs, so every run starts from the loaded data set.

After a write run the harness deletes the library rows the run added (rows added after the
load finished) and re-rates every row a run cleared, with the rating and date the data set
gave it (`datagen.rating_of`), through the store's own `save_ratings`. Activity stamps are
left as they are: they only ever move forward, as on a live server. Then SQLite's WAL is
checkpointed and PostgreSQL's library table vacuumed, so no run pays for its predecessor.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass

import asyncpg

from bench.datagen import Dataset, User, rating_of
from simkl_server.app import open_store
from simkl_server.clock import SystemClock
from simkl_server.config import Settings
from simkl_server.domain.kinds import ListStatus
from simkl_server.domain.models import RatingWrite
from simkl_server.storage.base import Store, WriteTx
from simkl_server.storage.dialect import statement

_DELETE_ADDED = statement("DELETE FROM library WHERE added_at > :after RETURNING item_id")
_CLEARED = statement("SELECT user_id, item_id FROM library WHERE user_rating IS NULL")

_VACUUM_AFTER_ROWS = 2_000


@dataclass(frozen=True, slots=True)
class Restored:
    """What a restore undid."""

    deleted: int
    rerated: int


class Harness:
    """Restores one database to the loaded data set."""

    def __init__(self, database_url: str, dataset: Dataset, *, loaded_at_ms: int) -> None:
        self.database_url = database_url
        self._users: dict[int, User] = {user.db_id: user for user in dataset.all_users}
        self._loaded_at_ms = loaded_at_ms

    async def restore(self) -> Restored:
        """Undo every write made since the load."""
        store = await open_store(Settings(database_url=self.database_url), SystemClock())
        try:

            async def wipe(tx: WriteTx) -> int:
                return len(await tx.conn.fetch(_DELETE_ADDED, {"after": self._loaded_at_ms}))

            deleted = await store.transaction(wipe)
            by_user: dict[int, list[int]] = defaultdict(list)
            for user_id, item_id in await store.read.conn.fetch(_CLEARED, {}):
                by_user[user_id].append(item_id)
            for user_id, item_ids in by_user.items():
                await self._rerate(store, self._users[user_id], item_ids)
        finally:
            await store.close()
        rerated = sum(len(ids) for ids in by_user.values())
        await self.tidy(changed=deleted + rerated)
        return Restored(deleted, rerated)

    async def _rerate(self, store: Store, user: User, item_ids: list[int]) -> None:
        # Existing rows keep their status: save_ratings only updates the rating columns.
        rows = [RatingWrite(i, ListStatus.COMPLETED, *rating_of(user.index, i)) for i in item_ids]

        async def work(tx: WriteTx) -> None:
            await tx.ratings.save(user.db_id, rows, now=tx.now_ms)

        await store.write(user.db_id, work, size=len(rows))

    async def tidy(self, *, changed: int) -> None:
        """Checkpoint SQLite's WAL; vacuum and analyze PostgreSQL after large changes."""
        settings = Settings(database_url=self.database_url)
        if settings.is_sqlite:
            connection = sqlite3.connect(settings.database.sqlite_path or "")
            try:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                connection.close()
            return
        if changed < _VACUUM_AFTER_ROWS:
            return
        pg = await asyncpg.connect(settings.database.postgres_dsn)
        try:
            await pg.execute("VACUUM (ANALYZE) library")
            await pg.execute("VACUUM (ANALYZE) activity")
        finally:
            await pg.close()

    async def settle_after_load(self) -> None:
        """What a freshly loaded database gets before the first run."""
        settings = Settings(database_url=self.database_url)
        if settings.is_sqlite:
            await self.tidy(changed=0)
            return
        pg = await asyncpg.connect(settings.database.postgres_dsn)
        try:
            await pg.execute("VACUUM (ANALYZE)")
        finally:
            await pg.close()
