"""Anime id mappings (Kometa anime_ids, bangumi-data, arm) on the shared samples and on small
hand-made files: ids added to anime the catalog holds, never items created, conflicts and
bad entries reported, re-runs changing nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from simkl_server.catalog.load import detect
from tests.catalog.support import catalog_items, import_path, jsonl, owners
from tests.catalog.test_aod import META, anime

FIXTURES = Path(__file__).parents[1] / "fixtures" / "catalog"
ANIME_IDS = FIXTURES / "anime-ids-sample.json"
BANGUMI = FIXTURES / "bangumi-data-sample.json"
ARM = FIXTURES / "arm-sample.json"
# Attack on Titan as CATALOG-FORMAT.md shows it, and the ids the mappings add to it.
TITAN_SIMKL = 39687
TITAN_KEYS = (
    "mal:16498",
    "anidb:9541",
    "anilist:16498",
    "tvdb:267440",
    "imdb:tt2560140",
    "tmdb:tv:1429",
)
DEATH_NOTE_KEYS = ("anidb:4563", "mal:1535", "anilist:1535", "tvdb:79481", "tmdb:tv:13916")


def aod_file(path: Path) -> Path:
    """An AOD .jsonl with Attack on Titan (season 1 and 2) and Death Note, as AOD lists them."""
    records = [
        anime(
            "Shingeki no Kyojin",
            "https://anidb.net/anime/9541",
            "https://myanimelist.net/anime/16498",
            f"https://simkl.com/anime/{TITAN_SIMKL}",
            episodes=25,
            animeSeason={"season": "SPRING", "year": 2013},
        ),
        anime(
            "Shingeki no Kyojin Season 2",
            "https://anidb.net/anime/10944",
            "https://myanimelist.net/anime/25777",
            episodes=12,
        ),
        anime("Death Note", "https://anidb.net/anime/4563", "https://myanimelist.net/anime/1535"),
    ]
    path.write_bytes(b"\n".join(orjson.dumps(line) for line in [META, *records]) + b"\n")
    return path


def test_the_formats_are_told_from_the_content() -> None:
    assert [detect(p).format for p in (ANIME_IDS, BANGUMI, ARM)] == [
        "anime-ids",
        "bangumi-data",
        "arm",
    ]


def test_the_shared_samples_make_the_spec_example_resolve_by_every_id_it_carries(
    empty_database: str, tmp_path: Path
) -> None:
    assert import_path(empty_database, aod_file(tmp_path / "aod.jsonl")).inserted == 3
    reports = [import_path(empty_database, path) for path in (ANIME_IDS, BANGUMI, ARM)]
    assert [r.inserted for r in reports] == [0, 0, 0]
    assert [(r.bad_rows, r.conflicts) for r in reports] == [(0, 0), (0, 0), (0, 0)]
    assert reports[0].updated == 3  # AoT, its season 2 and Death Note gain ids
    assert reports[0].not_in_catalog == 2000 - 3
    items = catalog_items(empty_database)
    assert len(items) == 3
    titan = items[TITAN_SIMKL]
    assert titan.title == "Shingeki no Kyojin"  # a mapping never renames
    assert set(owners(empty_database, TITAN_KEYS).values()) == {TITAN_SIMKL}
    assert len(owners(empty_database, TITAN_KEYS)) == len(TITAN_KEYS)
    death_note = owners(empty_database, DEATH_NOTE_KEYS)
    assert len(death_note) == len(DEATH_NOTE_KEYS)
    assert len(set(death_note.values())) == 1
    # Season 2 maps into the series season 1 starts: it keeps its own ids, not the series'.
    season2 = next(item for item in items.values() if item.ids.get("anidb") == "10944")
    assert season2.ids == {"anidb": "10944", "mal": "25777", "anilist": "20958"}
    again = [import_path(empty_database, path) for path in (ANIME_IDS, BANGUMI, ARM)]
    assert [(r.inserted, r.updated, r.unchanged) for r in again] == [
        (0, 0, 3),
        (0, 0, 3),
        (0, 0, 3),
    ]
    assert catalog_items(empty_database) == items


def kometa(path: Path, entries: dict[str, Any] | bytes) -> Path:
    """A hand-made anime_ids.json."""
    body = entries if isinstance(entries, bytes) else orjson.dumps(entries)
    path.write_bytes(body)
    return path


def test_anime_ids_add_only_to_known_items_and_report_conflicts_and_bad_entries(
    empty_database: str, tmp_path: Path
) -> None:
    catalog = tmp_path / "catalog.jsonl"
    catalog.write_bytes(
        b"".join(
            jsonl(
                {"type": "anime", "title": "A", "ids": {"simkl": 1, "anidb": "11"}},
                {"type": "anime", "title": "B", "ids": {"simkl": 2, "mal": "22"}},
                {
                    "type": "anime",
                    "title": "Film",
                    "ids": {"simkl": 3, "anidb": "33"},
                    "anime_type": "movie",
                },
            )
        )
    )
    import_path(empty_database, catalog)
    mapping = kometa(
        tmp_path / "anime_ids.json",
        {
            "11": {"mal_id": "101,102", "tvdb_id": 5000, "tvdb_season": 1, "tmdb_show_id": 7},
            "33": {"mal_id": 303, "tmdb_show_id": 8, "tmdb_movie_id": "9,10", "imdb_id": "tt09"},
            "44": {"mal_id": 22, "anilist_id": 404},  # B by its mal id: adds anidb and anilist
            "55": {"mal_id": 22},  # mal 22 is B's, whose anidb id is 44: a conflict
            "11x": {"mal_id": 1},
            "66": [1, 2],
            "77": {"mal_id": 99999},
        },
    )
    report = import_path(empty_database, mapping)
    items = catalog_items(empty_database)
    assert items[1].ids == {"anidb": "11", "mal": "101", "tvdb": "5000", "tmdb": "7"}
    assert items[3].ids == {"anidb": "33", "mal": "303", "tmdb": "9", "imdb": "tt09"}
    assert items[2].ids == {"mal": "22", "anidb": "44", "anilist": "404"}
    assert (report.inserted, report.updated, report.not_in_catalog) == (0, 3, 1)
    assert [str(p) for p in report.problems] == [
        'entry "55": conflict: ids.anidb 55, but the item it matches (2) has 44',
        'entry "11x": not an AniDB id with an object of ids',
        'entry "66": not an AniDB id with an object of ids',
    ]
    assert report.problems[0].conflict
    assert (report.conflicts, report.bad_rows) == (1, 2)
    again = import_path(empty_database, mapping)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert catalog_items(empty_database) == items


def test_a_mapping_that_is_not_json_is_one_bad_row(empty_database: str, tmp_path: Path) -> None:
    broken = kometa(tmp_path / "anime_ids.json", b'{"1": {"mal_id": 1}')
    report = import_path(empty_database, broken)
    assert [str(p) for p in report.problems] == ["file: not a JSON object of AniDB ids"]
