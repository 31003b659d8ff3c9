"""The demo-catalog build script, run as a command on a small hand-written source folder."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

SCRIPT = Path(__file__).parents[2] / "scripts" / "build_demo_catalog.py"
CAPTURES: dict[str, Any] = {
    "library.json": {
        "movies": [{"status": "completed", "movie": {"title": "Film One", "year": 2001,
                    "ids": {"simkl": 101, "imdb": "tt0000101", "fb": "x", "moviedb": "501"}}}],
        "shows": [{"show": {"title": "Show Two", "ids": {"simkl": 102, "tvdb": "602",
                                                         "instagram": "y"}},
                   "seasons": [{"episodes": [{"title": "Ep", "ids": {"simkl": 999}}]}]}],
    },
    "anime_detail.json": {
        "title": "Anime Three", "year": 2010, "type": "anime", "anime_type": "tv",
        "status": "ended", "total_episodes": 12, "ids": {"simkl": 103, "mal": "703", "wikien": "z"},
        "relations": [{"title": "Anime Three Film", "anime_type": "movie", "year": 2012,
                       "ids": {"simkl": 104, "slug": "anime-three-film"}}],
        "users_recommendations": [{"title": "Shingeki no Kyojin", "anime_type": "tv",
                                   "ids": {"simkl": 39687}}],
        "episode": {"title": "Episode title", "ids": {"simkl": 105}},
    },
    "movie_summary.json": {"title": "Film One", "type": "movie", "released": "2001-05-06",
                           "ids": {"simkl": 101, "slug": "film-one"}},
    "not_found.json": {"not_found": {"shows": [{"ids": {"simkl": 106}, "type": "show"}]}},
}  # fmt: skip


def bangumi(title: str, kind: str, begin: str, end: str, *sites: tuple[str, str],
            en: str | None = None) -> dict[str, Any]:  # fmt: skip
    """A bangumi-data item."""
    return {
        "title": title,
        "titleTranslate": {"en": [en]} if en else {"zh-Hans": ["中文"]},
        "type": kind,
        "lang": "ja",
        "begin": begin,
        "end": end,
        "sites": [{"site": site, "id": value} for site, value in sites],
    }


BANGUMI = {"siteMeta": {}, "items": [
    bangumi("アニメ3", "tv", "2010-01-01T15:00:00.000Z", "2010-03-30T15:00:00.000Z",
            ("mal", "703"), ("anidb", "803"), ("tmdb", "tv/903"), en="Anime Three EN"),
    bangumi("アニメ3 第2期", "tv", "2026-12-31T15:30:00.000Z", "",
            ("mal", "704"), ("tmdb", "tv/903/season/2"), ("aniList", "1704")),
    bangumi("ウェブ", "web", "2020-01-01T00:00:00.000Z", "", ("mal", "705"), ("tmdb", "tv/903")),
    bangumi("IDなし", "ova", "2001-01-01T00:00:00.000Z", "", ("bangumi", "1")),
    bangumi("映画", "movie", "2005-07-01T00:00:00.000Z", "",
            ("anidb", "806"), ("tmdb", "tv/907"), ("tmdb", "movie/906")),
    bangumi("進撃の巨人", "tv", "2013-04-06T16:58:00.000Z", "2013-09-28T17:28:00.000Z",
            ("mal", "16498"), ("anidb", "9541")),
]}  # fmt: skip
KOMETA = {
    "803": {"tvdb_id": 1803, "tvdb_season": 1, "tvdb_epoffset": 0, "mal_id": 703,
            "imdb_id": "tt0000803,tt0000804", "tmdb_show_id": 903},
    "806": {"tvdb_id": 1803, "tvdb_season": 0, "tvdb_epoffset": 0, "mal_id": "706,707",
            "imdb_id": "tt0000806", "tmdb_movie_id": "906,907"},
    "9541": {"tvdb_id": 267440, "tvdb_season": 1, "tvdb_epoffset": 0, "mal_id": 16498},
}  # fmt: skip
ARM = [{"mal_id": 703, "anilist_id": 1703}, {"mal_id": 705, "anilist_id": 1705}]
EXPECTED = [
    {"type": "movie", "title": "Film One", "year": 2001,
     "ids": {"simkl": 101, "imdb": "tt0000101", "tmdb": "501", "slug": "film-one"},
     "release_date": "2001-05-06"},
    {"type": "show", "title": "Show Two", "ids": {"simkl": 102, "tvdb": "602"}},
    {"type": "anime", "title": "Anime Three", "year": 2010,
     "ids": {"simkl": 103, "mal": "703", "anidb": "803", "tmdb": "903", "tvdb": "1803",
             "imdb": "tt0000803", "anilist": "1703"},
     "status": "ended", "total_episodes": 12, "anime_type": "tv"},
    {"type": "anime", "title": "Anime Three Film", "year": 2012,
     "ids": {"simkl": 104, "slug": "anime-three-film"}, "anime_type": "movie"},
    {"type": "anime", "title": "Shingeki no Kyojin",
     "ids": {"simkl": 39687, "mal": "16498", "anidb": "9541", "tvdb": "267440"},
     "status": "ended", "anime_type": "tv", "year": 2013},
    {"type": "anime", "title": "アニメ3 第2期", "year": 2027,
     "ids": {"mal": "704", "anilist": "1704"}, "status": "tba", "anime_type": "tv"},
    {"type": "anime", "title": "ウェブ", "year": 2020, "ids": {"mal": "705", "anilist": "1705"},
     "status": "airing", "anime_type": "ona"},
    {"type": "anime", "title": "映画", "year": 2005, "ids": {"anidb": "806", "tmdb": "906",
     "imdb": "tt0000806"}, "status": "ended", "anime_type": "movie"},
]  # fmt: skip


def test_the_script_builds_merged_deduplicated_lines(tmp_path: Path) -> None:
    (tmp_path / "simkl-captures").mkdir()
    for name, document in CAPTURES.items():
        (tmp_path / "simkl-captures" / name).write_bytes(orjson.dumps(document))
    (tmp_path / "catalog").mkdir()
    for name, document in (
        ("bangumi-data-sample.json", BANGUMI),
        ("anime-ids-sample.json", KOMETA),
        ("arm-sample.json", ARM),
    ):
        (tmp_path / "catalog" / name).write_bytes(orjson.dumps(document))
    out = tmp_path / "out.jsonl.gz"
    command = [sys.executable, str(SCRIPT), "--source", str(tmp_path), "--out", str(out)]
    printed = subprocess.run(
        [*command, "--today", "2026-11-27"], capture_output=True, text=True, check=True
    ).stdout
    lines = gzip.decompress(out.read_bytes()).splitlines()
    assert [orjson.loads(line) for line in lines] == EXPECTED
    assert "wrote 8 items" in printed
    assert "bangumi-data: dropped, no id: 1" in printed
    again = tmp_path / "again.jsonl.gz"
    subprocess.run([*command[:-1], str(again), "--today", "2026-11-27"], check=True)
    assert again.read_bytes() == out.read_bytes()
