"""uvicorn's httptools protocol with the limits a server on the open internet needs, each
answered in the Simkl envelope before the app is involved.

- A request line and headers larger than `max_header_bytes` get 431 (httptools has no limit,
  and joins a long header piece by piece: 128 MB took 35 s of the event loop).
- A client that takes longer than `read_timeout_s` to send a head, or pauses that long inside
  a body, gets 408 and is closed (one sweep a second checks every connection, so a request
  costs no timer of its own).
- Past `max_connections` open connections, or `max_connections_per_client` from one address,
  a new connection gets 503 and is closed at once, so sockets never run out.
- What cannot be parsed (broken framing, conflicting Content-Length and Transfer-Encoding, a
  bad chunk) gets 400 instead of uvicorn's plain text.
- An Upgrade request (no WebSocket here) is answered as plain HTTP, then the connection closes:
  the parser reads nothing after an upgrade.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from simkl_server.config import Settings
from simkl_server.errors import (
    HeadersTooLarge,
    RequestTimeout,
    ServiceUnavailable,
    SimklError,
    WrongParameter,
)
from simkl_server.wire.errors import error_body

log = logging.getLogger("simkl_server")
_STATUS_LINES = {
    400: b"HTTP/1.1 400 Bad Request",
    408: b"HTTP/1.1 408 Request Timeout",
    431: b"HTTP/1.1 431 Request Header Fields Too Large",
    503: b"HTTP/1.1 503 Service Unavailable",
}
_MALFORMED = WrongParameter("Malformed HTTP request (framing, headers or chunked body)")
_TOO_MANY = ServiceUnavailable("Too many open connections; try again shortly")
_SWEEP_S = 1.0
_REFUSALS_LOGGED_EVERY_S = 60.0


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """The connection-level limits, from the settings."""

    max_header_bytes: int
    read_timeout_s: float
    max_connections: int
    max_connections_per_client: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectionLimits:
        """The limits the settings name."""
        return cls(
            max_header_bytes=settings.max_header_bytes,
            read_timeout_s=settings.read_timeout_s,
            max_connections=settings.max_connections,
            max_connections_per_client=settings.max_connections_per_client,
        )


def protocol_class(limits: ConnectionLimits) -> type[SimklHttpProtocol]:
    """A protocol class for one server: its limits, its per-client counts, its sweep."""
    return type(
        "BoundSimklHttpProtocol",
        (SimklHttpProtocol,),
        {
            "limits": limits,
            "per_client": Counter(),
            "sweeper": _Sweeper(limits.read_timeout_s),
            "refusals": [0, -float("inf")],
        },
    )


class _Sweeper:
    """Closes, once a second (or faster for short timeouts), every connection whose client
    let its read deadline pass; it runs while connections are open."""

    def __init__(self, timeout_s: float) -> None:
        self._interval = min(_SWEEP_S, timeout_s / 4)
        self._handle: asyncio.TimerHandle | None = None

    def watch(self, loop: asyncio.AbstractEventLoop, connections: set[Any]) -> None:
        """Make sure a sweep is scheduled."""
        if self._handle is None:
            self._handle = loop.call_later(self._interval, self._sweep, loop, connections)

    def _sweep(self, loop: asyncio.AbstractEventLoop, connections: set[Any]) -> None:
        self._handle = None
        now = loop.time()
        for connection in list(connections):
            if isinstance(connection, SimklHttpProtocol):
                connection.check_deadline(now)
        if connections:
            self.watch(loop, connections)


class SimklHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with head, time and connection limits (module docstring);
    `protocol_class` binds it to one server's limits."""

    limits: ConnectionLimits
    per_client: Counter[str]
    sweeper: _Sweeper
    refusals: list[float]  # refused since the last warning, and when that warning was

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True  # the bytes arriving belong to a request line or headers
        self._head_bytes = 0
        self._heads = 0  # heads completed on this connection
        # When the current head began to arrive, or the body last moved (the read timeout
        # counts from it); None while the app answers or the connection waits between requests.
        self._since: float | None = None
        self._client_key: str | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Count the connection; refuse it past either connection limit."""
        super().connection_made(transport)
        self._client_key = self.client[0] if self.client else None
        if self._client_key is not None:
            self.per_client[self._client_key] += 1
        if self._over_limits():
            self._note_refusal()
            self._refuse(_TOO_MANY)
            return
        self._since = self.loop.time()
        self.sweeper.watch(self.loop, self.connections)

    def _over_limits(self) -> bool:
        if len(self.connections) > self.limits.max_connections:
            return True
        key = self._client_key
        return key is not None and self.per_client[key] > self.limits.max_connections_per_client

    def _note_refusal(self) -> None:
        """One warning a minute at most, however many connections a flood brings."""
        counts = self.refusals
        counts[0] += 1
        now = self.loop.time()
        if now - counts[1] >= _REFUSALS_LOGGED_EVERY_S:
            log.warning(
                "refused %d connection(s) since the last note: more than %d open, or more "
                "than %d from one address (SIMKL_SERVER_MAX_CONNECTIONS[_PER_CLIENT])",
                counts[0],
                self.limits.max_connections,
                self.limits.max_connections_per_client,
            )
            counts[:] = [0, now]

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the connection in the per-client counts."""
        key, self._client_key = self._client_key, None
        if key is not None:
            self.per_client[key] -= 1
            if self.per_client[key] <= 0:
                del self.per_client[key]
        self._since = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Parse, then refuse a head that has grown past the limit (checked after each read,
        so the parser never holds more than the limit plus one read), and note the time for
        the read timeout: when a head begins, and whenever a body moves."""
        now = self.loop.time()
        if self._in_head:
            heads = self._heads
            if self._since is None:
                self._since = now
        else:
            heads = -1
        super().data_received(data)
        if heads == self._heads:
            self._head_bytes += len(data)
            if self._head_bytes > self.limits.max_header_bytes and not self.transport.is_closing():
                limit = self.limits.max_header_bytes
                self._refuse(HeadersTooLarge(f"Request line and headers exceed {limit} bytes"))
        elif not self._in_head:
            self._since = now  # inside a body: the pause allowed starts again

    def on_headers_complete(self) -> None:
        """The head is in; what follows is its body."""
        self._in_head = False
        self._head_bytes = 0
        self._heads += 1
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        """The request is in: no deadline while the app answers; what arrives next is the
        next request's head."""
        self._in_head = True
        self._since = None
        super().on_message_complete()

    def check_deadline(self, now: float) -> None:
        """Answer 408 and close when the client let its deadline pass."""
        since = self._since
        if since is None or now < since + self.limits.read_timeout_s:
            return
        if self.transport.is_closing():
            return
        self._since = None
        cycle = self.cycle
        if cycle is not None and cycle.response_started and not cycle.response_complete:
            self.transport.close()  # an answer is under way: the app sees the client leave
            return
        self._refuse(RequestTimeout(f"No request data for {self.limits.read_timeout_s:g} s"))

    def send_400_response(self, msg: str) -> None:
        """Answer 400 wrong_parameter and close: the connection's framing is lost."""
        self._refuse(_MALFORMED)

    def _unsupported_upgrade_warning(self) -> None:
        """Answer the request as plain HTTP, then close: the parser stops at an upgrade."""
        if self.cycle is not None:
            self.cycle.keep_alive = False

    def _refuse(self, error: SimklError) -> None:
        """Write the envelope with Connection: close and close."""
        body = error_body(error)
        lines = [_STATUS_LINES[error.status]]
        lines += [name + b": " + value for name, value in self.server_state.default_headers]
        lines += [
            b"content-type: application/json",
            b"content-length: " + str(len(body)).encode("ascii"),
            b"connection: close",
        ]
        if error.status == 503:
            lines.append(b"retry-after: 1")
        self.transport.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        self.transport.close()
