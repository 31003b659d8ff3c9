"""Serving the app: a socket bound before anything else happens, the store opened and prepared,
then uvicorn with uvloop and its httptools parser on that socket, where a request it cannot
parse (broken framing, conflicting Content-Length and Transfer-Encoding, a bad chunk) is refused
in the Simkl envelope instead of uvicorn's plain-text body."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Awaitable, Callable

import uvicorn
import uvloop
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from simkl_server.app import create_app, open_store
from simkl_server.clock import SystemClock
from simkl_server.config import Settings
from simkl_server.errors import WrongParameter
from simkl_server.storage.base import Store
from simkl_server.wire.errors import error_body

_BODY = error_body(WrongParameter("Malformed HTTP request (framing, headers or chunked body)"))
_BACKLOG = 2048  # uvicorn's own default
log = logging.getLogger("simkl_server")
_UNKNOWN_HOST = "unknown host (no address found for that name)"
_WHY = {
    errno.EADDRINUSE: "address already in use (another server listens there)",
    errno.EACCES: "permission denied (ports below 1024 need privileges)",
    errno.EADDRNOTAVAIL: "no network interface of this machine has that address",
    socket.EAI_NONAME: _UNKNOWN_HOST,
    socket.EAI_AGAIN: _UNKNOWN_HOST,
    socket.EAI_FAIL: _UNKNOWN_HOST,
}


class ListenError(Exception):
    """The server cannot listen where it was told to; the message is one line."""


class SimklHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a Simkl 400 for unparsable requests."""

    def send_400_response(self, msg: str) -> None:
        """Answer 400 wrong_parameter and close: the connection's framing is lost."""
        lines = [b"HTTP/1.1 400 Bad Request"]
        lines += [name + b": " + value for name, value in self.server_state.default_headers]
        lines += [
            b"content-type: application/json",
            b"content-length: " + str(len(_BODY)).encode("ascii"),
            b"connection: close",
        ]
        self.transport.write(b"\r\n".join(lines) + b"\r\n\r\n" + _BODY)
        self.transport.close()


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on host:port (port 0: any free one); ListenError when it cannot."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=_BACKLOG)
    except socket.gaierror as exc:
        raise ListenError(
            f"cannot listen on {host}:{port}: unknown host ({exc.strerror})"
        ) from None
    except OSError as exc:
        why = _WHY.get(exc.errno or 0, exc.strerror or str(exc))
        raise ListenError(f"cannot listen on {host}:{port}: {why}") from None


def run(
    settings: Settings, sock: socket.socket, *, prepare: Callable[[Store], Awaitable[None]]
) -> None:
    """Open the store, let `prepare` use it (demo data, start-up notes), then serve on `sock`
    until interrupted; the app closes the store when it shuts down."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_serve(settings, sock, prepare))


async def _serve(
    settings: Settings, sock: socket.socket, prepare: Callable[[Store], Awaitable[None]]
) -> None:
    store = await open_store(settings, SystemClock())
    try:
        await prepare(store)
    except BaseException:
        await store.close()
        raise
    app = create_app(settings, store=store, close_store=True)
    config = uvicorn.Config(
        app,
        http=SimklHttpProtocol,
        log_config=None,  # logs.configure set the one format every logger uses
        log_level=settings.log_level,
        access_log=False,  # the app writes its own access lines, secrets masked
        backlog=_BACKLOG,
    )
    host, port = sock.getsockname()[:2]
    log.info("listening on http://%s:%d (Ctrl+C to stop)", _url_host(host), port)
    await uvicorn.Server(config).serve(sockets=[sock])


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
