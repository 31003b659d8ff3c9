"""A user write run ahead of the user's lock, where the database has server-side functions
(PostgreSQL): a one-item add, history or watchlist write in two round trips instead of six.

Without the lock, the write looks its items up with the user's entries of the items it finds
and the user's library stamp, in one statement (when the process remembers the lookup, it
reads the entries and the stamp alone), applies its rules, and sends what it would save in one
call (migration 0012). The call takes the lock and saves only if what the write read still
stands: the catalog stamp of its lookups, the library stamp of its entries, the auth stamp of
the request's cached authentication, and no activity stamp newer than the write's time.

Only a write of that shape can run ahead: catalog lookups, entries read, one save of entries
and activity buckets, one mark of episodes watched. Anything else it tries (another statement,
the account's plan) ends the run with NotAhead before anything was written, and so does a call
that finds what it read has moved: the write then runs again, the ordinary way, under the lock
(storage/base.py).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NoReturn

from simkl_server.domain.models import CatalogHits, CatalogQuery, LibraryEntry, LibraryWrite
from simkl_server.storage.catalog import (
    FIND_MASKS,
    FIND_WIDTH,
    CatalogCache,
    CatalogQueries,
    FindMask,
    find_mask,
    find_params,
    find_sql,
    hits_from_rows,
)
from simkl_server.storage.dialect import POSTGRES, SqlDialect, Statement, json_text, statement
from simkl_server.storage.drivers import Connection, Row
from simkl_server.storage.history import HistoryQueries
from simkl_server.storage.library import (
    ENTRY_COLUMNS_OF_L,
    LIBRARY_STAMP,
    LibraryQueries,
    SmallReads,
    entries_from_rows,
    saved_rows,
)


def _find_with_entries_sql(d: SqlDialect, mask: FindMask) -> str:
    return (
        f"SELECT f.*, {LIBRARY_STAMP}, {ENTRY_COLUMNS_OF_L} FROM ({find_sql(d, mask)}) AS f "
        "LEFT JOIN library l ON l.user_id = :user_id AND l.item_id = f.id"
    )


# A lookup with the user's entries for the items it finds and the library stamp they were
# read under, in one round trip: every write that runs ahead reads the entries of the items
# it looked up next. Rows of FIND, then the library stamp, then the entry's columns.
FIND_WITH_ENTRIES = {
    mask: statement(partial(_find_with_entries_sql, mask=mask)) for mask in FIND_MASKS
}


class NotAhead(Exception):
    """The write did what a run ahead cannot hold to: it runs again, under the user's lock."""


class Refusing:
    """The connection of a run ahead: a statement sent through it ends the run (the reads a
    run ahead may make go to the database's reader, by the areas below)."""

    dialect = POSTGRES
    array = staticmethod(POSTGRES.encode_array)

    async def fetch(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        """Ends the run."""
        _refuse()

    async def fetchrow(self, statement: Statement, params: Mapping[str, Any]) -> Row | None:
        """Ends the run."""
        _refuse()

    async def execute(self, statement: Statement, params: Mapping[str, Any]) -> None:
        """Ends the run."""
        _refuse()


def _refuse() -> NoReturn:
    raise NotAhead


@dataclass(slots=True)
class Ahead:
    """What a run ahead of `user_id`'s lock read under, and what it would save, at `now`."""

    user_id: int
    now: int
    catalog_stamp: int | None = None
    library_stamp: int | None = None
    rows: str | None = None
    buckets: list[str] = field(default_factory=list)
    marks: str | None = None
    saved: bool = False
    # The entries read with the lookup, of the items it found (None: no lookup read them).
    found: frozenset[int] | None = None
    entries: dict[int, LibraryEntry] = field(default_factory=dict)

    def relied_on_catalog(self, stamp: int) -> None:
        """A lookup was read, or remembered, under this catalog stamp."""
        self.catalog_stamp = _one(self.catalog_stamp, stamp)

    def relied_on_library(self, stamp: int) -> None:
        """Entries were read under this library stamp."""
        self.library_stamp = _one(self.library_stamp, stamp)

    def read_with_lookup(self, rows: Sequence[Row]) -> None:
        """A lookup's rows (FIND_WITH_ENTRIES): one per item found (its id in the third
        column), with the user's entry of it."""
        if rows:
            self.relied_on_library(int(rows[0][FIND_WIDTH]))
        self.found = frozenset(row[2] for row in rows)
        self.entries = entries_from_rows(rows, FIND_WIDTH + 1)

    def entries_read(
        self, user_id: int, item_ids: Collection[int]
    ) -> dict[int, LibraryEntry] | None:
        """The user's entries among `item_ids` as read with the lookup, when it read them all."""
        if user_id != self.user_id or self.found is None or not self.found.issuperset(item_ids):
            return None
        return {item_id: self.entries[item_id] for item_id in item_ids if item_id in self.entries}

    def save(self, user_id: int, now: int, rows: str | None, buckets: list[str]) -> None:
        """The write's one save, of the user's entries at the run's time (a second save, or
        another user's or time's, ends the run)."""
        if self.saved or (user_id, now) != (self.user_id, self.now):
            raise NotAhead
        self.rows, self.buckets, self.saved = rows, buckets, True

    def mark(self, user_id: int, rows: str) -> None:
        """The write's one mark of episodes watched, after its save (else the run ends)."""
        if not self.saved or self.marks is not None or user_id != self.user_id:
            raise NotAhead
        self.marks = rows

    def params(self, *, auth_stamp: int | None) -> dict[str, Any]:
        """The call's parameters (`auth_stamp`: the one to hold the request's token to)."""
        return {
            "user_id": self.user_id,
            "now": self.now,
            "auth_stamp": auth_stamp,
            "catalog_stamp": self.catalog_stamp,
            "library_stamp": self.library_stamp,
            "rows": self.rows,
            "marks": self.marks,
            "buckets": self.buckets,
        }


def _one(held: int | None, stamp: int) -> int:
    """Reads of one run under two stamps: something moved between them."""
    if held is not None and held != stamp:
        raise NotAhead
    return stamp


class AheadCatalog(CatalogQueries):
    """The catalog's lookups of a run ahead: answered from the process's memory or read on the
    reader, their stamp left for the call to check. Nothing else."""

    def __init__(
        self, conn: Connection, kept: CatalogCache, reader: Connection, ahead: Ahead
    ) -> None:
        super().__init__(conn)
        self._remembered = kept
        self._reader = reader
        self._ahead = ahead

    async def find(self, query: CatalogQuery) -> CatalogHits:
        """The hits, as found now; the call holds them to their catalog stamp. A lookup read
        from the database reads the user's entries of the items it finds with it."""
        hits = self._remembered.answer(query)
        stamp = None if hits is None else hits.stamp
        if hits is None:
            hits, stamp = await self._read(query)
        if stamp is not None:
            self._ahead.relied_on_catalog(stamp)
        hits.stamp = None  # checked by the call: nothing left for the write to check
        return hits

    async def _read(self, query: CatalogQuery) -> tuple[CatalogHits, int | None]:
        mask = find_mask(query)
        if not any(mask):
            return CatalogHits(), None
        params = find_params(query, self._reader.array) | {"user_id": self._ahead.user_id}
        rows = await self._reader.fetch(FIND_WITH_ENTRIES[mask], params)
        hits, stamp = hits_from_rows(rows)
        if stamp is not None:
            self._remembered.keep(query, hits, stamp)
        self._ahead.read_with_lookup(rows)
        return hits, stamp


class AheadLibrary(LibraryQueries):
    """The library of a run ahead: entries read on the reader with the library stamp, one
    save kept for the call. Nothing else."""

    def __init__(
        self, conn: Connection, reads: SmallReads, reader: Connection, ahead: Ahead
    ) -> None:
        super().__init__(conn, reads)
        self._reading = LibraryQueries(reader, reads)
        self._ahead = ahead

    async def entries(self, user_id: int, item_ids: Collection[int]) -> dict[int, LibraryEntry]:
        """The entries as they stand now (read with the lookup, where it read them); the call
        holds them to the library stamp."""
        if not item_ids:
            return {}
        read = self._ahead.entries_read(user_id, item_ids)
        if read is not None:
            return read
        found, stamp = await self._reading.entries_stamped(user_id, item_ids)
        self._ahead.relied_on_library(stamp)
        return found

    async def save(
        self,
        user_id: int,
        writes: Sequence[LibraryWrite],
        *,
        now: int,
        touching: Collection[str] = (),
    ) -> None:
        """Kept for the call."""
        self._ahead.save(user_id, now, *saved_rows(writes, touching))


class AheadHistory(HistoryQueries):
    """The watch history of a run ahead: one mark of episodes kept for the call, which writes
    them blind as the ordinary mark does (it reads none). Nothing else."""

    def __init__(self, conn: Connection, ahead: Ahead) -> None:
        super().__init__(conn)
        self._ahead = ahead

    async def mark(self, user_id: int, rows: Sequence[tuple[int, int, int, int | None]]) -> None:
        """Kept for the call."""
        if rows:
            self._ahead.mark(user_id, json_text(rows))
