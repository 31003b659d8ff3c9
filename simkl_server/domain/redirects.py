"""Redirect URIs: which may be registered, and whether a requested one matches.

AUTH V1 compares byte for byte. AUTH V2 does too, except that a loopback host (127.0.0.1,
localhost, [::1]) ignores the port (RFC 8252 §7.3: a desktop app binds any free port), and a
public app may register the literal host `*.local` to match any `<name>.local` device.
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

MAX_URIS = 20
MAX_URI_CHARS = 2000
_UNSAFE_SCHEMES = frozenset({"javascript", "data", "vbscript", "file", "about", "blob"})
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]"})


class RedirectUriError(ValueError):
    """A redirect URI that may not be registered."""


def validate(uris: list[str]) -> tuple[str, ...]:
    """The URIs to register, each checked: absolute, no fragment, no unsafe scheme."""
    cleaned = [uri.strip() for uri in uris if uri.strip()]
    if len(cleaned) > MAX_URIS:
        raise RedirectUriError(f"at most {MAX_URIS} redirect URIs")
    for uri in cleaned:
        _check(uri)
    return tuple(dict.fromkeys(cleaned))


def _check(uri: str) -> None:
    if len(uri) > MAX_URI_CHARS or any(ord(c) < 0x21 or c == "\x7f" for c in uri):
        raise RedirectUriError(f"redirect URI {uri[:80]!r} is too long or holds spaces")
    parts = _split(uri)
    if parts is None or not parts.scheme or "#" in uri:
        raise RedirectUriError(f"redirect URI {uri!r} needs a scheme and no fragment")
    if parts.scheme.lower() in _UNSAFE_SCHEMES:
        raise RedirectUriError(f"redirect URI scheme {parts.scheme!r} is not allowed")
    if parts.scheme.lower() in {"http", "https"} and not parts.netloc:
        raise RedirectUriError(f"redirect URI {uri!r} names no host")


def _split(uri: str) -> SplitResult | None:
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 -- raises on a malformed port
    except ValueError:
        return None
    return parts


def matches_v1(requested: str, registered: tuple[str, ...]) -> bool:
    """AUTH V1: byte for byte."""
    return requested in registered


def matches_v2(requested: str, registered: tuple[str, ...], *, allow_local: bool) -> bool:
    """AUTH V2: byte for byte, a loopback URI with any port, or a `*.local` registration."""
    if "#" in requested:
        return False
    if requested in registered:
        return True
    parts = _split(requested)
    if parts is None or not parts.hostname:
        return False
    return any(_relaxed_match(parts, uri, allow_local=allow_local) for uri in registered)


def _relaxed_match(requested: SplitResult, uri: str, *, allow_local: bool) -> bool:
    registered = _split(uri)
    if registered is None or (requested.scheme, requested.path, requested.query) != (
        registered.scheme,
        registered.path,
        registered.query,
    ):
        return False
    host = _host(requested)
    if host in _LOOPBACK and registered.port is None:
        return _host(registered) == host
    local = allow_local and registered.netloc.split(":")[0] == "*.local"
    return local and host.endswith(".local") and requested.port == registered.port


def _host(parts: SplitResult) -> str:
    """The host as written (case kept: V2 matching is a string comparison)."""
    host = parts.netloc.rsplit("@", 1)[-1]
    if host.startswith("["):
        return host[: host.index("]") + 1]
    return host.split(":")[0]
