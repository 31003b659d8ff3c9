"""Catalog import rules on both databases: bad lines, re-imports, updates, conflicts, local ids."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from simkl_server.catalog.interchange import read_interchange
from simkl_server.domain import catalog as catalog_rules
from simkl_server.domain.catalog import LOCAL_ID_BASE, ImportReport, import_records
from simkl_server.domain.kinds import MediaType
from simkl_server.storage import catalog
from simkl_server.storage.base import Store
from simkl_server.storage.dialect import Statement
from tests.catalog.support import catalog_items, import_lines, jsonl, on_store, owners
from tests.helpers import StatementLog

T3 = {"type": "movie", "title": "Terminator 3", "year": 2003, "ids": {"simkl": 53536}}


def movie(simkl: int | None, title: str, **ids: str) -> dict[str, Any]:
    """A movie line with the given ids."""
    all_ids: dict[str, Any] = dict(ids)
    if simkl is not None:
        all_ids["simkl"] = simkl
    return {"type": "movie", "title": title, "ids": all_ids}


def counts(report: ImportReport) -> tuple[int, int, int, list[str]]:
    """(added, updated, unchanged, problems as text) of a report."""
    return report.inserted, report.updated, report.unchanged, [str(p) for p in report.problems]


def test_bad_lines_are_reported_with_their_line_number_and_the_rest_imports(
    empty_database: str,
) -> None:
    lines = [
        *jsonl(movie(1, "First", imdb="tt0000001")),
        b"{not json\n",
        *jsonl({"type": "movie", "ids": {"simkl": 2}}),
        b"\n",
        b'{"type": "movie", "title": "Bad \xff bytes", "ids": {"simkl": 3}}\n',
        *jsonl({"type": "film", "title": "X", "ids": {"simkl": 4}}),
        *jsonl({"type": "movie", "title": "No ids", "ids": {}}),
        *jsonl({"type": "movie", "title": "Bad status", "ids": {"simkl": 5}, "status": "ended"}),
        b"[1, 2]\n",
        *jsonl(movie(6, "Last", tmdb="6")),
    ]
    report = import_lines(empty_database, lines)
    assert [p.where for p in report.problems] == [
        "line 2",
        "line 3",
        "line 5",
        "line 6",
        "line 7",
        "line 8",
        "line 9",
    ]
    assert "title" in report.problems[1].reason
    assert "status" in report.problems[5].reason
    assert (report.inserted, report.updated, report.unchanged) == (2, 0, 0)
    assert sorted(catalog_items(empty_database)) == [1, 6]


def test_importing_the_same_lines_twice_changes_nothing(empty_database: str) -> None:
    lines = jsonl(
        T3,
        movie(None, "Local film", imdb="tt0999999"),
        {"type": "anime", "title": "Local anime", "ids": {"mal": "5"}, "anime_type": "tv"},
        {"type": "show", "title": "The Walking Dead", "ids": {"simkl": 2090, "tvdb": "153021"}},
    )
    first = import_lines(empty_database, lines)
    before = catalog_items(empty_database)
    second = import_lines(empty_database, lines)
    assert counts(first) == (4, 0, 0, [])
    assert counts(second) == (0, 0, 4, [])
    assert catalog_items(empty_database) == before
    assert sorted(before) == [2090, 53536, LOCAL_ID_BASE, LOCAL_ID_BASE + 1]


def test_matching_ids_update_the_item_new_ids_added_given_fields_overwritten(
    empty_database: str,
) -> None:
    import_lines(
        empty_database,
        jsonl({**movie(1, "Old title", imdb="tt0000001"), "year": 1999, "status": "upcoming"}),
    )
    report = import_lines(
        empty_database,
        jsonl({**movie(None, "New title", imdb="tt0000001", tmdb="77"), "status": "released"}),
    )
    assert counts(report) == (0, 1, 0, [])
    item = catalog_items(empty_database)[1]
    assert item.title == "New title"
    assert item.ids == {"imdb": "tt0000001", "tmdb": "77"}
    assert (item.year, item.status) == (1999, "released")  # absent year kept
    assert owners(empty_database, ["tmdb:movie:77", "imdb:tt0000001"]) == {
        "tmdb:movie:77": 1,
        "imdb:tt0000001": 1,
    }


def test_a_line_that_would_make_one_id_point_at_two_items_is_a_conflict(
    empty_database: str,
) -> None:
    import_lines(empty_database, jsonl(movie(1, "One", imdb="tt1"), movie(2, "Two", tmdb="2")))
    before = catalog_items(empty_database)
    report = import_lines(
        empty_database,
        jsonl(
            movie(None, "Both", imdb="tt1", tmdb="2"),
            movie(2, "Two claims one", imdb="tt1"),
            movie(3, "New claims one", imdb="tt1"),
        ),
    )
    assert counts(report) == (
        0,
        0,
        0,
        [
            "line 1: conflict: its ids belong to different items (1, 2)",
            "line 2: conflict: its ids belong to different items (1, 2)",
            "line 3: conflict: its ids belong to different items (1, 3)",
        ],
    )
    assert catalog_items(empty_database) == before


def test_lines_of_one_file_see_each_other(empty_database: str) -> None:
    report = import_lines(
        empty_database,
        jsonl(
            movie(None, "Draft", imdb="tt1"),
            movie(None, "Final", imdb="tt1", tmdb="10"),  # same item: adds tmdb
            movie(7, "Seven", imdb="tt7"),
            movie(None, "Mixed", imdb="tt7", tmdb="10"),  # ids of two items seen above
            movie(7, "Seven", imdb="tt8"),  # replaces its imdb: tt7 is free again
            movie(8, "Eight", imdb="tt7"),
        ),
    )
    assert counts(report) == (
        3,
        0,
        0,
        [
            f"line 4: conflict: its ids belong to different items (7, {LOCAL_ID_BASE})",
        ],
    )
    items = catalog_items(empty_database)
    assert items[LOCAL_ID_BASE].title == "Final"
    assert items[LOCAL_ID_BASE].ids == {"imdb": "tt1", "tmdb": "10"}
    assert owners(empty_database, ["imdb:tt7", "imdb:tt8"]) == {"imdb:tt7": 8, "imdb:tt8": 7}


def test_simkl_ids_are_kept_and_local_ids_are_minted_upward(empty_database: str) -> None:
    import_lines(
        empty_database, jsonl(movie(42, "Real", imdb="tt42"), movie(None, "A", imdb="tt1"))
    )
    import_lines(empty_database, jsonl(movie(None, "B", imdb="tt2")))
    items = catalog_items(empty_database)
    assert {item_id: item.title for item_id, item in items.items()} == {
        42: "Real",
        LOCAL_ID_BASE: "A",
        LOCAL_ID_BASE + 1: "B",
    }


def test_a_local_id_named_in_a_file_is_never_minted_for_another_item(
    empty_database: str,
) -> None:
    report = import_lines(
        empty_database,
        jsonl(movie(None, "Minted", imdb="tt1"), movie(LOCAL_ID_BASE, "Named", imdb="tt2")),
    )
    assert counts(report) == (2, 0, 0, [])
    items = catalog_items(empty_database)
    assert items[LOCAL_ID_BASE].title == "Named"
    assert items[LOCAL_ID_BASE + 1].title == "Minted"


def test_a_local_id_that_names_a_different_item_here_is_a_conflict(empty_database: str) -> None:
    import_lines(empty_database, jsonl(movie(None, "Ours", imdb="tt1")))
    report = import_lines(
        empty_database,
        jsonl(
            movie(LOCAL_ID_BASE, "Someone else's", imdb="tt9"),
            movie(LOCAL_ID_BASE, "Ours, renamed", imdb="tt1", tmdb="5"),
        ),
    )
    assert [p.where for p in report.problems] == ["line 1"]
    assert "local id" in report.problems[0].reason
    assert catalog_items(empty_database)[LOCAL_ID_BASE].title == "Ours, renamed"


def test_rules_hold_across_chunks(empty_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalog_rules, "CHUNK", 2)
    report = import_lines(
        empty_database,
        jsonl(
            movie(None, "A", imdb="tt1"),  # chunk 1: minted LOCAL_ID_BASE
            movie(None, "A again", imdb="tt1"),
            movie(LOCAL_ID_BASE, "Not A", imdb="tt2"),  # chunk 2: names A's minted id
            movie(None, "B", imdb="tt3"),
            movie(5, "Five", imdb="tt3"),  # chunk 3: tt3 already belongs to B
        ),
    )
    assert [p.where for p in report.problems] == ["line 3", "line 5"]
    assert {i: item.title for i, item in catalog_items(empty_database).items()} == {
        LOCAL_ID_BASE: "A again",
        LOCAL_ID_BASE + 1: "B",
    }


def test_moving_a_tmdb_id_into_a_taken_space_is_a_conflict_not_a_crash(
    empty_database: str,
) -> None:
    import_lines(
        empty_database,
        jsonl(
            {"type": "show", "title": "Show", "ids": {"simkl": 1, "tmdb": "5"}},
            {
                "type": "anime",
                "title": "Film",
                "ids": {"simkl": 2, "tmdb": "5"},
                "anime_type": "movie",
            },
            {
                "type": "anime",
                "title": "Series",
                "ids": {"simkl": 3, "tmdb": "9"},
                "anime_type": "tv",
            },
        ),
    )
    report = import_lines(
        empty_database,
        jsonl(
            {"type": "anime", "title": "Film", "ids": {"simkl": 2}, "anime_type": "tv"},
            {"type": "anime", "title": "Series", "ids": {"simkl": 3}, "anime_type": "movie"},
        ),
    )
    assert counts(report) == (
        0,
        1,
        0,
        [
            "line 1: conflict: its ids belong to different items (1, 2)",
        ],
    )
    assert owners(empty_database, ["tmdb:tv:5", "tmdb:movie:5", "tmdb:tv:9", "tmdb:movie:9"]) == {
        "tmdb:tv:5": 1,
        "tmdb:movie:5": 2,
        "tmdb:movie:9": 3,
    }


def test_a_line_with_no_identifying_id_is_skipped(empty_database: str) -> None:
    report = import_lines(
        empty_database, jsonl({"type": "movie", "title": "Slug only", "ids": {"slug": "x"}})
    )
    assert counts(report) == (
        0,
        0,
        0,
        [
            "line 1: no simkl id and no external id that identifies the item",
        ],
    )


@pytest.mark.parametrize("size", [3, 600])
def test_a_chunk_takes_the_same_queries_whatever_its_size(
    empty_database: str, size: int, statements: StatementLog
) -> None:
    def lines(title: str) -> list[bytes]:
        return jsonl(
            *(movie(None, f"{title} {n}", imdb=f"tt{n}", tmdb=str(n)) for n in range(size))
        )

    async def twice(store: Store) -> list[Counter[Statement]]:
        seen = []
        for title in ("Added", "Updated"):
            start = len(statements.sent)
            await import_records(store, read_interchange(lines(title)))
            seen.append(Counter(sent for sent, _ in statements.sent[start:]))
        return seen

    added, updated = on_store(empty_database, twice)
    upsert = {catalog.UPSERT_ITEMS: 1, catalog.DELETE_ITEM_KEYS: 1, catalog.INSERT_ITEM_KEYS: 1}
    # ANALYZE: once per import that changed something, not per chunk.
    assert added == Counter({catalog.MAX_ID: 1, catalog.OWNERS: 1, **upsert, catalog.ANALYZE: 1})
    assert updated == Counter(
        {catalog.MAX_ID: 1, catalog.OWNERS: 1, catalog.ITEMS: 1, **upsert, catalog.ANALYZE: 1}
    )
    assert {item.type for item in catalog_items(empty_database).values()} == {MediaType.MOVIE}
