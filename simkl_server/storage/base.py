"""The Store protocol the domain talks to; storage/store.py implements it for both databases."""

from __future__ import annotations

from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Iterable,
    Sequence,
)
from dataclasses import dataclass
from typing import Protocol, TypeVar

from simkl_server.domain.models import (
    CatalogHits,
    CatalogItem,
    CatalogQuery,
    LibraryRow,
    LibraryState,
    ListStatus,
    MediaType,
    UserProfile,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class AuthLookup:
    """Result of checking a client_id and bearer token: None where that part failed."""

    app_id: int | None
    user_id: int | None


@dataclass(frozen=True, slots=True)
class RatingWrite:
    """One library row a rating write leaves behind; `status` is used only for new rows."""

    item_id: int
    status: ListStatus
    rating: int
    rated_at: int


@dataclass(frozen=True, slots=True)
class RatingsFilter:
    """Which library rows a ratings read returns."""

    types: frozenset[MediaType]
    ratings: frozenset[int] | None = None
    changed_after: int | None = None


@dataclass(frozen=True, slots=True)
class AppRecord:
    """A registered client application."""

    id: int
    name: str
    client_id: str
    client_secret: str
    redirect_uri: str | None


@dataclass(frozen=True, slots=True)
class CatalogUpsert:
    """A catalog item to create or update, with the index keys of its external ids."""

    item: CatalogItem
    title_key: str
    keys: Sequence[str]


class WriteTx(Protocol):
    """One write transaction for one user; `now_ms` never goes back for that user."""

    now_ms: int

    async def find_catalog(self, query: CatalogQuery) -> CatalogHits:
        """Look up every id and title of a batch in one round trip."""
        ...

    async def library_states(
        self, user_id: int, item_ids: Collection[int]
    ) -> dict[int, LibraryState]:
        """The library entries the user has among `item_ids`."""
        ...

    async def clear_ratings(self, user_id: int, item_ids: Collection[int]) -> list[int]:
        """Clear the ratings on those items; return the ids that actually had one."""
        ...

    async def save_ratings(self, user_id: int, rows: Sequence[RatingWrite]) -> None:
        """Set ratings, filing items that are not yet in the library under their status."""
        ...

    async def touch_activities(self, user_id: int, buckets: Iterable[str]) -> None:
        """Move the named activity buckets (e.g. "movies.rated_at") to `now_ms`."""
        ...


class Store(Protocol):
    """Everything the domain and the composition root need from the database."""

    async def close(self) -> None:
        """Release connections."""
        ...

    async def authenticate(self, client_id: str, token: str | None) -> AuthLookup:
        """Check an app's client_id and, when given, a token issued to a user for that app."""
        ...

    async def write(self, user_id: int, work: Callable[[WriteTx], Awaitable[T]], *, size: int) -> T:
        """Run `work` as one transaction, serialised with every other write of that user."""
        ...

    async def find_catalog(self, query: CatalogQuery) -> CatalogHits:
        """Look up every id and title of a batch in one round trip (outside a write)."""
        ...

    async def ratings_rows(self, user_id: int, wanted: RatingsFilter) -> list[LibraryRow]:
        """Library rows joined with their catalog items."""
        ...

    async def activities(self, user_id: int) -> dict[str, int]:
        """Every activity bucket the user has, by name, in epoch milliseconds."""
        ...

    async def user_profile(self, user_id: int) -> UserProfile | None:
        """The user's account facts."""
        ...

    async def create_app(
        self,
        *,
        name: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str | None,
        created_at: int,
    ) -> AppRecord:
        """Register a client application."""
        ...

    async def find_app(self, client_id: str) -> AppRecord | None:
        """The app with this client_id."""
        ...

    async def create_user(self, *, username: str, created_at: int) -> int:
        """Create a user (and its first settings activity); return its id."""
        ...

    async def find_user(self, username: str) -> int | None:
        """The id of the user with this name."""
        ...

    async def token_for(self, *, app_id: int, user_id: int) -> str | None:
        """The live token of this (app, user) pair."""
        ...

    async def create_token(self, *, token: str, app_id: int, user_id: int, created_at: int) -> None:
        """Store a newly issued access token."""
        ...

    async def revoke_token(self, *, token: str, revoked_at: int) -> bool:
        """Revoke a live access token; False when there was none to revoke."""
        ...

    async def upsert_catalog(self, items: Sequence[CatalogUpsert]) -> None:
        """Create or update catalog items and replace their index keys."""
        ...

    async def catalog_owners(self, keys: Collection[str]) -> dict[str, int]:
        """Which item currently owns each of these index keys."""
        ...

    async def catalog_items(self, item_ids: Collection[int]) -> dict[int, CatalogItem]:
        """Catalog items by simkl id."""
        ...

    def iter_catalog(self, batch: int = 1000) -> AsyncIterator[Sequence[CatalogItem]]:
        """Every catalog item, in id order, in batches."""
        ...

    async def catalog_size(self) -> int:
        """Number of catalog items."""
        ...

    async def max_catalog_id(self, *, at_least: int) -> int | None:
        """Largest simkl id at or above `at_least` (local ids are minted above it)."""
        ...

    async def refresh_statistics(self) -> None:
        """Let the query planner see the tables' current sizes (after bulk loads)."""
        ...

    async def reset(self, *, keep_catalog: bool) -> None:
        """Delete all user state (and the catalog unless kept)."""
        ...
