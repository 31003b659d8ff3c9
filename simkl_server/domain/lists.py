"""POST /sync/add-to-list: put items on a watchlist status, each item its own `to`.

The silent rewrites the docs describe: a movie sent `watching` is completed (movies are
watched in one go) and one sent `hold` is planned; a show sent `completed` before it finished
airing is `watching` once an episode aired, `plantowatch` before. `completed` means watched:
a movie gets its watch, a show its aired episodes (dated by the item's `watched_at`, else
undated). The legacy `to: "remove"` takes the item out of the library. Memos are not kept
here, as Simkl documents (only /sync/history keeps them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

from simkl_server.domain.changes import LibraryChanges
from simkl_server.domain.kinds import ListStatus, MediaType
from simkl_server.domain.learn import STRICT, LearnPolicy, resolve_items
from simkl_server.domain.library import completable_status, movie_status
from simkl_server.domain.matching import catalog_query
from simkl_server.domain.models import CatalogItem, SyncItem, frozen
from simkl_server.storage.base import Store, WriteTx

REMOVE = "remove"


@frozen
class ListInput:
    """One item of an add-to-list request: where it goes (a status, or `remove`), when it was
    watched (for `completed`) and when it was added."""

    item: SyncItem
    to: ListStatus | str
    watched_at: int | None = None
    added_at: int | None = None


@dataclass(slots=True)
class ListOutcome:
    """Each applied item with the catalog item and the list it went to, and the items that
    matched nothing."""

    added: list[tuple[ListInput, CatalogItem, ListStatus | str]] = field(default_factory=list)
    not_found: list[SyncItem] = field(default_factory=list)


async def add_to_list(
    store: Store,
    *,
    user_id: int,
    inputs: Sequence[ListInput],
    learning: LearnPolicy = STRICT,
) -> ListOutcome:
    """Move every item to its list, in request order, as one transaction; items the catalog
    lacks are learned as `learning` allows (never those sent to `remove`)."""

    async def work(tx: WriteTx) -> ListOutcome:
        items = await resolve_items(
            tx,
            user_id=user_id,
            items=[entry.item for entry in inputs],
            policy=learning,
            may_learn=[entry.to != REMOVE and not entry.item.bad_date for entry in inputs],
        )
        known = {item.id: item for item in items if item is not None}
        changes = await LibraryChanges.load(tx, user_id, known.values())
        outcome = ListOutcome()
        for entry, item in zip(inputs, items, strict=True):
            if item is None or entry.item.bad_date:
                outcome.not_found.append(entry.item)
                continue
            outcome.added.append((entry, item, _move(changes, item, entry)))
        await changes.save(tx)
        return outcome

    query = partial(catalog_query, [entry.item.ref for entry in inputs])
    return await store.write(user_id, work, size=len(inputs), looks_up=query, ahead=True)


def _move(changes: LibraryChanges, item: CatalogItem, entry: ListInput) -> ListStatus | str:
    """Put one item where it goes; the list it ended on (`remove` for a removal)."""
    if entry.to == REMOVE:
        changes.remove(item)
        return REMOVE
    assert isinstance(entry.to, ListStatus)
    if item.type is MediaType.MOVIE:
        status = movie_status(entry.to)
        before = changes.entry(item)
        changes.file(item, status)
        if status is ListStatus.COMPLETED and (before is None or before.status is not status):
            changes.watch(item, entry.watched_at)
    elif entry.to is ListStatus.COMPLETED:
        episodes = changes.episodes(item)
        status = completable_status(item, episodes)
        changes.file(item, status)
        if changes.mark(item, dict.fromkeys(episodes.aired_keys, entry.watched_at)):
            changes.watch(item, entry.watched_at)
    else:
        status = entry.to
        changes.file(item, status)
    if entry.added_at is not None:
        changes.set_added(item, entry.added_at)
    return status
