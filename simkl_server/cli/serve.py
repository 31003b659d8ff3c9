"""`serve` and `db upgrade`: the server itself and the schema it needs."""

from __future__ import annotations

import logging
import socket
from typing import TYPE_CHECKING, Annotated

import typer

from simkl_server.cli._shared import load, say

if TYPE_CHECKING:
    from simkl_server.config import Settings
    from simkl_server.storage.base import Store

db_cli = typer.Typer(no_args_is_help=True, help="Database schema.")
log = logging.getLogger("simkl_server")
EMPTY_CATALOG = (
    "the catalog is empty, so every item a client sends ends in not_found: fill it with "
    "`simkl-server catalog import --demo` (the demo catalog shipped with the server) or "
    "`simkl-server catalog import FILE`"
)


def serve(  # noqa: PLR0917 - typer passes every option by keyword; one per option
    host: Annotated[
        str | None, typer.Option(help="Address to bind.", show_default="127.0.0.1")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on.", show_default="8765")
    ] = None,
    demo: Annotated[
        bool, typer.Option(help="Load the demo catalog and demo app, user and token.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(help="Server processes sharing the port.", show_default="1", min=1, max=64),
    ] = None,
    learn: Annotated[
        bool | None,
        typer.Option(
            "--learn/--strict",
            help="Learn unknown items from clients' writes, or answer not_found as Simkl does "
            "(default: SIMKL_SERVER_CATALOG_LEARN, else learn).",
            show_default=False,
        ),
    ] = None,
    control: Annotated[
        bool,
        typer.Option(
            help="Serve the control plane under /_control/ (for client tests; no credentials)."
        ),
    ] = False,
    rate_limits: Annotated[
        bool, typer.Option(help="Apply Simkl's rate limits (10 GET and 1 POST a second).")
    ] = False,
) -> None:
    """Run the server (migrating the database first)."""
    from simkl_server import server
    from simkl_server.storage import migrate

    settings = load(
        host=host,
        port=port,
        workers=workers,
        catalog_learn=learn,
        control=control or None,
        rate_limits=rate_limits or None,
    )
    if settings.catalog_learn is None:  # the server learns unless told to emulate strictly
        settings = settings.model_copy(update={"catalog_learn": True})
    # Bound before anything else, so a taken port fails before a banner or a migration.
    sock = server.listen(settings.host, settings.port)
    try:
        migrate.upgrade(settings.database)
        with_demo = demo or settings.demo_data
        server.run(settings, sock, prepare=lambda store: _prepare(store, settings, sock, with_demo))
    finally:
        sock.close()


async def _prepare(store: Store, settings: Settings, sock: socket.socket, demo: bool) -> None:
    """Load the demo data and print its banner, or warn when nothing fills the catalog."""
    from simkl_server.demo import ensure_demo

    log.info("database: %s", settings.database.describe())
    if settings.control:
        log.warning(
            "control plane on: anyone who reaches this server can reset, read and change all "
            "of its data at /_control/ (a test server: keep it on loopback)"
        )
    if demo:
        credentials = await ensure_demo(store)
        say(credentials.banner(settings.host, sock.getsockname()[1]))
    elif await store.read.catalog.size() == 0:
        log.warning(EMPTY_CATALOG)


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the newest schema."""
    from simkl_server.storage import migrate

    settings = load()
    migrate.upgrade(settings.database)
    say(f"database is up to date: {settings.database.describe()}, schema {migrate.head_revision()}")
