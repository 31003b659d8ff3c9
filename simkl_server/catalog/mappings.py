"""Anime id mappings that add ids to anime the catalog already holds (ENRICH records):
Kometa's `anime_ids.json` (AniDB id -> tvdb, imdb, tmdb, mal, anilist), bangumi-data's
`data.json` (mal, anidb, anilist, tmdb per item) and arm's `arm.json` (mal <-> anilist).

They name no titles worth keeping, so a mapping never creates an item. Each is one JSON
document of a few MB (the full files: 16k, 8.5k and 35k entries), read whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import orjson

from simkl_server.domain.catalog import ENRICH, CatalogRecord, Problem
from simkl_server.domain.kinds import MediaType

_NUMBER = re.compile(r"\s*0*([0-9]{1,18})\s*")
_IMDB = re.compile(r"\s*(tt[0-9]{1,12})\s*")
# A bangumi-data tmdb id names its kind; a season ("tv/1/season/2") is not an item.
_BANGUMI_TMDB = re.compile(r"(tv|movie)/0*([0-9]{1,18})")
_BANGUMI_SITES = {"mal": "mal", "anidb": "anidb", "aniList": "anilist"}
# tvdb_season: 1 is the series' first season, -1 absolute numbering; 0 and later seasons map
# one AniDB entry into a series another entry starts, whose series ids it must not claim.
_SERIES_START_SEASONS = frozenset({1, -1})
Records = Iterator[CatalogRecord | Problem]


def first_id(value: Any, pattern: re.Pattern[str] = _NUMBER) -> str | None:
    """The first id of a number or of a comma-separated list of them, normalised."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    found = pattern.fullmatch(str(value).split(",")[0])
    return found.group(1) if found else None


def _enrich(where: str, ids: dict[str, str | None], tmdb: dict[str, str | None]) -> CatalogRecord:
    return CatalogRecord(
        where=where,
        type=MediaType.ANIME,
        title="",
        ids={kind: value for kind, value in ids.items() if value is not None},
        mode=ENRICH,
        tmdb_by_scope=tuple((scope, value) for scope, value in tmdb.items() if value is not None),
    )


def read_anime_ids(raw: bytes) -> Records:
    """Kometa's anime_ids.json: an object keyed by AniDB id."""
    document = _document(raw, dict)
    if document is None:
        yield Problem("file", "not a JSON object of AniDB ids")
        return
    for key, entry in document.items():
        where = f'entry "{key}"'
        anidb = first_id(key)
        if anidb is None or not isinstance(entry, dict):
            yield Problem(where, "not an AniDB id with an object of ids")
            continue
        ids = {"anidb": anidb, "mal": first_id(entry.get("mal_id"))}
        ids["anilist"] = first_id(entry.get("anilist_id"))
        tmdb: dict[str, str | None] = {}
        if _starts_series(entry):
            ids["tvdb"] = first_id(entry.get("tvdb_id"))
            ids["imdb"] = first_id(entry.get("imdb_id"), _IMDB)
            tmdb = {
                "tv": first_id(entry.get("tmdb_show_id")),
                "movie": first_id(entry.get("tmdb_movie_id")),
            }
        yield _enrich(where, ids, tmdb)


def _starts_series(entry: dict[str, Any]) -> bool:
    season = entry.get("tvdb_season")
    offset = entry.get("tvdb_epoffset", 0)
    return (season is None or season in _SERIES_START_SEASONS) and offset in (0, None)


def read_bangumi_data(raw: bytes) -> Records:
    """bangumi-data's data.json: `{"siteMeta": ..., "items": [...]}`."""
    document = _document(raw, dict)
    items = document.get("items") if document is not None else None
    if not isinstance(items, list):
        yield Problem("file", 'not a JSON object with an "items" array')
        return
    for index, item in enumerate(items):
        where = f"items[{index}]"
        sites = item.get("sites") if isinstance(item, dict) else None
        if not isinstance(sites, list):
            yield Problem(where, 'no "sites" array')
            continue
        ids: dict[str, str | None] = {}
        tmdb: dict[str, str | None] = {}
        for site in sites:
            if not isinstance(site, dict) or not isinstance(site.get("id"), str):
                continue
            name, value = site.get("site"), site["id"]
            if name in _BANGUMI_SITES:
                ids.setdefault(_BANGUMI_SITES[name], first_id(value))
            elif name == "tmdb" and (found := _BANGUMI_TMDB.fullmatch(value)):
                tmdb.setdefault(found.group(1), found.group(2))
        yield _enrich(where, ids, tmdb)


def read_arm(raw: bytes) -> Records:
    """arm's arm.json: an array of `{mal_id, anilist_id, annict_id, syobocal_tid}`."""
    entries = _document(raw, list)
    if entries is None:
        yield Problem("file", "not a JSON array of id entries")
        return
    for index, entry in enumerate(entries):
        where = f"entry {index}"
        if not isinstance(entry, dict):
            yield Problem(where, "not a JSON object")
            continue
        ids = {"mal": first_id(entry.get("mal_id")), "anilist": first_id(entry.get("anilist_id"))}
        yield _enrich(where, ids, {})


def _document(raw: bytes, kind: type) -> Any:
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return document if isinstance(document, kind) else None
