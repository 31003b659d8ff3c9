"""IMDb title.basics / title.episode and TMDB id exports, on small hand-made files: new items,
facts filled into existing ones without renaming them, episode lists, malformed rows with their
line numbers, re-runs changing nothing."""

from __future__ import annotations

import gzip
from pathlib import Path

from simkl_server.catalog.load import detect
from simkl_server.domain.catalog import LOCAL_ID_BASE
from simkl_server.domain.kinds import MediaType
from simkl_server.domain.models import CatalogEpisode
from simkl_server.storage.base import Store
from tests.catalog.support import catalog_items, import_path, jsonl, on_store, owners

BASICS_HEADER = (
    "tconst\ttitleType\tprimaryTitle\toriginalTitle\tisAdult\tstartYear\tendYear\t"
    "runtimeMinutes\tgenres"
)
EPISODE_HEADER = "tconst\tparentTconst\tseasonNumber\tepisodeNumber"
BASICS = [
    BASICS_HEADER,
    "tt0181852\tmovie\tTerminator 3: Rise of the Machines\tTerminator 3\t0\t2003\t\\N\t109\tAction",
    "tt2402207\ttvSeries\tThe Last Ship\tThe Last Ship\t0\t2014\t2018\t60\tAction,Drama",
    "tt0000009\tshort\tA Short\tA Short\t0\t1894\t\\N\t1\tRomance",
    "tt0000010\tmovie\tAdult\tAdult\t1\t2000\t\\N\t90\tAdult",
    "tt0000011\tmovie\tToo few columns",
    "tt0000012\tmovie\tBad year\tBad year\t0\t20x3\t\\N\t90\tDrama",
    "nm0000013\tmovie\tNot a title id\tX\t0\t2000\t\\N\t90\tDrama",
    "",
    "tt2560140\ttvSeries\tAttack on Titan\tShingeki no Kyojin\t0\t2013\t2023\t24\tAnimation",
    "tt0000014\ttvMiniSeries\tStill Airing\tStill Airing\t0\t2025\t\\N\t\\N\tDrama",
]


def write(path: Path, lines: list[str]) -> Path:
    """A TSV or JSON Lines file of these lines (gzipped when the name ends .gz)."""
    body = "".join(f"{line}\n" for line in lines).encode()
    path.write_bytes(gzip.compress(body) if path.name.endswith(".gz") else body)
    return path


def test_the_formats_are_told_from_the_content(tmp_path: Path) -> None:
    files = {
        "imdb-basics": write(tmp_path / "title.basics.tsv.gz", BASICS),
        "imdb-episodes": write(tmp_path / "e.tsv", [EPISODE_HEADER]),
        "tmdb-ids": write(
            tmp_path / "movie_ids.json.gz", ['{"adult":false,"id":1,"original_title":"x"}']
        ),
    }
    assert {name: detect(path).format for name, path in files.items()} == {
        name: name for name in files
    }


def test_imdb_basics_adds_movies_and_series_and_fills_without_renaming(
    empty_database: str, tmp_path: Path
) -> None:
    anime = tmp_path / "anime.jsonl"
    anime.write_bytes(
        b"".join(
            jsonl(
                {
                    "type": "anime",
                    "title": "Shingeki no Kyojin",
                    "ids": {"simkl": 39687, "imdb": "tt2560140"},
                    "total_episodes": 25,
                }
            )
        )
    )
    import_path(empty_database, anime)
    source = write(tmp_path / "title.basics.tsv.gz", BASICS)
    report = import_path(empty_database, source)
    assert (report.inserted, report.updated, report.unchanged) == (3, 1, 0)
    assert (report.ignored, report.conflicts) == (2, 0)
    assert [str(p) for p in report.problems] == [
        "line 6: not 9 tab-separated UTF-8 columns",
        "line 7: startYear '20x3' is not a number from 1800 to 2200",
        "line 8: tconst 'nm0000013' is not an IMDb id",
    ]
    items = catalog_items(empty_database)
    by_imdb = {item.ids["imdb"]: item for item in items.values()}
    t3 = by_imdb["tt0181852"]
    assert (t3.type, t3.title, t3.year, t3.runtime, t3.status) == (
        MediaType.MOVIE,
        "Terminator 3: Rise of the Machines",
        2003,
        109,
        None,
    )
    assert t3.id >= LOCAL_ID_BASE
    ship = by_imdb["tt2402207"]
    assert (ship.type, ship.status, ship.year) == (MediaType.SHOW, "ended", 2014)
    assert by_imdb["tt0000014"].status is None
    titan = items[39687]
    assert (titan.type, titan.title, titan.total_episodes) == (
        MediaType.ANIME,
        "Shingeki no Kyojin",
        25,
    )
    assert (titan.year, titan.runtime) == (2013, 24)  # filled, as they were unknown
    again = import_path(empty_database, source)
    assert (again.inserted, again.updated, again.unchanged, again.bad_rows) == (0, 0, 4, 3)
    assert catalog_items(empty_database) == items


def test_imdb_episodes_add_to_known_series_only(empty_database: str, tmp_path: Path) -> None:
    import_path(empty_database, write(tmp_path / "title.basics.tsv", BASICS))
    episodes = write(
        tmp_path / "title.episode.tsv.gz",
        [
            EPISODE_HEADER,
            "tt9000001\ttt2402207\t1\t1",
            "tt9000002\ttt2402207\t1\t2",
            "tt9000003\ttt2402207\t0\t1",
            "tt9000004\ttt2402207\t\\N\t\\N",
            "tt9000005\ttt7777777\t1\t1",
            "tt9000006\ttt0181852\t1\t1",
            "tt9000007\ttt2402207\tone\t3",
            "tt9000008\tbroken",
            "tt9000001\ttt2402207\t1\t1",
        ],
    )
    report = import_path(empty_database, episodes)
    assert report.summary().startswith("episodes: inserted 3, updated 0, unchanged 0")
    assert (report.not_in_catalog, report.ignored, report.bad_rows) == (1, 1, 3)
    assert [str(p) for p in report.problems] == [
        "line 7: imdb:tt0181852 is a movie here",
        "line 8: seasonNumber 'one' is not a number from 0 to 2147483647",
        "line 9: not 4 tab-separated UTF-8 columns",
    ]
    ship = owners(empty_database, ["imdb:tt2402207"])["imdb:tt2402207"]

    async def listed(store: Store) -> dict[int, list[CatalogEpisode]]:
        return await store.read.catalog.episodes([ship])

    assert [(e.season, e.number) for e in on_store(empty_database, listed)[ship]] == [
        (0, 1),
        (1, 1),
        (1, 2),
    ]
    again = import_path(empty_database, episodes)
    assert (again.inserted, again.unchanged) == (0, 3)


def test_tmdb_id_exports_add_movies_and_shows_by_their_tmdb_space(
    empty_database: str, tmp_path: Path
) -> None:
    anime = tmp_path / "anime.jsonl"
    anime.write_bytes(
        b"".join(
            jsonl(
                {
                    "type": "anime",
                    "title": "Shingeki no Kyojin",
                    "ids": {"simkl": 39687, "tmdb": "1429"},
                    "anime_type": "tv",
                },
            )
        )
    )
    import_path(empty_database, anime)
    movies = write(
        tmp_path / "movie_ids_12_04_2026.json.gz",
        [
            '{"adult":false,"id":1429,"original_title":"A film","popularity":1.5,"video":false}',
            '{"adult":true,"id":5,"original_title":"Adult","popularity":0.6,"video":false}',
            '{"adult":false,"id":"x","original_title":"Bad id"}',
            "{broken",
        ],
    )
    shows = write(
        tmp_path / "tv_series_ids_12_04_2026.json.gz",
        [
            '{"id":1429,"original_name":"進撃の巨人","popularity":80.1}',
            '{"id":1399,"original_name":"Game of Thrones","popularity":300.2}',
            '{"id":7}',
        ],
    )
    first = import_path(empty_database, movies)
    assert (first.inserted, first.ignored, first.bad_rows) == (1, 1, 2)
    assert [p.where for p in first.problems] == ["line 3", "line 4"]
    second = import_path(empty_database, shows)
    assert (second.inserted, second.updated, second.unchanged, second.bad_rows) == (1, 0, 1, 1)
    items = catalog_items(empty_database)
    assert items[39687].title == "Shingeki no Kyojin"
    keys = owners(empty_database, ["tmdb:tv:1429", "tmdb:movie:1429", "tmdb:tv:1399"])
    assert keys["tmdb:tv:1429"] == 39687
    assert keys["tmdb:movie:1429"] != 39687
    assert items[keys["tmdb:tv:1399"]].type is MediaType.SHOW
    assert import_path(empty_database, shows).unchanged == 2
