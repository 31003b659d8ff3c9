"""General open data, streamed line by line (FILL records: new items, or ids and facts an
existing item lacks): IMDb's `title.basics.tsv` and `title.episode.tsv`, and TMDB's daily id
exports (`movie_ids_MM_DD_YYYY.json.gz`, `tv_series_ids_...`, JSON Lines).

IMDb files are tab-separated with a header line, no quoting, `\\N` for "none".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from simkl_server.catalog.interchange import MAX_COUNT
from simkl_server.domain.catalog import FILL, CatalogRecord, EpisodeRecord, Ignored, Problem
from simkl_server.domain.ids import lookup_key
from simkl_server.domain.kinds import MediaType

IMDB_BASICS_HEADER = b"tconst\ttitleType\tprimaryTitle"
IMDB_EPISODES_HEADER = b"tconst\tparentTconst\tseasonNumber\tepisodeNumber"
_BASICS_COLUMNS = 9
_EPISODE_COLUMNS = 4
_NONE = "\\N"
_TCONST = re.compile(r"tt[0-9]{1,12}")
_MOVIE_KINDS = frozenset({"movie", "tvMovie"})
_SHOW_KINDS = frozenset({"tvSeries", "tvMiniSeries"})
_MIN_YEAR = 1800
_MAX_YEAR = 2200


def read_imdb_basics(lines: Iterable[bytes]) -> Iterator[CatalogRecord | Problem | Ignored]:
    """Movies and series of title.basics.tsv; other title types and adult titles are ignored."""
    for number, raw in _data_lines(lines):
        where = f"line {number}"
        fields = _split(raw, _BASICS_COLUMNS)
        if fields is None:
            yield Problem(where, f"not {_BASICS_COLUMNS} tab-separated UTF-8 columns")
            continue
        kind, adult = fields[1], fields[4]
        if (kind not in _MOVIE_KINDS and kind not in _SHOW_KINDS) or adult == "1":
            yield Ignored(where)
            continue
        try:
            yield _basics_record(where, fields)
        except ValueError as exc:
            yield Problem(where, str(exc))


def _basics_record(where: str, fields: list[str]) -> CatalogRecord:
    tconst, kind, title, _original, _adult, start, end, runtime, _genres = fields
    if not _TCONST.fullmatch(tconst):
        raise ValueError(f"tconst {tconst[:40]!r} is not an IMDb id")
    if not title.strip() or title == _NONE:
        raise ValueError("no primaryTitle")
    show = kind in _SHOW_KINDS
    year = _number(start, "startYear", _MIN_YEAR, _MAX_YEAR)
    ended = _number(end, "endYear", _MIN_YEAR, _MAX_YEAR)
    return CatalogRecord(
        where=where,
        type=MediaType.SHOW if show else MediaType.MOVIE,
        title=title.strip(),
        ids={"imdb": tconst},
        year=year,
        status="ended" if show and ended is not None else None,
        runtime=_number(runtime, "runtimeMinutes", 0, MAX_COUNT),
        mode=FILL,
    )


def read_imdb_episodes(lines: Iterable[bytes]) -> Iterator[EpisodeRecord | Problem | Ignored]:
    """Episodes of title.episode.tsv; episodes without a season or number are ignored."""
    for number, raw in _data_lines(lines):
        where = f"line {number}"
        fields = _split(raw, _EPISODE_COLUMNS)
        if fields is None:
            yield Problem(where, f"not {_EPISODE_COLUMNS} tab-separated UTF-8 columns")
            continue
        _tconst, parent, season, episode = fields
        if not _TCONST.fullmatch(parent):
            yield Problem(where, f"parentTconst {parent[:40]!r} is not an IMDb id")
        elif _NONE in (season, episode):
            yield Ignored(where)
        else:
            try:
                season_number = _number(season, "seasonNumber", 0, MAX_COUNT)
                episode_number = _number(episode, "episodeNumber", 0, MAX_COUNT)
            except ValueError as exc:
                yield Problem(where, str(exc))
                continue
            key = lookup_key("imdb", parent, tmdb_scope="tv")
            yield EpisodeRecord(where, key, season_number or 0, episode_number or 0)


def _data_lines(lines: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """Numbered non-blank lines after the header."""
    for number, raw in enumerate(lines, start=1):
        if number > 1 and raw.strip():
            yield number, raw


def _split(raw: bytes, columns: int) -> list[str] | None:
    try:
        fields = raw.decode("utf-8").rstrip("\r\n").split("\t")
    except UnicodeDecodeError:
        return None
    return fields if len(fields) == columns else None


def _number(text: str, name: str, low: int, high: int) -> int | None:
    if text == _NONE:
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"{name} {text[:20]!r} is not a number from {low} to {high}")
    return int(text)


def read_tmdb_ids(lines: Iterable[bytes]) -> Iterator[CatalogRecord | Problem | Ignored]:
    """A TMDB daily id export: movies (`original_title`) or TV series (`original_name`);
    adult titles are ignored."""
    for number, raw in enumerate(lines, start=1):
        if raw.strip():
            yield _tmdb_record(raw, f"line {number}")


def _tmdb_record(raw: bytes, where: str) -> CatalogRecord | Problem | Ignored:
    try:
        document: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return Problem(where, "not valid JSON (or not UTF-8)")
    if not isinstance(document, dict):
        return Problem(where, "not a JSON object")
    tmdb = document.get("id")
    if isinstance(tmdb, bool) or not isinstance(tmdb, int) or not 0 < tmdb <= MAX_COUNT:
        return Problem(where, '"id" must be a positive integer')
    if document.get("adult") is True:
        return Ignored(where)
    movie = "original_title" in document
    title = document.get("original_title" if movie else "original_name")
    if not isinstance(title, str) or not title.strip():
        return Problem(where, 'no "original_title" or "original_name"')
    return CatalogRecord(
        where=where,
        type=MediaType.MOVIE if movie else MediaType.SHOW,
        title=title.strip(),
        ids={"tmdb": str(tmdb)},
        mode=FILL,
    )


def looks_like_tmdb_export(first_line: bytes) -> bool:
    """Whether a first line is a TMDB id-export record (and not our format, which has `type`)."""
    try:
        document = orjson.loads(first_line)
    except orjson.JSONDecodeError:
        return False
    return (
        isinstance(document, dict)
        and "type" not in document
        and "id" in document
        and ("original_title" in document or "original_name" in document)
    )
