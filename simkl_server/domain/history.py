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

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

from simkl_server.domain.changes import LibraryChanges
from simkl_server.domain.episodes import EpisodeIndex, episode_targets
from simkl_server.domain.kinds import ListStatus, MediaType, Wrapper
from simkl_server.domain.learn import STRICT, LearnPolicy, resolve_items
from simkl_server.domain.library import (
    completable_status,
    finished_airing,
    movie_status,
    progress,
)
from simkl_server.domain.matching import catalog_query, resolve
from simkl_server.domain.models import (
    CatalogItem,
    EpisodeKey,
    Memo,
    RewatchSession,
    SeasonTarget,
    SyncItem,
    frozen,
)
from simkl_server.domain.rewatches import PAID_PLANS, Rewatches, RewatchRequest
from simkl_server.storage.base import Store, WriteTx

_LIST_ONLY = frozenset(
    {ListStatus.WATCHING, ListStatus.PLANTOWATCH, ListStatus.HOLD, ListStatus.DROPPED}
)


@frozen
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
    rewatch: RewatchRequest = field(default_factory=RewatchRequest)
    added_at: int | None = None


@frozen
class Loaded:
    """What a caller inside the write already read of a history write's inputs: their
    catalog items (in order) and those items' library state."""

    items: Sequence[CatalogItem | None]
    changes: LibraryChanges


@dataclass(slots=True)
class HistoryOutcome:
    """Items put on a list (per response bucket), episodes newly watched, each applied item
    with the status it ended in, and the items that matched nothing."""

    movies: int = 0
    shows: int = 0
    episodes: int = 0
    statuses: list[Applied] = field(default_factory=list)
    not_found: list[HistoryInput] = field(default_factory=list)


@frozen
class Applied:
    """An applied item: the status it ended in, and the rewatch session it landed in."""

    entry: HistoryInput
    item: CatalogItem
    status: ListStatus
    session: RewatchSession | None = None


@dataclass(slots=True)
class RemoveOutcome:
    """Items taken out of the library, episodes unmarked, the items that matched nothing, and
    for PRO / VIP accounts (None otherwise) the rewatch sessions and episodes removed."""

    movies: int = 0
    shows: int = 0
    episodes: int = 0
    not_found: list[SyncItem] = field(default_factory=list)
    rewatches: int | None = None
    rewatch_episodes: int | None = None


async def add_history(
    store: Store,
    *,
    user_id: int,
    inputs: Sequence[HistoryInput],
    skip_auto_watching: bool,
    allow_rewatch: bool = False,
    learning: LearnPolicy = STRICT,
) -> HistoryOutcome:
    """Record the watches of a request, in order, as one transaction. With `allow_rewatch`, a
    PRO or VIP account's watches of what is already watched go to rewatch sessions; a free
    account's request then changes nothing (as Simkl answers it). Items the catalog lacks are
    learned as `learning` allows."""

    async def work(tx: WriteTx) -> HistoryOutcome:
        return await record_history(
            tx,
            user_id=user_id,
            inputs=inputs,
            skip_auto_watching=skip_auto_watching,
            allow_rewatch=allow_rewatch,
            learning=learning,
        )

    query = partial(catalog_query, [entry.item.ref for entry in inputs])
    return await store.write(user_id, work, size=len(inputs), looks_up=query, ahead=True)


async def record_history(
    tx: WriteTx,
    *,
    user_id: int,
    inputs: Sequence[HistoryInput],
    skip_auto_watching: bool,
    allow_rewatch: bool = False,
    plan_checked: bool = False,
    learning: LearnPolicy = STRICT,
    loaded: Loaded | None = None,
) -> HistoryOutcome:
    """`add_history` inside a transaction the caller holds (scrobbles record their watches
    through it, with their own state in the same transaction); `plan_checked`: the account
    was PRO or VIP when the rewatch was asked for (a check-in maturing later); `loaded`:
    what the caller already read of the inputs, in this transaction."""
    changes_nothing = allow_rewatch and not plan_checked and tx.account_type not in PAID_PLANS
    if loaded is not None:
        items = list(loaded.items)
    else:
        items = await resolve_items(
            tx,
            user_id=user_id,
            items=[entry.item for entry in inputs],
            policy=STRICT if changes_nothing else learning,
            may_learn=[not entry.item.bad_date for entry in inputs],
        )
    outcome = HistoryOutcome()
    if changes_nothing:
        outcome.not_found = [e for e, i in zip(inputs, items, strict=True) if i is None]
        return outcome
    known = _known(items)
    changes = loaded.changes if loaded else await LibraryChanges.load(tx, user_id, known)
    rewatches = await Rewatches.load(tx, user_id, [i.id for i in known]) if allow_rewatch else None
    for entry, item in zip(inputs, items, strict=True):
        if item is None or entry.item.bad_date:
            outcome.not_found.append(entry)
            continue
        applied = _rewatch(changes, rewatches, item, entry, outcome) if rewatches else None
        outcome.statuses.append(
            applied or _watch(changes, item, entry, skip_auto_watching, outcome)
        )
    await changes.save(tx)
    if rewatches is not None:
        await rewatches.save(tx, user_id)
    return outcome


def _watch(
    changes: LibraryChanges,
    item: CatalogItem,
    entry: HistoryInput,
    skip_auto: bool,
    outcome: HistoryOutcome,
) -> Applied:
    """The regular write: the item filed and its episodes marked, counted when it moved."""
    before = changes.entry(item)
    status = _apply(changes, item, entry, skip_auto, outcome)
    if before is None or before.status is not status:
        _count(outcome, entry.item.ref.wrapper)
    return Applied(entry, item, status)


def _rewatch(
    changes: LibraryChanges,
    rewatches: Rewatches,
    item: CatalogItem,
    entry: HistoryInput,
    outcome: HistoryOutcome,
) -> Applied | None:
    """The rewatch write, when the regular one would change nothing (None otherwise)."""
    seasons = entry.item.seasons
    targets = None
    if item.type is not MediaType.MOVIE and seasons is not None:
        targets = episode_targets(
            changes,
            item,
            seasons,
            watched_at=entry.watched_at,
            tvdb_numbering=entry.tvdb_numbering,
        )
    if not rewatches.applies(changes, item, targets):
        return None
    current = changes.entry(item)
    assert current is not None
    if item.type is MediaType.MOVIE:
        result = rewatches.record_movie(item, entry.watched_at, current.last_watched_at)
    else:
        result = rewatches.record_show(changes, item, targets or {}, entry.rewatch)
    if result is not None:
        changes.touch(item)
        outcome.episodes += result.episodes
        if result.started:
            _count(outcome, entry.item.ref.wrapper)
    if entry.rating is not None:
        changes.rate(item, entry.rating, None)
    if entry.memo_given:
        changes.set_memo(item, entry.memo)
    return Applied(entry, item, current.status, None if result is None else result.session)


async def remove_history(store: Store, *, user_id: int, items: Sequence[SyncItem]) -> RemoveOutcome:
    """Take items out of the library (with their rewatch sessions), or unmark the seasons and
    episodes they name."""

    async def work(tx: WriteTx) -> RemoveOutcome:
        resolved = await _resolve(tx, items)
        known = _known(resolved)
        changes = await LibraryChanges.load(tx, user_id, known)
        outcome = RemoveOutcome()
        sessions: dict[int, list[RewatchSession]] = {}
        if tx.account_type in PAID_PLANS:
            sessions = await tx.rewatches.sessions(user_id, [item.id for item in known])
            outcome.rewatches = outcome.rewatch_episodes = 0
        for sent, item in zip(items, resolved, strict=True):
            if item is None:
                outcome.not_found.append(sent)
            elif sent.seasons is None:
                if changes.remove(item):
                    _count(outcome, sent.ref.wrapper)
                    _count_sessions(outcome, sessions.pop(item.id, []))
            elif changes.entry(item) is not None:
                outcome.episodes += _unmark(changes, item, sent.seasons)
        await changes.save(tx)
        return outcome

    query = partial(catalog_query, [item.ref for item in items])
    return await store.write(user_id, work, size=len(items), looks_up=query)


async def _resolve(tx: WriteTx, items: Sequence[SyncItem]) -> list[CatalogItem | None]:
    hits = await tx.catalog.find(catalog_query([item.ref for item in items]))
    return [resolve(item.ref, hits) for item in items]


def _known(items: Sequence[CatalogItem | None]) -> list[CatalogItem]:
    return list({item.id: item for item in items if item is not None}.values())


def _count_sessions(outcome: RemoveOutcome, sessions: Sequence[RewatchSession]) -> None:
    if outcome.rewatches is not None and outcome.rewatch_episodes is not None:
        outcome.rewatches += len(sessions)
        outcome.rewatch_episodes += sum(len(session.episodes) for session in sessions)


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
    if entry.added_at is not None:
        changes.set_added(item, entry.added_at)
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
    targets = episode_targets(
        changes,
        item,
        entry.item.seasons,
        watched_at=entry.watched_at,
        tvdb_numbering=entry.tvdb_numbering,
    )
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


def _unmark(changes: LibraryChanges, item: CatalogItem, seasons: Sequence[SeasonTarget]) -> int:
    """Unmark what the seasons name (a season without episodes: all of its watched ones); a
    completed show that is no longer complete goes back to watching."""
    known = EpisodeIndex(changes.catalog_episodes(item), changes.episodes(item))
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
