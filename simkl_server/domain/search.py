"""The catalog as clients browse it: lookups by id, title search, file names, random picks,
redirects and detail records. Every answer comes from the local catalog; nothing is fetched.
"""

from __future__ import annotations

import asyncio
import random
import re
import unicodedata
from collections.abc import Sequence
from functools import cache
from typing import Any

from simkl_server.domain.ids import EXTERNAL_ID_PRIORITY, lookup_key, title_key
from simkl_server.domain.kinds import MediaType, is_movie_like
from simkl_server.domain.models import CatalogEpisode, CatalogItem, CatalogQuery, frozen
from simkl_server.errors import ClientIdFailed
from simkl_server.storage.base import Store

MAX_PAGE = 20
MAX_LIMIT = 50
DEFAULT_LIMIT = 10
# Every result a search can page to (20 pages of 50): the count stops there.
MAX_RESULTS = MAX_PAGE * MAX_LIMIT
MAX_QUERY_WORDS = 12
MAX_RANDOM = 50
RANDOM_YEAR_FROM = 1990
SITE = "https://simkl.com"
# The path segment of each type on simkl.com (and of its detail endpoint here).
SITE_SEGMENT = {MediaType.MOVIE: "movies", MediaType.SHOW: "tv", MediaType.ANIME: "anime"}
_NOT_SLUG = re.compile(r"[^a-z0-9 -]+")


async def require_app(store: Store, client_id: str | None) -> None:
    """The catalog endpoints need a known app and no user: 412 client_id_failed otherwise."""
    if not client_id or await store.read.grants.authenticate(client_id, None) is None:
        raise ClientIdFailed


def slug_of(item: CatalogItem) -> str:
    """The item's Simkl slug when the catalog has one, else one made as Simkl makes them
    (lower case, punctuation dropped, spaces to hyphens: `the-hunger-games-mockingjay---part-1`)."""
    if "slug" in item.ids:
        return item.ids["slug"]
    ascii_title = unicodedata.normalize("NFKD", item.title).encode("ascii", "ignore").decode()
    return _NOT_SLUG.sub("", ascii_title.lower()).strip().replace(" ", "-")


def page_url(item: CatalogItem) -> str:
    """The item's page on simkl.com (what clients parse the simkl id from)."""
    return f"{SITE}/{SITE_SEGMENT[item.type]}/{item.id}/{slug_of(item)}"


# ---- by id ---------------------------------------------------------------------------------


@frozen
class IdLookup:
    """What `/search/id` and `/redirect` were asked: a simkl id, external ids (normal forms,
    in priority order), a title and year; `kinds` narrows the item's type (None: any)."""

    simkl: int | None = None
    external: tuple[tuple[str, str], ...] = ()
    tmdb_scope: str = "movie"
    title_key: str | None = None
    year: int | None = None
    kinds: frozenset[MediaType] | None = None


async def find_by_ids(store: Store, lookup: IdLookup) -> CatalogItem | None:
    """The item the simkl id names, else the first external id that resolves (fixed order),
    else the title (and year) when exactly one item bears it; one query."""
    keys = [
        lookup_key(kind, value, tmdb_scope=lookup.tmdb_scope) for kind, value in lookup.external
    ]
    query = CatalogQuery(
        frozenset({lookup.simkl} if lookup.simkl is not None else ()),
        frozenset(keys),
        frozenset({lookup.title_key} if lookup.title_key else ()),
    )
    if not (query.simkl_ids or query.id_keys or query.title_keys):
        return None
    hits = await store.read.catalog.find(query)
    found = [hits.by_simkl.get(lookup.simkl)] if lookup.simkl is not None else []
    found += [hits.by_key.get(key) for key in sorted(keys, key=_priority)]
    for item in found:
        if item is not None and _wanted(item, lookup.kinds):
            return item
    titled = [
        item
        for item in hits.by_title.get(lookup.title_key or "", ())
        if _wanted(item, lookup.kinds) and lookup.year in (None, item.year)
    ]
    return titled[0] if len(titled) == 1 else None


def _priority(key: str) -> int:
    return EXTERNAL_ID_PRIORITY.index(key.split(":", 1)[0])


def _wanted(item: CatalogItem, kinds: frozenset[MediaType] | None) -> bool:
    return kinds is None or item.type in kinds


# ---- text search ---------------------------------------------------------------------------


@frozen
class SearchPage:
    """One page of a title search, with the numbers the pagination headers carry."""

    items: Sequence[CatalogItem]
    page: int
    limit: int
    total: int

    @property
    def page_count(self) -> int:
        """Pages the results fill (at least 1)."""
        return max(1, -(-self.total // self.limit))


def clamp_page(page: int | None, limit: int | None) -> tuple[int, int]:
    """`page` 1-20 and `limit` 1-50, silently clamped as Simkl does (defaults 1 and 10)."""
    page = 1 if page is None else min(max(page, 1), MAX_PAGE)
    limit = DEFAULT_LIMIT if limit is None else min(max(limit, 1), MAX_LIMIT)
    return page, limit


def search_words(text: str) -> tuple[str, list[str]]:
    """A query's folded form (compared with whole titles) and its words."""
    key = title_key(text)
    return key, key.split()[:MAX_QUERY_WORDS]


async def search_titles(
    store: Store, media_type: MediaType, text: str, *, page: int, limit: int
) -> SearchPage:
    """Items of a type whose title holds every word of the query (each as a word prefix;
    case, accents and punctuation ignored), best match first."""
    key, words = search_words(text)
    if not words:
        return SearchPage((), page, limit, 0)
    search = store.read.search
    total = await search.count(words, key=key, type_=media_type.value, cap=MAX_RESULTS)
    items = await search.titles(
        words, key=key, type_=media_type.value, limit=limit, offset=(page - 1) * limit
    )
    return SearchPage(items, page, limit, total)


# ---- detail records ------------------------------------------------------------------------


async def item_of_type(store: Store, item_id: int, media_type: MediaType) -> CatalogItem | None:
    """The catalog item with that simkl id, if it is of that type."""
    item = await store.read.search.item(item_id)
    return item if item is not None and item.type is media_type else None


async def episodes_of(
    store: Store, item_id: int, media_type: MediaType
) -> tuple[CatalogItem, Sequence[CatalogEpisode]] | None:
    """A show's or anime's episode list (specials last), or None for no such item."""
    item = await item_of_type(store, item_id, media_type)
    if item is None:
        return None
    episodes = (await store.read.catalog.episodes([item_id])).get(item_id, [])
    regular = [e for e in episodes if e.season != 0]
    return item, [*regular, *(e for e in episodes if e.season == 0)]


# ---- file names ----------------------------------------------------------------------------


@frozen
class FileGuess:
    """What a file name says: a title, maybe a year, and an episode (season 1 when none)."""

    title: str
    year: int | None
    episode: int | None
    season: int | None
    movie: bool


@frozen
class FileMatch:
    """The item a file name names, and its episode when the catalog knows it."""

    item: CatalogItem
    season: int | None = None
    number: int | None = None
    episode: CatalogEpisode | None = None


@cache
def _guessit() -> Any:
    from guessit import guessit  # noqa: PLC0415 -- a second of rule building, paid once

    return guessit


# guessit's time grows faster than the text (a 255-digit name takes seconds): it is given the
# file name and two folders above it, each cut to a file name's length, digit runs cut to 8.
_MAX_PART = 120
_SEPARATORS = re.compile(r"[\\/]+")
_LONG_DIGITS = re.compile(r"[0-9]{9,}")


def parse_target(name: str) -> str:
    """What guessit is given of a file name or path."""
    parts = [part[:_MAX_PART] for part in _SEPARATORS.split(name) if part.strip()][-3:]
    return _LONG_DIGITS.sub(lambda digits: digits.group(0)[:8], "/".join(parts))


def guess_file(name: str, part: int) -> FileGuess | None:
    """Parse a file name or path (guessit); `part` picks one episode of a multi-episode file."""
    guess = _guessit()(parse_target(name))
    title = guess.get("title")
    if not isinstance(title, str) or not title.strip():
        return None
    year = guess.get("year")
    episode = guess.get("episode")
    if isinstance(episode, list):
        episode = episode[min(part, len(episode)) - 1] if episode else None
    season = guess.get("season")
    if isinstance(season, list):
        season = season[0] if season else None
    movie = guess.get("type") == "movie" and episode is None
    return FileGuess(
        title=title,
        year=year if isinstance(year, int) else None,
        episode=episode if isinstance(episode, int) else None,
        season=season if isinstance(season, int) else None,
        movie=movie,
    )


async def match_file(store: Store, name: str, part: int) -> FileMatch | None:
    """The movie, show or episode a media player's file name names (guessit parses it off the
    event loop), or None."""
    guess = await asyncio.to_thread(guess_file, name, part)
    if guess is None:
        return None
    item = await _titled(store, guess)
    if item is None:
        return None
    if item.type is MediaType.MOVIE or guess.episode is None:
        return FileMatch(item)
    season = guess.season if guess.season is not None else 1
    place = (item.id, season, guess.episode)
    episode = (await store.read.catalog.episodes_at([place])).get(place)
    # An episode the catalog does not list is answered with the show alone, as Simkl does.
    return FileMatch(item, season, guess.episode, episode) if episode else FileMatch(item)


async def _titled(store: Store, guess: FileGuess) -> CatalogItem | None:
    """The item titled as guessed: the folded title exactly (year breaking ties), else the
    best title-search hit; movies for a movie, shows and anime for an episode."""
    kinds = (MediaType.MOVIE,) if guess.movie else (MediaType.SHOW, MediaType.ANIME)
    key = title_key(guess.title)
    hits = await store.read.catalog.find(CatalogQuery(frozenset(), frozenset(), frozenset({key})))
    exact = [i for i in hits.by_title.get(key, ()) if _fits(i, guess, kinds)]
    if exact:
        return _dated(exact, guess)
    # File names lose apostrophes and the like ("Were.The.Fugawis"): titles equal once every
    # non-word character is dropped, found through the title's longest word.
    squashed = _squashed(guess.title)
    longest = max(key.split(), key=len, default="")
    for kind in kinds:
        found = await search_titles(store, kind, longest, page=1, limit=MAX_LIMIT)
        same = [item for item in found.items if _squashed(item.title) == squashed]
        if same:
            return _dated(same, guess)
    for kind in kinds:
        found = await search_titles(store, kind, guess.title, page=1, limit=5)
        for item in found.items:
            if guess.year is None or item.year in (None, guess.year):
                return item
    return None


def _dated(items: Sequence[CatalogItem], guess: FileGuess) -> CatalogItem:
    """The item of the guessed year if any, else the oldest id."""
    dated = [i for i in items if guess.year is not None and i.year == guess.year]
    return min(dated or items, key=lambda item: item.id)


def _squashed(title: str) -> str:
    return "".join(title_key(title).split())


def _fits(item: CatalogItem, guess: FileGuess, kinds: tuple[MediaType, ...]) -> bool:
    if guess.movie:
        return is_movie_like(item.type, item.anime_type)
    return item.type in kinds


# ---- random --------------------------------------------------------------------------------


@frozen
class RandomFilter:
    """What a random pick may return."""

    media_type: MediaType | None = None
    year_from: int | None = RANDOM_YEAR_FROM
    year_to: int | None = None
    # Only items with an id of this kind (`netflix`, `crunchyroll`, `hulu`).
    service: str | None = None


async def random_items(
    store: Store, wanted: RandomFilter, count: int, *, rng: random.Random | None = None
) -> list[CatalogItem]:
    """Up to `count` items passing the filter, from a random place in the catalog on."""
    rng = rng or random.Random()
    bounds = await store.read.search.id_range()
    if bounds is None:
        return []
    items = await store.read.search.pick(
        rng.randint(*bounds),
        type_=wanted.media_type.value if wanted.media_type else None,
        year_from=wanted.year_from,
        year_to=wanted.year_to,
        service=wanted.service,
        limit=min(max(count, 1), MAX_RANDOM),
    )
    return list(items)
