"""Value types shared by the domain, the wire shapes and the store."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import orjson

from simkl_server.domain.kinds import ListStatus, MediaType, Wrapper, is_movie_like


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
    def is_movie_like(self) -> bool:
        """Movies, and anime films, which clients may send under `movies[]`."""
        return is_movie_like(self.type, self.anime_type)


@dataclass(frozen=True, slots=True)
class ItemRef:
    """How a request item identifies its media: ids in priority order, then title and year."""

    wrapper: Wrapper
    simkl: int | None = None
    external: tuple[tuple[str, str], ...] = ()
    title_key: str | None = None
    year: int | None = None


@dataclass(frozen=True, slots=True)
class SyncItem:
    """One item of a sync write: the object exactly as sent (what responses echo) and how it
    identifies its media. Domain outcomes hand these back, so nothing is joined by position."""

    sent: Mapping[str, Any]
    ref: ItemRef


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class NewApp:
    """An app just registered, with the one sight of its client_secret there will ever be."""

    app: App
    client_secret: str | None


@dataclass(frozen=True, slots=True)
class User:
    """A user account as the admin commands list it."""

    id: int
    username: str
    created_at: int


@dataclass(frozen=True, slots=True)
class Account:
    """What signing in needs of a user: the id and the password hash (None: no password)."""

    id: int
    username: str
    password_hash: str | None


@dataclass(frozen=True, slots=True)
class Grant:
    """A live grant of a user to an app, as Connected apps and the admin commands list it."""

    id: int
    app_name: str
    client_id: str
    username: str
    auth_version: int
    scope: str
    created_at: int


@dataclass(frozen=True, slots=True)
class V1Grant:
    """The one AUTH V1 grant of an (app, user) pair: revoked grants keep their generation."""

    id: int
    generation: int
    revoked_at: int | None


@dataclass(frozen=True, slots=True)
class V2Grant:
    """An AUTH V2 grant found by its refresh token."""

    id: int
    app_id: int
    user_id: int
    scope: str
    refresh_expires_at: int


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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
class RatingWrite:
    """One library row a rating write leaves behind; `status` is used only for new rows."""

    item_id: int
    status: ListStatus
    rating: int
    rated_at: int


@dataclass(frozen=True, slots=True)
class RatingsQuery:
    """Which library rows a ratings read returns: types, an optional set of rating values
    (None: no rating filter; empty: nothing can match), an optional delta start."""

    types: frozenset[MediaType]
    ratings: frozenset[int] | None = None
    changed_after: int | None = None


@dataclass(frozen=True, slots=True)
class CatalogUpsert:
    """A catalog item to create or update, with the index keys of its external ids."""

    item: CatalogItem
    title_key: str
    keys: Sequence[str]


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
