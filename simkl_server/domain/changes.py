"""What one write does to a user's library: the entries and episodes of the items it touches,
read at once, changed by the rules of each area, written back at once.

Every library write (history, add-to-list, ratings) works the same way under the user's lock:
`LibraryChanges.load` reads the entries, the catalog's episode lists and the watched episodes
of all the request's items in three statements; the area's rules call `file`, `mark`,
`unmark`, `rate`, `remove`...; `save` recomputes what follows from the episodes (counts, last
and next episode) and writes entries, episodes, removals and activity stamps, one statement
each. A request of any size costs the same number of statements.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from simkl_server.domain.kinds import (
    ListStatus,
    MediaType,
    list_bucket,
    rated_bucket,
    removed_bucket,
)
from simkl_server.domain.library import EpisodeList, episode_list, progress
from simkl_server.domain.models import (
    CatalogEpisode,
    CatalogItem,
    EpisodeKey,
    LibraryEntry,
    LibraryWrite,
    Memo,
    replace,
)
from simkl_server.storage.base import WriteTx


@dataclass(slots=True)
class _Item:
    """One item's entry as the write goes, against how it was."""

    item: CatalogItem
    before: LibraryEntry | None
    entry: LibraryEntry | None
    episodes: EpisodeList
    watched: dict[EpisodeKey, int | None]
    marked: dict[EpisodeKey, int | None] = field(default_factory=dict)
    unmarked: set[EpisodeKey] = field(default_factory=set)
    list_changed: bool = False
    rating_changed: bool = False
    wiped: bool = False

    def require_entry(self) -> LibraryEntry:
        """The entry, which the caller knows exists."""
        assert self.entry is not None
        return self.entry

    def settle(self) -> None:
        """Bring a show entry's counts, last and next episode in line with its episodes."""
        if self.entry is None or self.item.type is MediaType.MOVIE:
            return
        if not (self.marked or self.unmarked or self.before is None or self.wiped):
            return
        summary = progress(self.item, self.episodes, self.watched)
        self.entry = replace(
            self.entry,
            watched_episodes=summary.watched,
            last_watched=summary.last_watched,
            next_to_watch=summary.next_to_watch,
        )


class LibraryChanges:
    """The library entries of one write's items, changed in memory, then saved at once."""

    def __init__(
        self,
        user_id: int,
        now: int,
        entries: Mapping[int, LibraryEntry],
        catalog: Mapping[int, list[CatalogEpisode]],
        watched: Mapping[int, dict[EpisodeKey, int | None]],
    ) -> None:
        self.user_id = user_id
        self.now = now
        self._entries = entries
        self._catalog = catalog
        self._watched = watched
        self._items: dict[int, _Item] = {}

    @classmethod
    async def load(
        cls, tx: WriteTx, user_id: int, items: Collection[CatalogItem], *, episodes: bool = True
    ) -> LibraryChanges:
        """Read what the write needs of these items (the episode lists only when asked); the
        entries last, so that a write run ahead of the user's lock, which reads entries only,
        learns it cannot before it has read anything (storage/ahead.py)."""
        ids = {item.id for item in items}
        shows = [item.id for item in items if item.type is not MediaType.MOVIE] if episodes else []
        catalog = await tx.catalog.episodes(shows) if shows else {}
        watched = await tx.history.watched(user_id, shows) if shows else {}
        return cls(user_id, tx.now_ms, await tx.library.entries(user_id, ids), catalog, watched)

    def _state(self, item: CatalogItem) -> _Item:
        state = self._items.get(item.id)
        if state is None:
            before = self._entries.get(item.id)
            state = _Item(
                item,
                before,
                before,
                episode_list(item, self._catalog.get(item.id), now=self.now),
                dict(self._watched.get(item.id, {})),
            )
            self._items[item.id] = state
        return state

    def entry(self, item: CatalogItem) -> LibraryEntry | None:
        """The item's entry as it stands in this write (None: not in the library)."""
        return self._state(item).entry

    def episodes(self, item: CatalogItem) -> EpisodeList:
        """The item's regular episodes and which have aired."""
        return self._state(item).episodes

    def catalog_episodes(self, item: CatalogItem) -> list[CatalogEpisode]:
        """Every episode the catalog lists for the item, specials included."""
        return self._catalog.get(item.id, [])

    def watched(self, item: CatalogItem) -> Mapping[EpisodeKey, int | None]:
        """The item's watched episodes as they stand in this write."""
        return self._state(item).watched

    def file(self, item: CatalogItem, status: ListStatus) -> None:
        """Put the item on a list (adding it to the library when it is not there)."""
        state = self._state(item)
        if state.entry is None:
            state.entry = LibraryEntry(item.id, status, added_at=self.now)
            state.list_changed = True
            state.unmarked.clear()
        elif state.entry.status is not status:
            state.entry = replace(state.entry, status=status)
            state.list_changed = True

    def watch(self, item: CatalogItem, at: int | None) -> None:
        """Record a watch of the item itself (a movie) or its newest episode's time."""
        state = self._require(item)
        stamp = self.now if at is None else at
        newest = state.require_entry().last_watched_at
        if newest is None or stamp > newest:
            state.entry = replace(state.require_entry(), last_watched_at=stamp)
            state.list_changed = True

    def mark(self, item: CatalogItem, episodes: Mapping[EpisodeKey, int | None]) -> int:
        """Mark episodes watched (an already watched one keeps its date, or takes the given one
        when it had none); return how many were not watched before."""
        state = self._require(item)
        if state.watched.keys().isdisjoint(episodes):
            # None watched yet (a show marked whole, say): the same, a dictionary at a time.
            state.watched.update(episodes)
            state.marked.update(episodes)
            if state.unmarked:
                state.unmarked.difference_update(episodes)
            state.list_changed = state.list_changed or bool(episodes)
            return len(episodes)
        new = 0
        for key, at in episodes.items():
            if key not in state.watched:
                new += 1
            elif state.watched[key] is not None or at is None:
                continue
            state.watched[key] = at
            state.marked[key] = at
            state.unmarked.discard(key)
            state.list_changed = True
        return new

    def unmark(self, item: CatalogItem, keys: Iterable[EpisodeKey]) -> int:
        """Unmark episodes; return how many were watched."""
        state = self._require(item)
        gone = 0
        for key in keys:
            if key in state.watched:
                del state.watched[key]
                state.marked.pop(key, None)
                state.unmarked.add(key)
                state.list_changed = True
                gone += 1
        return gone

    def rate(self, item: CatalogItem, rating: int | None, rated_at: int | None) -> bool:
        """Set (or, with None, clear) the rating; whether it changed."""
        state = self._require(item)
        entry = state.require_entry()
        stamp = None if rating is None else (self.now if rated_at is None else rated_at)
        if (entry.user_rating, entry.user_rated_at) == (rating, stamp):
            return False
        state.entry = replace(entry, user_rating=rating, user_rated_at=stamp)
        state.rating_changed = True
        return True

    def set_added(self, item: CatalogItem, at: int) -> None:
        """Say when the item was added to the library (backups and imports restore it)."""
        state = self._require(item)
        entry = state.require_entry()
        if entry.added_at != at:
            state.entry = replace(entry, added_at=at)
            state.list_changed = True

    def replace(
        self, item: CatalogItem, entry: LibraryEntry, episodes: Mapping[EpisodeKey, int | None]
    ) -> None:
        """Make the item's entry and watched episodes exactly these (a restore); the counts
        and the last and next episode follow from the episodes."""
        state = self._state(item)
        watched = state.watched
        for key in [k for k in watched if k not in episodes or watched[k] != episodes[k]]:
            del watched[key]
            state.marked.pop(key, None)
            state.unmarked.add(key)
        for key, at in episodes.items():
            if key not in watched:
                watched[key] = at
                state.marked[key] = at  # after the unmark of an old date: saved fresh
        old = state.entry
        if old is not None:
            entry = replace(
                entry,
                watched_episodes=old.watched_episodes,
                last_watched=old.last_watched,
                next_to_watch=old.next_to_watch,
            )
        if old == entry:
            return
        state.list_changed = True
        if old is None or (old.user_rating, old.user_rated_at) != (
            entry.user_rating,
            entry.user_rated_at,
        ):
            state.rating_changed = True
        state.entry = entry

    def touch(self, item: CatalogItem) -> None:
        """Note a change of the item's list side kept elsewhere (a rewatch session)."""
        self._require(item).list_changed = True

    def set_memo(self, item: CatalogItem, memo: Memo | None) -> None:
        """Set (or, with None, clear) the memo."""
        state = self._require(item)
        entry = state.require_entry()
        if entry.memo != memo:
            state.entry = replace(entry, memo=memo)
            state.list_changed = True

    def remove(self, item: CatalogItem) -> bool:
        """Take the item out of the library with its episodes, rating and memo."""
        state = self._state(item)
        if state.entry is None:
            return False
        state.entry = None
        state.watched.clear()
        state.marked.clear()
        state.unmarked.clear()
        state.wiped = state.before is not None
        return True

    def _require(self, item: CatalogItem) -> _Item:
        state = self._state(item)
        if state.entry is None:
            raise ValueError(f"item {item.id} is not in the library")  # a rule's own mistake
        return state

    async def save(self, tx: WriteTx) -> None:
        """Write every change: entries, episodes, removals and the activity buckets moved."""
        writes: list[LibraryWrite] = []
        marks: list[tuple[int, int, int, int | None]] = []
        unmarks: list[tuple[int, int, int]] = []
        removed: list[int] = []
        buckets: set[str] = set()
        for state in self._items.values():
            if state.wiped:
                removed.append(state.item.id)
                buckets |= _removal_buckets(state)
            if state.entry is None:
                continue
            state.settle()
            if state.list_changed or state.rating_changed or state.wiped:
                writes.append(
                    LibraryWrite(
                        state.entry,
                        list_changed=state.list_changed or state.before is None or state.wiped,
                        rating_changed=state.rating_changed or state.wiped,
                    )
                )
                buckets |= _buckets(state)
            item_id = state.item.id
            marks += [(item_id, s, n, at) for (s, n), at in sorted(state.marked.items())]
            unmarks += [(item_id, s, n) for s, n in sorted(state.unmarked)]
        await tx.library.remove(self.user_id, removed)
        # Entries before their episodes (which name them); the buckets with the entries.
        await tx.library.save(self.user_id, writes, now=self.now, touching=buckets)
        await tx.history.unmark(self.user_id, unmarks)
        await tx.history.mark(self.user_id, marks)


def _buckets(state: _Item) -> set[str]:
    entry, before, media = state.entry, state.before, state.item.type
    assert entry is not None
    buckets: set[str] = set()
    if state.list_changed or before is None:
        buckets.add(list_bucket(media, entry.status))
        if before is not None and before.status is not entry.status:
            buckets.add(list_bucket(media, before.status))
    if state.rating_changed:
        buckets.add(rated_bucket(media))
    return buckets


def _removal_buckets(state: _Item) -> set[str]:
    before = state.before
    assert before is not None
    buckets = {removed_bucket(state.item.type)}
    if before.user_rating is not None:
        buckets.add(rated_bucket(state.item.type))
    return buckets
