"""Small HTTP helpers shared by the handlers: the app's services, JSON responses, bounded body
reads and query values."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar
from urllib.parse import unquote_plus

import orjson
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from simkl_server.config import Settings
from simkl_server.errors import BodyTooLarge, WrongParameter
from simkl_server.storage.base import Store

T = TypeVar("T")


class JSONResponse(Response):
    """A response whose body is encoded with orjson."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Encode the content."""
        return orjson.dumps(content)


async def encode_off_loop(encode: Callable[[T], bytes], value: T) -> Response:
    """A JSON response whose body is built and encoded in a worker thread: a large library
    takes tens of milliseconds to render, which the event loop must not spend."""
    body = await asyncio.to_thread(encode, value)
    return Response(body, media_type="application/json")


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


class SimklApp(Starlette):
    """The Starlette app with its services as a plain attribute: every handler reaches them,
    and Starlette's `state` costs a `__getattr__` call per lookup."""

    services: Services


def services(request: Request) -> Services:
    """The running app's services."""
    app: SimklApp = request.scope["app"]
    return app.services
