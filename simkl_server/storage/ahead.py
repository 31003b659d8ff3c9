"""A user write run ahead of the user's lock, where the database has server-side functions
(PostgreSQL): two round trips instead of five for a one-item add, history or watchlist write.

The write looks its items up and reads the user's entries without the lock (the entries in one
statement with the user's library stamp), applies its rules, and sends what it would save in
one call (migration 0012). The call takes the lock and saves only if what the write read still
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
from typing import Any, NoReturn

from simkl_server.domain.models import CatalogHits, CatalogQuery, LibraryEntry, LibraryWrite
from simkl_server.storage.catalog import CatalogCache, CatalogQueries
from simkl_server.storage.dialect import POSTGRES, Statement, json_text
from simkl_server.storage.drivers import Connection, Row
from simkl_server.storage.history import HistoryQueries
from simkl_server.storage.library import LibraryQueries, SmallReads, saved_rows


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

    def relied_on_catalog(self, stamp: int) -> None:
        """A lookup was read, or remembered, under this catalog stamp."""
        self.catalog_stamp = _one(self.catalog_stamp, stamp)

    def relied_on_library(self, stamp: int) -> None:
        """Entries were read under this library stamp."""
        self.library_stamp = _one(self.library_stamp, stamp)

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
        self._reading = CatalogQueries(reader, kept)
        self._ahead = ahead

    async def find(self, query: CatalogQuery) -> CatalogHits:
        """The hits, as found now; the call holds them to their catalog stamp."""
        hits = self._remembered.answer(query)
        stamp = None if hits is None else hits.stamp
        if hits is None:
            hits, stamp = await self._reading.find_stamped(query)
            if stamp is not None:
                self._remembered.keep(query, hits, stamp)
        if stamp is not None:
            self._ahead.relied_on_catalog(stamp)
        hits.stamp = None  # checked by the call: nothing left for the write to check
        return hits


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
        """The entries as they stand now; the call holds them to the library stamp."""
        if not item_ids:
            return {}
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
