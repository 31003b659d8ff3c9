"""The ratings rules: remove, add (with auto-filing) and the ratings read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from simkl_server.domain.activities import list_bucket, rated_bucket
from simkl_server.domain.filing import auto_status
from simkl_server.domain.matching import catalog_query, resolve
from simkl_server.domain.models import (
    CatalogItem,
    ItemRef,
    LibraryRow,
    LibraryState,
    ListStatus,
    MediaType,
    Wrapper,
)
from simkl_server.storage.base import RatingsFilter, RatingWrite, Store, WriteTx

MIN_RATING = 1
MAX_RATING = 10


@dataclass(frozen=True, slots=True)
class RatingInput:
    """One item of an add-ratings request; `rating` is None when it is not a valid rating."""

    ref: ItemRef
    rating: int | None
    rated_at: int | None = None
    rated_at_invalid: bool = False

    @property
    def acceptable(self) -> bool:
        """Whether the item can be applied at all (before matching)."""
        return self.rating is not None and not self.rated_at_invalid


@dataclass(slots=True)
class Counts:
    """Per-wrapper counters of a write response (anime folded into shows)."""

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
    """Matched counts, and the positions of request items that matched nothing."""

    deleted: Counts = field(default_factory=Counts)
    not_found: list[int] = field(default_factory=list)


@dataclass(slots=True)
class AddOutcome:
    """Applied counts, each applied item's resulting status, and unmatched positions."""

    added: Counts = field(default_factory=Counts)
    statuses: list[tuple[int, ListStatus]] = field(default_factory=list)
    not_found: list[int] = field(default_factory=list)


def valid_rating(value: int) -> int | None:
    """The rating if it is on Simkl's 1-10 scale, else None."""
    return value if MIN_RATING <= value <= MAX_RATING else None


async def remove_ratings(store: Store, *, user_id: int, refs: Sequence[ItemRef]) -> RemoveOutcome:
    """Clear ratings; every matched item counts, whether or not it had a rating."""

    async def work(tx: WriteTx) -> RemoveOutcome:
        hits = await tx.find_catalog(catalog_query(refs))
        outcome = RemoveOutcome()
        matched: dict[int, CatalogItem] = {}
        for position, ref in enumerate(refs):
            item = resolve(ref, hits)
            if item is None:
                outcome.not_found.append(position)
                continue
            outcome.deleted.add(ref.wrapper)
            matched[item.id] = item
        cleared = await tx.clear_ratings(user_id, matched.keys()) if matched else []
        await tx.touch_activities(
            user_id, {rated_bucket(matched[i].activity_domain) for i in cleared}
        )
        return outcome

    return await store.write(user_id, work, size=len(refs))


async def add_ratings(store: Store, *, user_id: int, inputs: Sequence[RatingInput]) -> AddOutcome:
    """Set ratings in request order (the last of duplicates wins), filing new items."""

    async def work(tx: WriteTx) -> AddOutcome:
        hits = await tx.find_catalog(catalog_query([i.ref for i in inputs if i.acceptable]))
        items = [resolve(i.ref, hits) if i.acceptable else None for i in inputs]
        known = {item.id for item in items if item is not None}
        states = await tx.library_states(user_id, known) if known else {}
        plan = _RatingPlan(states, now_ms=tx.now_ms)
        outcome = AddOutcome()
        for position, (entry, item) in enumerate(zip(inputs, items, strict=True)):
            if item is None or entry.rating is None:
                outcome.not_found.append(position)
                continue
            status = plan.apply(item, entry.rating, entry.rated_at)
            outcome.added.add(entry.ref.wrapper)
            outcome.statuses.append((position, status))
        await tx.save_ratings(user_id, list(plan.writes.values()))
        await tx.touch_activities(user_id, plan.buckets)
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
            self.buckets.add(list_bucket(item.activity_domain, status))
        if before is None or (before.user_rating, before.user_rated_at) != (rating, stamp):
            self.buckets.add(rated_bucket(item.activity_domain))
            self.writes[item.id] = RatingWrite(item.id, status, rating, stamp)
        self.states[item.id] = LibraryState(status, rating, stamp)
        return status


@dataclass(frozen=True, slots=True)
class RatingsQuery:
    """A parsed ratings read: types, an optional set of rating values, an optional delta start.

    `ratings` is None when no rating filter applies; an empty set means nothing can match.
    """

    types: frozenset[MediaType]
    ratings: frozenset[int] | None
    changed_after: int | None


async def read_ratings(store: Store, *, user_id: int, query: RatingsQuery) -> list[LibraryRow]:
    """Library rows of the wanted types: rated ones when filtered, the whole library (or the
    ratings delta with `changed_after`) when not."""
    if query.ratings is not None and not query.ratings:
        return []
    wanted = RatingsFilter(query.types, query.ratings, query.changed_after)
    return await store.ratings_rows(user_id, wanted)
