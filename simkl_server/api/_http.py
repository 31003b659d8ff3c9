"""Small HTTP helpers shared by the handlers: the app's services, JSON responses, bounded body
reads (each body under its size limit, large bodies under one budget for all requests together)
and query values."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar
from urllib.parse import unquote_plus

import orjson
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Scope

from simkl_server.config import Settings
from simkl_server.errors import BodyTooLarge, ServiceUnavailable, WrongParameter
from simkl_server.storage.base import Store

T = TypeVar("T")


class JSONResponse(Response):
    """A response whose body is encoded with orjson."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Encode the content."""
        return encode_json(content)


def encode_json(content: Any) -> bytes:
    """JSON bytes of a response; an integer a client sent beyond 64 bits is written exactly."""
    try:
        return orjson.dumps(content)
    except orjson.JSONEncodeError:
        # Only integers of a subclass (WideInt) reach `_exact`; everything else is as before.
        return orjson.dumps(content, option=orjson.OPT_PASSTHROUGH_SUBCLASS, default=_exact)


def _exact(value: Any) -> Any:
    if isinstance(value, int):
        return orjson.Fragment(int.__repr__(value).encode("ascii"))
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


async def render_off_loop(
    render: Callable[[T], Any], value: T, *, status_code: int = 200
) -> Response:
    """A JSON response whose body is built and encoded in a worker thread: a large library
    takes tens of milliseconds to render, which the event loop must not spend."""

    def encode() -> bytes:
        return encode_json(render(value))

    body = await asyncio.to_thread(encode)
    return Response(body, status_code=status_code, media_type="application/json")


# Bodies up to this size are read without asking the budget (the server's read buffer holds
# about as much per connection anyway).
SMALL_BODY_BYTES = 64 * 1024
_RESERVED = "simkl_server.body_bytes"  # scope key: what this request holds of the budget


class BodyBudget:
    """Bytes of large request bodies held at once, all requests together, until each request
    is answered: a body that does not fit waits its turn, in arrival order, up to `wait_s`,
    then gets 503 (a hundred clients sending 8 MiB each cannot make the server hold 800 MiB)."""

    def __init__(self, total: int, *, wait_s: float) -> None:
        self._total = total
        self._free = total
        self._wait_s = wait_s
        self._waiting: deque[tuple[int, asyncio.Future[None]]] = deque()

    async def reserve(self, scope: Scope, size: int) -> None:
        """Hold `size` bytes (at most the whole budget) for this request."""
        size = min(size, self._total)
        if not self._waiting and size <= self._free:
            self._free -= size
        else:
            await self._wait_for(size)
        scope[_RESERVED] = scope.get(_RESERVED, 0) + size

    async def _wait_for(self, size: int) -> None:
        entry = (size, asyncio.get_running_loop().create_future())
        self._waiting.append(entry)
        try:
            async with asyncio.timeout(self._wait_s):
                await entry[1]
        except BaseException as exc:
            if entry[1].done() and not entry[1].cancelled():
                self._free += size  # granted as it gave up: hand it on
            elif entry in self._waiting:
                self._waiting.remove(entry)
            self._grant()
            if isinstance(exc, TimeoutError):
                raise ServiceUnavailable(
                    "The server is busy receiving other large requests; try again shortly"
                ) from None
            raise

    def release(self, scope: Scope) -> None:
        """Give back what the request held, once it has been answered."""
        held = scope.pop(_RESERVED, 0)
        if held:
            self._free += held
            self._grant()

    def _grant(self) -> None:
        while self._waiting and self._waiting[0][0] <= self._free:
            size, granted = self._waiting.popleft()
            if not granted.done():
                self._free -= size
                granted.set_result(None)


async def read_body(request: Request, *, limit: int) -> bytes:
    """The request body, refused with 413 once it grows past `limit` bytes and with 400 when
    it holds more JSON objects and arrays than the server parses; a body over 64 KiB waits for
    room in the server's body budget first."""
    declared = request.headers.get("content-length")
    budget: BodyBudget = request.scope["app"].bodies
    if declared is not None:
        if not declared.isdigit():
            raise WrongParameter("Content-Length is not a number")
        if int(declared) > limit:
            raise BodyTooLarge(f"Request body is larger than {limit} bytes")
        if int(declared) > SMALL_BODY_BYTES:
            await budget.reserve(request.scope, int(declared))
    # Straight from the ASGI channel: Starlette's stream() adds layers a small body pays for.
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunk: bytes = message.get("body", b"")
        if declared is None and size <= SMALL_BODY_BYTES < size + len(chunk):
            await budget.reserve(request.scope, limit)  # streamed: its size is unknown
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"Request body is larger than {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            _check_containers(body, services(request).settings.max_json_containers)
            return body


def _check_containers(body: bytes, limit: int) -> None:
    """Refuse a body with more JSON objects and arrays than `limit` before it is parsed (each
    costs about a hundred bytes of memory once parsed; every `{` and `[` byte is counted, so
    the test is cheap and errs on the safe side)."""
    if len(body) > limit and body.count(b"{") + body.count(b"[") > limit:
        raise WrongParameter(f"Request body holds more than {limit} JSON objects and arrays")


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
    bodies: BodyBudget


def services(request: Request) -> Services:
    """The running app's services."""
    app: SimklApp = request.scope["app"]
    return app.services
