"""`serve --workers N`: one prepared database, N processes answering on one port, a worker that
dies replaced, a stop that ends them all; on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from simkl_server import server as server_module
from simkl_server.config import Settings
from simkl_server.demo import DEMO_CLIENT_ID, DEMO_TOKEN
from simkl_server.server import WorkerError
from simkl_server.storage import migrate
from tests.cli.support import assert_one_line_error, simkl_server
from tests.conftest import fresh_database
from tests.robustness.server import ServerProcess

WORKERS = 2
AUTH = {"Authorization": f"Bearer {DEMO_TOKEN}", "simkl-api-key": DEMO_CLIENT_ID}
_WAIT_S = 30.0


@pytest.fixture
def server(backend: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """`serve --demo` with two workers on a database of its own."""
    for url in fresh_database(backend, tmp_path / "db", migrated=False):
        env = {"SIMKL_SERVER_DEMO_DATA": "1", "SIMKL_SERVER_WORKERS": str(WORKERS)}
        with ServerProcess(url, tmp_path / "serve.log", env=env) as running:
            yield running


def workers_of(server: ServerProcess) -> set[int]:
    """The supervisor's child processes, read from /proc."""
    assert server.pid is not None
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text()
    return {int(pid) for pid in children.split()}


def wait_for(condition_met: object, what: str) -> None:
    """Poll a condition (a callable) until it holds; fail naming `what`."""
    deadline = time.monotonic() + _WAIT_S
    while time.monotonic() < deadline:
        if callable(condition_met) and condition_met():
            return
        time.sleep(0.05)  # polling a condition, not synchronising on time
    pytest.fail(f"timed out waiting for {what}")


def fresh_connection_get(server: ServerProcess, path: str) -> httpx2.Response:
    """One request on a connection of its own, so any worker may accept it."""
    with httpx2.Client(base_url=server.url, headers=AUTH) as client:
        return client.get(path)


pytestmark = pytest.mark.skipif(
    not Path("/proc/self/task").exists(), reason="reads worker processes from Linux's /proc"
)


def test_writes_through_any_worker_read_back_through_every_other(server: ServerProcess) -> None:
    wait_for(lambda: len(workers_of(server)) == WORKERS, "two workers")
    log = server.log_text()
    assert log.count("demo catalog:") == 1, "the demo data is prepared once, before the workers"
    assert f"with {WORKERS} workers" in log
    for number in range(1, WORKERS + 1):
        wait_for(lambda n=number: f"worker {n} serving" in server.log_text(), f"worker {number}")
    movies = [{"ids": {"imdb": imdb}, "rating": 7} for imdb in ("tt0462538", "tt0468569")]
    with httpx2.Client(base_url=server.url, headers=AUTH) as client:
        added = client.post("/sync/ratings", json={"movies": movies})
    assert added.status_code == 201, added.text
    assert added.json()["added"]["movies"] == 2
    for _ in range(20):
        read = fresh_connection_get(server, "/sync/ratings/movies")
        assert read.status_code == 200
        rated = {movie["movie"]["ids"]["imdb"] for movie in read.json()["movies"]}
        assert {"tt0462538", "tt0468569"} <= rated


def test_a_worker_that_dies_is_replaced_and_a_stop_ends_them_all(server: ServerProcess) -> None:
    wait_for(lambda: len(workers_of(server)) == WORKERS, "two workers")
    first = workers_of(server)
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    wait_for(
        lambda: len(workers_of(server)) == WORKERS and victim not in workers_of(server),
        "a replacement worker",
    )
    assert "ended (exit -9): starting another" in server.log_text()
    assert fresh_connection_get(server, "/sync/activities").status_code == 200
    survivors = workers_of(server)
    server.stop()
    for pid in survivors:
        wait_for(lambda p=pid: not Path(f"/proc/{p}").exists(), f"worker {pid} to end")


def test_a_worker_that_fails_as_it_starts_stops_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail_at_once(*_: object) -> None:
        os._exit(3)  # in the forked worker: what a worker that cannot start does

    monkeypatch.setattr(server_module, "_serve_here", fail_at_once)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", workers=WORKERS)
    migrate.upgrade(settings.database)
    prepared: list[bool] = []

    async def prepare(_store: object) -> None:
        prepared.append(True)

    before = signal.getsignal(signal.SIGTERM)
    with socket.create_server(("127.0.0.1", 0)) as sock, pytest.raises(WorkerError):
        server_module.run(settings, sock, prepare=prepare)
    assert prepared == [True]
    assert signal.getsignal(signal.SIGTERM) is before, "the test process's handler is back"


def test_workers_out_of_range_are_a_usage_error(tmp_path: Path) -> None:
    done = simkl_server(f"sqlite:///{tmp_path / 'x.db'}", "serve", "--workers", "0", code=2)
    assert_one_line_error(done, "--workers")
