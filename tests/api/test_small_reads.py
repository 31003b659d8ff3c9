"""Small library reads (a small library, or the delta a client syncs) are read and rendered on
the event loop, where a thread hop would cost more than the read; a read of more rows, or one
listing watched episodes, goes to a worker thread. Both give the same answer, byte for byte."""

from __future__ import annotations

from typing import Any

import pytest

from simkl_server.domain import library as library_rules
from simkl_server.storage import library as library_sql
from simkl_server.storage.activities import ALL
from simkl_server.storage.dialect import Statement
from tests.api.library_support import (
    DUNE_2,
    GAME_OF_THRONES,
    INCEPTION,
    TERMINATOR_3,
    WALKING_DEAD,
    history,
    ids,
    post,
)
from tests.conftest import Api
from tests.helpers import StatementLog

# Every ROWS statement of a library read: the whole read, or its first rows up to a limit.
LIBRARY_ROWS = set(library_sql.ROWS.values())


@pytest.fixture
def small_library(api: Api) -> Api:
    post(api, "/sync/ratings", {"movies": [ids(TERMINATOR_3, rating=7), ids(DUNE_2, rating=9)]})
    post(api, "/sync/add-to-list", {"shows": [ids(GAME_OF_THRONES, to="plantowatch")]})
    history(api, {"movies": [ids(INCEPTION)], "shows": [ids(WALKING_DEAD)]})
    return api


def _threads(statements: StatementLog, api: Api, path: str, **params: Any) -> dict[Statement, int]:
    start = len(statements.sent)
    assert api.get(path, params=params).status_code == 200
    return dict(statements.sent[start:])


def _loop_thread(statements: StatementLog, api: Api) -> int:
    return _threads(statements, api, "/sync/activities")[ALL]


def test_a_small_read_runs_on_the_loop(small_library: Api, statements: StatementLog) -> None:
    loop = _loop_thread(statements, small_library)
    sent = _threads(statements, small_library, "/sync/all-items")
    assert LIBRARY_ROWS & set(sent)
    assert set(sent.values()) == {loop}


def test_a_read_listing_episodes_runs_off_the_loop(
    small_library: Api, statements: StatementLog
) -> None:
    loop = _loop_thread(statements, small_library)
    sent = _threads(statements, small_library, "/sync/all-items", extended="full")
    assert {sent[statement] for statement in LIBRARY_ROWS & set(sent)} - {loop}


def test_a_read_over_the_limit_looks_at_its_first_rows_only_then_goes_off_the_loop(
    small_library: Api, statements: StatementLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(library_rules, "SMALL_READ_ROWS", 2)
    loop = _loop_thread(statements, small_library)
    start = len(statements.sent)
    assert len(small_library.get("/sync/all-items").json()["movies"]) == 3
    rows_reads = [(s, t) for s, t in statements.sent[start:] if s in LIBRARY_ROWS]
    assert [thread == loop for _, thread in rows_reads] == [True, False]
    assert rows_reads[0][0] != rows_reads[1][0]  # the first with a limit, the second without


READS = [
    ("/sync/all-items", {}),
    ("/sync/all-items/movies", {"extended": "ids_only"}),
    ("/sync/all-items/shows/plantowatch", {"memos": "yes"}),
    ("/sync/all-items", {"next_watch_info": "yes", "date_from": "2000-01-01T00:00:00Z"}),
    ("/sync/ratings", {}),
    ("/sync/ratings/movies/9", {}),
]


@pytest.mark.parametrize(("path", "params"), READS, ids=[f"{p}{q}" for p, q in READS])
def test_on_and_off_the_loop_a_read_answers_alike(
    small_library: Api, monkeypatch: pytest.MonkeyPatch, path: str, params: dict[str, str]
) -> None:
    on_the_loop = small_library.get(path, params=params)
    monkeypatch.setattr(library_rules, "SMALL_READ_ROWS", 0)
    off_the_loop = small_library.get(path, params=params)
    assert on_the_loop.status_code == off_the_loop.status_code == 200
    assert on_the_loop.json()
    assert on_the_loop.content == off_the_loop.content
