"""Import and export catalog files, detecting the format from the content."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from simkl_server.catalog import aod
from simkl_server.catalog.interchange import (
    export_line,
    open_binary,
    open_export,
    read_interchange,
)
from simkl_server.domain.catalog import CatalogRecord, ImportReport, Problem, import_records
from simkl_server.storage.base import Store


class CatalogFileError(Exception):
    """A catalog file that cannot be read at all (missing, unreadable, a broken .gz)."""


def read_file(path: Path) -> Iterator[CatalogRecord | Problem]:
    """Records of a catalog file: our interchange format, or anime-offline-database."""
    try:
        if aod.looks_like_aod(path):
            yield from aod.read_aod(path)
            return
        with open_binary(path) as lines:
            yield from read_interchange(lines)
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise CatalogFileError(f"cannot read {path}: {file_problem(exc)}") from exc


def file_problem(exc: BaseException) -> str:
    """What went wrong with a file, in a few words (the path is said by the caller)."""
    if isinstance(exc, FileNotFoundError):
        return "the file does not exist"
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text[:1].lower() + text[1:]


async def import_file(
    store: Store, path: Path, *, on_progress: Callable[[int], None] | None = None
) -> ImportReport:
    """Import a file; `on_progress` hears how many more records were read, chunk by chunk."""
    return await import_records(store, read_file(path), on_progress=on_progress)


async def export_file(store: Store, path: Path) -> int:
    """Write every catalog item as interchange lines; return how many."""
    count = 0
    with open_export(path) as out:
        async for batch in store.read.catalog.pages():
            for item in batch:
                out.write(export_line(item))
                count += 1
    return count
