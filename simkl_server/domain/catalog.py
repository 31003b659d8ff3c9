"""Catalog import rules: match by ids, merge, refuse conflicts, mint local ids.

Items that arrive without a Simkl id get one from LOCAL_ID_BASE upwards: real Simkl ids are
well below it, so a locally minted id can never collide with a real one imported later.

How a record merges depends on its source (`CatalogRecord.mode`): our own format and
anime-offline-database REPLACE (given fields overwrite); general open data such as IMDb and
TMDB FILL (new ids are added, empty fields filled, an existing item's type, title and ids are
never changed); id mappings ENRICH (they only add ids to items already in the catalog).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Literal, TypeVar

from simkl_server.domain.ids import item_lookup_keys, lookup_key, normalize_id, title_key
from simkl_server.domain.kinds import MediaType, tmdb_scope_of
from simkl_server.domain.models import (
    CatalogEpisode,
    CatalogItem,
    CatalogUpsert,
    frozen,
    replace,
)
from simkl_server.storage.base import Store, WriteTx

LOCAL_ID_BASE = 1_000_000_000
CHUNK = 2000
# A report keeps this many problems to show; beyond it only counts grow (bounded memory).
PROBLEMS_KEPT = 1000
REPLACE: Literal["replace"] = "replace"
FILL: Literal["fill"] = "fill"
ENRICH: Literal["enrich"] = "enrich"
MergeMode = Literal["replace", "fill", "enrich"]
_OPTIONAL_FIELDS = (
    "year",
    "status",
    "total_episodes",
    "anime_type",
    "release_date",
    "poster",
    "runtime",
)
_NOT_MINTED_YET = -1
T = TypeVar("T")


@frozen
class CatalogRecord:
    """One item read from a catalog file; `where` names its place for reports."""

    where: str
    type: MediaType
    title: str
    ids: dict[str, str]
    simkl: int | None = None
    year: int | None = None
    status: str | None = None
    total_episodes: int | None = None
    anime_type: str | None = None
    release_date: str | None = None
    poster: str | None = None
    runtime: int | None = None
    # The item's episode list when the record gives one (it then replaces the stored list).
    episodes: tuple[CatalogEpisode, ...] | None = None
    mode: MergeMode = REPLACE
    # A tmdb id by TMDB space ("movie", "tv") when the source does not know which the item is.
    tmdb_by_scope: tuple[tuple[str, str], ...] = ()


@frozen
class Problem:
    """A line or record that was skipped, and why."""

    where: str
    reason: str
    conflict: bool = False

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass(slots=True)
class ImportReport:
    """What an import did: items inserted, updated and left as they were, records skipped as
    conflicts or bad rows (the first PROBLEMS_KEPT kept with their place), records that name
    nothing in the catalog (mappings, episode lists) and records of kinds not imported."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: int = 0
    bad_rows: int = 0
    not_in_catalog: int = 0
    ignored: int = 0
    problems: list[Problem] = field(default_factory=list)
    # What the counts count when not catalog items (an episode list's episodes).
    subject: str = ""

    def add_problem(self, problem: Problem) -> None:
        """Count a skipped record and keep it to show, up to PROBLEMS_KEPT."""
        if problem.conflict:
            self.conflicts += 1
        else:
            self.bad_rows += 1
        if len(self.problems) < PROBLEMS_KEPT:
            self.problems.append(problem)

    @property
    def skipped(self) -> int:
        """Records skipped as conflicts or bad rows."""
        return self.conflicts + self.bad_rows

    def summary(self) -> str:
        """One line for humans."""
        text = f"{self.subject}: " if self.subject else ""
        text += (
            f"inserted {self.inserted}, updated {self.updated}, unchanged {self.unchanged}, "
            f"conflicts {self.conflicts}, bad rows {self.bad_rows}"
        )
        if self.not_in_catalog:
            text += f", not in the catalog {self.not_in_catalog}"
        if self.ignored:
            text += f", ignored {self.ignored} (kinds not imported)"
        return text


@frozen
class EpisodeRecord:
    """One episode of a series named by an index key (`imdb:tt...`), from an episode list."""

    where: str
    series_key: str
    season: int
    number: int


@frozen
class Ignored:
    """A record of a kind the catalog does not hold (an IMDb short, a video game, ...)."""

    where: str


async def import_records(
    store: Store,
    records: Iterable[CatalogRecord | Problem | Ignored],
    *,
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import records chunk by chunk, each chunk in a fixed number of queries."""
    report = ImportReport()
    minter = _Minter(LOCAL_ID_BASE)  # each chunk moves it past the highest id stored
    for chunk in _chunks(records, CHUNK):
        await _import_chunk(store, chunk, report, minter)
        if on_progress is not None:
            on_progress(len(chunk))
    if report.inserted or report.updated:
        await store.read.catalog.refresh_statistics()
    return report


async def import_episode_records(
    store: Store,
    records: Iterable[EpisodeRecord | Problem | Ignored],
    *,
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Add listed episodes to the series the catalog holds (never removing any), chunk by
    chunk in a fixed number of queries; an episode already known is left as it is."""
    report = ImportReport(subject="episodes")
    for chunk in _chunks(records, CHUNK):
        await _import_episode_chunk(store, chunk, report)
        if on_progress is not None:
            on_progress(len(chunk))
    return report


async def _import_episode_chunk(
    store: Store, chunk: list[EpisodeRecord | Problem | Ignored], report: ImportReport
) -> None:
    listed = [entry for entry in chunk if isinstance(entry, EpisodeRecord)]
    owners = await store.read.catalog.owners({e.series_key for e in listed}) if listed else {}
    items = await store.read.catalog.items(set(owners.values())) if owners else {}
    wanted: set[tuple[int, int, int]] = set()
    for entry in chunk:
        if isinstance(entry, Ignored):
            report.ignored += 1
        elif isinstance(entry, Problem):
            report.add_problem(entry)
        elif (item := items.get(owners.get(entry.series_key, 0))) is None:
            report.not_in_catalog += 1
        elif item.type is MediaType.MOVIE:
            report.add_problem(Problem(entry.where, f"{entry.series_key} is a movie here"))
        else:
            wanted.add((item.id, entry.season, entry.number))
    known = await store.read.catalog.episodes_at(wanted) if wanted else {}
    new = sorted(wanted - known.keys())
    if new:

        async def write(tx: WriteTx) -> None:
            await tx.catalog.add_episodes(new)

        await store.transaction(write, offload=True)
    report.inserted += len(new)
    report.unchanged += len(wanted) - len(new)


def _chunks(records: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(records)
    while chunk := list(islice(iterator, size)):
        yield chunk


@dataclass(slots=True)
class _Minter:
    """Hands out local ids, never one a file names explicitly or one already handed out."""

    next_id: int

    def reserve(self, simkl: int | None) -> None:
        """Skip past an id a record carries, so no minted id can equal it."""
        if simkl is not None and simkl >= self.next_id:
            self.next_id = simkl + 1

    def mint(self) -> int:
        """The next free local id."""
        self.next_id += 1
        return self.next_id - 1


async def _import_chunk(
    store: Store,
    chunk: list[CatalogRecord | Problem | Ignored],
    report: ImportReport,
    minter: _Minter,
) -> None:
    records = [entry for entry in chunk if isinstance(entry, CatalogRecord)]
    # Learn mode mints local ids too, on a running server: start past whatever it took since.
    minter.reserve(await store.read.catalog.max_id(at_least=LOCAL_ID_BASE))
    for record in records:
        minter.reserve(record.simkl)
    state = await _ChunkState.load(store, records)
    for entry in chunk:
        if isinstance(entry, Ignored):
            report.ignored += 1
            continue
        problem = entry if isinstance(entry, Problem) else state.apply(entry, minter)
        if problem is not None:
            report.add_problem(problem)
    upserts = state.upserts()
    episodes = await _changed_episodes(store, state.episodes)
    if upserts or episodes:

        async def write(tx: WriteTx) -> None:
            await tx.catalog.upsert(upserts)
            await tx.catalog.replace_episodes(episodes)

        await store.transaction(write, offload=True)
    state.count(report, episodes)


async def _changed_episodes(
    store: Store, given: dict[int, tuple[CatalogEpisode, ...]]
) -> dict[int, tuple[CatalogEpisode, ...]]:
    """The episode lists a chunk gives that differ from the stored ones."""
    if not given:
        return {}
    stored = await store.read.catalog.episodes(given.keys())
    return {
        item_id: episodes
        for item_id, episodes in given.items()
        if tuple(stored.get(item_id, ())) != episodes
    }


_Target = int | Problem | None  # an item id, a skip, or None for "a new item"


@dataclass(slots=True)
class _ChunkState:
    """The catalog as one chunk sees it: the items it touches and who owns each index key."""

    owners: dict[str, int]
    original: dict[int, CatalogItem]
    current: dict[int, CatalogItem]
    touched: set[int] = field(default_factory=set)
    episodes: dict[int, tuple[CatalogEpisode, ...]] = field(default_factory=dict)
    not_in_catalog: int = 0

    @classmethod
    async def load(cls, store: Store, records: Sequence[CatalogRecord]) -> _ChunkState:
        """Read everything the chunk's records can reach, in at most three queries."""
        probe = {key for record in records for key in _probe_keys(record)}
        owners = await store.read.catalog.owners(probe) if probe else {}
        wanted = {r.simkl for r in records if r.simkl is not None} | set(owners.values())
        items = await store.read.catalog.items(wanted) if wanted else {}
        # A merge can move an existing tmdb id to the other TMDB space; know that key's owner too.
        extra = {key for item in items.values() for key in _keys_any_scope(item)} - probe
        if extra:
            owners.update(await store.read.catalog.owners(extra))
        return cls(owners, dict(items), dict(items))

    def apply(self, record: CatalogRecord, minter: _Minter) -> Problem | None:
        """Merge one record into the chunk's view, or say why it is skipped."""
        keys = item_lookup_keys(_as_item(record, 0))
        target = self._target(record, keys)
        if isinstance(target, Problem):
            return target
        before = self.current.get(target) if target is not None else None
        if before is None and record.mode == ENRICH:
            self.not_in_catalog += 1
            return None
        clash = _clashing_id(before, record) if before is not None else None
        if clash is not None:
            return clash
        merged = _merge(before, record, target if target is not None else _NOT_MINTED_YET)
        holders = {self.owners[k] for k in item_lookup_keys(merged) if k in self.owners}
        if holders - {merged.id}:
            return _conflict(record, (holders | {merged.id}) - {_NOT_MINTED_YET})
        if target is None:
            merged = replace(merged, id=minter.mint())
        self._keep(before, merged)
        if record.episodes is not None:
            self.episodes[merged.id] = record.episodes
        return None

    def _target(self, record: CatalogRecord, keys: list[str]) -> _Target:
        """The item a record updates (None: a new item), or the conflict that stops it."""
        if not keys and record.simkl is None:
            return Problem(record.where, "no simkl id and no external id that identifies the item")
        if record.mode == FILL and record.simkl is not None:
            # Open data names no simkl id; one given is a real item's only when ours agree.
            return Problem(record.where, "a simkl id in an open-data record")
        claimed = {self.owners[key] for key in keys if key in self.owners}
        if record.simkl is not None:
            claimed.add(record.simkl)
        if len(claimed) > 1:
            return _conflict(record, claimed)
        target = next(iter(claimed), None)
        before = self.current.get(target) if target is not None else None
        if before is not None and _foreign_local_id(record, keys, before):
            return Problem(
                record.where,
                f"conflict: ids.simkl {record.simkl} is a local id that names a different item "
                "here (they share no external id)",
                conflict=True,
            )
        return target

    def _keep(self, before: CatalogItem | None, merged: CatalogItem) -> None:
        if before is not None:
            for key in item_lookup_keys(before):
                if self.owners.get(key) == before.id:
                    del self.owners[key]
        self.owners.update(dict.fromkeys(item_lookup_keys(merged), merged.id))
        self.current[merged.id] = merged
        self.touched.add(merged.id)

    def upserts(self) -> list[CatalogUpsert]:
        """The items whose stored form must change, with their index keys."""
        return [
            CatalogUpsert(item, title_key(item.title), item_lookup_keys(item))
            for item in self._changed()
        ]

    def count(self, report: ImportReport, episodes: Mapping[int, object]) -> None:
        """Add this chunk's outcome to the report (items compared with their stored form; an
        item whose episode list changed counts as updated)."""
        changed = {item.id for item in self._changed()}
        added = sum(1 for item_id in changed if item_id not in self.original)
        updated = changed | {item_id for item_id in episodes if item_id in self.original}
        report.inserted += added
        report.updated += len(updated) - added
        report.unchanged += len(self.touched) - len(updated)
        report.not_in_catalog += self.not_in_catalog

    def _changed(self) -> list[CatalogItem]:
        return [
            self.current[item_id]
            for item_id in sorted(self.touched)
            if self.original.get(item_id) != self.current[item_id]
        ]


def _conflict(record: CatalogRecord, claimed: set[int]) -> Problem:
    others = ", ".join(str(i) for i in sorted(claimed))
    return Problem(
        record.where, f"conflict: its ids belong to different items ({others})", conflict=True
    )


def _clashing_id(before: CatalogItem, record: CatalogRecord) -> Problem | None:
    """Open data and mappings never change an id an item has: a record that gives another
    value for it describes something else, a conflict."""
    if record.mode == REPLACE:
        return None
    given = dict(record.ids)
    scoped = dict(record.tmdb_by_scope).get(tmdb_scope_of(before.type, before.anime_type))
    if scoped is not None:
        given.setdefault("tmdb", scoped)
    for kind, value in given.items():
        held = before.ids.get(kind)
        if held is not None and normalize_id(kind, held) != normalize_id(kind, value):
            return Problem(
                record.where,
                f"conflict: ids.{kind} {value}, but the item it matches ({before.id}) has {held}",
                conflict=True,
            )
    return None


def _foreign_local_id(record: CatalogRecord, keys: list[str], before: CatalogItem) -> bool:
    """Local ids mean something only on the server that minted them: a record naming one must
    share an external id with the item that holds it here, or it describes another item."""
    if record.simkl is None or record.simkl < LOCAL_ID_BASE:
        return False
    own = set(item_lookup_keys(before))
    return bool(own) and not own.intersection(keys)


def _probe_keys(record: CatalogRecord) -> set[str]:
    """Every index key a record can give its item, whichever TMDB space the item is in."""
    keys = _keys_any_scope(_as_item(record, 0))
    for scope, value in record.tmdb_by_scope:
        tmdb = normalize_id("tmdb", value)
        if tmdb is not None:
            keys.add(lookup_key("tmdb", tmdb, tmdb_scope=scope))
    return keys


def _keys_any_scope(item: CatalogItem) -> set[str]:
    """The item's index keys, with its tmdb id in both TMDB spaces."""
    keys = set(item_lookup_keys(item))
    tmdb = normalize_id("tmdb", item.ids["tmdb"]) if "tmdb" in item.ids else None
    if tmdb is not None:
        keys.update(lookup_key("tmdb", tmdb, tmdb_scope=scope) for scope in ("movie", "tv"))
    return keys


def _merge(before: CatalogItem | None, record: CatalogRecord, item_id: int) -> CatalogItem:
    """New ids are added, given fields overwrite, absent fields keep their value; a FILL or
    ENRICH record only adds what the item lacks."""
    fresh = _as_item(record, item_id)
    if before is None:
        return _with_scoped_tmdb(fresh, record)
    if record.mode != REPLACE:
        filled = {
            name: getattr(fresh, name)
            for name in _OPTIONAL_FIELDS
            if record.mode == FILL and getattr(before, name) is None
        }
        grown = replace(before, ids={**fresh.ids, **before.ids}, **filled)
        return _with_scoped_tmdb(grown, record)
    return replace(
        before,
        type=fresh.type,
        title=fresh.title,
        ids={**before.ids, **fresh.ids},
        **{name: value for name in _OPTIONAL_FIELDS if (value := getattr(fresh, name)) is not None},
    )


def _with_scoped_tmdb(item: CatalogItem, record: CatalogRecord) -> CatalogItem:
    """Give the item the record's tmdb id of the item's own TMDB space, if it has none."""
    scoped = dict(record.tmdb_by_scope).get(tmdb_scope_of(item.type, item.anime_type))
    if scoped is None or "tmdb" in item.ids:
        return item
    return replace(item, ids={**item.ids, "tmdb": scoped})


def _as_item(record: CatalogRecord, item_id: int) -> CatalogItem:
    return CatalogItem(
        id=item_id,
        type=record.type,
        title=record.title,
        year=record.year,
        status=record.status,
        total_episodes=record.total_episodes,
        anime_type=record.anime_type,
        release_date=record.release_date,
        ids=dict(record.ids),
        poster=record.poster,
        runtime=record.runtime,
    )
