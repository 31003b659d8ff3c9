"""Our interchange format: line validation, reading, and export → import → export round trips."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest

from simkl_server.catalog.interchange import export_line, parse_line, read_interchange
from simkl_server.domain.catalog import LOCAL_ID_BASE, CatalogRecord, Problem
from simkl_server.domain.kinds import MediaType
from simkl_server.domain.models import CatalogItem
from tests.catalog.support import catalog_items, export_path, import_path, jsonl
from tests.conftest import fresh_database

FULL = {
    "type": "anime",
    "title": "Attack on Titan",
    "year": 2013,
    "ids": {"simkl": 39687, "mal": 16498, "anidb": "9541", "tvdb": " 267440 "},
    "anime_type": "tv",
    "status": "ended",
    "total_episodes": 25,
    "release_date": "2013-04-07",
}


def parsed(document: dict[str, Any]) -> CatalogRecord | Problem:
    """parse_line of a document."""
    return parse_line(orjson.dumps(document), "line 1")


def reason(document: dict[str, Any]) -> str:
    """Why a document is refused."""
    result = parsed(document)
    assert isinstance(result, Problem), result
    return result.reason


def test_a_full_line_becomes_a_record_with_string_ids() -> None:
    assert parsed(FULL) == CatalogRecord(
        where="line 1",
        type=MediaType.ANIME,
        title="Attack on Titan",
        ids={"mal": "16498", "anidb": "9541", "tvdb": "267440"},
        simkl=39687,
        year=2013,
        status="ended",
        total_episodes=25,
        anime_type="tv",
        release_date="2013-04-07",
    )


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"type": "tv"}, '"type"'),
        ({"type": None}, '"type"'),
        ({"title": "   "}, '"title"'),
        ({"title": 5}, '"title"'),
        ({"ids": {}}, '"ids"'),
        ({"ids": ["simkl", 1]}, '"ids"'),
        ({"ids": {"simkl": "39687"}}, '"ids.simkl"'),
        ({"ids": {"simkl": 0}}, '"ids.simkl"'),
        ({"ids": {"simkl": True}}, '"ids.simkl"'),
        ({"ids": {"simkl": 2**63}}, '"ids.simkl"'),
        ({"ids": {"simkl": 1, "mal": 1.5}}, '"ids.mal"'),
        ({"ids": {"simkl": 1, "imdb": " "}}, '"ids.imdb"'),
        ({"year": "2013"}, '"year"'),
        ({"year": -1}, '"year"'),
        ({"total_episodes": True}, '"total_episodes"'),
        ({"total_episodes": 2**31}, '"total_episodes"'),
        ({"status": "released"}, '"status"'),
        ({"status": ["ended"]}, '"status"'),
        ({"anime_type": "TV"}, '"anime_type"'),
        ({"anime_type": {}}, '"anime_type"'),
        ({"release_date": "2013-02-30"}, '"release_date"'),
        ({"release_date": "2013-4-7"}, '"release_date"'),
    ],
)
def test_invalid_fields_are_named(change: dict[str, Any], complaint: str) -> None:
    assert complaint in reason({**FULL, **change})


def test_movies_take_movie_statuses() -> None:
    line = {"type": "movie", "title": "T3", "ids": {"simkl": 53536}}
    record = parsed({**line, "status": "upcoming"})
    assert isinstance(record, CatalogRecord)
    assert record.status == "upcoming"
    assert '"status"' in reason({**line, "status": "ended"})


def test_reading_skips_blank_lines_keeps_numbers_and_accepts_bom_and_crlf() -> None:
    lines = [b"\xef\xbb\xbf" + jsonl(FULL)[0], b"\r\n", b"  \n", b"not json\r\n", *jsonl(FULL)]
    results = list(read_interchange(lines))
    assert [r.where for r in results] == ["line 1", "line 4", "line 5"]
    assert [type(r) for r in results] == [CatalogRecord, Problem, CatalogRecord]


def test_export_lines_leave_out_absent_facts_and_put_simkl_first() -> None:
    item = CatalogItem(id=5, type=MediaType.MOVIE, title="Ünïcode", ids={"imdb": "tt5"})
    assert (
        export_line(item)
        == '{"type":"movie","title":"Ünïcode","ids":{"simkl":5,"imdb":"tt5"}}\n'.encode()
    )


ROUND_TRIP = jsonl(
    FULL,
    {
        "type": "movie",
        "title": "Terminator 3",
        "year": 2003,
        "ids": {"simkl": 53536, "imdb": "tt0181852", "tmdb": 296},
        "status": "released",
    },
    {
        "type": "show",
        "title": "The Walking Dead",
        "ids": {"simkl": 2090, "tvdb": "153021", "slug": "the-walking-dead"},
        "status": "airing",
        "total_episodes": 177,
    },
    {
        "type": "anime",
        "title": "進撃の巨人 Season2",
        "ids": {"anidb": "12681", "anilist": 20958},
        "anime_type": "tv",
    },
    {
        "type": "anime",
        "title": "A film",
        "ids": {"mal": "1"},
        "anime_type": "movie",
        "status": "tba",
        "year": 0,
    },
    {"type": "movie", "title": "Only simkl", "ids": {"simkl": 7}},
)


@pytest.mark.parametrize("name", ["catalog.jsonl", "catalog.jsonl.gz"])
def test_export_import_export_gives_identical_bytes(
    empty_database: str, backend: str, tmp_path: Path, name: str
) -> None:
    source = tmp_path / "source.jsonl"
    source.write_bytes(b"".join(ROUND_TRIP))
    assert import_path(empty_database, source).problems == []
    first, second = tmp_path / f"first-{name}", tmp_path / f"second-{name}"
    assert export_path(empty_database, first) == len(ROUND_TRIP)
    for other in fresh_database(backend, tmp_path / "other"):
        report = import_path(other, first)
        assert (report.inserted, report.problems) == (len(ROUND_TRIP), [])
        assert export_path(other, second) == len(ROUND_TRIP)
        assert catalog_items(other) == catalog_items(empty_database)
    assert first.read_bytes() == second.read_bytes()
    text = gzip.decompress(first.read_bytes()) if name.endswith(".gz") else first.read_bytes()
    assert text.splitlines()[-1] == (
        b'{"type":"anime","title":"A film","year":0,"ids":{"simkl":%d,"mal":"1"},'
        b'"status":"tba","anime_type":"movie"}' % (LOCAL_ID_BASE + 1)
    )


def test_re_exporting_an_unchanged_catalog_gives_identical_bytes(
    empty_database: str, tmp_path: Path
) -> None:
    source = tmp_path / "source.jsonl.gz"
    source.write_bytes(gzip.compress(b"".join(ROUND_TRIP)))
    import_path(empty_database, source)
    once, again = tmp_path / "once.jsonl.gz", tmp_path / "again.jsonl.gz"
    export_path(empty_database, once)
    assert import_path(empty_database, once).unchanged == len(ROUND_TRIP)
    export_path(empty_database, again)
    assert once.read_bytes() == again.read_bytes()


WITH_EPISODES = {
    "type": "show",
    "title": "Two Seasons",
    "year": 2020,
    "ids": {"simkl": 9100, "tvdb": "9100"},
    "status": "ended",
    "total_episodes": 3,
    "poster": "51/5152376528f644b91",
    "runtime": 44,
    "episodes": [
        {"season": 2, "number": 1, "title": "Back", "aired": "2021-01-01"},
        {"number": 2, "aired": "2020-01-08T21:00:00-05:00", "runtime": 45, "ids": {"tvdb": 11}},
        {"number": 1, "title": "Pilot", "aired": "2020-01-01T00:00:00Z"},
        {"season": 0, "number": 1, "title": "Special", "tvdb": {"season": 0, "episode": 1}},
    ],
}


def test_posters_runtimes_and_episodes_are_read_in_order() -> None:
    record = parsed(WITH_EPISODES)
    assert isinstance(record, CatalogRecord)

    assert (record.poster, record.runtime) == ("51/5152376528f644b91", 44)
    assert record.episodes is not None
    assert [(e.season, e.number, e.title) for e in record.episodes] == [
        (0, 1, "Special"),
        (1, 1, "Pilot"),
        (1, 2, None),
        (2, 1, "Back"),
    ]
    second = record.episodes[2]
    assert (second.aired_at, second.runtime, second.tvdb_id) == (1578535200000, 45, 11)
    assert (record.episodes[0].tvdb_season, record.episodes[0].tvdb_number) == (0, 1)


@pytest.mark.parametrize(
    ("episodes", "complaint"),
    [
        ({"number": 1}, '"episodes" must be an array'),
        ([{"season": 1}], '"episodes[0].number" is required'),
        ([{"number": -1}], "non-negative integer"),
        ([{"number": 1, "aired": "yesterday"}], "ISO-8601"),
        ([{"number": 1}, {"number": 1, "season": 1}], "one season and number twice"),
    ],
)
def test_a_broken_episode_list_is_reported(episodes: Any, complaint: str) -> None:
    assert complaint in reason({**WITH_EPISODES, "episodes": episodes})


def test_a_movie_has_no_episodes() -> None:
    movie = {"type": "movie", "title": "m", "ids": {"simkl": 1}, "episodes": []}
    assert "shows and anime only" in reason(movie)


def test_episodes_round_trip_through_export_and_import(
    empty_database: str, backend: str, tmp_path: Path
) -> None:
    source, first, second = (tmp_path / name for name in ("in.jsonl", "a.jsonl", "b.jsonl"))
    source.write_bytes(b"".join(jsonl(WITH_EPISODES)))
    assert import_path(empty_database, source).inserted == 1
    export_path(empty_database, first)
    for other in fresh_database(backend, tmp_path / "other"):
        assert import_path(other, first).inserted == 1
        export_path(other, second)
    assert first.read_bytes() == second.read_bytes()
    assert import_path(empty_database, first).unchanged == 1
    changed = {**WITH_EPISODES, "episodes": WITH_EPISODES["episodes"][:1]}  # type: ignore[index]
    source.write_bytes(b"".join(jsonl(changed)))
    assert import_path(empty_database, source).updated == 1
