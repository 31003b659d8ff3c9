"""Small HTTP helpers shared by the handlers: the app's services, JSON responses, bounded body
reads (each body under its size limit, large bodies under one budget for all requests together)
and query values."""

from __future__ import annotations

import asyncio
import gc
import re
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any, NamedTuple, TypeVar
from urllib.parse import unquote_plus, urlsplit

import orjson
from starlette._utils import get_route_path
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from simkl_server.api.access import decode_query_part
from simkl_server.api.cors import SimklCors
from simkl_server.config import Settings
from simkl_server.domain.library import LibraryRead
from simkl_server.domain.tokens import Keys
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


# Bodies up to this size are read without asking the budget (the server's read buffer holds
# about as much per connection anyway).
SMALL_BODY_BYTES = 64 * 1024
# Every byte but `{` and `[`: deleting them leaves one byte per object or array opened.
_NOT_OPENING = bytes(byte for byte in range(256) if byte not in b"{[")
_HELD = "simkl_server.held"  # scope key: what to give back once the request is answered
# Large reads (a whole library) built and sent at once: each holds its whole answer in memory.
LARGE_READS_AT_ONCE = 2


def hold_until_answered(scope: Scope, release: Callable[[], None]) -> None:
    """Have `release` called once the request has been answered (its body sent, or the
    client gone): EdgeMiddleware calls `release_held` last."""
    scope.setdefault(_HELD, []).append(release)


def release_held(scope: Scope) -> None:
    """Give back everything the request held."""
    for release in scope.pop(_HELD, ()):
        release()


# A read of more rows than this is large: it waits for one of LARGE_READS_AT_ONCE slots.
LARGE_READ_ROWS = 200


class LargeReads:
    """How many large reads are built and sent at once (the rest wait their turn), so their
    answers, megabytes each, are never all in memory together."""

    def __init__(self, at_once: int = LARGE_READS_AT_ONCE) -> None:
        self._slots = asyncio.Semaphore(at_once)

    async def admit(self, scope: Scope) -> None:
        """Wait for a slot, held until the request has been answered."""
        await self._slots.acquire()
        hold_until_answered(scope, self._slots.release)


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
        """Hold `size` bytes (at most the whole budget) until the request is answered."""
        size = min(size, self._total)
        if not self._waiting and size <= self._free:
            self._free -= size
        else:
            await self._wait_for(size)
        hold_until_answered(scope, lambda: self._give_back(size))

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

    def _give_back(self, size: int) -> None:
        self._free += size
        self._grant()

    def _grant(self) -> None:
        while self._waiting and self._waiting[0][0] <= self._free:
            size, granted = self._waiting.popleft()
            if not granted.done():
                self._free -= size
                granted.set_result(None)


async def admit_large(request: Request, rows: int) -> None:
    """Wait for a large-read slot when a read came back with more than LARGE_READ_ROWS rows:
    at most LARGE_READS_AT_ONCE such answers are rendered and sent at once."""
    if rows > LARGE_READ_ROWS:
        app: SimklApp = request.scope["app"]
        await app.large_reads.admit(request.scope)


async def encode_read(
    parts: Callable[[LibraryRead], Iterator[bytes]], read: LibraryRead
) -> Response:
    """A library read's JSON response: built on the loop when the read is small (a thread hop
    would cost more), else streamed: rendered a part at a time in a worker thread (a large
    library takes tens of milliseconds to render, which the event loop must not spend), each
    part sent before the next is rendered, so the answer is never held whole."""
    if read.small:
        return Response(b"".join(parts(read)), media_type="application/json")
    return StreamingResponse(_streamed(_Parts(parts(read), read)), media_type="application/json")


class _Parts:
    """A read's parts, taken one at a time in worker threads; the read is freed there too,
    after the last part or after the part in progress when the client went away."""

    def __init__(self, parts: Iterator[bytes], read: LibraryRead) -> None:
        self._parts = parts
        self._read: LibraryRead | None = read
        self._lock = threading.Lock()

    def next(self) -> bytes | None:
        """The next part, or None (and the read freed) once there is none."""
        with self._lock:
            part = None if self._read is None else next(self._parts, None)
            if part is None:
                self._finish()
            return part

    def finish(self) -> None:
        """Free the read, once the part in progress (if any) is done."""
        with self._lock:
            self._finish()

    def _finish(self) -> None:
        read, self._read = self._read, None
        if read is not None:
            self._parts = iter(())  # the rendering's own references go first
            read.release()


async def _streamed(parts: _Parts) -> AsyncIterator[bytes]:
    """Each part from a worker thread; full collections stay held off while the read's objects
    live (see `_FullCollections`), and the read is freed off the loop however the answer
    ends."""
    loop = asyncio.get_running_loop()
    with large_read():
        ended = False
        try:
            while (part := await loop.run_in_executor(None, parts.next)) is not None:
                yield part
            ended = True  # the last `next` freed the read
        finally:
            if not ended:
                loop.run_in_executor(None, parts.finish)


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

    def held(self) -> _FullCollections:
        """Hold full collections off for the duration (entered on the event loop only)."""
        return self

    def __enter__(self) -> None:
        if self._holders == 0:
            young, middle, self._threshold = gc.get_threshold()
            gc.set_threshold(young, middle, _NEVER)
        self._holders += 1

    def __exit__(self, *exc_info: object) -> None:
        self._holders -= 1
        if self._holders == 0:
            young, middle, _ = gc.get_threshold()
            gc.set_threshold(young, middle, self._threshold)


# Entered on every library read: a class's __enter__ costs less than a generator's.
large_read = _FullCollections().held


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
    if len(body) > limit and len(body.translate(None, _NOT_OPENING)) > limit:
        raise WrongParameter(f"Request body holds more than {limit} JSON objects and arrays")


def query_params(request: Request) -> dict[str, str]:
    """The query's parameters by name, the last value of a repeated name winning (as with
    Starlette's `request.query_params.get`), split here: urllib's general parser, and a
    KeyError raised inside `Mapping.get` for every absent name, took a sixth of a small
    library read."""
    query: bytes = request.scope.get("query_string", b"")
    params: dict[str, str] = {}
    if query:
        for part in query.split(b"&"):
            if part:
                name, _, value = part.partition(b"=")
                params[decode_query_part(name)] = decode_query_part(value)
    return params


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


class FixedPathRouter(Router):
    """Starlette's router, with the routes of fixed paths found in one lookup: its scan tried
    a dozen routes before `/sync/activities` (about 22 µs a request). A path goes in the index
    only when no earlier route could claim it, so every request reaches the route the scan
    would have; anything the index does not answer in full is left to the scan."""

    def __init__(self, routes: Sequence[BaseRoute], **options: Any) -> None:
        super().__init__(list(routes), **options)
        self.fixed: dict[str, Route] = {}
        for position, route in enumerate(self.routes):
            if isinstance(route, Route) and not route.param_convertors:
                earlier = self.routes[:position]
                if not any(_may_claim(other, route.path) for other in earlier):
                    self.fixed.setdefault(route.path, route)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The indexed route when it matches in full; else Starlette's scan."""
        if scope["type"] == "http":
            route = self.fixed.get(get_route_path(scope))
            if route is not None:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.setdefault("router", self)
                    scope["route"] = route
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
        await super().app(scope, receive, send)


def _may_claim(route: BaseRoute, path: str) -> bool:
    """Whether `route` could match a request for `path` (unknown kinds of route: yes)."""
    pattern = getattr(route, "path_regex", None)
    return pattern is None or pattern.match(path) is not None


class SimklApp(Starlette):
    """The Starlette app with its services as a plain attribute: every handler reaches them,
    and Starlette's `state` costs a `__getattr__` call per lookup."""

    services: Services
    bodies: BodyBudget
    large_reads: LargeReads

    def __init__(self, *, routes: Sequence[BaseRoute], lifespan: Any) -> None:
        super().__init__(routes=routes, lifespan=lifespan)
        self.router = FixedPathRouter(routes, lifespan=lifespan)

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
