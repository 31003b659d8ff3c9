"""A deterministic, realistic data set, loaded through the store's own bulk paths.

The catalog mixes movies, shows and anime with every id kind the server indexes, titles and
years (some remakes share a title), release/airing statuses, anime types and episode counts.
Each main user has a library of rated items; extra users give the per-item-cost curve its
library sizes. Ratings and rating dates are a pure function of (user, item), so the harness
can put back exactly what a run removed. Some shows carry a catalog episode list of ten
seasons; the library users' libraries are watch histories (movies watched, shows' episodes
watched, some items only planned), for the library scenarios.

Loading goes through the catalog upsert (what `catalog import` calls), the catalog's episode
lists, the account queries, and one `store.write` per user saving ratings and
touching activities with the statuses and buckets `domain.ratings.add_ratings` would choose:
the rows are exactly those the server writes, only without HTTP in between. The library
users' histories go through `domain.history.add_history` itself, from request bodies.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any

import orjson

from simkl_server.clock import SystemClock
from simkl_server.config import Settings
from simkl_server.domain import history
from simkl_server.domain.ids import item_lookup_keys, title_key
from simkl_server.domain.kinds import MediaType, list_bucket, rated_bucket
from simkl_server.domain.library import auto_status
from simkl_server.domain.models import (
    AppKind,
    CatalogEpisode,
    CatalogItem,
    CatalogUpsert,
    RatingWrite,
)
from simkl_server.domain.tokens import V1_SCOPE, token_hash
from simkl_server.storage import migrate
from simkl_server.storage.base import Store, WriteTx, open_store
from simkl_server.wire.common import parse_json_object, sync_items
from simkl_server.wire.history import history_inputs

SEED = 20_260_527
CATALOG_CHUNK = 5_000
# 2016-01-01 .. 2026-01-01: when the generated ratings were made.
RATED_FROM_MS = 1_451_606_400_000
RATED_SPAN_MS = 315_619_200_000
# A skewed 1-10 distribution, as real rating histograms are (most land on 6-9).
_RATING_TABLE = (1, 2, 3, 4, 5, 5, 6, 6, 7, 7, 7, 8, 8, 8, 8, 9, 9, 9, 10, 10)
# Shows with a catalog episode list: ten seasons, each aired weekly from 2005 on.
EPISODE_SEASONS = 10
_AIRED_FROM_MS = 1_104_537_600_000
_WEEK_MS = 604_800_000
_DAY_MS = 86_400_000
HISTORY_CHUNK = 500
_MAX_ITEMS = Settings().max_batch_items  # as the server parses a body


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_ADJECTIVES = _words(
    "Silent Crimson Hidden Last Broken Golden Endless Frozen Burning Lost Dark Bright "
    "Wild Quiet Savage Hollow Electric Iron Velvet Distant Secret Eternal Shattered "
    "Lonely Fallen Restless Midnight Scarlet Northern Ancient Final Second Invisible "
    "Wandering Bitter Sweet Perfect Strange Little Great Blue Red White Black Green "
    "Silver Paper Glass Stone Neon"
)
_NOUNS = _words(
    "River Empire Garden Horizon Machine Kingdom Shadow Witness Harbor Mountain Signal "
    "Voyage Frontier Island Memory Station Letter Promise Summer Winter Storm Engine "
    "Circle Mirror Forest Desert Ocean Castle Bridge Tower Dream Crown Heart Planet "
    "Hunter Stranger Thief Soldier Doctor Detective Family Brothers Sisters Children Road "
    "City Night Morning Fire"
)
_SUBTITLES = _words(
    "Reckoning Origins Legacy Resurrection Revelations Awakening Redemption Homecoming "
    "Uprising Aftermath Requiem Genesis Exodus Dominion Ascension Prologue Epilogue"
)
_ROMAJI = _words(
    "Kimi Sora Hoshi Yume Kaze Hikari Tsuki Mirai Kokoro Sakura Umi Yoru Ao Akai Shiroi "
    "Kuro Senki Monogatari Gakuen Tensei Shoujo Shounen Majo Yuusha Maou Kaizoku Ninja "
    "Samurai"
)
_ANIME_TYPES = (("tv", 60), ("movie", 12), ("ova", 10), ("ona", 8), ("special", 8))


@dataclass(frozen=True, slots=True)
class Spec:
    """Sizes of a data set; the defaults are the full benchmark's."""

    catalog_size: int = 100_000
    users: int = 100
    library_size: int = 10_000
    curve_sizes: tuple[int, ...] = (1_000, 10_000, 100_000)
    curve_batches: int = 300
    batch_size: int = 100
    seed: int = SEED
    library_users: int = 4  # users whose library is a watch history (the library scenarios)
    episode_shows: int = 1_000  # shows given a ten-season catalog episode list
    small_users: int = 20  # users with a small rated library (single-request reads)
    small_library: int = 100

    @classmethod
    def tiny(cls) -> Spec:
        """A data set for tests: a few users, a small catalog, no curve."""
        return cls(
            catalog_size=900,
            users=3,
            library_size=200,
            curve_sizes=(),
            library_users=0,
            episode_shows=5,
            small_users=1,
            small_library=10,
        )

    @classmethod
    def quick(cls) -> Spec:
        """A small data set for smoke runs."""
        return cls(
            catalog_size=12_000,
            users=8,
            library_size=2_000,
            curve_sizes=(1_000, 2_000, 10_000),
            curve_batches=20,
            library_users=2,
            episode_shows=100,
        )


@dataclass(slots=True)
class User:
    """A user of the data set: name, token and library (catalog indexes, in a fixed shuffle)."""

    index: int
    name: str
    token: str
    library: list[int]
    db_id: int = 0


@dataclass(slots=True)
class Dataset:
    """The generated catalog, app, users and libraries."""

    spec: Spec
    catalog: list[CatalogItem]
    client_id: str
    client_secret: str
    users: list[User]
    curve_users: dict[int, list[User]]
    library_users: list[User] = field(default_factory=list)
    small_users: list[User] = field(default_factory=list)
    # Catalog indexes of the shows with an episode list, and those lists.
    episode_shows: list[int] = field(default_factory=list)
    episodes: dict[int, tuple[CatalogEpisode, ...]] = field(default_factory=dict)

    @property
    def all_users(self) -> list[User]:
        """Main users, then curve-only users (each once), the library users, the small ones."""
        seen = {id(user) for user in self.users}
        extra = [u for users in self.curve_users.values() for u in users if id(u) not in seen]
        return self.users + extra + self.library_users + self.small_users

    def item(self, index: int) -> CatalogItem:
        """Catalog item by index."""
        return self.catalog[index]


def rating_of(user_index: int, item_id: int) -> tuple[int, int]:
    """The rating and rating date (ms) a user gave an item: a pure function of both."""
    mixed = (user_index * 0x9E3779B1 + item_id * 0x85EBCA77) & 0xFFFFFFFF
    mixed ^= mixed >> 15
    mixed = (mixed * 0x2C1B3C6D) & 0xFFFFFFFF
    rating = _RATING_TABLE[mixed % len(_RATING_TABLE)]
    return rating, RATED_FROM_MS + (mixed * 7919) % RATED_SPAN_MS // 1000 * 1000


def _hex(rng: random.Random, nbytes: int) -> str:
    return f"{rng.getrandbits(nbytes * 8):0{nbytes * 2}x}"


def generate(spec: Spec) -> Dataset:
    """Build the whole data set in memory (deterministic for a given spec)."""
    rng = random.Random(spec.seed)
    catalog = _catalog(rng, spec.catalog_size)
    client_id, client_secret = _hex(rng, 32), _hex(rng, 32)
    users = [
        _user(rng, spec, index, f"bench-user-{index:03d}", spec.library_size)
        for index in range(spec.users)
    ]
    curve: dict[int, list[User]] = {}
    next_index = spec.users
    for size in spec.curve_sizes:
        if size > spec.catalog_size:
            continue
        needed = -(-spec.curve_batches * spec.batch_size // size)
        if size == spec.library_size and needed <= len(users):
            curve[size] = users[:needed]
            continue
        curve[size] = []
        for n in range(needed):
            curve[size].append(_user(rng, spec, next_index, f"bench-curve-{size}-{n:02d}", size))
            next_index += 1
    library = []
    for n in range(spec.library_users):
        name = f"bench-library-{n:02d}"
        library.append(_user(rng, spec, next_index, name, spec.library_size))
        next_index += 1
    small = []
    for n in range(spec.small_users):
        small.append(_user(rng, spec, next_index, f"bench-small-{n:02d}", spec.small_library))
        next_index += 1
    dataset = Dataset(spec, catalog, client_id, client_secret, users, curve, library, small)
    _give_episodes(dataset)
    return dataset


def season_lengths(item_id: int) -> list[int]:
    """Episodes per season of a show with an episode list: 10 to 24, a function of its id."""
    return [10 + (item_id * 7 + season * 13) % 15 for season in range(EPISODE_SEASONS)]


def _give_episodes(dataset: Dataset) -> None:
    """The first `episode_shows` shows get ten seasons of aired episodes (and end)."""
    shows = [i for i, item in enumerate(dataset.catalog) if item.type is MediaType.SHOW]
    for index in shows[: dataset.spec.episode_shows]:
        item = dataset.catalog[index]
        episodes = tuple(
            CatalogEpisode(
                season + 1,
                number,
                title=f"Episode {number}",
                aired_at=_AIRED_FROM_MS + (season * 30 + number) * _WEEK_MS,
                runtime=22 + item.id % 40,
                tvdb_id=9_000_000 + item.id % 100_000 * 300 + season * 30 + number,
            )
            for season, length in enumerate(season_lengths(item.id))
            for number in range(1, length + 1)
        )
        dataset.catalog[index] = replace(item, status="ended", total_episodes=len(episodes))
        dataset.episode_shows.append(index)
        dataset.episodes[item.id] = episodes


def _user(rng: random.Random, spec: Spec, index: int, name: str, size: int) -> User:
    picker = random.Random(spec.seed * 1_000 + index)
    return User(index, name, _hex(rng, 32), picker.sample(range(spec.catalog_size), size))


def _catalog(rng: random.Random, size: int) -> list[CatalogItem]:
    simkl_ids = rng.sample(range(1, 3_000_000), size)
    numbers = _UniqueNumbers(rng)
    titles = _Titles(rng)
    items: list[CatalogItem] = []
    for position in range(size):
        roll = rng.random()
        media_type = (
            MediaType.MOVIE if roll < 0.45 else MediaType.SHOW if roll < 0.75 else MediaType.ANIME
        )
        items.append(_item(rng, simkl_ids[position], media_type, numbers, titles))
    keys = [key for item in items for key in item_lookup_keys(item)]
    if len(set(keys)) != len(keys):
        raise AssertionError("generated catalog has an external id shared by two items")
    return items


class _UniqueNumbers:
    """Distinct random numbers per id kind (TMDB's movie and TV spaces overlap, as in life)."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: dict[str, set[int]] = {}

    def take(self, kind: str, low: int, high: int) -> int:
        used = self._used.setdefault(kind, set())
        while True:
            number = self._rng.randrange(low, high)
            if number not in used:
                used.add(number)
                return number


class _Titles:
    """Titles unique per (title, year); about 2 % are remakes of an earlier title."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._taken: set[tuple[str, int]] = set()
        self._earlier: list[str] = []

    def take(self, media_type: MediaType, year: int) -> str:
        rng = self._rng
        if self._earlier and rng.random() < 0.02:
            remake = rng.choice(self._earlier)
            if (title_key(remake), year) not in self._taken:
                return self._keep(remake, year)
        while True:
            title = self._compose(media_type)
            if (title_key(title), year) not in self._taken:
                return self._keep(title, year)

    def _keep(self, title: str, year: int) -> str:
        self._taken.add((title_key(title), year))
        if len(self._earlier) < 5_000:
            self._earlier.append(title)
        return title

    def _compose(self, media_type: MediaType) -> str:
        rng = self._rng
        if media_type is MediaType.ANIME:
            words = rng.sample(_ROMAJI, rng.randint(2, 3))
            base = f"{words[0]} no {' '.join(words[1:])}"
        else:
            pattern = rng.randrange(4)
            adjective, noun, other = (
                rng.choice(_ADJECTIVES),
                rng.choice(_NOUNS),
                rng.choice(_NOUNS),
            )
            base = (
                f"The {adjective} {noun}",
                f"{noun} of the {adjective} {other}",
                f"{adjective} {noun}",
                f"{noun} & {other}",
            )[pattern]
        roll = rng.random()
        if roll < 0.1:
            base += f" Part {rng.choice(('II', 'III', 'IV'))}"
        elif roll < 0.6:
            base += f": {rng.choice(_SUBTITLES)} of the {rng.choice(_NOUNS)}"
        return base


def _item(
    rng: random.Random,
    simkl_id: int,
    media_type: MediaType,
    numbers: _UniqueNumbers,
    titles: _Titles,
) -> CatalogItem:
    if media_type is MediaType.MOVIE:
        return _movie(rng, simkl_id, numbers, titles)
    if media_type is MediaType.SHOW:
        return _show(rng, simkl_id, numbers, titles)
    return _anime(rng, simkl_id, numbers, titles)


def _movie(
    rng: random.Random, simkl_id: int, numbers: _UniqueNumbers, titles: _Titles
) -> CatalogItem:
    year = rng.randint(1920, 2027)
    title = titles.take(MediaType.MOVIE, year)
    ids = {
        "imdb": f"tt{numbers.take('imdb', 10_000, 40_000_000):07d}",
        "tmdb": str(numbers.take("tmdb:movie", 1, 1_500_000)),
    }
    if rng.random() < 0.6:
        ids["letterboxd"] = f"{_slug(title)}-{year}"
    if rng.random() < 0.4:
        ids["traktslug"] = f"{_slug(title)}-{year}"
    if rng.random() < 0.15:
        ids["netflix"] = str(numbers.take("netflix", 60_000_000, 82_000_000))
    upcoming = year >= 2026 and rng.random() < 0.7
    return CatalogItem(
        id=simkl_id,
        type=MediaType.MOVIE,
        title=title,
        year=year,
        status="upcoming" if upcoming else "released",
        total_episodes=None,
        release_date=f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        ids=ids,
    )


def _show(
    rng: random.Random, simkl_id: int, numbers: _UniqueNumbers, titles: _Titles
) -> CatalogItem:
    year = rng.randint(1950, 2027)
    title = titles.take(MediaType.SHOW, year)
    ids = {
        "imdb": f"tt{numbers.take('imdb', 10_000, 40_000_000):07d}",
        "tmdb": str(numbers.take("tmdb:tv", 1, 300_000)),
        "tvdb": str(numbers.take("tvdb", 70_000, 480_000)),
    }
    if rng.random() < 0.4:
        ids["traktslug"] = f"{_slug(title)}-{year}"
    roll = rng.random()
    status = "ended" if roll < 0.6 else "airing" if roll < 0.9 else "tba"
    episodes = 1 if rng.random() < 0.04 else rng.randint(2, 300)
    return CatalogItem(
        id=simkl_id,
        type=MediaType.SHOW,
        title=title,
        year=year,
        status=status,
        total_episodes=episodes,
        ids=ids,
    )


def _anime(
    rng: random.Random, simkl_id: int, numbers: _UniqueNumbers, titles: _Titles
) -> CatalogItem:
    year = rng.randint(1963, 2027)
    title = titles.take(MediaType.ANIME, year)
    anime_type = rng.choices([t for t, _ in _ANIME_TYPES], [w for _, w in _ANIME_TYPES])[0]
    ids = {
        "mal": str(numbers.take("mal", 1, 200_000)),
        "anidb": str(numbers.take("anidb", 1, 200_000)),
        "anilist": str(numbers.take("anilist", 1, 200_000)),
        "kitsu": str(numbers.take("kitsu", 1, 200_000)),
    }
    if rng.random() < 0.6:
        ids["imdb"] = f"tt{numbers.take('imdb', 10_000, 40_000_000):07d}"
    if rng.random() < 0.7:
        scope = "tmdb:movie" if anime_type == "movie" else "tmdb:tv"
        ids["tmdb"] = str(numbers.take(scope, 1, 1_500_000 if anime_type == "movie" else 300_000))
    if rng.random() < 0.5:
        ids["livechart"] = str(numbers.take("livechart", 1, 200_000))
    if rng.random() < 0.5:
        ids["anisearch"] = str(numbers.take("anisearch", 1, 200_000))
    if rng.random() < 0.5:
        ids["animeplanet"] = f"{_slug(title)}-{simkl_id}"
    episodes = 1 if anime_type in {"movie", "music video"} else rng.randint(1, 64)
    roll = rng.random()
    status = "ended" if roll < 0.75 else "airing" if roll < 0.95 else "tba"
    return CatalogItem(
        id=simkl_id,
        type=MediaType.ANIME,
        title=title,
        year=year,
        status=status,
        total_episodes=episodes,
        anime_type=anime_type,
        ids=ids,
    )


def _slug(title: str) -> str:
    return "-".join(title_key(title).split())


# Loading ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoadInfo:
    """What a load produced: when it finished (rows added later are the benchmark's own)."""

    loaded_at_ms: int
    rows: int
    seconds: float


def _chunks(values: Sequence[CatalogItem], size: int) -> Iterator[Sequence[CatalogItem]]:
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk


def library_rows(dataset: Dataset, user: User, indexes: Sequence[int]) -> list[RatingWrite]:
    """The rows add_ratings would write for these (new) items of the user's library."""
    rows = []
    for index in indexes:
        item = dataset.catalog[index]
        rating, rated_at = rating_of(user.index, item.id)
        rows.append(RatingWrite(item.id, auto_status(item), rating, rated_at))
    return rows


def _mix(user_index: int, item_id: int) -> int:
    """A pure function of (user, item) deciding how a history library holds the item."""
    mixed = (user_index * 0x85EBCA77 + item_id * 0x9E3779B1) & 0xFFFFFFFF
    mixed ^= mixed >> 13
    return (mixed * 0xC2B2AE35) & 0xFFFFFFFF


def _stamp(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms // 1000))


def history_entry(dataset: Dataset, user: User, index: int) -> tuple[str, dict[str, Any]]:
    """(wrapper, history item) for one item of a library user's watch history: most movies
    watched, the rest planned; shows and anime with their first episodes watched (a season or
    more of the ten-season shows), some finished whole, some planned."""
    item = dataset.catalog[index]
    mixed = _mix(user.index, item.id)
    watched_at = RATED_FROM_MS + (mixed * 7919) % RATED_SPAN_MS // 1000 * 1000
    entry: dict[str, Any] = {"ids": {"simkl": item.id}}
    wrapper = "movies" if item.type is MediaType.MOVIE else "shows"
    roll = mixed % 100
    if roll < 12:
        return wrapper, entry | {"status": "plantowatch"}
    if item.type is MediaType.MOVIE:
        return wrapper, entry | {"watched_at": _stamp(watched_at)}
    total = item.total_episodes or 1
    if roll < 22 and total <= 40:
        return wrapper, entry | {"watched_at": _stamp(watched_at)}  # the whole show
    lengths = season_lengths(item.id) if item.id in dataset.episodes else [min(total, 200)]
    watched = 1 + (mixed >> 8) % min(sum(lengths), 60)
    seasons = []
    for season, length in enumerate(lengths, start=1):
        count = min(length, watched)
        if count <= 0:
            break
        episodes = [
            {"number": n, "watched_at": _stamp(watched_at + (season * 30 + n) * _DAY_MS)}
            for n in range(1, count + 1)
        ]
        seasons.append({"number": season, "episodes": episodes})
        watched -= count
    return wrapper, entry | {"seasons": seasons}


def history_body(dataset: Dataset, user: User, indexes: Sequence[int]) -> bytes:
    """A /sync/history body for these items of a library user's watch history."""
    document: dict[str, list[dict[str, Any]]] = {}
    for index in indexes:
        wrapper, entry = history_entry(dataset, user, index)
        document.setdefault(wrapper, []).append(entry)
    return orjson.dumps(document)


async def _load_history(store: Store, dataset: Dataset, user: User) -> int:
    """A library user's watch history, through the domain call /sync/history makes."""
    for start in range(0, len(user.library), HISTORY_CHUNK):
        body = history_body(dataset, user, user.library[start : start + HISTORY_CHUNK])
        items = sync_items(parse_json_object(body), max_items=_MAX_ITEMS, episodes=True)
        outcome = await history.add_history(
            store, user_id=user.db_id, inputs=history_inputs(items), skip_auto_watching=False
        )
        if outcome.not_found:
            raise AssertionError(f"{user.name}: {len(outcome.not_found)} items not found")
    return len(user.library)


async def _load_library(store: Store, dataset: Dataset, user: User) -> int:
    rows = library_rows(dataset, user, user.library)
    buckets = {rated_bucket(dataset.catalog[i].type) for i in user.library}
    buckets |= {
        list_bucket(dataset.catalog[i].type, auto_status(dataset.catalog[i])) for i in user.library
    }

    async def work(tx: WriteTx) -> None:
        await tx.ratings.save(user.db_id, rows, now=tx.now_ms)
        await tx.activities.touch(user.db_id, buckets, at=tx.now_ms)

    await store.write(user.db_id, work, size=len(rows))
    return len(rows)


def _catalog_upsert(chunk: Sequence[CatalogItem]) -> Callable[[WriteTx], Awaitable[None]]:
    upserts = [CatalogUpsert(i, title_key(i.title), item_lookup_keys(i)) for i in chunk]

    async def work(tx: WriteTx) -> None:
        await tx.catalog.upsert(upserts)

    return work


async def _accounts(tx: WriteTx, dataset: Dataset) -> None:
    """The bench app, and every user with its token."""
    app = await tx.accounts.create_app(
        name="simkl-server bench",
        client_id=dataset.client_id,
        secret_hash=token_hash(dataset.client_secret),
        redirect_uris=(),
        kind=AppKind.SERVER,
        auth_version=1,
        owner_id=None,
        created_at=tx.now_ms,
    )
    for user in dataset.all_users:
        user.db_id = await tx.accounts.create_user(username=user.name, created_at=tx.now_ms)
        grant_id = await tx.grants.create_v1(app_id=app.id, user_id=user.db_id, now=tx.now_ms)
        await tx.grants.add_token(
            token_hash=token_hash(user.token),
            grant_id=grant_id,
            app_id=app.id,
            user_id=user.db_id,
            scope=V1_SCOPE,
            expires_at=None,
            now=tx.now_ms,
        )


async def load(database_url: str, dataset: Dataset, *, parallel: int = 1) -> LoadInfo:
    """Migrate the database, then load the catalog, the app, users, tokens and libraries."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    settings = Settings(database_url=database_url)
    await asyncio.to_thread(migrate.upgrade, settings.database)
    clock = SystemClock()
    store = await open_store(settings, clock)
    try:
        for chunk in _chunks(dataset.catalog, CATALOG_CHUNK):
            await store.transaction(_catalog_upsert(chunk), offload=True)
        episodes = list(dataset.episodes.items())
        for start in range(0, len(episodes), 100):
            lists = dict(episodes[start : start + 100])

            async def save_episodes(tx: WriteTx, lists: Any = lists) -> None:
                await tx.catalog.replace_episodes(lists)

            await store.transaction(save_episodes, offload=True)
        await store.transaction(lambda tx: _accounts(tx, dataset))
        gate = asyncio.Semaphore(parallel)
        histories = {id(user) for user in dataset.library_users}

        async def one(user: User) -> int:
            async with gate:
                if id(user) in histories:
                    return await _load_history(store, dataset, user)
                return await _load_library(store, dataset, user)

        rows = sum(await asyncio.gather(*(one(user) for user in dataset.all_users)))
        # What autovacuum would have done by the time a real library reached this size.
        await store.read.catalog.refresh_statistics()
    finally:
        await store.close()
    return LoadInfo(clock.now_ms(), rows, loop.time() - started)
