"""Watch history: POST /sync/history records watches of movies, shows, seasons and episodes
(with status, rating and memo riding along) and /sync/history/remove takes them back.

Where a write files an item, as the docs describe: a movie watched is completed; a show sent
whole is filled with its aired episodes and is completed once it has finished airing, watching
while it airs; a show with episodes named is watching until they complete it; an explicit
`watching`, `plantowatch`, `hold` or `dropped` sets the list without touching episodes, and an
explicit `completed` on a show still airing becomes `watching` (`plantowatch` before anything
aired). Re-posting what is already watched changes nothing. Counts: `added.movies`/`shows`
count items this write put on a list they were not on, `added.episodes` the episodes newly
watched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from simkl_server.domain.changes import LibraryChanges
from simkl_server.domain.kinds import ListStatus, MediaType, Wrapper
from simkl_server.domain.library import (
    EpisodeList,
    completable_status,
    finished_airing,
    movie_status,
    progress,
)
from simkl_server.domain.matching import catalog_query, resolve
from simkl_server.domain.models import (
    CatalogEpisode,
    CatalogItem,
    EpisodeKey,
    Memo,
    SeasonTarget,
    SyncItem,
)
from simkl_server.storage.base import Store, WriteTx

_LIST_ONLY = frozenset(
    {ListStatus.WATCHING, ListStatus.PLANTOWATCH, ListStatus.HOLD, ListStatus.DROPPED}
)


@dataclass(frozen=True, slots=True)
class HistoryInput:
    """One item of a history write: when it was watched, the status, rating and memo that
    ride along (`memo` None clears it; `memo_given` False leaves it alone)."""

    item: SyncItem
    watched_at: int | None = None
    status: ListStatus | None = None
    rating: int | None = None
    memo: Memo | None = None
    memo_given: bool = False
    tvdb_numbering: bool = False


@dataclass(slots=True)
class HistoryOutcome:
    """Items put on a list (per response bucket), episodes newly watched, each applied item
    with the status it ended in, and the items that matched nothing."""

    movies: int = 0
    shows: int = 0
    episodes: int = 0
    statuses: list[tuple[HistoryInput, CatalogItem, ListStatus]] = field(default_factory=list)
    not_found: list[HistoryInput] = field(default_factory=list)


@dataclass(slots=True)
class RemoveOutcome:
    """Items taken out of the library, episodes unmarked, and the items that matched nothing."""

    movies: int = 0
    shows: int = 0
    episodes: int = 0
    not_found: list[SyncItem] = field(default_factory=list)


async def add_history(
    store: Store, *, user_id: int, inputs: Sequence[HistoryInput], skip_auto_watching: bool
) -> HistoryOutcome:
    """Record the watches of a request, in order, as one transaction."""

    async def work(tx: WriteTx) -> HistoryOutcome:
        items = await _resolve(tx, [entry.item for entry in inputs])
        changes = await LibraryChanges.load(tx, user_id, _known(items))
        outcome = HistoryOutcome()
        for entry, item in zip(inputs, items, strict=True):
            if item is None or entry.item.bad_date:
                outcome.not_found.append(entry)
                continue
            before = changes.entry(item)
            status = _apply(changes, item, entry, skip_auto_watching, outcome)
            if before is None or before.status is not status:
                _count(outcome, entry.item.ref.wrapper)
            outcome.statuses.append((entry, item, status))
        await changes.save(tx)
        return outcome

    return await store.write(user_id, work, size=len(inputs))


async def remove_history(store: Store, *, user_id: int, items: Sequence[SyncItem]) -> RemoveOutcome:
    """Take items out of the library, or unmark the seasons and episodes they name."""

    async def work(tx: WriteTx) -> RemoveOutcome:
        resolved = await _resolve(tx, items)
        changes = await LibraryChanges.load(tx, user_id, _known(resolved))
        outcome = RemoveOutcome()
        for sent, item in zip(items, resolved, strict=True):
            if item is None:
                outcome.not_found.append(sent)
            elif sent.seasons is None:
                if changes.remove(item):
                    _count(outcome, sent.ref.wrapper)
            elif changes.entry(item) is not None:
                outcome.episodes += _unmark(changes, item, sent.seasons)
        await changes.save(tx)
        return outcome

    return await store.write(user_id, work, size=len(items))


async def _resolve(tx: WriteTx, items: Sequence[SyncItem]) -> list[CatalogItem | None]:
    hits = await tx.catalog.find(catalog_query([item.ref for item in items]))
    return [resolve(item.ref, hits) for item in items]


def _known(items: Sequence[CatalogItem | None]) -> list[CatalogItem]:
    return list({item.id: item for item in items if item is not None}.values())


def _count(outcome: HistoryOutcome | RemoveOutcome, wrapper: Wrapper) -> None:
    if wrapper is Wrapper.MOVIES:
        outcome.movies += 1
    else:
        outcome.shows += 1


def _apply(
    changes: LibraryChanges,
    item: CatalogItem,
    entry: HistoryInput,
    skip_auto: bool,
    outcome: HistoryOutcome,
) -> ListStatus:
    if item.type is MediaType.MOVIE:
        _watch_movie(changes, item, entry)
    elif entry.item.seasons is None:
        outcome.episodes += _watch_whole_show(changes, item, entry, skip_auto)
    else:
        outcome.episodes += _watch_episodes(changes, item, entry, skip_auto)
    if entry.rating is not None:
        changes.rate(item, entry.rating, None)
    if entry.memo_given:
        changes.set_memo(item, entry.memo)
    current = changes.entry(item)
    assert current is not None
    return current.status


def _watch_movie(changes: LibraryChanges, item: CatalogItem, entry: HistoryInput) -> None:
    """A movie is watched and completed, unless the write only sets another list."""
    if entry.status is not None and movie_status(entry.status) is not ListStatus.COMPLETED:
        changes.file(item, movie_status(entry.status))
        return
    current = changes.entry(item)
    if current is not None and current.status is ListStatus.COMPLETED:
        return  # already watched: re-posting is a no-op
    changes.file(item, ListStatus.COMPLETED)
    changes.watch(item, entry.watched_at)


def _watch_whole_show(
    changes: LibraryChanges, item: CatalogItem, entry: HistoryInput, skip_auto: bool
) -> int:
    """A show sent whole: a list-only status sets the list; otherwise every aired episode is
    watched (dated by the item's `watched_at`, else undated) unless the auto-fill is off."""
    episodes = changes.episodes(item)
    if entry.status in _LIST_ONLY:
        changes.file(item, entry.status)
        return 0
    if skip_auto and entry.status is ListStatus.COMPLETED:
        changes.file(item, completable_status(item, episodes))
        return 0
    is_new = _ensure_filed(changes, item)
    before = changes.entry(item)
    new = changes.mark(item, dict.fromkeys(episodes.aired_keys, entry.watched_at))
    if entry.status is ListStatus.COMPLETED or finished_airing(item):
        changes.file(item, completable_status(item, episodes))
    elif new or is_new:
        changes.file(item, ListStatus.WATCHING)
    after = changes.entry(item)
    if new or (after is not None and before is not None and after.status is not before.status):
        changes.watch(item, entry.watched_at)
    return new


def _watch_episodes(
    changes: LibraryChanges, item: CatalogItem, entry: HistoryInput, skip_auto: bool
) -> int:
    """A show with seasons or episodes named: those are watched; an explicit status applies
    after them, and without one the show is completed once they complete it."""
    assert entry.item.seasons is not None
    is_new = _ensure_filed(changes, item)
    targets = _targets(changes, item, entry, entry.item.seasons)
    new = changes.mark(item, targets)
    if new:
        dates = [at for at in targets.values() if at is not None]
        changes.watch(item, max(dates) if dates else None)
    episodes = changes.episodes(item)
    if entry.status in _LIST_ONLY:
        changes.file(item, entry.status)
    elif entry.status is ListStatus.COMPLETED:
        if not skip_auto and finished_airing(item):
            new += changes.mark(item, dict.fromkeys(episodes.aired_keys, entry.watched_at))
        changes.file(item, completable_status(item, episodes))
    elif progress(item, episodes, changes.watched(item)).complete:
        changes.file(item, ListStatus.COMPLETED)
    elif new or is_new:
        changes.file(item, ListStatus.WATCHING)
    return new


def _ensure_filed(changes: LibraryChanges, item: CatalogItem) -> bool:
    """Put a show not yet in the library on `watching` (its final list is decided after its
    episodes); whether it was new."""
    if changes.entry(item) is not None:
        return False
    changes.file(item, ListStatus.WATCHING)
    return True


def _targets(
    changes: LibraryChanges,
    item: CatalogItem,
    entry: HistoryInput,
    seasons: Sequence[SeasonTarget],
) -> dict[EpisodeKey, int | None]:
    """The episodes the seasons name, each with its date: the episode's, else its season's,
    else the item's, else now. Where the catalog lists the item's episodes, only those count;
    a season named without episodes means its aired episodes."""
    catalog = changes.catalog_episodes(item)
    known = _EpisodeIndex(catalog, changes.episodes(item), tvdb_numbering=entry.tvdb_numbering)
    targets: dict[EpisodeKey, int | None] = {}
    for season in seasons:
        default = season.watched_at or entry.watched_at or changes.now
        if season.episodes is None:
            for key in known.aired_in(season.number):
                targets[key] = default
            continue
        for episode in season.episodes:
            found = known.find(episode.season, episode.number, episode.tvdb)
            if found is not None:
                targets[found] = episode.watched_at or default
    return targets


def _unmark(changes: LibraryChanges, item: CatalogItem, seasons: Sequence[SeasonTarget]) -> int:
    """Unmark what the seasons name (a season without episodes: all of its watched ones); a
    completed show that is no longer complete goes back to watching."""
    known = _EpisodeIndex(changes.catalog_episodes(item), changes.episodes(item))
    watched = changes.watched(item)
    keys: set[EpisodeKey] = set()
    for season in seasons:
        if season.episodes is None:
            keys |= {key for key in watched if key[0] == season.number}
            continue
        for episode in season.episodes:
            key = known.find(episode.season, episode.number, episode.tvdb, strict=False)
            if key is not None:
                keys.add(key)
    gone = changes.unmark(item, keys)
    current = changes.entry(item)
    completed = current is not None and current.status is ListStatus.COMPLETED
    if gone and completed and not progress(item, changes.episodes(item), watched).complete:
        changes.file(item, ListStatus.WATCHING)
    return gone


class _EpisodeIndex:
    """Finds the episode a write means: by its TVDB episode id first, by TVDB numbering for
    anime sent that way, else by season and number; the catalog's list decides what exists."""

    def __init__(
        self,
        catalog: Sequence[CatalogEpisode],
        episodes: EpisodeList,
        *,
        tvdb_numbering: bool = False,
    ) -> None:
        self._listed = {(e.season, e.number) for e in catalog}
        self._aired = episodes.aired
        self._catalog = catalog
        self._by_tvdb = {e.tvdb_id: (e.season, e.number) for e in catalog if e.tvdb_id}
        self._by_tvdb_numbers: Mapping[EpisodeKey, EpisodeKey] = (
            {
                (e.tvdb_season, e.tvdb_number): (e.season, e.number)
                for e in catalog
                if e.tvdb_season is not None and e.tvdb_number is not None
            }
            if tvdb_numbering
            else {}
        )

    def find(
        self, season: int, number: int | None, tvdb: int | None, *, strict: bool = True
    ) -> EpisodeKey | None:
        if tvdb is not None and tvdb in self._by_tvdb:
            return self._by_tvdb[tvdb]
        if number is None:
            return None
        key = self._by_tvdb_numbers.get((season, number), (season, number))
        if strict and self._listed and key not in self._listed:
            return None
        return key

    def aired_in(self, season: int) -> list[EpisodeKey]:
        if season > 0:
            return [key for key in sorted(self._aired) if key[0] == season]
        return [(e.season, e.number) for e in self._catalog if e.season == 0]
