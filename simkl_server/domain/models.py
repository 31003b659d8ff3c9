"""Value types shared by the domain, the wire shapes and the store."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import orjson


class MediaType(StrEnum):
    """What a catalog item is."""

    MOVIE = "movie"
    SHOW = "show"
    ANIME = "anime"


class Wrapper(StrEnum):
    """The top-level array a request item arrived in."""

    MOVIES = "movies"
    SHOWS = "shows"
    ANIME = "anime"


class ListStatus(StrEnum):
    """A library (watchlist) status."""

    WATCHING = "watching"
    PLANTOWATCH = "plantowatch"
    COMPLETED = "completed"
    HOLD = "hold"
    DROPPED = "dropped"


class ActivityDomain(StrEnum):
    """A per-type block of /sync/activities."""

    MOVIES = "movies"
    TV_SHOWS = "tv_shows"
    ANIME = "anime"


DOMAIN_OF_TYPE: dict[MediaType, ActivityDomain] = {
    MediaType.MOVIE: ActivityDomain.MOVIES,
    MediaType.SHOW: ActivityDomain.TV_SHOWS,
    MediaType.ANIME: ActivityDomain.ANIME,
}


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
        return isinstance(other, Mapping) and dict(self._ids()) == dict(other)

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"StoredIds({self.text})"


@dataclass(frozen=True, slots=True)
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

    @property
    def activity_domain(self) -> ActivityDomain:
        """The /sync/activities block this item's changes move."""
        return DOMAIN_OF_TYPE[self.type]

    @property
    def is_movie_like(self) -> bool:
        """Movies, and anime films, which clients may send under `movies[]`."""
        return self.type is MediaType.MOVIE or (
            self.type is MediaType.ANIME and self.anime_type == "movie"
        )


@dataclass(frozen=True, slots=True)
class ItemRef:
    """How a request item identifies its media: ids in priority order, then title and year."""

    wrapper: Wrapper
    simkl: int | None = None
    external: tuple[tuple[str, str], ...] = ()
    title_key: str | None = None
    year: int | None = None


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated app and user behind a request."""

    app_id: int
    user_id: int


@dataclass(frozen=True, slots=True)
class LibraryState:
    """The parts of a library entry that rating writes read before changing it."""

    status: ListStatus
    user_rating: int | None
    user_rated_at: int | None


@dataclass(frozen=True, slots=True)
class LibraryRow:
    """A library entry joined with its catalog item, as read endpoints render it."""

    item: CatalogItem
    status: ListStatus
    user_rating: int | None
    user_rated_at: int | None
    last_watched_at: int | None
    last_watched: str | None
    next_to_watch: str | None


@dataclass(frozen=True, slots=True)
class UserProfile:
    """The account facts /users/settings reports."""

    id: int
    username: str
    created_at: int
    timezone: str
    account_type: str


@dataclass(frozen=True, slots=True)
class CatalogQuery:
    """Everything a batch needs from the catalog, gathered for a single lookup."""

    simkl_ids: frozenset[int]
    id_keys: frozenset[str]
    title_keys: frozenset[str]


@dataclass(slots=True)
class CatalogHits:
    """What the catalog returned for a CatalogQuery."""

    by_simkl: dict[int, CatalogItem] = field(default_factory=dict)
    by_key: dict[str, CatalogItem] = field(default_factory=dict)
    by_title: dict[str, list[CatalogItem]] = field(default_factory=dict)
