"""Import and export catalog files, detecting the format from the content."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from simkl_server.catalog import aod
from simkl_server.catalog.interchange import (
    export_line,
    open_binary,
    open_export,
    read_interchange,
)
from simkl_server.domain.catalog import CatalogRecord, ImportReport, Problem, import_records
from simkl_server.storage.base import Store


def read_file(path: Path) -> Iterator[CatalogRecord | Problem]:
    """Records of a catalog file: our interchange format, or anime-offline-database."""
    if aod.looks_like_aod(path):
        yield from aod.read_aod(path)
        return
    with open_binary(path) as lines:
        yield from read_interchange(lines)


async def import_file(store: Store, path: Path, *, console: Console | None) -> ImportReport:
    """Import a file, with a progress bar when a console is given."""
    if console is None:
        return await import_records(store, read_file(path))
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"importing {path.name}", total=None)
        return await import_records(
            store, read_file(path), on_progress=lambda n: progress.advance(task, n)
        )


async def export_file(store: Store, path: Path) -> int:
    """Write every catalog item as interchange lines; return how many."""
    count = 0
    with open_export(path) as out:
        async for batch in store.read.catalog.pages():
            episodes = await store.read.catalog.episodes([item.id for item in batch])
            for item in batch:
                out.write(export_line(item, episodes.get(item.id, ())))
                count += 1
    return count
