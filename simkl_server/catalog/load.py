"""Import and export catalog files, detecting the format from the content."""

from __future__ import annotations

import codecs
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from simkl_server.catalog import aod, mappings, opendata
from simkl_server.catalog.interchange import (
    ByteMeter,
    export_line,
    open_binary,
    open_export,
    read_interchange,
)
from simkl_server.domain.catalog import (
    CatalogRecord,
    EpisodeRecord,
    Ignored,
    ImportReport,
    Problem,
    import_episode_records,
    import_records,
)
from simkl_server.storage.base import Store

FormatName = Literal[
    "interchange",
    "anime-offline-database",
    "anime-ids",
    "bangumi-data",
    "arm",
    "imdb-basics",
    "imdb-episodes",
    "tmdb-ids",
]
# Where each format goes when a folder is imported: items first, then the mappings that add
# ids to them, then the open data that fills them, then episode lists of what exists by then.
IMPORT_ORDER: tuple[FormatName, ...] = (
    "interchange",
    "anime-offline-database",
    "anime-ids",
    "bangumi-data",
    "arm",
    "imdb-basics",
    "tmdb-ids",
    "imdb-episodes",
)
_HEAD_BYTES = 4096
_ANIME_IDS_HEAD = re.compile(rb'\s*\{\s*"[0-9]+"\s*:\s*\{')
_BANGUMI_HEAD = re.compile(rb'\s*\{\s*"(?:siteMeta|items)"\s*:')
_ARM_HEAD = re.compile(rb'\s*\[\s*\{\s*"(?:mal_id|anilist_id|annict_id|syobocal_tid)"\s*:')

_CATALOG_NAME = re.compile(r"\.(?:json|jsonl|tsv)(?:\.gz)?$", re.IGNORECASE)
ItemRecords = Iterator[CatalogRecord | Problem | Ignored]
R = TypeVar("R")


class CatalogFileError(Exception):
    """A catalog file that cannot be read at all (missing, unreadable, a broken .gz)."""


@dataclass(frozen=True, slots=True)
class CatalogFile:
    """A catalog file and the format its content shows."""

    path: Path
    format: FormatName


def detect(path: Path) -> CatalogFile:
    """Tell a catalog file's format from its first bytes."""
    try:
        with open_binary(path) as stream:
            head = stream.read(_HEAD_BYTES).removeprefix(codecs.BOM_UTF8)
        found = _format_of(head) if not aod.looks_like_aod(path) else "anime-offline-database"
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise CatalogFileError(f"cannot read {path}: {file_problem(exc)}") from exc
    return CatalogFile(path, found)


def catalog_files(folder: Path) -> list[CatalogFile]:
    """The catalog files of a folder (by name: .json, .jsonl, .tsv, maybe gzipped), in the
    order a whole folder is imported."""
    names = [
        path
        for path in sorted(folder.iterdir())
        if path.is_file() and not path.name.startswith(".") and _CATALOG_NAME.search(path.name)
    ]
    found = [detect(path) for path in names]
    return sorted(found, key=lambda source: IMPORT_ORDER.index(source.format))


def _format_of(head: bytes) -> FormatName:
    if head.startswith(opendata.IMDB_BASICS_HEADER):
        return "imdb-basics"
    if head.startswith(opendata.IMDB_EPISODES_HEADER):
        return "imdb-episodes"
    for pattern, name in (
        (_ANIME_IDS_HEAD, "anime-ids"),
        (_BANGUMI_HEAD, "bangumi-data"),
        (_ARM_HEAD, "arm"),
    ):
        if pattern.match(head):
            return name  # type: ignore[return-value]
    if opendata.looks_like_tmdb_export(head.split(b"\n", 1)[0]):
        return "tmdb-ids"
    return "interchange"


def read_file(path: Path) -> ItemRecords:
    """Records of a catalog file of any item format (not an episode list)."""
    yield from _guarded(_item_records(detect(path)), path)


def _item_records(source: CatalogFile, meter: ByteMeter | None = None) -> ItemRecords:
    path = source.path
    if source.format == "anime-offline-database":
        yield from aod.read_aod(path, meter)
        return
    whole_readers: dict[str, Callable[[bytes], mappings.Records]] = {
        "anime-ids": mappings.read_anime_ids,
        "bangumi-data": mappings.read_bangumi_data,
        "arm": mappings.read_arm,
    }
    with open_binary(path, meter) as lines:
        if source.format in whole_readers:
            yield from whole_readers[source.format](lines.read())
        elif source.format == "imdb-basics":
            yield from opendata.read_imdb_basics(lines)
        elif source.format == "tmdb-ids":
            yield from opendata.read_tmdb_ids(lines)
        elif source.format == "imdb-episodes":
            raise CatalogFileError(f"{path} is an episode list, not a file of items")
        else:
            yield from read_interchange(lines)


def _guarded(records: Iterator[R], path: Path) -> Iterator[R]:
    """Turn a read error half way through (a truncated .gz) into a CatalogFileError."""
    try:
        yield from records
    except (OSError, EOFError, zlib.error) as exc:
        raise CatalogFileError(f"cannot read {path}: {file_problem(exc)}") from exc


def _episode_records(
    path: Path, meter: ByteMeter | None
) -> Iterator[EpisodeRecord | Problem | Ignored]:
    with open_binary(path, meter) as lines:
        yield from opendata.read_imdb_episodes(lines)


def file_problem(exc: BaseException) -> str:
    """What went wrong with a file, in a few words (the path is said by the caller)."""
    if isinstance(exc, FileNotFoundError):
        return "the file does not exist"
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text[:1].lower() + text[1:]


async def import_file(
    store: Store,
    path: Path,
    *,
    on_progress: Callable[[int], None] | None = None,
    meter: ByteMeter | None = None,
) -> ImportReport:
    """Import a file; `on_progress` hears how many more records were read, chunk by chunk,
    and `meter` follows how far into the file the reading is."""
    source = detect(path)
    if source.format == "imdb-episodes":
        episodes = _guarded(_episode_records(path, meter), path)
        return await import_episode_records(store, episodes, on_progress=on_progress)
    return await import_records(
        store, _guarded(_item_records(source, meter), path), on_progress=on_progress
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
