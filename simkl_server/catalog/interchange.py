"""Our catalog interchange format: JSON Lines (optionally gzipped) of standard media objects
plus the facts the rules need (type, release/airing status, episode count)."""

from __future__ import annotations

import codecs
import datetime
import gzip
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import orjson

from simkl_server.domain.catalog import CatalogRecord, Problem
from simkl_server.domain.kinds import MediaType
from simkl_server.domain.models import CatalogEpisode, CatalogItem

MOVIE_STATUSES = frozenset({"released", "upcoming"})
SHOW_STATUSES = frozenset({"ended", "airing", "tba"})
ANIME_TYPES = frozenset({"tv", "special", "ova", "movie", "music video", "ona"})
# Column limits: ids are BIGINT, counts and years INTEGER on both databases.
MAX_ID = 2**63 - 1
MAX_COUNT = 2**31 - 1


Binary = IO[bytes] | gzip.GzipFile


class ByteMeter:
    """How far into a file (on disk, so before gunzipping) an import has read."""

    def __init__(self) -> None:
        self._file: IO[bytes] | None = None

    def watch(self, file: IO[bytes]) -> None:
        """Follow this open file."""
        self._file = file

    def position(self) -> int:
        """Bytes of the file read so far (0 before it is opened or after it is closed)."""
        file = self._file
        return 0 if file is None or file.closed else file.tell()


def open_binary(path: Path, meter: ByteMeter | None = None) -> Binary:
    """Open a file for reading bytes, transparently gunzipping `.gz`."""
    raw = path.open("rb")
    if meter is not None:
        meter.watch(raw)
    if path.name.endswith(".gz"):
        return _ClosingGzip(raw)
    return raw


class _ClosingGzip(gzip.GzipFile):
    """A gzip reader over a file it closes with itself (GzipFile leaves a given file open)."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__(fileobj=raw, mode="rb")
        self._raw = raw

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()


@contextmanager
def open_export(path: Path) -> Iterator[Binary]:
    """Open a file for writing; `.gz` is gzipped without a timestamp so exports are repeatable."""
    with path.open("wb") as raw:
        if not path.name.endswith(".gz"):
            yield raw
            return
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed:
            yield packed


def read_interchange(lines: Iterable[bytes]) -> Iterator[CatalogRecord | Problem]:
    """One record (or problem) per non-blank line; each line is decoded on its own, so one
    broken line never stops the rest."""
    for number, raw in enumerate(lines, start=1):
        line = raw.removeprefix(codecs.BOM_UTF8) if number == 1 else raw
        if line.strip():
            yield parse_line(line, f"line {number}")


def parse_line(line: bytes | str, where: str) -> CatalogRecord | Problem:
    """Validate one line of the interchange format."""
    try:
        document = orjson.loads(line)
    except orjson.JSONDecodeError:
        return Problem(where, "not valid JSON (or not UTF-8)")
    if not isinstance(document, dict):
        return Problem(where, "not a JSON object")
    try:
        return _record(document, where)
    except ValueError as exc:
        return Problem(where, str(exc))


def _record(doc: dict[str, Any], where: str) -> CatalogRecord:
    try:
        media_type = MediaType(str(doc.get("type")))
    except ValueError:
        raise ValueError('"type" must be movie, show or anime') from None
    title = doc.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ValueError('"title" is required')
    simkl, ids = _ids(doc.get("ids"))
    return CatalogRecord(
        where=where,
        type=media_type,
        title=title.strip(),
        ids=ids,
        simkl=simkl,
        year=_optional_int(doc, "year"),
        status=_status(doc.get("status"), media_type),
        total_episodes=_optional_int(doc, "total_episodes"),
        anime_type=_choice(doc.get("anime_type"), ANIME_TYPES, "anime_type"),
        release_date=_release_date(doc.get("release_date")),
        poster=_optional_text(doc, "poster"),
        runtime=_optional_int(doc, "runtime"),
        episodes=_episodes(doc.get("episodes"), media_type),
    )


def _optional_text(doc: dict[str, Any], name: str) -> str | None:
    value = doc.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f'"{name}" must be a non-empty string')
    return value.strip()


def _episodes(value: Any, media_type: MediaType) -> tuple[CatalogEpisode, ...] | None:
    """An item's episode list: objects with `number` (and `season`, 1 when absent; 0 for
    specials), optional `title`, `aired`, `runtime`, `ids.tvdb`, `tvdb.season`/`tvdb.episode`."""
    if value is None:
        return None
    if media_type is MediaType.MOVIE:
        raise ValueError('"episodes" is for shows and anime only')
    if not isinstance(value, list):
        raise ValueError('"episodes" must be an array of objects')
    episodes = sorted(
        (_episode(entry, i) for i, entry in enumerate(value)), key=lambda e: (e.season, e.number)
    )
    keys = [(e.season, e.number) for e in episodes]
    if len(set(keys)) != len(keys):
        raise ValueError('"episodes" lists one season and number twice')
    return tuple(episodes)


def _episode(entry: Any, position: int) -> CatalogEpisode:
    where = f"episodes[{position}]"
    if not isinstance(entry, dict):
        raise ValueError(f'"{where}" must be an object')
    number = _bounded(entry.get("number"), f"{where}.number")
    if number is None:
        raise ValueError(f'"{where}.number" is required')
    ids = entry.get("ids") or {}
    mapped = entry.get("tvdb") or {}
    if not isinstance(ids, dict) or not isinstance(mapped, dict):
        raise ValueError(f'"{where}.ids" and "{where}.tvdb" must be objects')
    title = entry.get("title")
    return CatalogEpisode(
        season=_bounded(entry.get("season", 1), f"{where}.season") or 0,
        number=number,
        title=title if isinstance(title, str) and title.strip() else None,
        aired_at=_aired(entry.get("aired"), where),
        runtime=_bounded(entry.get("runtime"), f"{where}.runtime"),
        tvdb_id=_bounded(ids.get("tvdb"), f"{where}.ids.tvdb", MAX_ID),
        tvdb_season=_bounded(mapped.get("season"), f"{where}.tvdb.season"),
        tvdb_number=_bounded(mapped.get("episode"), f"{where}.tvdb.episode"),
        anidb_id=_bounded(ids.get("anidb"), f"{where}.ids.anidb", MAX_ID),
    )


def _bounded(value: Any, where: str, high: int = MAX_COUNT) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not _is_int(value, 0, high):
        raise ValueError(f'"{where}" must be a non-negative integer')
    return int(value)


def _aired(value: Any, where: str) -> int | None:
    """Epoch milliseconds of an ISO-8601 date or date-time (a date alone is midnight UTC)."""
    if value is None:
        return None
    try:
        moment = datetime.datetime.fromisoformat(str(value).strip().upper())
    except ValueError:
        raise ValueError(f'"{where}.aired" must be an ISO-8601 date or date-time') from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return int(moment.timestamp() * 1000)


def _ids(value: Any) -> tuple[int | None, dict[str, str]]:
    if not isinstance(value, dict) or not value:
        raise ValueError('"ids" must be an object with at least one id')
    simkl = value.get("simkl")
    if simkl is not None and not _is_int(simkl, 1, MAX_ID):
        raise ValueError('"ids.simkl" must be a positive integer')
    others: dict[str, str] = {}
    for kind, raw in value.items():
        if kind == "simkl" or raw is None:
            continue
        if isinstance(raw, bool) or not isinstance(raw, str | int) or not str(raw).strip():
            raise ValueError(f'"ids.{kind}" must be a string or an integer')
        others[kind] = str(raw).strip()
    return simkl, others


def _optional_int(doc: dict[str, Any], name: str) -> int | None:
    value = doc.get(name)
    if value is None:
        return None
    if not _is_int(value, 0, MAX_COUNT):
        raise ValueError(f'"{name}" must be a non-negative integer')
    return int(value)


def _is_int(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _status(value: Any, media_type: MediaType) -> str | None:
    allowed = MOVIE_STATUSES if media_type is MediaType.MOVIE else SHOW_STATUSES
    return _choice(value, allowed, "status")


def _choice(value: Any, allowed: frozenset[str], name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f'"{name}" must be one of {", ".join(sorted(allowed))}')
    return value


def _release_date(value: Any) -> str | None:
    if value is None:
        return None
    try:
        if isinstance(value, str) and len(value) == 10:
            datetime.date.fromisoformat(value)
            return value
    except ValueError:
        pass
    raise ValueError('"release_date" must be a date written YYYY-MM-DD')


def export_line(item: CatalogItem, episodes: Sequence[CatalogEpisode] = ()) -> bytes:
    """One interchange line for a catalog item (absent facts are left out)."""
    document: dict[str, Any] = {
        "type": item.type.value,
        "title": item.title,
        "year": item.year,
        "ids": {"simkl": item.id, **item.ids},
        "status": item.status,
        "total_episodes": item.total_episodes,
        "anime_type": item.anime_type,
        "release_date": item.release_date,
        "poster": item.poster,
        "runtime": item.runtime,
        "episodes": [_export_episode(e) for e in episodes] or None,
    }
    return orjson.dumps({k: v for k, v in document.items() if v is not None}) + b"\n"


def _export_episode(episode: CatalogEpisode) -> dict[str, Any]:
    aired = None
    if episode.aired_at is not None:
        moment = datetime.datetime.fromtimestamp(episode.aired_at / 1000, tz=datetime.UTC)
        aired = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    document: dict[str, Any] = {
        "season": episode.season,
        "number": episode.number,
        "title": episode.title,
        "aired": aired,
        "runtime": episode.runtime,
        "ids": _episode_ids(episode),
        "tvdb": {"season": episode.tvdb_season, "episode": episode.tvdb_number}
        if episode.tvdb_season is not None
        else None,
    }
    return {k: v for k, v in document.items() if v is not None}


def _episode_ids(episode: CatalogEpisode) -> dict[str, int] | None:
    """An episode's own ids (TVDB, AniDB), when it has any."""
    ids = {"tvdb": episode.tvdb_id, "anidb": episode.anidb_id}
    known = {kind: value for kind, value in ids.items() if value is not None}
    return known or None
