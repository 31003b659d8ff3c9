"""`library export` and `library import`: a backup round-trips exactly, a library copied from a
second `simkl-server serve` process on loopback reads back identically, and the copy honours
rate limits and resumes after an interruption (time injected, nothing sleeps)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from simkl_server.domain import auth
from simkl_server.domain.kinds import ListStatus, MediaType
from simkl_server.domain.transfer import LibraryRecord
from simkl_server.storage.base import Store, WriteTx
from simkl_server.storage.dialect import statement
from simkl_server.transfer import backup
from simkl_server.transfer.remote import (
    STEPS,
    CopyState,
    Fetcher,
    Pacer,
    Source,
    TransferError,
    fetch_library,
)
from tests.catalog.support import on_store
from tests.cli.support import simkl_server
from tests.conftest import TEST_KEYS, Api, _load_catalog, fresh_database, run, serve_api
from tests.robustness.server import ServerProcess

SET_PLAN = statement("UPDATE users SET account_type = :plan WHERE username = :username")
# Reads that must give the same answer on the source and on the copy.
READS: list[tuple[str, dict[str, str]]] = [
    ("/sync/all-items", {}),
    ("/sync/all-items", {"extended": "full", "episode_watched_at": "yes"}),
    (
        "/sync/all-items",
        {"extended": "full", "include_all_episodes": "original", "episode_watched_at": "yes"},
    ),
    ("/sync/all-items", {"memos": "yes", "next_watch_info": "yes"}),
    ("/sync/all-items", {"allow_rewatch": "yes", "extended": "full", "episode_watched_at": "yes"}),
    ("/sync/ratings", {}),
]


def fill(post: Any, clock: Any = None) -> None:
    """A library with every kind of state: lists, dated and undated episodes, ratings, a memo,
    a rewatch session, an item rated only."""
    post("/sync/history", {"shows": [{"ids": {"simkl": 17465}}]})  # whole show, undated
    post(
        "/sync/history",
        {
            "movies": [
                {
                    "ids": {"simkl": 472214},
                    "watched_at": "2020-01-01T10:00:00Z",
                    "rating": 9,
                    "memo": {"text": "twice", "is_private": True},
                }
            ]
        },
    )
    post(
        "/sync/history",
        {
            "shows": [
                {
                    "ids": {"simkl": 2090},
                    "seasons": [
                        {
                            "number": 1,
                            "episodes": [
                                {"number": 1, "watched_at": "2021-02-03T04:05:06Z"},
                                {"number": 2},
                            ],
                        }
                    ],
                }
            ]
        },
    )
    post(
        "/sync/add-to-list",
        {
            "anime": [{"ids": {"simkl": 831411}, "to": "hold"}],
            "movies": [
                {"ids": {"simkl": 900001}, "to": "plantowatch", "added_at": "2019-01-01T00:00:00Z"}
            ],
        },
    )
    post("/sync/ratings", {"shows": [{"ids": {"simkl": 42040}, "rating": 4}]})
    post(
        "/sync/history?allow_rewatch=yes",
        {
            "shows": [
                {
                    "ids": {"simkl": 17465},
                    "episodes": [{"number": 1, "watched_at": "2026-06-10T10:00:00Z"}],
                }
            ]
        },
    )


def set_plan(api: Api, username: str, plan: str) -> None:
    """Give a user a plan."""

    async def work(tx: WriteTx) -> None:
        await tx.conn.execute(SET_PLAN, {"plan": plan, "username": username})

    api.call(api.store.transaction, work)


def reads(request: Any) -> list[Any]:
    """The answer of every read in READS."""
    return [request(path, params) for path, params in READS]


def test_a_backup_round_trips_exactly(catalog_database: str, tmp_path: Path) -> None:
    with serve_api(catalog_database) as api:
        set_plan(api, "alice", "vip")
        fill(lambda path, body: api.post(path, json=body).raise_for_status())
        bob_token = api.new_user("bob")
        set_plan(api, "bob", "vip")
        first, second = tmp_path / "alice.json", tmp_path / "bob.json"
        simkl_server(catalog_database, "library", "export", str(first), "--user", "alice")
        simkl_server(catalog_database, "library", "import", str(first), "--user", "bob")
        again = simkl_server(catalog_database, "library", "import", str(first), "--user", "bob")
        simkl_server(catalog_database, "library", "export", str(second), "--user", "bob")
        alice = reads(lambda path, params: api.get(path, params=params).json())
        bob = reads(lambda path, params: api.get(path, params=params, token=bob_token).json())

    assert first.read_bytes() == second.read_bytes()
    assert "imported 6 items, 0 not in this catalog" in again.stderr
    assert alice == bob
    document = json.loads(first.read_bytes())
    assert document["format"] == "simkl-server-library"
    assert len(document["items"]) == 6


@pytest.fixture
def source_server(backend: str, tmp_path: Path) -> Iterator[tuple[ServerProcess, str, str]]:
    """A second server process on a database of its own with the test catalog; the base URL,
    a client_id and alice's token there."""
    for url in fresh_database(backend, tmp_path / "source"):
        run(_load_catalog, url)

        async def accounts(store: Store) -> tuple[str, str]:
            app = (await auth.create_app(store, name="source")).app
            await auth.create_user(store, username="alice")
            token = await auth.issue_token(
                store, TEST_KEYS, username="alice", client_id=app.client_id
            )
            return app.client_id, token

        client_id, token = on_store(url, accounts)
        with ServerProcess(url, tmp_path / "source.log") as server:
            yield server, client_id, token


def test_a_library_copied_from_another_server_reads_back_identically(
    source_server: tuple[ServerProcess, str, str], catalog_database: str, tmp_path: Path
) -> None:
    server, client_id, token = source_server
    params = {"client_id": client_id}
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.url, params=params, headers=headers, timeout=30) as source:
        on_store(server.database_url, lambda store: _plan(store, "alice", "vip"))
        fill(lambda path, body: source.post(path, json=body).raise_for_status())
        state = tmp_path / "copy.json"
        with serve_api(catalog_database) as api:
            bob_token = api.new_user("bob")
            set_plan(api, "bob", "vip")
            copy = ["library", "import", "--user", "bob", "--from", server.url, "--token", token]
            copy += ["--client-id", client_id, "--rate", "0", "--state", str(state)]
            done = simkl_server(catalog_database, *copy)
            again = simkl_server(catalog_database, *copy)
            theirs = reads(lambda path, p: source.get(path, params=p).json())
            ours = reads(lambda path, p: api.get(path, params=p, token=bob_token).json())

    assert "imported 6 items, 0 not in this catalog" in done.stderr
    assert "imported 6 items" in again.stderr  # idempotent: the same state again
    assert ours == theirs
    assert not state.exists()  # a finished copy leaves no state behind


async def _plan(store: Store, username: str, plan: str) -> None:
    await store.transaction(
        lambda tx: tx.conn.execute(SET_PLAN, {"plan": plan, "username": username})
    )


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def answers(*statuses: int, headers: dict[str, str] | None = None) -> Any:
    """A getter answering these statuses in turn (then 200 with an empty library)."""
    queue = list(statuses)
    calls: list[str] = []

    def get(url: str, sent: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        calls.append(url)
        status = queue.pop(0) if queue else 200
        return status, headers or {}, b'{"error": "x"}' if status != 200 else b"{}"

    get.calls = calls  # type: ignore[attr-defined]
    return get


def test_requests_are_paced_at_the_rate_asked(tmp_path: Path) -> None:
    time = FakeTime()
    fetcher = Fetcher(
        Source("http://source", "t", "c"),
        Pacer(1.0, clock=lambda: time.now, sleep=time.sleep),
        answers(),
    )

    fetch_library(fetcher, CopyState(tmp_path / "s.json", "http://source", "bob"))

    assert len(fetcher.get.calls) == len(STEPS)  # type: ignore[attr-defined]
    assert time.slept == [1.0] * (len(STEPS) - 1)


def test_429_and_server_errors_back_off_then_refusals_stop(tmp_path: Path) -> None:
    time = FakeTime()
    pacer = Pacer(1.0, clock=lambda: time.now, sleep=time.sleep)
    fetcher = Fetcher(
        Source("http://source", "t", "c"), pacer, answers(429, 503, headers={"Retry-After": "7"})
    )
    fetcher.json("/sync/all-items/movies", {})
    assert time.slept == [7.0, 7.0]

    refused = Fetcher(Source("http://source", "t", "c"), Pacer(0), answers(401))
    with pytest.raises(TransferError, match="refused the token"):
        refused.json("/sync/all-items/movies", {})
    failing = Fetcher(
        Source("http://source", "t", "c"), Pacer(0, sleep=lambda s: None), answers(*[500] * 9)
    )
    with pytest.raises(TransferError, match="still failing"):
        failing.json("/sync/all-items/movies", {})


def test_an_interrupted_copy_resumes_where_it_stopped(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    broken = Fetcher(
        Source("http://source", "t", "c"),
        Pacer(0, sleep=lambda s: None),
        answers(200, 200, *[500] * 9),
    )
    with pytest.raises(TransferError):
        fetch_library(broken, CopyState.open(state_file, source="http://source", user="bob"))
    assert len(json.loads(state_file.read_text())["done"]) == 2

    working = Fetcher(Source("http://source", "t", "c"), Pacer(0), answers())
    fetch_library(working, CopyState.open(state_file, source="http://source", user="bob"))
    assert len(working.get.calls) == len(STEPS) - 2  # type: ignore[attr-defined]
    other = CopyState.open(state_file, source="http://elsewhere", user="bob")
    assert other.done == {}  # another source starts afresh


def test_a_backup_file_that_is_not_one_is_refused(catalog_database: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}')
    done = simkl_server(catalog_database, "library", "import", str(bad), "--user", "alice", code=1)
    assert "is not a library backup" in done.stderr
    with pytest.raises(backup.BackupError, match="version"):
        backup.load(b'{"format": "simkl-server-library", "version": 9, "items": []}')


def test_unmatched_items_are_reported(catalog_database: str, tmp_path: Path) -> None:
    record = LibraryRecord(
        MediaType.MOVIE, "Nowhere", {"imdb": "tt0000001"}, ListStatus.COMPLETED, 0, year=1901
    )
    path = tmp_path / "one.json"
    path.write_bytes(backup.dump([record]))
    with serve_api(catalog_database):
        done = simkl_server(catalog_database, "library", "import", str(path), "--user", "alice")
    assert "imported 0 items, 1 not in this catalog" in done.stderr
    assert "not matched: movie 'Nowhere' (1901; imdb tt0000001)" in done.stderr
