"""Value types shared by the domain, the wire shapes and the store."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, TypeVar, dataclass_transform

import orjson

from simkl_server.domain.kinds import ListStatus, MediaType, Wrapper, is_movie_like

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
_C = TypeVar("_C")


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def frozen(cls: type[_C]) -> type[_C]:
    """A frozen dataclass to the type checker (mypy refuses any assignment to a field), built
    as a plain one with slots, equality and the same field hash. A frozen dataclass sets each
    field through `object.__setattr__`: its constructor costs three times as much (0.7 µs
    against 0.2 µs for five fields), and batches build several per item."""
    return dataclass(slots=True, unsafe_hash=True)(cls)


if TYPE_CHECKING:
    # To mypy this is dataclasses.replace, exported (the `as` form): it checks the changes
    # against the fields.
    from dataclasses import replace as replace  # noqa: PLC0414
else:

    def replace(value, /, **changes):
        """dataclasses.replace at a quarter of its cost (0.4 µs against 1.5 for a library
        entry): that one looks the fields up on every call, and a batch write changes each
        item's entry two or three times. The domain's value classes change through this."""
        made = _REPLACERS.get(type(value))
        if made is None:
            made = _REPLACERS[type(value)] = _replacer(type(value))
        return made(value, **changes)


_REPLACERS: dict[type, Callable[..., Any]] = {}
_KEEP = object()


def _replacer(cls: type) -> Callable[..., Any]:
    """A function that copies a `cls` value with keyword-only changes, built once per class
    from its field names (as dataclasses builds __init__)."""
    names = [item.name for item in fields(cls)]
    if not all(item.init and not item.kw_only for item in fields(cls)):
        raise TypeError(f"{cls.__name__}'s constructor does not take every field in order")
    params = ", ".join(f"{name}=_KEEP" for name in names)
    values = ", ".join(f"value.{name} if {name} is _KEEP else {name}" for name in names)
    scope: dict[str, Any] = {"_cls": cls, "_KEEP": _KEEP}
    exec(f"def replace(value, /, *, {params}):\n    return _cls({values})\n", scope)  # noqa: S102
    made: Callable[..., Any] = scope["replace"]
    return made


class StoredIds(Mapping[str, str]):
    """External ids kept as the JSON object text they are stored as; parsed only when looked
    into, so a read that merely renders them never decodes them."""

    __slots__ = ("_parsed", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._parsed: dict[str, str] | None = None

    def _ids(self) -> dict[str, str]:
        if self._parsed is None:
            self._parsed = orjson.loads(self.text)
        return self._parsed

    def __getitem__(self, kind: str) -> str:
        return self._ids()[kind]

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids())

    def __len__(self) -> int:
        return len(self._ids())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, StoredIds) and other.text == self.text:
            return True  # without parsing either: items kept by their columns compare so
        return isinstance(other, Mapping) and dict(self._ids()) == dict(other)

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"StoredIds({self.text})"


@frozen
class CatalogItem:
    """One canonical catalog record; `ids` holds the external ids (simkl is `id`)."""

    id: int
    type: MediaType
    title: str
    year: int | None = None
    status: str | None = None
    total_episodes: int | None = None
    anime_type: str | None = None
    release_date: str | None = None
    ids: Mapping[str, str] = field(default_factory=dict)
    poster: str | None = None
    runtime: int | None = None

    @property
    def is_movie_like(self) -> bool:
        """Movies, and anime films, which clients may send under `movies[]`."""
        return is_movie_like(self.type, self.anime_type)


# An episode by (season, number); a user's watched episodes of one item, with their dates.
EpisodeKey = tuple[int, int]
WatchedEpisodes = dict[EpisodeKey, int | None]


@frozen
class CatalogEpisode:
    """One episode the catalog knows of a show or anime (season 0: specials)."""

    season: int
    number: int
    title: str | None = None
    aired_at: int | None = None
    runtime: int | None = None
    tvdb_id: int | None = None
    tvdb_season: int | None = None
    tvdb_number: int | None = None
    anidb_id: int | None = None


@frozen
class WatchedEpisode:
    """A watched episode as a library read renders it, with the catalog's facts about it."""

    season: int
    number: int
    watched_at: int | None
    runtime: int | None = None
    tvdb_id: int | None = None
    tvdb_season: int | None = None
    tvdb_number: int | None = None


@frozen
class ItemRef:
    """How a request item identifies its media: ids in priority order, then title and year."""

    wrapper: Wrapper
    simkl: int | None = None
    external: tuple[tuple[str, str], ...] = ()
    title_key: str | None = None
    year: int | None = None


@frozen
class EpisodeTarget:
    """An episode a write names: season and number, or an episode id resolved through the
    catalog (`tvdb`), and its own `watched_at` when given."""

    season: int
    number: int | None
    watched_at: int | None = None
    tvdb: int | None = None


@frozen
class SeasonTarget:
    """A season a write names: every episode of it (`episodes` None) or those listed."""

    number: int
    episodes: tuple[EpisodeTarget, ...] | None = None
    watched_at: int | None = None


@frozen
class SyncItem:
    """One item of a sync write: the object exactly as sent (what responses echo), how it
    identifies its media, and the seasons or episodes it narrows the write to (None: the whole
    item). `bad_date` marks an item carrying a date that does not parse: it is reported in
    `not_found`, never applied with a date the user did not give. Domain outcomes hand these
    back, so nothing is joined by position."""

    sent: Mapping[str, Any]
    ref: ItemRef
    seasons: tuple[SeasonTarget, ...] | None = None
    bad_date: bool = False


@frozen
class Caller:
    """The authenticated app and user behind a request, and whether its token may write."""

    app_id: int
    user_id: int
    can_write: bool = True


class AppKind(StrEnum):
    """How an app is registered: where its code runs decides whether it can keep a secret."""

    SERVER = "server"  # a backend: has a client_secret
    PUBLIC = "public"  # mobile, desktop, browser: no secret, redirect URIs, PKCE
    DEVICE = "device"  # TV, console, command line: no secret, no redirect URI

    @property
    def has_secret(self) -> bool:
        """Only server apps are issued a client_secret."""
        return self is AppKind.SERVER


@frozen
class App:
    """A registered client application; its secret is known only by its hash."""

    id: int
    name: str
    client_id: str
    secret_hash: str | None
    redirect_uris: tuple[str, ...]
    kind: AppKind = AppKind.SERVER
    auth_version: int = 1
    owner_id: int | None = None
    created_at: int = 0

    @property
    def is_v2(self) -> bool:
        """Registered for AUTH V2 (the /oauth2/ endpoints only)."""
        return self.auth_version == 2


@frozen
class NewApp:
    """An app just registered, with the one sight of its client_secret there will ever be."""

    app: App
    client_secret: str | None


@frozen
class User:
    """A user account as the admin commands list it."""

    id: int
    username: str
    created_at: int


@frozen
class Account:
    """What signing in needs of a user: the id and the password hash (None: no password)."""

    id: int
    username: str
    password_hash: str | None


@frozen
class Grant:
    """A live grant of a user to an app, as Connected apps and the admin commands list it."""

    id: int
    app_name: str
    client_id: str
    username: str
    auth_version: int
    scope: str
    created_at: int


@frozen
class V1Grant:
    """The one AUTH V1 grant of an (app, user) pair: revoked grants keep their generation."""

    id: int
    generation: int
    revoked_at: int | None


@frozen
class V2Grant:
    """An AUTH V2 grant found by its refresh token."""

    id: int
    app_id: int
    user_id: int
    scope: str
    refresh_expires_at: int


@frozen
class AuthCode:
    """An authorization code, as its exchange reads it."""

    app_id: int
    user_id: int
    auth_version: int
    scope: str
    redirect_uri: str | None
    challenge: str | None
    challenge_method: str | None
    expires_at: int


@frozen
class UserCode:
    """A PIN (AUTH V1) or device code (AUTH V2) awaiting a user's decision."""

    id: int
    user_code: str
    app_id: int
    auth_version: int
    scope: str
    redirect: str | None
    expires_at: int
    last_poll_at: int | None
    user_id: int | None
    decision: str | None


@frozen
class LibraryState:
    """The parts of a library entry that rating writes read before changing it."""

    status: ListStatus
    user_rating: int | None
    user_rated_at: int | None


@frozen
class Memo:
    """A user's note on a library entry."""

    text: str
    is_private: bool


@frozen
class LibraryEntry:
    """Everything a library entry holds besides its episodes, as writes read and rewrite it."""

    item_id: int
    status: ListStatus
    added_at: int
    last_watched_at: int | None = None
    user_rating: int | None = None
    user_rated_at: int | None = None
    watched_episodes: int = 0
    last_watched: str | None = None
    next_to_watch: str | None = None
    memo: Memo | None = None


@dataclass(slots=True)
class RewatchSession:
    """A rewatch session of an item (PRO / VIP): `active`, `completed` or `closed`, and the
    episodes watched in it (none for a movie)."""

    id: int
    item_id: int
    status: str
    started_at: int
    last_watched_at: int | None
    changed_at: int
    episodes: dict[EpisodeKey, int | None] = field(default_factory=dict)


@frozen
class LibraryWrite:
    """An entry to store as given, and which delta stamps it moves."""

    entry: LibraryEntry
    list_changed: bool = True
    rating_changed: bool = False


@frozen
class LibraryQuery:
    """Which library rows a read returns: types, optionally statuses (None: every status),
    an optional delta start (rows whose list side changed after it), and whether anime are
    narrowed to anime films."""

    types: frozenset[MediaType]
    statuses: frozenset[ListStatus] | None = None
    changed_after: int | None = None
    anime_movies: bool = False


@frozen
class LibraryView:
    """How a library read renders rows, as its query parameters ask: ids only (`ids_only`,
    `simkl_ids_only`), `full` (runtime and watched episodes), `anime_seasons` (TVDB mapping
    of anime), memos, the next episode's details, per-episode extras, episodes of completed
    and dropped items too (`all_episodes`: "yes" or "original"), rewatch sessions."""

    ids: str | None = None
    full: bool = False
    anime_seasons: bool = False
    memos: bool = False
    next_watch_info: bool = False
    episode_watched_at: bool = False
    episode_runtime: bool = False
    episode_tvdb_id: bool = False
    all_episodes: str | None = None
    rewatches: bool = False


# Library rows each process keeps as read (storage/library.py) and as rendered
# (wire/library.py), about 1 KB each. A read of more rows than half of them makes and renders
# its rows anew: it would push every kept row out before it came round again, paying for
# keeping each one and never finding one.
ROWS_KEPT = 8_192


def keeps_rows(count: int) -> bool:
    """Whether a read of `count` rows uses the rows kept."""
    return count <= ROWS_KEPT // 2


class KeptReads(Generic[K, V]):
    """Whole small reads, by what each was read or rendered from, the least recently used
    going first once they hold more than half of ROWS_KEPT rows in all. Clients poll the
    same small library over and over: a read that finds itself here skips its per-row work.
    Thread-safe: a read the event loop cannot take runs in a worker thread."""

    def __init__(self, rows_limit: int = ROWS_KEPT // 2) -> None:
        self._limit = rows_limit
        self._reads: OrderedDict[K, tuple[int, V]] = OrderedDict()
        self._rows = 0
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The read kept under `key`, if any (now the most recently used)."""
        with self._lock:
            kept = self._reads.get(key)
            if kept is None:
                return None
            self._reads.move_to_end(key)
            return kept[1]

    def put(self, key: K, value: V, *, rows: int) -> None:
        """Keep a read of `rows` rows (none larger than the whole limit)."""
        if rows > self._limit:
            return
        with self._lock:
            replaced = self._reads.pop(key, None)
            if replaced is not None:
                self._rows -= replaced[0]
            self._reads[key] = (rows, value)
            self._rows += rows
            while self._rows > self._limit:
                _, (dropped, _) = self._reads.popitem(last=False)
                self._rows -= dropped


@frozen
class LibraryRow:
    """A library entry joined with its catalog item, as read endpoints render it;
    `not_aired` counts the item's episodes that have not aired yet."""

    item: CatalogItem
    status: ListStatus
    user_rating: int | None
    user_rated_at: int | None
    last_watched_at: int | None
    last_watched: str | None
    next_to_watch: str | None
    added_at: int = 0
    watched_episodes: int = 0
    not_aired: int = 0
    memo: Memo | None = None


@frozen
class UserProfile:
    """The account facts /users/settings reports."""

    id: int
    username: str
    created_at: int
    timezone: str
    account_type: str


@frozen
class RatingWrite:
    """One library row a rating write leaves behind; `status` is used only for new rows."""

    item_id: int
    status: ListStatus
    rating: int
    rated_at: int


@frozen
class RatingsQuery:
    """Which library rows a ratings read returns: types, an optional set of rating values
    (None: no rating filter; empty: nothing can match), an optional delta start."""

    types: frozenset[MediaType]
    ratings: frozenset[int] | None = None
    changed_after: int | None = None


@frozen
class CatalogUpsert:
    """A catalog item to create or update, with the index keys of its external ids."""

    item: CatalogItem
    title_key: str
    keys: Sequence[str]


@frozen
class CatalogQuery:
    """Everything a batch needs from the catalog, gathered for a single lookup."""

    simkl_ids: frozenset[int]
    id_keys: frozenset[str]
    title_keys: frozenset[str]


@dataclass(slots=True)
class CatalogHits:
    """What the catalog returned for a CatalogQuery; `stamp`, when the answer came from the
    process's memory of earlier lookups, is the catalog stamp it was kept under (a write
    relying on it checks the stamp still stands), None when this request read it."""

    by_simkl: dict[int, CatalogItem] = field(default_factory=dict)
    by_key: dict[str, CatalogItem] = field(default_factory=dict)
    by_title: dict[str, list[CatalogItem]] = field(default_factory=dict)
    stamp: int | None = None


_RUNNING_STATES = ("playing", "checkin")
MOVIE_KEY: EpisodeKey = (-1, -1)  # where a movie's playback row keeps its (season, number)


@dataclass(slots=True)
class Playback:
    """A user's scrobble state of one movie or episode (`key` is MOVIE_KEY for a movie):
    `state` is `playing`, `paused`, `checkin` or `ended`; `progress` in hundredths of a
    percent; `scrobbled_at` the last watch a stop recorded."""

    id: int
    item_id: int
    key: EpisodeKey
    state: str
    progress: int
    started_at: int
    paused_at: int | None = None
    expires_at: int | None = None
    scrobbled_at: int | None = None
    rewatch: bool = False

    @property
    def running(self) -> bool:
        """Whether the session still runs (started or checked in)."""
        return self.state in _RUNNING_STATES

    def end(self) -> None:
        """Nothing open any more: neither paused, playing nor checked in (its watch is kept),
        as the `end` statement leaves the row."""
        self.state, self.paused_at, self.expires_at = "ended", None, None


@frozen
class PausedQuery:
    """Which paused playbacks a list read wants (times in epoch milliseconds)."""

    since: int
    date_from: int
    date_to: int
    movies: bool
    episodes: bool
    limit: int


@frozen
class Fault:
    """A failure on demand: requests whose method and path match get `respond` instead of
    being applied, `times_left` more times (None: each with `probability`, drawn from
    `seed`), after `delay_ms`."""

    id: int
    method: str
    path: str
    respond: str
    times_left: int | None
    probability: float | None
    seed: int
    delay_ms: int
    retry_after_s: int
    hits: int


@frozen
class JournalEntry:
    """One request as the journal keeps it, secrets already masked."""

    id: int
    at: int
    method: str
    path: str
    query: str
    headers: Sequence[tuple[str, str]]
    body: str | None
    status: int
    response_body: str | None
    fault: str | None
