"""Small HTTP helpers shared by the handlers: the app's services, JSON responses, bounded body
reads and query values."""

from __future__ import annotations

import asyncio
import gc
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple, TypeVar
from urllib.parse import unquote_plus, urlsplit

import orjson
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp

from simkl_server.api.cors import SimklCors
from simkl_server.config import Settings
from simkl_server.domain.tokens import Keys
from simkl_server.errors import BodyTooLarge, WrongParameter
from simkl_server.storage.base import Store

T = TypeVar("T")


class JSONResponse(Response):
    """A response whose body is encoded with orjson."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Encode the content."""
        return orjson.dumps(content)


async def encode_off_loop(
    encode: Callable[[T], bytes], value: T, *, release: Callable[[T], None] | None = None
) -> Response:
    """A JSON response whose body is built and encoded in a worker thread: a large library
    takes tens of milliseconds to render, which the event loop must not spend. `release`
    then frees the value there too (see `LibraryRead.release`)."""

    def work() -> bytes:
        body = encode(value)
        if release is not None:
            release(value)
        return body

    body = await asyncio.to_thread(work)
    return Response(body, media_type="application/json")


_NEVER = 2**31 - 1  # a full-collection threshold no count reaches


class _FullCollections:
    """Holds the collector's automatic full collections off while large reads are in flight.

    A read of a whole library builds some 100,000 objects that live until it is rendered:
    they reach the oldest generation, and each full collection then traces all of them while
    holding the interpreter lock, stopping the event loop for tens of milliseconds, several
    times per read. Young collections go on as usual (they are what frees most cyclic
    garbage); the full ones resume when the last large read ends, by then freed."""

    def __init__(self) -> None:
        self._holders = 0
        self._threshold = 0

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold full collections off for the duration (entered on the event loop only)."""
        if self._holders == 0:
            young, middle, self._threshold = gc.get_threshold()
            gc.set_threshold(young, middle, _NEVER)
        self._holders += 1
        try:
            yield
        finally:
            self._holders -= 1
            if self._holders == 0:
                young, middle, _ = gc.get_threshold()
                gc.set_threshold(young, middle, self._threshold)


large_read = _FullCollections().held


async def read_body(request: Request, *, limit: int) -> bytes:
    """The request body, refused with 413 once it grows past `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise WrongParameter("Content-Length is not a number")
        if int(declared) > limit:
            raise BodyTooLarge(f"Request body is larger than {limit} bytes")
    # Straight from the ASGI channel: Starlette's stream() adds layers a small body pays for.
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"Request body is larger than {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def query_value(query_string: bytes, name: str) -> str | None:
    """The first value of `name` in a raw query string, decoded; the rest is never parsed
    (the hot path only ever needs one or two parameters)."""
    needle = name.encode("ascii") + b"="
    for part in query_string.split(b"&"):
        if part.startswith(needle):
            return unquote_plus(part[len(needle) :].decode("latin-1"), errors="replace")
    return None


class Services(NamedTuple):
    """What handlers share, set on the app when it starts: the one way to reach the store."""

    settings: Settings
    store: Store
    keys: Keys


class SimklApp(Starlette):
    """The Starlette app with its services as a plain attribute: every handler reaches them,
    and Starlette's `state` costs a `__getattr__` call per lookup."""

    services: Services

    def build_middleware_stack(self) -> ASGIApp:
        """CORS outermost, so even an unexpected failure's 500 is readable from a browser."""
        return SimklCors(super().build_middleware_stack())


def services(request: Request) -> Services:
    """The running app's services."""
    app: SimklApp = request.scope["app"]
    return app.services


_UNSAFE_IN_QUOTES = re.compile(r"[^A-Za-z0-9.\-:\[\]]")


def base_url(request: Request) -> str:
    """This server's public base URL: the setting, else the request's scheme and Host."""
    configured = services(request).settings.public_url
    if configured is not None:
        return configured
    host = request.headers.get("host") or "localhost"
    return f"{request.url.scheme}://{_UNSAFE_IN_QUOTES.sub('', host)[:255]}"


def realm(request: Request) -> str:
    """The host 401 challenges name (`Bearer realm="..."`), safe inside quotes."""
    return urlsplit(base_url(request)).hostname or "localhost"


def client_address(request: Request) -> str:
    """The caller's network address, as rate limits count it."""
    return request.client.host if request.client is not None else "unknown"
