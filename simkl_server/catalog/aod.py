"""anime-offline-database files: the `.json` / `-minified.json` document with a `data` array,
or `.jsonl` (a metadata line, then one anime per line); either may be gzipped.

Ids come from each anime's `sources` URLs; AOD has no imdb, tmdb or tvdb ids.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import orjson

from simkl_server.catalog.interchange import MAX_COUNT, ByteMeter, open_binary
from simkl_server.domain.catalog import CatalogRecord, Problem
from simkl_server.domain.kinds import MediaType

# AOD's metadata keys; an interchange line always starts an item, never one of these.
_META_KEYS = frozenset({"$schema", "license", "repository", "scoreRange", "lastUpdate", "data"})
_FIRST_KEY = re.compile(rb'\s*\{\s*"([^"\\]*)"')
_HEAD_BYTES = 4096
_ANIME_TYPES = {"TV": "tv", "MOVIE": "movie", "OVA": "ova", "ONA": "ona", "SPECIAL": "special"}
_STATUSES = {"FINISHED": "ended", "ONGOING": "airing", "UPCOMING": "tba"}
_NUMBER = r"0*([0-9]{1,18})"  # leading zeros dropped; at most 18 digits fits a BIGINT
_ANIME_PATH = re.compile(rf"/anime/{_NUMBER}(?:[/,].*)?")
# (hosts, path pattern, id kind); the first group of the pattern is the id.
_SOURCES: tuple[tuple[frozenset[str], re.Pattern[str], str], ...] = (
    (frozenset({"myanimelist.net"}), _ANIME_PATH, "mal"),
    (frozenset({"anidb.net"}), re.compile(rf"/(?:anime/|a){_NUMBER}/?"), "anidb"),
    (frozenset({"anilist.co"}), _ANIME_PATH, "anilist"),
    (frozenset({"kitsu.app", "kitsu.io"}), _ANIME_PATH, "kitsu"),
    (frozenset({"livechart.me"}), _ANIME_PATH, "livechart"),
    (frozenset({"anisearch.com"}), _ANIME_PATH, "anisearch"),
    (frozenset({"anime-planet.com"}), re.compile(r"/anime/([^/]+)/?"), "animeplanet"),
    (frozenset({"simkl.com"}), _ANIME_PATH, "simkl"),
)
_ANN_HOST = "animenewsnetwork.com"
_STRING_STOP = re.compile(rb'["\\]')
# Faster than urlsplit, which dominated the import of a full dump.
_URL = re.compile(r"\s*https?://(?:www\.)?([^/?#:]+)(?::\d+)?([^?#]*)(?:\?([^#]*))?", re.I)


def looks_like_aod(path: Path) -> bool:
    """Whether the file is an anime-offline-database dump (its first key is AOD metadata)."""
    with open_binary(path) as stream:
        head = stream.read(_HEAD_BYTES).removeprefix(codecs.BOM_UTF8)
    found = _FIRST_KEY.match(head)
    return found is not None and found.group(1).decode("utf-8", "replace") in _META_KEYS


def read_aod(path: Path, meter: ByteMeter | None = None) -> Iterator[CatalogRecord | Problem]:
    """Records of an anime-offline-database dump; both forms are streamed (the `data` array of
    a `.json` document element by element), so memory stays flat whatever the file's size."""
    if _is_jsonl(path):
        with open_binary(path, meter) as stream:
            stream.readline()
            yield from _read_lines(stream)
        return
    with open_binary(path, meter) as stream:
        elements = DataArray(stream)
        for index, raw in enumerate(elements):
            anime = _loads(raw)
            where = f"data[{index}]"
            yield Problem(where, "not valid JSON") if anime is None else anime_record(anime, where)
        if not elements.found:
            yield Problem("file", 'not valid JSON with a "data" array of anime')


def _is_jsonl(path: Path) -> bool:
    """A .jsonl dump starts with a short metadata line without `data`."""
    with open_binary(path) as stream:
        head = stream.read(_HEAD_BYTES).removeprefix(codecs.BOM_UTF8)
    first, newline, _ = head.partition(b"\n")
    meta = _loads(first) if newline else None
    return isinstance(meta, dict) and "data" not in meta


def _loads(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


class DataArray:
    """The raw bytes of each element of the `data` array of a JSON document, read block by
    block: only the element being read is held. `found` tells, once iterated, whether the
    document had a `data` array at its top level."""

    _BLOCK = 1 << 20
    _STRUCTURE = re.compile(rb'[\[\]{}",]')

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.found = False

    def __iter__(self) -> Iterator[bytes]:
        buf, pos, depth, key = b"", 0, 0, b""
        element_start = -1  # inside `data`: where the current element starts
        while True:
            match = self._STRUCTURE.search(buf, pos)
            closing = _string_end(buf, match.end()) if match and match.group() == b'"' else 0
            if match is None or closing is None:
                more = self._stream.read(self._BLOCK)
                if not more:
                    return
                keep = min(pos, element_start) if element_start >= 0 else pos
                buf, pos = buf[keep:] + more, pos - keep
                element_start -= keep if element_start >= 0 else 0
                continue
            char, pos = match.group(), closing or match.end()
            if char == b'"':
                key = buf[match.end() : pos - 1] if depth == 1 else key
            elif char in b"[{":
                depth += 1
                if depth == 2 and char == b"[" and key == b"data" and not self.found:
                    self.found, element_start = True, pos
            elif element_start >= 0 and depth == 2 and char in b",]":
                if element := buf[element_start : match.start()].strip():
                    yield element
                if char == b"]":
                    return
                element_start = pos
            elif char in b"]}":
                depth -= 1


def _string_end(buf: bytes, pos: int) -> int | None:
    """Where the JSON string opened just before `pos` ends (after its quote), or None when
    the buffer ends first."""
    while match := _STRING_STOP.search(buf, pos):
        if match.group() == b'"':
            return match.end()
        pos = match.end() + 1  # an escape: skip the escaped byte
    return None


def _read_lines(lines: Iterable[bytes]) -> Iterator[CatalogRecord | Problem]:
    for number, line in enumerate(lines, start=2):
        if line.strip():
            anime = _loads(line)
            where = f"line {number}"
            yield Problem(where, "not valid JSON") if anime is None else anime_record(anime, where)


def anime_record(anime: Any, where: str) -> CatalogRecord | Problem:
    """One AOD anime as a catalog record, or the reason it cannot be one."""
    if not isinstance(anime, dict):
        return Problem(where, "not a JSON object")
    title = anime.get("title")
    if not isinstance(title, str) or not title.strip():
        return Problem(where, "no title")
    simkl, ids = ids_from_sources(anime.get("sources"))
    if simkl is None and not ids:
        return Problem(where, "no usable id in sources")
    season = anime.get("animeSeason")
    return CatalogRecord(
        where=where,
        type=MediaType.ANIME,
        title=title.strip(),
        ids=ids,
        simkl=simkl,
        year=_count(season.get("year") if isinstance(season, dict) else None),
        status=_pick(_STATUSES, anime.get("status")),
        total_episodes=_count(anime.get("episodes")),
        anime_type=_pick(_ANIME_TYPES, anime.get("type")),
    )


def ids_from_sources(sources: Any) -> tuple[int | None, dict[str, str]]:
    """The Simkl id and the other ids named by a `sources` list (first URL of a site wins)."""
    ids: dict[str, str] = {}
    for url in sources if isinstance(sources, list) else ():
        found = source_id(url) if isinstance(url, str) else None
        if found is not None:
            ids.setdefault(*found)
    simkl = ids.pop("simkl", None)
    return (int(simkl) if simkl is not None else None), ids


def source_id(url: str) -> tuple[str, str] | None:
    """The (kind, id) a provider URL names, or None for providers we keep no id of."""
    parts = _URL.match(url)
    if parts is None:
        return None
    host, path, query = parts.group(1).lower(), parts.group(2), parts.group(3) or ""
    if host == _ANN_HOST:
        values = parse_qs(query).get("id", [])
        found = re.fullmatch(_NUMBER, values[0]) if values else None
        return ("ann", found.group(1)) if found else None
    for hosts, pattern, kind in _SOURCES:
        if host in hosts and (match := pattern.fullmatch(path)):
            return kind, match.group(1)
    return None


def _pick(table: dict[str, str], value: Any) -> str | None:
    return table.get(value) if isinstance(value, str) else None


def _count(value: Any) -> int | None:
    """A positive whole number, else None (AOD writes 0 episodes for "unknown")."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if value != int(value) or not 0 < value <= MAX_COUNT:
        return None
    return int(value)
