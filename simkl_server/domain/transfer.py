"""A user's whole library as records that do not depend on this server's ids: what a backup
holds and what a copy from another Simkl-compatible server brings, and restoring them.

Restoring puts each item in exactly the recorded state (list, dates, rating, memo, watched
episodes with their dates, rewatch sessions), whatever it was before; items the file does not
name are left as they are, so restoring the same records twice changes nothing the second
time. An item resolves against the local catalog as a request item does (simkl id first, then
the external ids, then title and year); one that resolves to nothing is reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice

from simkl_server.domain.changes import LibraryChanges
from simkl_server.domain.ids import external_ids, parse_simkl_id, title_key
from simkl_server.domain.kinds import ListStatus, MediaType, Wrapper
from simkl_server.domain.matching import catalog_query, resolve
from simkl_server.domain.models import (
    CatalogItem,
    EpisodeKey,
    ItemRef,
    LibraryEntry,
    LibraryQuery,
    LibraryRow,
    Memo,
    RewatchSession,
    frozen,
)
from simkl_server.storage.base import Session, Store, WriteTx

CHUNK = 500


@frozen
class SessionRecord:
    """A rewatch session: its state, when it started and last moved, its episodes."""

    status: str
    started_at: int
    last_watched_at: int | None
    episodes: dict[EpisodeKey, int | None] = field(default_factory=dict)


@frozen
class LibraryRecord:
    """One library item, named by what identifies it anywhere (ids, title, year)."""

    type: MediaType
    title: str
    ids: dict[str, str]
    status: ListStatus
    added_at: int
    simkl: int | None = None
    year: int | None = None
    last_watched_at: int | None = None
    user_rating: int | None = None
    user_rated_at: int | None = None
    memo: Memo | None = None
    episodes: dict[EpisodeKey, int | None] = field(default_factory=dict)
    sessions: tuple[SessionRecord, ...] = ()

    def ref(self) -> ItemRef:
        """How the record finds its item in a catalog."""
        wrapper = Wrapper.MOVIES if self.type is MediaType.MOVIE else Wrapper.SHOWS
        external = external_ids(self.ids)
        simkl = None if self.simkl is None else parse_simkl_id(self.simkl)
        return ItemRef(wrapper, simkl, external, title_key(self.title), self.year)


@dataclass(slots=True)
class RestoreReport:
    """How many records were restored, and those that matched nothing here."""

    restored: int = 0
    unmatched: list[LibraryRecord] = field(default_factory=list)


async def export_library(store: Store, *, user_id: int) -> list[LibraryRecord]:
    """Every item of the user's library, read on one snapshot."""

    async def work(session: Session) -> list[LibraryRecord]:
        rows = await session.library.rows(
            user_id, LibraryQuery(types=frozenset(MediaType)), now=store.clock.now_ms()
        )
        ids = [row.item.id for row in rows]
        watched = await session.history.watched(user_id, ids)
        sessions = await session.rewatches.sessions(user_id, ids)
        return [
            _record(row.item, row, watched.get(row.item.id, {}), sessions.get(row.item.id, []))
            for row in rows
        ]

    return await store.snapshot(work)


def _record(
    item: CatalogItem,
    row: LibraryRow,
    watched: dict[EpisodeKey, int | None],
    sessions: Sequence[RewatchSession],
) -> LibraryRecord:
    return LibraryRecord(
        type=item.type,
        title=item.title,
        ids=dict(item.ids),
        status=row.status,
        added_at=row.added_at,
        simkl=item.id,
        year=item.year,
        last_watched_at=row.last_watched_at,
        user_rating=row.user_rating,
        user_rated_at=row.user_rated_at,
        memo=row.memo,
        episodes=dict(watched),
        sessions=tuple(
            SessionRecord(s.status, s.started_at, s.last_watched_at, dict(s.episodes))
            for s in sessions
        ),
    )


async def restore_library(
    store: Store, *, user_id: int, records: Iterable[LibraryRecord]
) -> RestoreReport:
    """Put every record's item in its recorded state, a chunk of records per transaction."""
    report = RestoreReport()
    iterator = iter(records)
    while chunk := list(islice(iterator, CHUNK)):

        async def work(tx: WriteTx, chunk: list[LibraryRecord] = chunk) -> None:
            await _restore_chunk(tx, user_id, chunk, report)

        await store.write(user_id, work, size=len(chunk))
    return report


async def _restore_chunk(
    tx: WriteTx, user_id: int, records: Sequence[LibraryRecord], report: RestoreReport
) -> None:
    hits = await tx.catalog.find(catalog_query([record.ref() for record in records]))
    items = [resolve(record.ref(), hits) for record in records]
    known = {item.id: item for item in items if item is not None}
    changes = await LibraryChanges.load(tx, user_id, known.values())
    existing = await tx.rewatches.sessions(user_id, known.keys())
    wanted: list[tuple[int, SessionRecord]] = []
    for record, item in zip(records, items, strict=True):
        if item is None:
            report.unmatched.append(record)
            continue
        changes.replace(item, _entry(item, record), record.episodes)
        wanted += [(item.id, session) for session in record.sessions]
        report.restored += 1
    await changes.save(tx)
    await _restore_sessions(tx, user_id, existing, wanted)


def _entry(item: CatalogItem, record: LibraryRecord) -> LibraryEntry:
    return LibraryEntry(
        item.id,
        record.status,
        added_at=record.added_at,
        last_watched_at=record.last_watched_at,
        user_rating=record.user_rating,
        user_rated_at=record.user_rated_at,
        memo=record.memo,
    )


async def _restore_sessions(
    tx: WriteTx,
    user_id: int,
    existing: dict[int, list[RewatchSession]],
    wanted: Sequence[tuple[int, SessionRecord]],
) -> None:
    """Sessions are matched by item and start time: a restored one updates the session it
    already is, so restoring twice makes no second session."""
    new_ids = await tx.rewatches.new_ids(len(wanted))
    sessions: list[RewatchSession] = []
    episodes: list[tuple[int, int, int, int | None]] = []
    for item_id, record in wanted:
        same = [s for s in existing.get(item_id, []) if s.started_at == record.started_at]
        session_id = same[0].id if same else new_ids.pop()
        sessions.append(
            RewatchSession(
                session_id,
                item_id,
                record.status,
                record.started_at,
                record.last_watched_at,
                tx.now_ms,
            )
        )
        episodes += [
            (session_id, key[0], key[1], at) for key, at in sorted(record.episodes.items())
        ]
    await tx.rewatches.save(user_id, sessions, episodes)
