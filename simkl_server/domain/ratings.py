"""The ratings rules: remove, add (with auto-filing) and the ratings read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from simkl_server.domain.filing import auto_status
from simkl_server.domain.kinds import ListStatus, Wrapper, list_bucket, rated_bucket
from simkl_server.domain.matching import catalog_query, resolve
from simkl_server.domain.models import (
    CatalogItem,
    LibraryRow,
    LibraryState,
    RatingsQuery,
    RatingWrite,
    SyncItem,
)
from simkl_server.storage.base import Session, Store, WriteTx

MIN_RATING = 1
MAX_RATING = 10


@dataclass(frozen=True, slots=True)
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

    async def work(tx: WriteTx) -> RemoveOutcome:
        hits = await tx.catalog.find(catalog_query([item.ref for item in items]))
        outcome = RemoveOutcome()
        matched: dict[int, CatalogItem] = {}
        for sent in items:
            item = resolve(sent.ref, hits)
            if item is None:
                outcome.not_found.append(sent)
                continue
            outcome.deleted.add(sent.ref.wrapper)
            matched[item.id] = item
        cleared = await tx.ratings.clear(user_id, matched.keys(), now=tx.now_ms) if matched else []
        buckets = {rated_bucket(matched[item_id].type) for item_id in cleared}
        await tx.activities.touch(user_id, buckets, at=tx.now_ms)
        return outcome

    return await store.write(user_id, work, size=len(items))


async def add_ratings(store: Store, *, user_id: int, inputs: Sequence[RatingInput]) -> AddOutcome:
    """Set ratings in request order (the last of duplicates wins), filing new items."""

    async def work(tx: WriteTx) -> AddOutcome:
        wanted = [entry.item.ref for entry in inputs if entry.acceptable]
        hits = await tx.catalog.find(catalog_query(wanted))
        items = [resolve(entry.item.ref, hits) if entry.acceptable else None for entry in inputs]
        known = {item.id for item in items if item is not None}
        states = await tx.library.states(user_id, known) if known else {}
        plan = _RatingPlan(states, now_ms=tx.now_ms)
        outcome = AddOutcome()
        for entry, item in zip(inputs, items, strict=True):
            if item is None or entry.rating is None:
                outcome.not_found.append(entry.item)
                continue
            status = plan.apply(item, entry.rating, entry.rated_at)
            outcome.added.add(entry.item.ref.wrapper)
            outcome.statuses.append((entry, status))
        await tx.ratings.save(user_id, list(plan.writes.values()), now=tx.now_ms)
        await tx.activities.touch(user_id, plan.buckets, at=tx.now_ms)
        return outcome

    return await store.write(user_id, work, size=len(inputs))


@dataclass(slots=True)
class _RatingPlan:
    """Accumulates the rows and activity buckets an add-ratings batch changes."""

    states: dict[int, LibraryState]
    now_ms: int
    writes: dict[int, RatingWrite] = field(default_factory=dict)
    buckets: set[str] = field(default_factory=set)

    def apply(self, item: CatalogItem, rating: int, rated_at: int | None) -> ListStatus:
        """Record one rating and return the item's status after it."""
        stamp = self.now_ms if rated_at is None else rated_at
        before = self.states.get(item.id)
        status = before.status if before is not None else auto_status(item)
        if before is None:
            self.buckets.add(list_bucket(item.type, status))
        if before is None or (before.user_rating, before.user_rated_at) != (rating, stamp):
            self.buckets.add(rated_bucket(item.type))
            self.writes[item.id] = RatingWrite(item.id, status, rating, stamp)
        self.states[item.id] = LibraryState(status, rating, stamp)
        return status


# A library can hold 100k rows: one that has more than INLINE_ROWS is read on a snapshot off
# the event loop and handed on READ_BATCH_ROWS at a time; a small one (the common case) is read
# at once, where a thread hop would cost more than the read.
INLINE_ROWS = 200
READ_BATCH_ROWS = 1_000


async def read_ratings(
    store: Store,
    *,
    user_id: int,
    query: RatingsQuery,
    each_batch: Callable[[list[LibraryRow]], None],
    admit: Callable[[], Awaitable[None]],
) -> None:
    """Library rows of the wanted types (rated ones when filtered, the whole library or the
    ratings delta with `changed_after` when not), handed to `each_batch`: a large result a
    thousand rows at a time, off the event loop, on one consistent snapshot, once `admit`
    (the caller's bound on large reads at once) lets it."""
    if query.ratings is not None and not query.ratings:
        return
    first = await store.read.ratings.rows(user_id, query, limit=INLINE_ROWS + 1)
    if len(first) <= INLINE_ROWS:
        each_batch(first)
        return
    await admit()

    async def read(session: Session) -> None:
        async for rows in session.ratings.row_batches(user_id, query, size=READ_BATCH_ROWS):
            each_batch(rows)

    await store.snapshot(read)
