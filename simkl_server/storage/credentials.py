"""Authentications a process has seen succeed, trusted while the database's auth stamp stands.

Every request used to look its token up (a join of apps and tokens). A token's answer can only
change when a token, an app or a user is deleted or changed, and triggers move the one-row
`auth_stamp` whenever that happens (migration 0007), in any process. So a process keeps each
successful authentication under the stamp it read before looking it up, and answers from
memory while the stamp has not moved: a revoked token still fails on its next request.

A request answered from memory is checked against the stamp before its answer leaves
(`Deferred`), most often at no cost: a user write's lock statement (on PostgreSQL, its one
server-side call) returns the stamp, and so do the small reads most polled (activities, the
user's settings). The token is looked up again, in the same transaction where there is one,
only if the stamp moved. A request that reads the stamp nowhere else pays one tiny statement.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import NamedTuple

# Entries kept before the cache starts afresh: more distinct live tokens than a server sees.
CACHE_LIMIT = 10_000


class Authentication(NamedTuple):
    """What one lookup tells about a request: its app and, if the token is that app's, the
    token's user, scope and expiry."""

    app_id: int
    auth_version: int
    user_id: int | None
    scope: str | None
    expires_at: int | None


class CredentialChanged(Exception):
    """A cached authentication no longer holds (found again in the write's transaction)."""

    def __init__(self, found: Authentication | None) -> None:
        super().__init__("the request's credential changed while it ran")
        self.found = found


class CredentialCache:
    """Successful authentications by (client_id, token hash), valid for one stamp."""

    def __init__(self, limit: int = CACHE_LIMIT) -> None:
        self._limit = limit
        self._stamp: int | None = None
        self._known: dict[tuple[str, str], Authentication] = {}

    @property
    def stamp(self) -> int | None:
        """The stamp the entries hold for."""
        return self._stamp

    def observe(self, stamp: int) -> None:
        """The stamp as just read: a moved stamp empties the cache."""
        if stamp != self._stamp:
            self._known.clear()
            self._stamp = stamp

    def get(self, client_id: str, token_hash: str) -> Authentication | None:
        """The cached authentication, if any."""
        return self._known.get((client_id, token_hash))

    def put(self, client_id: str, token_hash: str, found: Authentication, *, stamp: int) -> None:
        """Keep a successful authentication that was looked up under `stamp`."""
        if stamp != self._stamp:
            return  # the stamp moved meanwhile: the lookup may predate a revocation
        if len(self._known) >= self._limit:
            self._known.clear()
        self._known[(client_id, token_hash)] = found


@dataclass(slots=True)
class Deferred:
    """A write request's authentication, answered from the cache without reading the stamp:
    the request's first transaction checks the stamp (a user write in its lock statement), or,
    if the request opens none, it is checked before the answer leaves."""

    client_id: str
    token_hash: str
    found: Authentication
    stamp: int


class RequestCredentials:
    """One request's deferred check, if any (set by authentication, taken by the store)."""

    __slots__ = ("deferred",)

    def __init__(self) -> None:
        self.deferred: Deferred | None = None

    def take(self) -> Deferred | None:
        """The pending check, once."""
        deferred, self.deferred = self.deferred, None
        return deferred


# The current request's credentials; None outside a request (commands, tests calling the
# domain): nothing is deferred there.
CURRENT: ContextVar[RequestCredentials | None] = ContextVar("simkl_credentials", default=None)


def settle_by(stamp: int | None) -> None:
    """A read that returned the auth stamp beside its rows settles the request's deferred
    check when it is the stamp the check was cached under: the token held when the rows were
    read. Otherwise the check stays for the request's end, which looks the token up again."""
    request = CURRENT.get()
    if request is not None and request.deferred is not None and request.deferred.stamp == stamp:
        request.deferred = None


class RequestSpan:
    """The span of one request: an authentication inside it may be deferred. A class, not a
    generator: it is entered on every request, and a generator's context manager costs
    several calls more."""

    __slots__ = ("_token",)

    def __enter__(self) -> None:
        self._token = CURRENT.set(RequestCredentials())

    def __exit__(self, *exc_info: object) -> None:
        CURRENT.reset(self._token)


request_credentials = RequestSpan
