"""The benchmark's scenarios and their request pools (written for wrk's Lua scripts).

A pool is a file of `<token index>\\t<JSON body>` lines, consecutive lines cycling through the
users; a line may name its own path (and query) as `<token index>\\t<path>\\t<JSON body>`,
which replaces the scenario's for that request (reads of varied catalog items, lookups by
query). Write pools take their items from the data set so that every remove hits an item the
user really rated and every add an item not yet in their library; within a pool no item
comes back until the pool wraps. Bodies mix the id kinds clients send (simkl, imdb, tmdb,
tvdb, letterboxd, mal, anidb, anilist, kitsu, every id with title and year, title and year
alone), anime under `shows[]` or `anime[]`, and about 5 % of items that match nothing.
External ids travel as strings (as the official OpenAPI schema declares them), `simkl` as an
integer, `year` as an integer or now and then a string.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import orjson

from bench.datagen import Dataset, User
from simkl_server.domain.kinds import TYPE_OF_PLURAL, MediaType
from simkl_server.domain.models import CatalogItem

MISSING_SHARE = 0.05
# Items per `POST /sync/watched` request, and how many of them are in the user's library (one
# more is a catalog item outside it, the rest match nothing).
WATCHED_BATCH = 10
WATCHED_OWNED = 8
# Lines of each catalog read pool (detail records, id lookups, redirects): each a different
# item until the pool wraps, so no run reads one item over and over.
CATALOG_READ_LINES = 10_000
_KINDS: dict[MediaType, tuple[tuple[str, int], ...]] = {
    MediaType.MOVIE: (
        ("simkl", 30),
        ("imdb", 20),
        ("tmdb", 15),
        ("letterboxd", 5),
        ("full", 20),
        ("title", 10),
    ),
    MediaType.SHOW: (
        ("simkl", 30),
        ("imdb", 15),
        ("tvdb", 15),
        ("tmdb", 10),
        ("full", 20),
        ("title", 10),
    ),
    MediaType.ANIME: (
        ("simkl", 20),
        ("mal", 25),
        ("anidb", 10),
        ("anilist", 10),
        ("kitsu", 5),
        ("full", 20),
        ("title", 10),
    ),
}


@dataclass(frozen=True, slots=True)
class Scenario:
    """One benchmarked request shape."""

    name: str
    label: str
    script: str
    method: str
    path: str
    items: int  # per request; 0 where items mean nothing (activities); reads count rows
    writes: bool
    # Whether Simkl's official OpenAPI document has the operation (Prism can only mock those):
    # it lists `/sync/all-items/{type}/{status}` but not the bare `/sync/all-items`.
    official: bool = True
    # Whether the answer is a redirect (3xx; wrk counts only statuses from 400 up as errors).
    redirects: bool = False
    # Whether requests carry the client_id in the `simkl-api-key` header as well as in the
    # query: the official document secures the catalog reads and /redirect by that header alone
    # (its script says the same: common.lua's `api_key_header`).
    api_key_header: bool = False

    def succeeded(self, status: int) -> bool:
        """Whether `status` is this scenario's success: 2xx, or 3xx for a redirect."""
        return 200 <= status < (400 if self.redirects else 300)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "read_ratings",
        "GET /sync/ratings/movies/1,…,10 (10k library)",
        "ratings_read.lua",
        "GET",
        "/sync/ratings/movies/1,2,3,4,5,6,7,8,9,10",
        0,
        writes=False,
    ),
    Scenario(
        "activities",
        "GET /sync/activities",
        "activities.lua",
        "GET",
        "/sync/activities",
        0,
        writes=False,
    ),
    Scenario(
        "remove_1",
        "remove 1 item",
        "remove_one.lua",
        "POST",
        "/sync/ratings/remove",
        1,
        writes=True,
    ),
    Scenario(
        "add_1",
        "add 1 item",
        "add_one.lua",
        "POST",
        "/sync/ratings",
        1,
        writes=True,
    ),
    Scenario(
        "history_1",
        "history: 1 movie watched",
        "history_one.lua",
        "POST",
        "/sync/history",
        1,
        writes=True,
    ),
    Scenario(
        "settings",
        "GET /users/settings",
        "settings.lua",
        "GET",
        "/users/settings",
        0,
        writes=False,
    ),
    Scenario(
        "all_items_100",
        "GET /sync/all-items (100-item library)",
        "all_items_small.lua",
        "GET",
        "/sync/all-items",
        0,
        writes=False,
        official=False,
    ),
    Scenario(
        "remove_100",
        "remove 100-item batch",
        "remove_batch.lua",
        "POST",
        "/sync/ratings/remove",
        100,
        writes=True,
    ),
    Scenario(
        "add_100",
        "add 100-item batch",
        "add_batch.lua",
        "POST",
        "/sync/ratings",
        100,
        writes=True,
    ),
    Scenario(
        "movie",
        "GET /movies/{id} (varied movies)",
        "movie.lua",
        "GET",
        "/movies/{id}",
        0,
        writes=False,
        api_key_header=True,
    ),
    Scenario(
        "show",
        "GET /tv/{id} (varied shows)",
        "show.lua",
        "GET",
        "/tv/{id}",
        0,
        writes=False,
        api_key_header=True,
    ),
    Scenario(
        "anime",
        "GET /anime/{id} (varied anime)",
        "anime.lua",
        "GET",
        "/anime/{id}",
        0,
        writes=False,
        api_key_header=True,
    ),
    Scenario(
        "search_id",
        "GET /search/id (mixed id kinds)",
        "search_id.lua",
        "GET",
        "/search/id",
        0,
        writes=False,
    ),
    Scenario(
        "redirect",
        "GET /redirect (301/302)",
        "redirect.lua",
        "GET",
        "/redirect",
        0,
        writes=False,
        redirects=True,
        api_key_header=True,
    ),
    Scenario(
        "watched_10",
        f"POST /sync/watched, {WATCHED_BATCH} items ({WATCHED_OWNED} in the library)",
        "watched.lua",
        "POST",
        "/sync/watched",
        WATCHED_BATCH,
        writes=False,  # a lookup: it changes nothing
    ),
)


class ItemWriter:
    """Turns catalog items into request items the way varied clients send them."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._missing = 0

    def request_item(self, item: CatalogItem, *, with_ids: bool) -> tuple[str, dict[str, Any]]:
        """(wrapper, item) for a catalog item; `with_ids` rules out title-and-year alone."""
        rng = self._rng
        kinds = [(k, w) for k, w in _KINDS[item.type] if not with_ids or k != "title"]
        kind = rng.choices([k for k, _ in kinds], [w for _, w in kinds])[0]
        if kind not in {"simkl", "full", "title"} and kind not in item.ids:
            kind = "simkl"
        body: dict[str, Any]
        if kind == "simkl":
            body = {"ids": {"simkl": item.id}}
        elif kind == "full":
            year: int | str | None = item.year
            if item.year is not None and rng.random() < 0.2:
                year = str(item.year)
            body = {"title": item.title, "year": year, "ids": {"simkl": item.id, **item.ids}}
        elif kind == "title":
            body = {"title": item.title, "year": item.year}
        else:
            body = {"ids": {kind: item.ids[kind]}}
        return self._wrapper(item), body

    def _wrapper(self, item: CatalogItem) -> str:
        if item.type is MediaType.MOVIE:
            return "movies"
        if item.type is MediaType.SHOW:
            return "shows"
        if item.anime_type == "movie" and self._rng.random() < 0.5:
            return "movies"
        return "anime" if self._rng.random() < 0.4 else "shows"

    def missing_item(self, *, with_ids: bool) -> tuple[str, dict[str, Any]]:
        """An item that matches nothing in the catalog (ids beyond any generated one)."""
        self._missing += 1
        n = self._missing
        wrapper = ("movies", "shows", "anime")[n % 3]
        shape = n % (3 if with_ids else 4)
        if shape == 0:
            return wrapper, {"ids": {"simkl": 5_000_000 + n}}
        if shape == 1:
            return wrapper, {"ids": {"imdb": f"tt{900_000_000 + n}"}}
        if shape == 2:
            return wrapper, {"ids": {"mal": str(900_000 + n), "anidb": str(900_000 + n)}}
        return wrapper, {"title": f"No Such Title {n}", "year": 1901}

    def body(
        self, items: Sequence[CatalogItem], *, missing: int, ratings: Sequence[int] | None = None
    ) -> bytes:
        """A sync body: the items (rated when `ratings` is given) plus `missing` unmatched."""
        entries = [self.request_item(item, with_ids=ratings is not None) for item in items]
        entries += [self.missing_item(with_ids=ratings is not None) for _ in range(missing)]
        self._rng.shuffle(entries)
        document: dict[str, list[dict[str, Any]]] = {}
        for position, (wrapper, entry) in enumerate(entries):
            if ratings is not None:
                entry["rating"] = ratings[position % len(ratings)]
                if self._rng.random() < 0.2:
                    entry["rated_at"] = "2025-06-01T12:00:00Z"
            document.setdefault(wrapper, []).append(entry)
        return orjson.dumps(document)


def _line(token_index: int, body: bytes, *, path: str | None = None) -> bytes:
    head = str(token_index).encode() + b"\t"
    if path is not None:
        head += path.encode() + b"\t"
    return head + body + b"\n"


@dataclass(frozen=True, slots=True)
class PoolLine:
    """One line of a pool: whose token, the path when the line names one, the body."""

    token_index: int
    path: str | None
    body: bytes


def parse_line(raw: bytes) -> PoolLine:
    """A pool line (without its newline) as common.lua reads it."""
    token_index, rest = raw.split(b"\t", 1)
    path: str | None = None
    if b"\t" in rest:  # a JSON body never holds a raw tab
        named, rest = rest.split(b"\t", 1)
        path = named.decode()
    return PoolLine(int(token_index), path, rest)


def _split(total: int) -> tuple[int, int]:
    """(found, missing) for a batch of `total` items."""
    missing = max(1, round(total * MISSING_SHARE)) if total > 1 else 0
    return total - missing, missing


def _batches(user: User, found: int) -> list[list[int]]:
    return [
        user.library[start : start + found]
        for start in range(0, len(user.library) - found + 1, found)
    ]


def remove_pool(
    dataset: Dataset, users: Sequence[User], *, batch: int, per_user: int, seed: int
) -> Iterator[bytes]:
    """Remove bodies: line j is user j % len(users)'s (j // len(users))-th batch."""
    writer = ItemWriter(seed)
    found, missing = _split(batch)
    token_index = _token_indexes(dataset)
    chunks = {user.index: _batches(user, found)[:per_user] for user in users}
    rounds = min(len(c) for c in chunks.values())
    for round_ in range(rounds):
        for user in users:
            items = [dataset.catalog[i] for i in chunks[user.index][round_]]
            yield _line(token_index[user.index], writer.body(items, missing=missing))


def single_remove_pool(dataset: Dataset, *, per_user: int, seed: int) -> Iterator[bytes]:
    """One library item per request, users interleaved, id kinds rotating."""
    writer = ItemWriter(seed)
    token_index = _token_indexes(dataset)
    for k in range(min(per_user, dataset.spec.library_size)):
        for user in dataset.users:
            body = writer.body([dataset.catalog[user.library[k]]], missing=0)
            yield _line(token_index[user.index], body)


def add_pool(dataset: Dataset, *, batch: int, per_user: int, seed: int) -> Iterator[bytes]:
    """Add bodies with items outside each user's library, disjoint across one user's lines."""
    writer = ItemWriter(seed)
    found, missing = _split(batch)
    token_index = _token_indexes(dataset)
    rng = random.Random(seed)
    fresh = _fresh_items(dataset, range(dataset.spec.catalog_size), found * per_user, rng)
    rounds = min(len(f) // found for f in fresh.values())
    for round_ in range(min(rounds, per_user)):
        for user in dataset.users:
            picked = fresh[user.index][round_ * found : (round_ + 1) * found]
            items = [dataset.catalog[i] for i in picked]
            ratings = [1 + (user.index + i) % 10 for i in range(len(items) + missing)]
            yield _line(
                token_index[user.index], writer.body(items, missing=missing, ratings=ratings)
            )


def _fresh_items(
    dataset: Dataset, candidates: Sequence[int], count: int, rng: random.Random
) -> dict[int, list[int]]:
    """Per main user, up to `count` catalog indexes drawn from `candidates` that are not in
    the user's library, in drawn order."""
    fresh: dict[int, list[int]] = {}
    for user in dataset.users:
        owned = set(user.library)
        drawn = rng.sample(candidates, min(len(candidates), count + len(owned)))
        fresh[user.index] = [i for i in drawn if i not in owned][:count]
    return fresh


def history_pool(dataset: Dataset, *, per_user: int, seed: int) -> Iterator[bytes]:
    """One movie outside the user's library per line, never the same twice for a user."""
    writer = ItemWriter(seed)
    token_index = _token_indexes(dataset)
    rng = random.Random(seed)
    movies = [i for i, item in enumerate(dataset.catalog) if item.type is MediaType.MOVIE]
    fresh = _fresh_items(dataset, movies, per_user, rng)
    for round_ in range(min(len(f) for f in fresh.values())):
        for user in dataset.users:
            item = dataset.catalog[fresh[user.index][round_]]
            yield _line(token_index[user.index], writer.body([item], missing=0))


def read_pool(dataset: Dataset, users: Sequence[User] | None = None) -> Iterator[bytes]:
    """One bodiless line per user (the main users unless told)."""
    token_index = _token_indexes(dataset)
    for user in dataset.users if users is None else users:
        yield _line(token_index[user.index], b"")


def _main_tokens(dataset: Dataset) -> list[int]:
    """Token indexes of the main users, for reads that take turns among them."""
    token_index = _token_indexes(dataset)
    return [token_index[user.index] for user in dataset.users]


def _catalog_sample(
    dataset: Dataset, media_types: Sequence[MediaType], count: int, rng: random.Random
) -> list[CatalogItem]:
    """Up to `count` distinct catalog items of these types, in random order."""
    wanted = set(media_types)
    items = [item for item in dataset.catalog if item.type in wanted]
    return rng.sample(items, min(count, len(items)))


def detail_pool(
    dataset: Dataset, media_type: MediaType, *, endpoint: str, lines: int, seed: int
) -> Iterator[bytes]:
    """`GET /<endpoint>/<simkl id>`, a different item of the type on every line (users take
    turns: the endpoint needs no token, a signed-in client sends it all the same)."""
    tokens = _main_tokens(dataset)
    picked = _catalog_sample(dataset, (media_type,), lines, random.Random(seed))
    for n, item in enumerate(picked):
        yield _line(tokens[n % len(tokens)], b"", path=f"/{endpoint}/{item.id}")


# The ids `GET /search/id` is asked by, per type (weights), as the official document declares
# its parameters; `title` is title and year. `tmdb` goes with `type` (tmdb ids are per space).
_SEARCH_ID_KINDS: dict[MediaType, tuple[tuple[str, int], ...]] = {
    MediaType.MOVIE: (("simkl", 20), ("imdb", 35), ("tmdb", 25), ("letterboxd", 10), ("title", 10)),
    MediaType.SHOW: (("simkl", 20), ("imdb", 25), ("tvdb", 25), ("tmdb", 20), ("title", 10)),
    MediaType.ANIME: (
        ("simkl", 15),
        ("mal", 35),
        ("anidb", 15),
        ("anilist", 15),
        ("kitsu", 10),
        ("title", 10),
    ),
}
# `GET /redirect` by the ids the official document lists for it: no `simkl`, and no `imdb`
# (the document allows only one example value, so Prism would refuse any other).
_REDIRECT_KINDS: dict[MediaType, tuple[tuple[str, int], ...]] = {
    MediaType.MOVIE: (("tmdb", 70), ("title", 30)),
    MediaType.SHOW: (("tvdb", 40), ("tmdb", 40), ("title", 20)),
    MediaType.ANIME: (("mal", 40), ("anidb", 20), ("anilist", 20), ("kitsu", 10), ("title", 10)),
}
# `to` of the redirects (weights): the item's page, its trailer, a tweet, the page marked watched.
_REDIRECT_TARGETS = (("simkl", 70), ("trailer", 10), ("twitter", 10), ("watched", 10))


def _lookup_params(
    item: CatalogItem, kinds: tuple[tuple[str, int], ...], rng: random.Random
) -> list[tuple[str, str]]:
    """Query parameters naming `item` by one id kind it has (or title and year)."""
    usable = [(k, w) for k, w in kinds if k in {"simkl", "title"} or k in item.ids]
    kind = rng.choices([k for k, _ in usable], [w for _, w in usable])[0]
    if kind == "simkl":
        return [("simkl", str(item.id))]
    if kind == "title":
        return [("title", item.title), ("year", str(item.year))]
    if kind == "tmdb":
        movie = item.type is MediaType.MOVIE or item.anime_type == "movie"
        return [("tmdb", item.ids["tmdb"]), ("type", "movie" if movie else "show")]
    return [(kind, item.ids[kind])]


def _missing_params(n: int, *, imdb: bool = True) -> list[tuple[str, str]]:
    """Query parameters that match nothing (ids beyond any generated one, an unknown title)."""
    shapes = [
        [("tmdb", str(5_000_000 + n)), ("type", "movie")],
        [("mal", str(900_000 + n))],
        [("title", f"No Such Title {n}"), ("year", "1901")],
    ]
    if imdb:
        shapes.append([("imdb", f"tt{900_000_000 + n}")])
    return shapes[n % len(shapes)]


def _query_path(path: str, params: list[tuple[str, str]]) -> str:
    return f"{path}?{urlencode(params, quote_via=quote)}"


def search_id_pool(dataset: Dataset, *, lines: int, seed: int) -> Iterator[bytes]:
    """`GET /search/id` by mixed id kinds (or title and year) of varied catalog items, about
    5 % matching nothing."""
    rng = random.Random(seed)
    tokens = _main_tokens(dataset)
    items = _catalog_sample(dataset, tuple(MediaType), lines, rng)
    for n, item in enumerate(items):
        if rng.random() < MISSING_SHARE:
            params = _missing_params(n)
        else:
            params = _lookup_params(item, _SEARCH_ID_KINDS[item.type], rng)
        yield _line(tokens[n % len(tokens)], b"", path=_query_path("/search/id", params))


def redirect_pool(dataset: Dataset, *, lines: int, seed: int) -> Iterator[bytes]:
    """`GET /redirect` as an app's "open on Simkl" links make it: mostly `to=simkl`, some
    trailers, tweets and "mark watched" (an episode of a show: `season` and `episode`, a 302);
    items named by the ids the official document lists for it, about 5 % matching nothing
    (they point at simkl.com's search)."""
    rng = random.Random(seed)
    tokens = _main_tokens(dataset)
    items = _catalog_sample(dataset, tuple(MediaType), lines, rng)
    targets = [t for t, _ in _REDIRECT_TARGETS], [w for _, w in _REDIRECT_TARGETS]
    for n, item in enumerate(items):
        to = rng.choices(*targets)[0]
        params = [("to", to)]
        if rng.random() < MISSING_SHARE:
            params += _missing_params(n, imdb=False)
        else:
            params += _lookup_params(item, _REDIRECT_KINDS[item.type], rng)
            if to == "watched" and item.type is MediaType.SHOW:
                params += [("season", "1"), ("episode", str(rng.randint(1, 10)))]
            elif to == "watched" and item.type is MediaType.ANIME and item.anime_type != "movie":
                params.append(("episode", str(rng.randint(1, 10))))
        yield _line(tokens[n % len(tokens)], b"", path=_query_path("/redirect", params))


def watched_pool(dataset: Dataset, *, per_user: int, seed: int) -> Iterator[bytes]:
    """`POST /sync/watched` of WATCHED_BATCH items: WATCHED_OWNED from the user's library,
    one catalog item outside it, the rest matching nothing; id kinds as the sync bodies mix
    them (title and year alone too), `type` on about half the items. Line j is user
    j % users' (j // users)-th batch."""
    writer = ItemWriter(seed)
    rng = random.Random(seed)
    token_index = _token_indexes(dataset)
    owned = _batches_of(dataset, WATCHED_OWNED, per_user)
    fresh = _fresh_items(dataset, range(dataset.spec.catalog_size), per_user, rng)
    rounds = min(*(len(b) for b in owned.values()), *(len(f) for f in fresh.values()))
    missing = WATCHED_BATCH - WATCHED_OWNED - 1
    for round_ in range(rounds):
        for user in dataset.users:
            picked = [*owned[user.index][round_], fresh[user.index][round_]]
            entries = [writer.request_item(dataset.catalog[i], with_ids=False) for i in picked]
            entries += [writer.missing_item(with_ids=False) for _ in range(missing)]
            rng.shuffle(entries)
            body = []
            for wrapper, entry in entries:
                if rng.random() < 0.5:
                    entry["type"] = TYPE_OF_PLURAL[wrapper].value
                body.append(entry)
            yield _line(token_index[user.index], orjson.dumps(body))


def _batches_of(dataset: Dataset, size: int, count: int) -> dict[int, list[list[int]]]:
    """Per main user, up to `count` disjoint slices of `size` items of their library."""
    return {user.index: _batches(user, size)[:count] for user in dataset.users}


def _token_indexes(dataset: Dataset) -> dict[int, int]:
    return {user.index: position for position, user in enumerate(dataset.all_users)}


@dataclass(frozen=True, slots=True)
class Pool:
    """A request pool on disk."""

    path: Path
    lines: int


def write_pool(path: Path, lines: Iterator[bytes]) -> Pool:
    """Write a pool file; return it with its line count."""
    count = 0
    with path.open("wb") as out:
        for line in lines:
            out.write(line)
            count += 1
    return Pool(path, count)


def write_tokens(path: Path, dataset: Dataset) -> Path:
    """The tokens file the Lua scripts index into (all users, main users first)."""
    path.write_text("".join(f"{user.token}\n" for user in dataset.all_users), encoding="ascii")
    return path


@dataclass(frozen=True, slots=True)
class Pools:
    """Every pool a run needs."""

    tokens: Path
    scenarios: dict[str, Pool]
    curve: dict[int, Pool]
    batch_1000: Pool


def write_pools(directory: Path, dataset: Dataset) -> Pools:
    """Write every pool of the benchmark into `directory`."""
    spec = dataset.spec
    directory.mkdir(parents=True, exist_ok=True)
    batches_per_user = spec.library_size // _split(spec.batch_size)[0]
    scenarios = {
        "read_ratings": write_pool(directory / "read_ratings.pool", read_pool(dataset)),
        "activities": write_pool(directory / "activities.pool", read_pool(dataset)),
        "remove_1": write_pool(
            directory / "remove_1.pool", single_remove_pool(dataset, per_user=1_000, seed=1)
        ),
        "add_1": write_pool(
            directory / "add_1.pool", add_pool(dataset, batch=1, per_user=1_000, seed=6)
        ),
        "history_1": write_pool(
            directory / "history_1.pool", history_pool(dataset, per_user=1_000, seed=7)
        ),
        "settings": write_pool(directory / "settings.pool", read_pool(dataset)),
        "all_items_100": write_pool(
            directory / "all_items_100.pool", read_pool(dataset, dataset.small_users)
        ),
        "remove_100": write_pool(
            directory / "remove_100.pool",
            remove_pool(
                dataset, dataset.users, batch=spec.batch_size, per_user=batches_per_user, seed=2
            ),
        ),
        "add_100": write_pool(
            directory / "add_100.pool",
            add_pool(dataset, batch=spec.batch_size, per_user=batches_per_user, seed=3),
        ),
        **{
            name: write_pool(
                directory / f"{name}.pool",
                detail_pool(
                    dataset, media_type, endpoint=endpoint, lines=CATALOG_READ_LINES, seed=seed
                ),
            )
            for name, media_type, endpoint, seed in (
                ("movie", MediaType.MOVIE, "movies", 21),
                ("show", MediaType.SHOW, "tv", 22),
                ("anime", MediaType.ANIME, "anime", 23),
            )
        },
        "search_id": write_pool(
            directory / "search_id.pool",
            search_id_pool(dataset, lines=CATALOG_READ_LINES, seed=24),
        ),
        "redirect": write_pool(
            directory / "redirect.pool", redirect_pool(dataset, lines=CATALOG_READ_LINES, seed=25)
        ),
        "watched_10": write_pool(
            directory / "watched_10.pool", watched_pool(dataset, per_user=100, seed=26)
        ),
    }
    curve = {
        size: write_pool(
            directory / f"curve_{size}.pool",
            remove_pool(
                dataset, users, batch=spec.batch_size, per_user=spec.curve_batches, seed=4 + size
            ),
        )
        for size, users in dataset.curve_users.items()
    }
    big = write_pool(
        directory / "remove_1000.pool",
        remove_pool(dataset, dataset.users[:20], batch=1_000, per_user=1, seed=5),
    )
    return Pools(write_tokens(directory / "tokens.txt", dataset), scenarios, curve, big)
