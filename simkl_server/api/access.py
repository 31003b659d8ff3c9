"""What the access log and the identification note read from a request: who is calling, and
the request target with every secret-looking query value masked.

Both run on every request, so the query is split once, names the Simkl API uses are known
without a second look, and nothing is decoded, lowered or matched unless it has to be.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import unquote_plus

from starlette.types import Scope

MASK = "***"
MAX_TARGET_CHARS = 1000
MAX_NAME_CHARS = 100
# Names whose values are masked: exact, and any name containing one of the fragments.
SECRET_NAMES = frozenset({"code", "code_verifier", "key", "sig", "pin", "user_code"})
SECRET_FRAGMENTS = ("secret", "token", "passw", "pwd", "api_key", "apikey", "api-key",
                    "signature", "session", "credential", "private")  # fmt: skip
# Query names of the Simkl API that never carry a secret: no need to look at them twice.
_PLAIN_NAMES = frozenset(
    name.encode()
    for name in (
        "client_id", "app-name", "app-version", "date_from", "extended", "type", "page",
        "limit", "memos", "rating", "redirect_uri", "response_type", "state", "q",
        "episode_watched_at", "next_watch_info",
    )
)  # fmt: skip
_IDENTITY_SLOTS = {b"app-name": 0, b"app-version": 1, b"client_id": 2}


class Identity(NamedTuple):
    """How a request names its app: app-name, app-version, client_id, and a User-Agent."""

    app_name: str | None
    app_version: str | None
    client_id: str | None
    has_user_agent: bool

    def describe(self) -> str:
        """`app-name/app-version`, else `client_id=...`, else `-`."""
        if self.app_name:
            text = f"{self.app_name[:MAX_NAME_CHARS]}/{(self.app_version or '-')[:MAX_NAME_CHARS]}"
        elif self.client_id:
            text = f"client_id={self.client_id[:MAX_NAME_CHARS]}"
        else:
            return "-"
        return text if text.isprintable() else _escaped(text)


class Seen(NamedTuple):
    """A request as the access log reports it: who called, and what it asked for."""

    identity: Identity
    target: str


def identity(scope: Scope) -> Identity:
    """Read app-name, app-version and client_id (query, or the simkl-api-key header) and
    whether a User-Agent came."""
    return _read(scope, with_target=False).identity


def seen(scope: Scope) -> Seen:
    """Who called and the target (path as sent, query with secrets masked), in one pass."""
    return _read(scope, with_target=True)


def _read(scope: Scope, *, with_target: bool) -> Seen:
    slots: list[bytes | None] = [None, None, None]
    secret = False
    query: bytes = scope.get("query_string", b"")
    if query:
        for part in query.split(b"&"):
            name, _, value = part.partition(b"=")
            slot = _IDENTITY_SLOTS.get(name)
            if slot is not None:
                if slots[slot] is None:
                    slots[slot] = value
            elif name not in _PLAIN_NAMES and not secret:
                secret = is_secret_name(decode_query_part(name))
    has_agent = False
    for name, value in scope["headers"]:
        if name == b"user-agent":
            has_agent = True
        elif name == b"simkl-api-key" and slots[2] is None:
            slots[2] = value
    app_name, app_version, client_id = slots
    who = Identity(
        None if app_name is None else decode_query_part(app_name),
        None if app_version is None else decode_query_part(app_version),
        None if client_id is None else decode_query_part(client_id),
        has_agent,
    )
    return Seen(who, _target(scope, query, secret) if with_target else "")


def _target(scope: Scope, query: bytes, secret: bool) -> str:
    raw_path: bytes | None = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path is not None else scope["path"]
    if query:
        path = f"{path}?{redact_query(query) if secret else query.decode('latin-1')}"
    if len(path) > MAX_TARGET_CHARS:
        path = path[:MAX_TARGET_CHARS] + "..."
    return path if path.isprintable() else _escaped(path)


def redact_query(query: bytes) -> str:
    """The raw query with the value of every secret-looking parameter replaced by ***."""
    parts = []
    for part in query.split(b"&"):
        name, equals, _ = part.partition(b"=")
        secret = bool(equals) and is_secret_name(decode_query_part(name))
        parts.append(name.decode("latin-1") + "=" + MASK if secret else part.decode("latin-1"))
    return "&".join(parts)


def is_secret_name(name: str) -> bool:
    """Whether a query parameter of that name may carry a credential."""
    lowered = name.lower()
    return lowered in SECRET_NAMES or any(fragment in lowered for fragment in SECRET_FRAGMENTS)


def decode_query_part(value: bytes) -> str:
    """A name or value of a raw query string, decoded as Starlette decodes it (latin-1, then
    `+` and percent escapes as UTF-8); unquoting is skipped when there is nothing to undo."""
    text = value.decode("latin-1")
    return unquote_plus(text, errors="replace") if "%" in text or "+" in text else text


def _escaped(text: str) -> str:
    """Text a stranger sent with its control characters escaped, so it cannot forge a line."""
    return text.encode("unicode_escape").decode("ascii")
