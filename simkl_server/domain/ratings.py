"""The ratings rules: remove, add (with auto-filing) and the ratings read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

from simkl_server.domain.changes import LibraryChanges
from simkl_server.domain.kinds import ListStatus, MediaType, Wrapper, rated_bucket
from simkl_server.domain.learn import STRICT, LearnPolicy, resolve_items
from simkl_server.domain.library import LibraryRead, auto_status, read_rows
from simkl_server.domain.matching import catalog_query, resolve
from simkl_server.domain.models import (
    CatalogHits,
    CatalogItem,
    LibraryRow,
    LibraryView,
    RatingsQuery,
    SyncItem,
    frozen,
)
from simkl_server.storage.base import CatalogMoved, ClearRatings, Session, Store, WriteTx

MIN_RATING = 1
MAX_RATING = 10


@frozen
class RatingInput:
    """One item of an add-ratings request; `rating` is None when it is not a valid rating."""

    item: SyncItem
    rating: int | None
    rated_at: int | None = None
    rated_at_invalid: bool = False

    @property
    def acceptable(self) -> bool:
        """Whether the item can be applied at all (before matching)."""
        return self.rating is not None and not self.rated_at_invalid


@dataclass(slots=True)
class Counts:
    """Per-bucket counters of a write response (anime folded into shows)."""

    movies: int = 0
    shows: int = 0

    def add(self, wrapper: Wrapper) -> None:
        """Count one item of that wrapper."""
        if wrapper is Wrapper.MOVIES:
            self.movies += 1
        else:
            self.shows += 1


@dataclass(slots=True)
class RemoveOutcome:
    """Matched counts, and the request items that matched nothing."""

    deleted: Counts = field(default_factory=Counts)
    not_found: list[SyncItem] = field(default_factory=list)


@dataclass(slots=True)
class AddOutcome:
    """Applied counts, each applied item with its resulting status, and the items not applied."""

    added: Counts = field(default_factory=Counts)
    statuses: list[tuple[RatingInput, ListStatus]] = field(default_factory=list)
    not_found: list[SyncItem] = field(default_factory=list)


def valid_rating(value: int) -> int | None:
    """The rating if it is on Simkl's 1-10 scale, else None."""
    return value if MIN_RATING <= value <= MAX_RATING else None


async def remove_ratings(store: Store, *, user_id: int, items: Sequence[SyncItem]) -> RemoveOutcome:
    """Clear ratings; every matched item counts, whether or not it had a rating."""
    # The catalog is looked up before the user's write: it is nobody's state, and a write
    # that is one call (PostgreSQL) must know its items when it starts.
    query = catalog_query([item.ref for item in items])
    try:
        return await _remove(store, user_id, items, await store.find_catalog(query))
    except CatalogMoved:  # the lookup was remembered from before a catalog change
        return await _remove(store, user_id, items, await store.find_catalog(query, fresh=True))


async def _remove(
    store: Store, user_id: int, items: Sequence[SyncItem], hits: CatalogHits
) -> RemoveOutcome:
    outcome = RemoveOutcome()
    buckets: dict[int, str] = {}
    for sent in items:
        item = resolve(sent.ref, hits)
        if item is None:
            outcome.not_found.append(sent)
            continue
        outcome.deleted.add(sent.ref.wrapper)
        buckets[item.id] = rated_bucket(item.type)
    if buckets:
        # The write holds a remembered lookup to its stamp, misses included (they were
        # remembered under the same stamp): CatalogMoved when it no longer stands.
        clear = ClearRatings(user_id, buckets, catalog_stamp=hits.stamp)
        await store.write_at_once(clear, size=len(items))
    elif hits.stamp is not None and await store.read.catalog.stamp() != hits.stamp:
        # No write to check it: an item the catalog gained since it was missed must be found.
        raise CatalogMoved
    return outcome


async def add_ratings(
    store: Store,
    *,
    user_id: int,
    inputs: Sequence[RatingInput],
    learning: LearnPolicy = STRICT,
) -> AddOutcome:
    """Set ratings in request order (the last of duplicates wins), filing new items; items
    the catalog lacks are learned as `learning` allows."""

    async def work(tx: WriteTx) -> AddOutcome:
        wanted = [entry.item if entry.acceptable else None for entry in inputs]
        items = await resolve_items(tx, user_id=user_id, items=wanted, policy=learning)
        known = {item.id: item for item in items if item is not None}
        # A new entry has no episodes yet, and an old one keeps its own: no episode reads.
        changes = await LibraryChanges.load(tx, user_id, known.values(), episodes=False)
        outcome = AddOutcome()
        for entry, item in zip(inputs, items, strict=True):
            if item is None or entry.rating is None:
                outcome.not_found.append(entry.item)
                continue
            status = file_rated(changes, item)
            changes.rate(item, entry.rating, entry.rated_at)
            outcome.added.add(entry.item.ref.wrapper)
            outcome.statuses.append((entry, status))
        await changes.save(tx)
        return outcome

    query = partial(catalog_query, [entry.item.ref for entry in inputs if entry.acceptable])
    return await store.write(user_id, work, size=len(inputs), looks_up=query, ahead=True)


def file_rated(changes: LibraryChanges, item: CatalogItem) -> ListStatus:
    """The item's status once rated: unchanged when it is in the library, else where a rating
    files it, as a library entry of that status (a completed movie watched when filed, a
    completed show with its episodes watched)."""
    entry = changes.entry(item)
    if entry is not None:
        return entry.status
    status = auto_status(item)
    changes.file(item, status)
    if status is ListStatus.COMPLETED:
        if item.type is not MediaType.MOVIE:
            episodes = changes.episodes(item)
            changes.mark(item, dict.fromkeys(episodes.aired_keys))
        changes.watch(item, None)
    return status


async def read_ratings(
    store: Store, *, user_id: int, query: RatingsQuery, view: LibraryView, max_episodes: int
) -> LibraryRead:
    """Library rows of the wanted types: rated ones when filtered, the whole library (or the
    ratings delta with `changed_after`) when not; the same rows, with the same details, as a
    library read."""
    if query.ratings is not None and not query.ratings:
        return LibraryRead([], view)
    now = store.clock.now_ms()

    async def rows(session: Session, limit: int | None) -> list[LibraryRow] | None:
        if limit is None:
            return await session.ratings.rows(user_id, query, now=now)
        return await session.ratings.rows_up_to(user_id, query, now=now, limit=limit)

    return await read_rows(store, rows, user_id=user_id, view=view, max_episodes=max_episodes)
