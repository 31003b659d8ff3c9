"""Putting the database back between runs, so every run starts from the loaded data set.

After a write run the harness deletes the library rows the run added (rows added after the
load finished, their watched episodes with them) and re-rates every row a run cleared, with
the rating and date the data set gave it (`datagen.rating_of`), through the store's own
`save_ratings`. Rows a run changes in place (the history curve marks episodes of shows in the
library) are saved before it and put back after it, whole. Activity stamps are left as they
are: they only ever move forward, as on a live server. Then SQLite's WAL is checkpointed and
PostgreSQL's library tables vacuumed, so no run pays for its predecessor.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import asyncpg

from bench.datagen import Dataset, User, rating_of
from simkl_server.clock import SystemClock
from simkl_server.config import Settings
from simkl_server.domain.kinds import ListStatus
from simkl_server.domain.models import RatingWrite
from simkl_server.storage.base import Store, WriteTx, open_store
from simkl_server.storage.dialect import statement

_DELETE_ADDED = statement("DELETE FROM library WHERE added_at > :after RETURNING item_id")
_CLEARED = statement(
    "SELECT user_id, item_id FROM library WHERE user_rating IS NULL AND rating_changed_at > :after"
)

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
            cleared = await store.read.conn.fetch(_CLEARED, {"after": self._loaded_at_ms})
            for user_id, item_id in cleared:
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
            for table in ("library", "user_episodes", "activity"):
                await pg.execute(f"VACUUM (ANALYZE) {table}")
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


@dataclass(frozen=True, slots=True)
class SavedRows:
    """Library rows as they were, to be put back whole (their watched episodes too)."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    episodes: list[tuple[Any, ...]]


async def save_rows(database_url: str, pairs: Iterable[tuple[int, int]]) -> SavedRows:
    """The library rows and watched episodes of these (user id, item id) pairs."""
    wanted = set(pairs)
    users = sorted({user for user, _ in wanted})
    settings = Settings(database_url=database_url)
    rows: list[tuple[Any, ...]] = []
    episodes: list[tuple[Any, ...]] = []
    if settings.is_sqlite:
        connection = sqlite3.connect(settings.database.sqlite_path or "")
        try:
            for user in users:
                cursor = connection.execute("SELECT * FROM library WHERE user_id = ?", (user,))
                columns = [d[0] for d in cursor.description]
                rows += [r for r in cursor if (r[0], r[1]) in wanted]
                found = connection.execute("SELECT * FROM user_episodes WHERE user_id = ?", (user,))
                episodes += [e for e in found if (e[0], e[1]) in wanted]
        finally:
            connection.close()
        return SavedRows(columns, rows, episodes)
    pg = await asyncpg.connect(settings.database.postgres_dsn)
    try:
        columns = [a.name for a in (await pg.prepare("SELECT * FROM library")).get_attributes()]
        for user in users:
            found = await pg.fetch("SELECT * FROM library WHERE user_id = $1", user)
            rows += [tuple(r) for r in found if (r[0], r[1]) in wanted]
            marked = await pg.fetch("SELECT * FROM user_episodes WHERE user_id = $1", user)
            episodes += [tuple(e) for e in marked if (e[0], e[1]) in wanted]
    finally:
        await pg.close()
    return SavedRows(columns, rows, episodes)


async def put_back(database_url: str, saved: SavedRows) -> None:
    """Replace the saved rows by what they were when saved (deleting a row deletes its
    watched episodes; the saved ones are inserted again), then checkpoint SQLite's WAL or
    vacuum PostgreSQL's library tables, as between any two runs."""
    settings = Settings(database_url=database_url)
    keys = [(row[0], row[1]) for row in saved.rows]
    names = ", ".join(saved.columns)
    if settings.is_sqlite:
        marks = ", ".join("?" for _ in saved.columns)
        connection = sqlite3.connect(settings.database.sqlite_path or "")
        try:
            connection.execute("PRAGMA foreign_keys = ON")  # outside a transaction, or ignored
            with connection:
                connection.executemany(
                    "DELETE FROM library WHERE user_id = ? AND item_id = ?", keys
                )
                insert = f"INSERT INTO library ({names}) VALUES ({marks})"  # noqa: S608 - own columns
                connection.executemany(insert, saved.rows)
                connection.executemany(
                    "INSERT INTO user_episodes VALUES (?, ?, ?, ?, ?)", saved.episodes
                )
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()
        return
    marks = ", ".join(f"${n}" for n in range(1, len(saved.columns) + 1))
    pg = await asyncpg.connect(settings.database.postgres_dsn)
    try:
        async with pg.transaction():
            await pg.executemany("DELETE FROM library WHERE user_id = $1 AND item_id = $2", keys)
            insert = f"INSERT INTO library ({names}) VALUES ({marks})"  # noqa: S608 - own columns
            await pg.executemany(insert, saved.rows)
            await pg.executemany(
                "INSERT INTO user_episodes VALUES ($1, $2, $3, $4, $5)", saved.episodes
            )
        # The runs rewrote these rows hundreds of times and the put-back once more: the next
        # step (the read curve, on the same users) must not step over their dead versions.
        for table in ("library", "user_episodes", "activity"):
            await pg.execute(f"VACUUM (ANALYZE) {table}")
    finally:
        await pg.close()


async def episode_count(database_url: str) -> int:
    """How many watched episodes the database holds (a put-back must leave it unchanged)."""
    settings = Settings(database_url=database_url)
    if settings.is_sqlite:
        connection = sqlite3.connect(settings.database.sqlite_path or "")
        try:
            count: int = connection.execute("SELECT COUNT(*) FROM user_episodes").fetchone()[0]
        finally:
            connection.close()
        return count
    pg = await asyncpg.connect(settings.database.postgres_dsn)
    try:
        found: int = await pg.fetchval("SELECT COUNT(*) FROM user_episodes")
    finally:
        await pg.close()
    return found
