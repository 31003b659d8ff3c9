"""Serving the app: a socket bound before anything else happens, the store opened and prepared,
then uvicorn with uvloop and its httptools parser on that socket (simkl_server.protocol holds
the connection-level limits: head size, read timeout, connection counts, and the envelope for
what cannot be parsed)."""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import resource
import socket
from collections.abc import Awaitable, Callable

import uvicorn
import uvloop

from simkl_server.api._http import SimklApp
from simkl_server.app import controlled, create_app, open_store
from simkl_server.clock import SystemClock
from simkl_server.config import Settings
from simkl_server.protocol import ConnectionLimits, protocol_class
from simkl_server.storage.base import Store

_BACKLOG = 2048  # uvicorn's own default
# File descriptors beyond the connections: the database, its WAL, logs, the listening socket.
_SPARE_FILES = 64
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
    store = await open_store(settings, controlled(settings, SystemClock()))
    try:
        await prepare(store)
    except BaseException:
        await store.close()
        raise
    app = create_app(settings, store=store, close_store=True)
    _allow_open_files(settings.max_connections + _SPARE_FILES)
    config = uvicorn_config(settings, app)
    host, port = sock.getsockname()[:2]
    log.info("listening on http://%s:%d (Ctrl+C to stop)", _url_host(host), port)
    # What start-up loaded lives as long as the process: frozen out of the collector's
    # generations, a full collection (which a large read's many objects set off, in a worker
    # thread holding the interpreter lock) traces what requests allocate, not the program.
    gc.freeze()
    await uvicorn.Server(config).serve(sockets=[sock])


def uvicorn_config(settings: Settings, app: SimklApp) -> uvicorn.Config:
    """How uvicorn serves the app: this server's protocol (its connection limits), no
    WebSockets, our own log format and access lines."""
    return uvicorn.Config(
        app,
        http=protocol_class(ConnectionLimits.from_settings(settings)),
        ws="none",  # no WebSocket endpoints: an Upgrade request is answered as plain HTTP
        log_config=None,  # logs.configure set the one format every logger uses
        log_level=settings.log_level,
        access_log=False,  # the app writes its own access lines, secrets masked
        backlog=_BACKLOG,
    )


def _allow_open_files(wanted: int) -> None:
    """Raise this process's open-file limit towards `wanted` (up to what the system allows),
    so that max_connections, not the file limit, is what refuses connections."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft != resource.RLIM_INFINITY and soft < wanted:
        log.warning(
            "the open-file limit (%d) is below max_connections plus %d: lower "
            "SIMKL_SERVER_MAX_CONNECTIONS or raise the limit (ulimit -n)",
            soft,
            _SPARE_FILES,
        )


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
