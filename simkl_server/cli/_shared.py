"""What every command shares: settings and logging set up once, the store opened on a
migrated database, one-line failures, and output as lines, tables or JSON."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from simkl_server import logs
from simkl_server.clock import SystemClock

if TYPE_CHECKING:
    from simkl_server.config import Settings
    from simkl_server.storage.base import Store

T = TypeVar("T")
log = logging.getLogger("simkl_server")


class CommandError(Exception):
    """A command cannot do what it was asked; the message is one line for people."""


def load(**overrides: Any) -> Settings:
    """The settings (command-line options win over the environment), with logging set up."""
    from simkl_server.config import load_settings

    settings = load_settings(**{k: v for k, v in overrides.items() if v is not None})
    logs.configure(settings.log_level)
    ignored = settings.database.ignored_parameters
    if ignored:
        log.warning(
            "ignoring %s in SIMKL_SERVER_DATABASE_URL: the PostgreSQL driver (asyncpg) has "
            "no such option",
            ", ".join(ignored),
        )
    return settings


def with_store(settings: Settings, use: Callable[[Store], Awaitable[T]]) -> T:
    """Migrate the database, open the store, run `use`, close it."""
    from simkl_server.storage import migrate
    from simkl_server.storage.base import open_store

    migrate.upgrade(settings.database)

    async def run() -> T:
        store = await open_store(settings, SystemClock())
        try:
            return await use(store)
        finally:
            await store.close()

    return asyncio.run(run())


def say(message: str) -> None:
    """A line for the person at the terminal (stderr: stdout stays for data)."""
    typer.echo(message, err=True)


def print_fields(fields: Mapping[str, Any], *, as_json: bool) -> None:
    """One object: `key: value` lines, or one line of JSON."""
    if as_json:
        typer.echo(json.dumps(fields))
        return
    for key, value in fields.items():
        typer.echo(f"{key}: {value if value is not None else ''}")


def print_rows(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], *, as_json: bool) -> None:
    """A list: aligned columns under a header, or one JSON array."""
    if as_json:
        typer.echo(json.dumps([dict(row) for row in rows]))
        return
    cells = [list(columns)] + [[_cell(row[name]) for name in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    for line in cells:
        typer.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )


def timestamp(ms: int) -> str:
    """Epoch milliseconds as UTC ISO 8601 to the second."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cell(value: Any) -> str:
    return "-" if value is None or value == "" else str(value)
