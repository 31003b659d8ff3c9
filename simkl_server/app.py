"""create_app(): settings, the store, the URL table (the API's, then the pages'), the error
envelope and the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from simkl_server import logs, web
from simkl_server.api import ROUTES
from simkl_server.api._http import BodyBudget, LargeReads, Services, SimklApp
from simkl_server.api.control import ControlMiddleware
from simkl_server.api.edge import ACCESS_LOGGER, EdgeMiddleware
from simkl_server.api.errors import install_error_handlers
from simkl_server.api.rate_limits import RateLimitMiddleware
from simkl_server.clock import Clock, ControlledClock, SystemClock
from simkl_server.config import Settings
from simkl_server.domain.scrobble import complete_checkins
from simkl_server.domain.tokens import Keys
from simkl_server.keys import load_secret_key
from simkl_server.storage.base import Store, open_store

CHECKIN_SWEEP_S = 30.0  # Simkl completes a check-in within two minutes of its runtime
_log = logging.getLogger("simkl_server")


async def _sweep_checkins(store: Store) -> None:
    """Complete the check-ins whose runtime is over, every CHECKIN_SWEEP_S seconds."""
    while True:
        await asyncio.sleep(CHECKIN_SWEEP_S)
        try:
            await complete_checkins(store)
        except Exception:  # a database away now may be back at the next sweep
            _log.warning("check-in sweep failed; retrying in %.0f s", CHECKIN_SWEEP_S)


@asynccontextmanager
async def _checkin_sweeper(store: Store) -> AsyncIterator[None]:
    task = asyncio.create_task(_sweep_checkins(store))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def controlled(settings: Settings, clock: Clock) -> Clock:
    """The clock the store reads: with the control plane on, one the control plane can set
    (kept in the database, followed by every process)."""
    if settings.control and not isinstance(clock, ControlledClock):
        return ControlledClock(clock)
    return clock


def create_app(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    clock: Clock | None = None,
    close_store: bool = False,
) -> SimklApp:
    """The ASGI app; it opens its own store unless one is given (tests share theirs, the
    server hands over one it opened, with `close_store`, for the app to close on shutdown)."""
    settings = settings or Settings()
    clock = controlled(settings, clock or SystemClock())
    keys = Keys(load_secret_key(settings))

    @asynccontextmanager
    async def lifespan(app: SimklApp) -> AsyncIterator[None]:
        if store is not None:
            try:
                async with _checkin_sweeper(store):
                    yield
            finally:
                if close_store:
                    await store.close()
            return
        opened = await open_store(settings, clock)
        app.services = Services(settings, opened, keys)
        try:
            async with _checkin_sweeper(opened):
                yield
        finally:
            await opened.close()

    app = SimklApp(routes=[*ROUTES, *web.ROUTES], lifespan=lifespan)
    if store is not None:  # usable at once, even by a client that runs no lifespan
        app.services = Services(settings, store, keys)
    app.bodies = BodyBudget(settings.max_body_bytes_in_flight, wait_s=settings.write_wait_ms / 1000)
    app.large_reads = LargeReads()
    install_error_handlers(app)
    app.router.redirect_slashes = False
    # Inside the edge (which logs every request and answers any failure), innermost first.
    if settings.rate_limits:
        app.add_middleware(RateLimitMiddleware)
    if settings.control:
        app.add_middleware(ControlMiddleware, journal_size=settings.journal_size)
    app.add_middleware(
        EdgeMiddleware,
        access_log=settings.access_log,
        write_access=logs.info_writer(ACCESS_LOGGER),
    )
    return app
