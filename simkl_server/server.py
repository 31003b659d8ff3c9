"""Serving the app: a socket bound before anything else happens, the store opened and prepared,
then uvicorn with uvloop and its httptools parser on that socket (simkl_server.protocol holds
the connection-level limits: head size, read timeout, connection counts, and the envelope for
what cannot be parsed)."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import errno
import gc
import logging
import os
import resource
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable

import uvicorn
import uvloop

from simkl_server.api._http import SimklApp
from simkl_server.app import controlled, create_app
from simkl_server.clock import SystemClock
from simkl_server.config import Settings
from simkl_server.keys import load_secret_key
from simkl_server.protocol import ConnectionLimits, protocol_class
from simkl_server.storage.base import Store, open_store

_BACKLOG = 2048  # uvicorn's own default
# File descriptors beyond the connections: the database, its WAL, logs, the listening socket.
_SPARE_FILES = 64
# The youngest generation's threshold (CPython's default: 700). A 100-item batch holds some
# 2,000 container objects until it answers, so at 700 the collector ran every request or
# two and found them all alive; at 2,000 a 100-item add sets off a sixth as many young
# collections (each under half a millisecond), and the collector's share of its time halves.
_YOUNG_COLLECTION_THRESHOLD = 2_000
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


Prepare = Callable[[Store], Awaitable[None]]
# A worker that exits with an error this soon after it started is not replaced: it would fail
# again (one killed by a signal is).
_QUICK_FAILURE_S = 5.0
_PR_SET_PDEATHSIG = 1


def run(settings: Settings, sock: socket.socket, *, prepare: Prepare) -> None:
    """Open the store, let `prepare` use it (demo data, start-up notes), then serve on `sock`
    until interrupted; the app closes the store when it shuts down. With `settings.workers`
    over one, `prepare` runs once, then that many processes serve the one socket."""
    if settings.workers > 1:
        _supervise(settings, sock, prepare)
        return
    log.info("listening on %s (Ctrl+C to stop)", _address(sock))
    _serve_here(settings, sock, prepare)


def _serve_here(settings: Settings, sock: socket.socket, prepare: Prepare | None) -> None:
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_serve(settings, sock, prepare))


async def _prepare_once(settings: Settings, prepare: Prepare) -> None:
    load_secret_key(settings)  # made here, once, if missing: not by each worker
    store = await open_store(settings, controlled(settings, SystemClock()))
    try:
        await prepare(store)
    finally:
        await store.close()


def _supervise(settings: Settings, sock: socket.socket, prepare: Prepare) -> None:
    """Prepare once, then keep `settings.workers` forked processes serving `sock`, replacing
    one that dies; SIGINT or SIGTERM stops them all (each finishes its requests first)."""
    asyncio.run(_prepare_once(settings, prepare))
    workers: dict[int, tuple[int, float]] = {}  # pid: (worker number, start time)
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in workers:
            _signal_quietly(pid, signal.SIGTERM)

    handlers = signal.signal(signal.SIGINT, stop), signal.signal(signal.SIGTERM, stop)
    log.info("listening on %s with %d workers (Ctrl+C to stop)", _address(sock), settings.workers)
    failed = False
    try:
        for number in range(1, settings.workers + 1):
            workers[_fork_worker(settings, sock, number)] = (number, time.monotonic())
        while workers:
            pid, status = os.wait()
            number, started = workers.pop(pid, (0, 0.0))
            if stopping or not number:
                continue
            code = os.waitstatus_to_exitcode(status)
            if code > 0 and time.monotonic() - started < _QUICK_FAILURE_S:
                log.error("worker %d failed as it started (exit %d): stopping", number, code)
                failed = True
                stop(signal.SIGTERM, None)
                continue
            log.warning("worker %d (pid %d) ended (exit %d): starting another", number, pid, code)
            workers[_fork_worker(settings, sock, number)] = (number, time.monotonic())
    finally:
        signal.signal(signal.SIGINT, handlers[0])
        signal.signal(signal.SIGTERM, handlers[1])
    if failed:
        raise WorkerError("a server process failed as it started (its error is above)")


class WorkerError(Exception):
    """A worker process failed as it started; the message is one line."""


def _fork_worker(settings: Settings, sock: socket.socket, number: int) -> int:
    """Start worker `number`; in the child, serve until told to stop, then exit."""
    parent = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    # The child: its own process group, so a terminal's Ctrl+C reaches only the supervisor,
    # which stops each worker once; and stopped if the supervisor dies without doing so.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.setpgid(0, 0)
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:
        os._exit(0)
    log.info("worker %d serving (pid %d)", number, os.getpid())
    _serve_here(settings, sock, None)
    raise SystemExit(0)  # through the command's normal exit, not back into the supervisor


def _signal_quietly(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it already ended; os.wait collects it
        os.kill(pid, signum)


async def _serve(settings: Settings, sock: socket.socket, prepare: Prepare | None) -> None:
    store = await open_store(settings, controlled(settings, SystemClock()))
    if prepare is not None:
        try:
            await prepare(store)
        except BaseException:
            await store.close()
            raise
    app = create_app(settings, store=store, close_store=True)
    _allow_open_files(settings.max_connections + _SPARE_FILES)
    config = uvicorn_config(settings, app)
    settle_collector()
    await uvicorn.Server(config).serve(sockets=[sock])


def settle_collector() -> None:
    """Set the garbage collector for serving, once start-up is done.

    What start-up loaded lives as long as the process: frozen out of the collector's
    generations, a full collection (which a large read's many objects set off, in a worker
    thread holding the interpreter lock) traces what requests allocate, not the program. The
    young generation collects at _YOUNG_COLLECTION_THRESHOLD objects."""
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(_YOUNG_COLLECTION_THRESHOLD, middle, oldest)


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


def _address(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
