"""Helpers of the catalog tests: run store work on a database URL, import lines, read back."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import orjson

from simkl_server.catalog.interchange import read_interchange
from simkl_server.catalog.load import export_file, import_file
from simkl_server.clock import FrozenClock
from simkl_server.config import Settings
from simkl_server.domain.catalog import ImportReport, import_records
from simkl_server.domain.models import CatalogItem
from simkl_server.storage.base import Store, open_store

T = TypeVar("T")
START_MS = 1_780_000_000_000


def on_store(url: str, use: Callable[[Store], Awaitable[T]]) -> T:
    """Open a store on `url`, run `use`, close it."""

    async def run() -> T:
        store = await open_store(Settings(database_url=url), FrozenClock(START_MS))
        try:
            return await use(store)
        finally:
            await store.close()

    return asyncio.run(run())


def jsonl(*documents: dict[str, Any] | str) -> list[bytes]:
    """Interchange lines: dicts are serialised, strings taken as they are."""
    return [
        (doc.encode() if isinstance(doc, str) else orjson.dumps(doc)) + b"\n" for doc in documents
    ]


def import_lines(url: str, lines: Iterable[bytes]) -> ImportReport:
    """Import interchange lines into the database at `url`."""
    return on_store(url, lambda store: import_records(store, read_interchange(lines)))


async def import_documents(store: Store, *documents: dict[str, Any]) -> ImportReport:
    """Import interchange documents through `store`."""
    return await import_records(store, read_interchange(jsonl(*documents)))


def import_path(url: str, path: Path) -> ImportReport:
    """Import a catalog file into the database at `url`."""
    return on_store(url, lambda store: import_file(store, path))


def export_path(url: str, path: Path) -> int:
    """Export the catalog at `url` to `path`."""
    return on_store(url, lambda store: export_file(store, path))


def catalog_items(url: str) -> dict[int, CatalogItem]:
    """Every catalog item by simkl id."""

    async def read(store: Store) -> dict[int, CatalogItem]:
        return {item.id: item async for batch in store.read.catalog.pages() for item in batch}

    return on_store(url, read)


def owners(url: str, keys: Iterable[str]) -> dict[str, int]:
    """Which item owns each index key."""
    wanted = list(keys)
    return on_store(url, lambda store: store.read.catalog.owners(wanted))
