"""anime-offline-database files: every form, id derivation from sources, mapping, problems."""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest

from simkl_server.catalog.aod import DataArray, anime_record, looks_like_aod, read_aod, source_id
from simkl_server.domain.catalog import LOCAL_ID_BASE, CatalogRecord, Problem
from simkl_server.domain.kinds import MediaType
from tests.catalog.support import catalog_items, import_path, owners

FIXTURES = Path(__file__).parents[1] / "fixtures"
EXAMPLE = FIXTURES / "catalog" / "anime-offline-database-readme-example.json"
EXAMPLE_DOC = orjson.loads(EXAMPLE.read_bytes())
META = {key: value for key, value in EXAMPLE_DOC.items() if key != "data"}
NO_PIC = "https://raw.githubusercontent.com/manami-project/anime-offline-database/master/pics"


def anime(title: str, *sources: str, **fields: Any) -> dict[str, Any]:
    """A hand-written AOD anime with every field the schema requires."""
    return {
        "sources": list(sources),
        "title": title,
        "type": "TV",
        "episodes": 12,
        "status": "FINISHED",
        "animeSeason": {"season": "SPRING", "year": 2020},
        "picture": f"{NO_PIC}/no_pic.png",
        "thumbnail": f"{NO_PIC}/no_pic_thumbnail.png",
        "synonyms": [],
        "studios": [],
        "producers": [],
        "relatedAnime": [],
        "tags": [],
        **fields,
    }


RECORDS = [
    anime(
        "Test Series",
        "https://anidb.net/anime/90001",
        "https://myanimelist.net/anime/90002",
        "https://simkl.com/anime/90003",
    ),
    anime(
        "Test Film",
        "https://anilist.co/anime/90004",
        "https://kitsu.app/anime/90005",
        type="MOVIE",
        episodes=1,
        status="UPCOMING",
        animeSeason={"season": "UNDEFINED"},
    ),
    anime(
        "Test Web Series",
        "https://livechart.me/anime/90006",
        "https://anime-planet.com/anime/test-web-series",
        type="ONA",
        episodes=0,
        status="ONGOING",
    ),
]
EXPECTED = [
    ("Test Series", 90003, {"anidb": "90001", "mal": "90002"}, "tv", "ended", 12, 2020),
    ("Test Film", None, {"anilist": "90004", "kitsu": "90005"}, "movie", "tba", 1, None),
    (
        "Test Web Series",
        None,
        {"livechart": "90006", "animeplanet": "test-web-series"},
        "ona",
        "airing",
        None,
        2020,
    ),
]


def write_json(path: Path, records: list[Any], *, pretty: bool) -> Path:
    """An AOD document: metadata plus a `data` array (gzipped when the name ends .gz)."""
    body = orjson.dumps({**META, "data": records}, option=orjson.OPT_INDENT_2 if pretty else 0)
    path.write_bytes(gzip.compress(body) if path.name.endswith(".gz") else body)
    return path


def write_jsonl(path: Path, lines: list[Any]) -> Path:
    """An AOD .jsonl: the metadata line, then one anime (or raw bytes) per line."""
    parts = [orjson.dumps(META)] + [
        line if isinstance(line, bytes) else orjson.dumps(line) for line in lines
    ]
    body = b"\n".join(parts) + b"\n"
    path.write_bytes(gzip.compress(body) if path.name.endswith(".gz") else body)
    return path


def summary(entries: list[CatalogRecord | Problem]) -> list[Any]:
    """The facts of each record (or the problem) in a comparable shape."""
    return [
        entry
        if isinstance(entry, Problem)
        else (
            entry.title,
            entry.simkl,
            entry.ids,
            entry.anime_type,
            entry.status,
            entry.total_episodes,
            entry.year,
        )
        for entry in entries
    ]


def test_the_readme_example_is_death_note_with_every_id() -> None:
    assert looks_like_aod(EXAMPLE)
    assert list(read_aod(EXAMPLE)) == [
        CatalogRecord(
            where="data[0]",
            type=MediaType.ANIME,
            title="Death Note",
            ids={
                "anidb": "4563",
                "anilist": "1535",
                "animeplanet": "death-note",
                "ann": "6592",
                "anisearch": "3633",
                "kitsu": "1376",
                "livechart": "3437",
                "mal": "1535",
            },
            simkl=40190,
            year=2006,
            status="ended",
            total_episodes=37,
            anime_type="tv",
        )
    ]


def test_hand_written_records_follow_the_published_schemas() -> None:
    schemas = FIXTURES / "catalog"
    line_schema = orjson.loads((schemas / "anime-offline-database.jsonl.schema.json").read_bytes())
    file_schema = orjson.loads(
        (schemas / "anime-offline-database-minified.schema.json").read_bytes()
    )
    for record in RECORDS:
        jsonschema.Draft202012Validator(line_schema).validate(record)
    jsonschema.Draft202012Validator(file_schema).validate({**META, "data": RECORDS})
    jsonschema.Draft202012Validator(file_schema).validate(EXAMPLE_DOC)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://myanimelist.net/anime/1535", ("mal", "1535")),
        ("https://anidb.net/anime/4563", ("anidb", "4563")),
        ("https://anidb.net/a4563", ("anidb", "4563")),
        ("http://anilist.co/anime/1535", ("anilist", "1535")),
        ("https://kitsu.app/anime/1376", ("kitsu", "1376")),
        ("https://kitsu.io/anime/1376", ("kitsu", "1376")),
        ("https://livechart.me/anime/3437", ("livechart", "3437")),
        ("https://anisearch.com/anime/3633", ("anisearch", "3633")),
        ("https://www.anisearch.com/anime/3633,death-note", ("anisearch", "3633")),
        ("https://anime-planet.com/anime/death-note", ("animeplanet", "death-note")),
        ("https://simkl.com/anime/40190", ("simkl", "40190")),
        ("https://simkl.com/anime/40190/death-note", ("simkl", "40190")),
        ("https://animenewsnetwork.com/encyclopedia/anime.php?id=6592", ("ann", "6592")),
        ("https://myanimelist.net/anime/007", ("mal", "7")),
        ("https://kitsu.app/anime/death-note", None),
        ("https://animecountdown.com/40190", None),
        ("https://notify.moe/anime/0-A-5Fimg", None),
        ("https://myanimelist.net/manga/1535", None),
        ("https://animenewsnetwork.com/encyclopedia/anime.php?id=abc", None),
        ("not a url", None),
    ],
)
def test_ids_come_from_source_urls(url: str, expected: tuple[str, str] | None) -> None:
    assert source_id(url) == expected


@pytest.mark.parametrize(
    ("aod_type", "anime_type"),
    [
        ("TV", "tv"),
        ("MOVIE", "movie"),
        ("OVA", "ova"),
        ("ONA", "ona"),
        ("SPECIAL", "special"),
        ("UNKNOWN", None),
    ],
)
def test_types_map_to_anime_types(aod_type: str, anime_type: str | None) -> None:
    record = anime_record(anime("T", "https://anidb.net/anime/1", type=aod_type), "data[0]")
    assert isinstance(record, CatalogRecord)
    assert (record.type, record.anime_type) == (MediaType.ANIME, anime_type)


@pytest.mark.parametrize(
    ("aod_status", "status"),
    [("FINISHED", "ended"), ("ONGOING", "airing"), ("UPCOMING", "tba"), ("UNKNOWN", None)],
)
def test_statuses_map_to_show_statuses(aod_status: str, status: str | None) -> None:
    record = anime_record(anime("T", "https://anidb.net/anime/1", status=aod_status), "data[0]")
    assert isinstance(record, CatalogRecord)
    assert record.status == status


@pytest.mark.parametrize(
    "name",
    ["db.json", "db-minified.json", "db.jsonl", "db.json.gz", "db-minified.json.gz", "db.jsonl.gz"],
)
def test_every_file_form_reads_the_same_records(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if ".jsonl" in name:
        write_jsonl(path, RECORDS)
        places = ["line 2", "line 3", "line 4"]
    else:
        write_json(path, RECORDS, pretty="minified" not in name)
        places = ["data[0]", "data[1]", "data[2]"]
    assert looks_like_aod(path)
    records = list(read_aod(path))
    assert [r.where for r in records] == places
    assert summary(records) == EXPECTED


def test_interchange_files_are_not_taken_for_aod(tmp_path: Path) -> None:
    plain = FIXTURES / "catalog.jsonl"
    packed = tmp_path / "catalog.jsonl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert [looks_like_aod(p) for p in (plain, packed, empty)] == [False, False, False]


def test_unusable_records_are_problems_with_their_position(tmp_path: Path) -> None:
    bad = [
        RECORDS[0],
        anime("Only unkept sites", "https://animecountdown.com/1", "https://notify.moe/anime/x"),
        5,
        anime("  ", "https://anidb.net/anime/2"),
    ]
    from_json = list(read_aod(write_json(tmp_path / "db.json", bad, pretty=False)))
    from_jsonl = list(
        read_aod(write_jsonl(tmp_path / "db.jsonl", [*bad[:2], b"{oops", b"", *bad[2:]]))
    )
    assert [str(p) for p in from_json if isinstance(p, Problem)] == [
        "data[1]: no usable id in sources",
        "data[2]: not a JSON object",
        "data[3]: no title",
    ]
    assert [str(p) for p in from_jsonl if isinstance(p, Problem)] == [
        "line 3: no usable id in sources",
        "line 4: not valid JSON",
        "line 6: not a JSON object",
        "line 7: no title",
    ]


def test_a_document_without_a_data_array_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    path.write_bytes(b'{"$schema": "x", "data": {"not": "a list"}}')
    assert looks_like_aod(path)
    assert [str(p) for p in read_aod(path)] == ['file: not valid JSON with a "data" array of anime']


def test_an_aod_file_imports_and_reimports_unchanged(empty_database: str, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "anime-offline-database.jsonl.gz", RECORDS)
    first = import_path(empty_database, path)
    second = import_path(empty_database, path)
    assert (first.inserted, first.updated, first.unchanged, first.problems) == (3, 0, 0, [])
    assert (second.inserted, second.updated, second.unchanged, second.problems) == (0, 0, 3, [])
    items = catalog_items(empty_database)
    assert {i: item.title for i, item in items.items()} == {
        90003: "Test Series",
        LOCAL_ID_BASE: "Test Film",
        LOCAL_ID_BASE + 1: "Test Web Series",
    }
    assert items[LOCAL_ID_BASE].is_movie_like
    assert owners(empty_database, ["mal:90002", "kitsu:90005", "animeplanet:test-web-series"]) == {
        "mal:90002": 90003,
        "kitsu:90005": LOCAL_ID_BASE,
        "animeplanet:test-web-series": LOCAL_ID_BASE + 1,
    }


@pytest.mark.parametrize("block", [1, 3, 7, 64, 1 << 20])
def test_the_data_array_is_streamed_element_by_element_across_any_block_size(block: int) -> None:
    tricky = [
        {"title": 'brackets ] } [ { and "quotes", commas', "x": {"data": [1, 2]}},
        "a string element, with a comma ]",
        {"title": "escaped backslash \\", "n": [[], {}]},
        17,
        {"title": "\u00e9\u00e8 unicode \u3042"},
    ]
    body = orjson.dumps({"$schema": "x", "note": "data", "nested": {"data": [9]}, "data": tricky})

    class Blocks(DataArray):
        _BLOCK = block

    elements = Blocks(io.BytesIO(body + b"\n"))
    assert [orjson.loads(raw) for raw in elements] == tricky
    assert elements.found
    missing = Blocks(io.BytesIO(b'{"$schema": "x", "nested": {"data": [1]}}'))
    assert list(missing) == []
    assert not missing.found


def test_a_pretty_printed_document_with_data_first_reads_the_same(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    path.write_bytes(orjson.dumps({"data": RECORDS, **META}, option=orjson.OPT_INDENT_2))
    assert summary(list(read_aod(path))) == EXPECTED
