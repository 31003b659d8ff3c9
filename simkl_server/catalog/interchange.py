"""Our catalog interchange format: JSON Lines (optionally gzipped) of standard media objects
plus the facts the rules need (type, release/airing status, episode count)."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from simkl_server.domain.catalog import CatalogRecord, Problem
from simkl_server.domain.models import CatalogItem, MediaType

MOVIE_STATUSES = frozenset({"released", "upcoming"})
SHOW_STATUSES = frozenset({"ended", "airing", "tba"})
ANIME_TYPES = frozenset({"tv", "special", "ova", "movie", "music video", "ona"})


def open_text(path: Path, mode: str = "rt") -> IO[str]:
    """Open a file as UTF-8 text, transparently gunzipping `.gz`."""
    if path.name.endswith(".gz"):
        return gzip.open(path, mode, encoding="utf-8")  # type: ignore[return-value]
    return path.open(mode, encoding="utf-8")


def read_interchange(lines: Iterator[str]) -> Iterator[CatalogRecord | Problem]:
    """One record (or problem) per non-blank line."""
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield parse_line(line, f"line {number}")


def parse_line(line: str, where: str) -> CatalogRecord | Problem:
    """Validate one line of the interchange format."""
    try:
        document = orjson.loads(line)
    except orjson.JSONDecodeError:
        return Problem(where, "not valid JSON")
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
    )


def _ids(value: Any) -> tuple[int | None, dict[str, str]]:
    if not isinstance(value, dict) or not value:
        raise ValueError('"ids" must be an object with at least one id')
    simkl = value.get("simkl")
    if simkl is not None and (isinstance(simkl, bool) or not isinstance(simkl, int) or simkl <= 0):
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
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f'"{name}" must be a non-negative integer')
    return value


def _status(value: Any, media_type: MediaType) -> str | None:
    allowed = MOVIE_STATUSES if media_type is MediaType.MOVIE else SHOW_STATUSES
    return _choice(value, allowed, "status")


def _choice(value: Any, allowed: frozenset[str], name: str) -> str | None:
    if value is None:
        return None
    if value not in allowed:
        raise ValueError(f'"{name}" must be one of {", ".join(sorted(allowed))}')
    return str(value)


def _release_date(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 10 or value[4] != "-" or value[7] != "-":
        raise ValueError('"release_date" must be YYYY-MM-DD')
    return value


def export_line(item: CatalogItem) -> bytes:
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
    }
    return orjson.dumps({k: v for k, v in document.items() if v is not None}) + b"\n"
