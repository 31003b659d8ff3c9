"""Learn mode: the catalog grows from what clients write.

A sync write (rating, history, add-to-list, scrobble) names an item by ids and title. With
learning on, an item the catalog lacks that carries at least one well-formed external id
becomes a catalog item built from what the client sent: its type from the array it came in
(`movies[]` a movie, `shows[]` a show, `anime[]` anime), its title, year and external ids, and
a simkl id minted in the local range. An item found by an id that carries ids it lacks gains
them. An id that belongs to another item, or names a kind the item already has with another
value, is left out and logged; an item whose ids are all malformed or all taken stays
`not_found`. Removals never learn. Responses do not change shape: a learned item is simply
matched.

Episodes a client names are recorded in the user's history, not as the item's episode list: a
list in the catalog is authoritative (episodes outside it are `not_found`), and a list built
from the first write would refuse the next episode.

Budget: at most `per_request` new items per request, `per_user_day` per user and `per_day` in
all in a fixed day-long window (counted in the database, so every server process shares it);
items past it stay `not_found`. A learned title is cut at 250 characters. Enrichment needs no
budget: an item holds one id per kind.

Every write path calls `resolve_items` (find, resolve, learn) instead of looking items up
itself; a write that resolved items its own way calls `learn` with them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from simkl_server.domain.catalog import LOCAL_ID_BASE
from simkl_server.domain.ids import (
    EXTERNAL_ID_PRIORITY,
    NUMERIC_ID_KINDS,
    lookup_key,
    normalize_id,
    title_key,
)
from simkl_server.domain.kinds import MediaType, Wrapper, tmdb_scope_of
from simkl_server.domain.matching import catalog_query, ref_id_keys, resolve
from simkl_server.domain.models import (
    CatalogHits,
    CatalogItem,
    CatalogUpsert,
    ItemRef,
    SyncItem,
    frozen,
    replace,
)
from simkl_server.storage.base import WriteTx

log = logging.getLogger("simkl_server.learn")

# Crunchyroll and Hulu ids name episodes, not the show they belong to.
LEARNABLE_KINDS = tuple(k for k in EXTERNAL_ID_PRIORITY if k not in {"crunchyroll", "hulu"})
_LEARNABLE = frozenset(LEARNABLE_KINDS)
_SLUG = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")
_IMDB = re.compile(r"tt[0-9]{1,12}")
_LARGEST_NUMBER = 2**53
_YEARS = range(1870, 2101)
# anime_type values a learned anime may keep; `movie` would move its tmdb id to TMDB's movie
# space, where the array it came in (shows or anime: TV) did not look it up.
_ANIME_TYPES = frozenset({"tv", "special", "ova", "ona", "music video"})
_TYPE_OF_WRAPPER = {
    Wrapper.MOVIES: MediaType.MOVIE,
    Wrapper.SHOWS: MediaType.SHOW,
    Wrapper.ANIME: MediaType.ANIME,
}
DAY_MS = 86_400_000
# Real titles are far shorter; a learned one is cut here, so junk titles cannot bloat the catalog.
MAX_LEARNED_TITLE_CHARS = 250
_EXAMPLES_LOGGED = 5


@frozen
class LearnPolicy:
    """Whether writes learn, and how many new items a request and a user per day may add."""

    enabled: bool = False
    per_request: int = 1_000
    per_user_day: int = 10_000
    per_day: int = 100_000

    def budget_keys(self, user_id: int) -> tuple[tuple[str, int], tuple[str, int]]:
        """The counters learned items are counted under, with their daily limits: the user's,
        then everyone's."""
        return ((f"catalog-learn:{user_id}", self.per_user_day), ("catalog-learn", self.per_day))


STRICT = LearnPolicy()


async def resolve_items(
    tx: WriteTx,
    *,
    user_id: int,
    items: Sequence[SyncItem | None],
    policy: LearnPolicy,
    may_learn: Sequence[bool] | None = None,
) -> list[CatalogItem | None]:
    """The catalog item each request item means (None: not looked up, or no match), learning
    what the policy allows; `may_learn` False keeps an item from learning (a removal)."""
    hits = await tx.catalog.find(catalog_query([item.ref for item in items if item is not None]))
    resolved = [None if item is None else resolve(item.ref, hits) for item in items]
    if not policy.enabled:
        return resolved
    wanted = [
        item if may_learn is None or may_learn[index] else None for index, item in enumerate(items)
    ]
    return await learn(
        tx, user_id=user_id, items=wanted, resolved=resolved, hits=hits, policy=policy
    )


async def learn(
    tx: WriteTx,
    *,
    user_id: int,
    items: Sequence[SyncItem | None],
    resolved: Sequence[CatalogItem | None],
    hits: CatalogHits,
    policy: LearnPolicy,
) -> list[CatalogItem | None]:
    """`resolved` with the unknown items learned and known ones enriched, in a fixed number of
    queries whatever the batch's size. `hits` is what the batch's catalog lookup returned (it
    tells which ids are taken); a None item is left as resolved."""
    if not policy.enabled:
        return list(resolved)
    plan = _Plan(hits)
    candidates = [
        index
        for index, (item, found) in enumerate(zip(items, resolved, strict=True))
        if item is not None and found is None and learnable_ids(item.ref)
    ]
    if candidates:
        plan.allowance = await _allowance(tx, user_id, policy)
        highest = await tx.catalog.max_id(at_least=LOCAL_ID_BASE)
        plan.next_id = LOCAL_ID_BASE if highest is None else highest + 1
    result: list[CatalogItem | None] = []
    for item, found in zip(items, resolved, strict=True):
        if item is None:
            result.append(found)
        elif found is None:
            result.append(plan.learn(item) if learnable_ids(item.ref) else None)
        elif _named_by_id(item.ref, found, hits):
            result.append(plan.enrich(found, item.ref))
        else:
            result.append(plan.current.get(found.id, found))
    await plan.save(tx, user_id, policy)
    return result


def learnable_ids(ref: ItemRef) -> list[tuple[str, str]]:
    """The request item's external ids a catalog item may take: kinds that name a whole item,
    in a well-formed shape (numbers positive and below 2**53, slugs short)."""
    return [(kind, value) for kind, value in ref.external if _well_formed(kind, value)]


def _well_formed(kind: str, value: str) -> bool:
    if kind not in _LEARNABLE:
        return False
    if kind == "imdb":
        return _IMDB.fullmatch(value) is not None
    if kind in NUMERIC_ID_KINDS or (kind == "tvdb" and value.isdigit()):
        return value.isdigit() and 0 < int(value) < _LARGEST_NUMBER
    return _SLUG.fullmatch(value) is not None


async def _allowance(tx: WriteTx, user_id: int, policy: LearnPolicy) -> int:
    """New items this request may still add: its own cap, the user's and everyone's day."""
    allowance = policy.per_request
    for key, limit in policy.budget_keys(user_id):
        spent = await tx.sessions.attempts(key, now=tx.now_ms, window_ms=DAY_MS)
        allowance = min(allowance, limit - (spent[0] if spent else 0))
    return max(0, allowance)


def _named_by_id(ref: ItemRef, item: CatalogItem, hits: CatalogHits) -> bool:
    """Whether an id (not the title) found the item: only then may its other ids join it."""
    if ref.simkl is not None and hits.by_simkl.get(ref.simkl) is item:
        return True
    return any(hits.by_key.get(key) is item for key in ref_id_keys(ref))


@dataclass(slots=True)
class _Plan:
    """The batch's view of the catalog while it learns: who owns each key, and what to write."""

    hits: CatalogHits
    allowance: int = 0
    next_id: int = LOCAL_ID_BASE
    owners: dict[str, int] = field(default_factory=dict)
    current: dict[int, CatalogItem] = field(default_factory=dict)
    new: dict[int, CatalogUpsert] = field(default_factory=dict)
    added: dict[int, tuple[dict[str, str], list[str]]] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    over_budget: int = 0

    def __post_init__(self) -> None:
        self.owners = {key: item.id for key, item in self.hits.by_key.items()}

    def learn(self, sent: SyncItem) -> CatalogItem | None:
        """A new catalog item for a request item nothing matched (or the one an earlier item of
        this batch became), None when its ids are all taken or the budget is spent."""
        ref = sent.ref
        for key in ref_id_keys(ref):  # an id this batch gave an item names that item
            earlier = self.current.get(self.owners.get(key, 0))
            if earlier is not None and ref.wrapper.accepts(earlier.type, earlier.anime_type):
                return self.enrich(earlier, ref)
        item = _item_from(sent, 0)
        free = [(k, v) for k, v in learnable_ids(ref) if self._free(item, k, v, ref)]
        if not free:
            return None
        if len(self.new) >= self.allowance:
            self.over_budget += 1
            return None
        item = replace(item, id=self.next_id, ids=dict(free))
        self.next_id += 1
        keys = _keys(item, free)
        self.owners.update(dict.fromkeys(keys, item.id))
        self.current[item.id] = item
        self.new[item.id] = CatalogUpsert(item, title_key(item.title), keys)
        return item

    def enrich(self, item: CatalogItem, ref: ItemRef) -> CatalogItem:
        """The item with the request's ids it lacks (those not taken, of kinds it has none of)."""
        item = self.current.get(item.id, item)
        if ref.wrapper.tmdb_scope != tmdb_scope_of(item.type, item.anime_type):
            ids = [(k, v) for k, v in learnable_ids(ref) if k != "tmdb"]
        else:
            ids = learnable_ids(ref)
        fresh = [(k, v) for k, v in ids if k not in item.ids and self._free(item, k, v, ref)]
        mismatched = [(k, v) for k, v in ids if k in item.ids and normalize_id(k, item.ids[k]) != v]
        self.ignored.extend(f"{k}={v} (item {item.id} has {item.ids[k]})" for k, v in mismatched)
        if not fresh:
            return item
        item = replace(item, ids={**item.ids, **dict(fresh)})
        self.current[item.id] = item
        keys = _keys(item, fresh)
        self.owners.update(dict.fromkeys(keys, item.id))
        if item.id in self.new:
            upsert = self.new[item.id]
            self.new[item.id] = CatalogUpsert(item, upsert.title_key, [*upsert.keys, *keys])
        else:
            ids_added, keys_added = self.added.setdefault(item.id, ({}, []))
            ids_added.update(fresh)
            keys_added.extend(keys)
        return item

    def _free(self, item: CatalogItem, kind: str, value: str, ref: ItemRef) -> bool:
        """Whether no other item owns this id (a taken one is noted for the log)."""
        key = lookup_key(kind, value, tmdb_scope=ref.wrapper.tmdb_scope)
        owner = self.owners.get(key)
        if owner is None or owner == item.id:
            return True
        self.ignored.append(f"{kind}={value} (belongs to item {owner})")
        return False

    async def save(self, tx: WriteTx, user_id: int, policy: LearnPolicy) -> None:
        """Write the new items, the added ids and the spent budget; log what was left out."""
        if self.new:
            await tx.catalog.insert_new(list(self.new.values()))
            for key, _ in policy.budget_keys(user_id):
                await tx.sessions.add_attempts(key, len(self.new), now=tx.now_ms, window_ms=DAY_MS)
        await tx.catalog.add_ids(self.added)
        if self.new or self.added:
            log.info(
                "learned %d catalog items and added ids to %d (user %d)",
                len(self.new),
                len(self.added),
                user_id,
            )
        if self.ignored:
            log.info(
                "learning ignored %d conflicting ids (user %d), e.g. %s",
                len(self.ignored),
                user_id,
                "; ".join(self.ignored[:_EXAMPLES_LOGGED]),
            )
        if self.over_budget:
            log.warning(
                "learning budget spent: %d unknown items stay not_found (user %d; at most %d "
                "per request, %d per user and %d in all per day)",
                self.over_budget,
                user_id,
                policy.per_request,
                policy.per_user_day,
                policy.per_day,
            )


def _keys(item: CatalogItem, ids: Sequence[tuple[str, str]]) -> list[str]:
    scope = tmdb_scope_of(item.type, item.anime_type)
    return [lookup_key(kind, value, tmdb_scope=scope) for kind, value in ids]


def _item_from(sent: SyncItem, item_id: int) -> CatalogItem:
    """A catalog item from what the client sent: type from its array, title, year."""
    media_type = _TYPE_OF_WRAPPER[sent.ref.wrapper]
    title = sent.sent.get("title")
    anime_type = sent.sent.get("anime_type")
    return CatalogItem(
        id=item_id,
        type=media_type,
        title=title.strip()[:MAX_LEARNED_TITLE_CHARS] if isinstance(title, str) else "",
        year=year if (year := sent.ref.year) is not None and year in _YEARS else None,
        anime_type=(
            anime_type if media_type is MediaType.ANIME and anime_type in _ANIME_TYPES else None
        ),
    )
