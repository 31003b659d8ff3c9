"""`serve` as a self-hoster starts it: the port is taken before anything is printed, the demo
banner comes after the bind, an empty catalog is pointed out, every log line has one format,
and each request leaves one access line with its secrets masked."""

from __future__ import annotations

import asyncio
import gc
import os
import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx2
import pytest

from simkl_server.demo import DEMO_CLIENT_ID, DEMO_TOKEN, DEMO_V2_CLIENT_ID
from simkl_server.server import settle_collector
from tests.cli.support import assert_one_line_error, simkl_server
from tests.conftest import create_pg_database, drop_pg_database, require_postgres
from tests.robustness.server import ServerProcess

REPO = Path(__file__).parents[2]
LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR) [\w.]+: ")
ACCESS = re.compile(
    r"INFO simkl_server\.access: (?P<method>\w+) (?P<target>\S+) (?P<status>\d{3}) "
    r"(?P<ms>\d+\.\d)ms (?P<app>\S+)$"
)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A database file that does not exist yet."""
    return f"sqlite:///{tmp_path / 'serve.db'}"


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port something else already listens on."""
    with socket.create_server(("127.0.0.1", 0)) as holder:
        yield holder.getsockname()[1]


def logged(server: ServerProcess) -> list[str]:
    """The server's output lines, without the test harness's own start markers."""
    return [line for line in server.log_text().splitlines() if not line.startswith("--- ")]


def test_a_taken_port_fails_before_anything_is_printed_or_done(
    sqlite_url: str, taken_port: int, tmp_path: Path
) -> None:
    done = simkl_server(sqlite_url, "serve", "--demo", "--port", str(taken_port), code=1)
    assert_one_line_error(
        done, f"cannot listen on 127.0.0.1:{taken_port}", "address already in use"
    )
    assert not (tmp_path / "serve.db").exists(), "nothing may happen before the bind"


def test_an_unknown_host_is_one_line(sqlite_url: str) -> None:
    done = simkl_server(
        sqlite_url, "serve", "--port", "0", code=1, settings={"host": "no-such-host.invalid"}
    )
    assert_one_line_error(done, "cannot listen on no-such-host.invalid:0: unknown host")


def test_demo_banner_after_the_bind_then_one_format_and_masked_access_lines(
    sqlite_url: str, tmp_path: Path
) -> None:
    server = ServerProcess(sqlite_url, tmp_path / "demo.log", env={"SIMKL_SERVER_DEMO_DATA": "1"})
    with server, httpx2.Client(base_url=server.url) as client:
        query = f"client_id={DEMO_CLIENT_ID}&app-name=plex-sync&app-version=2.1"
        read = client.get(
            f"/sync/activities?{query}&token=hunter2&client_secret=swordfish",
            headers={"Authorization": f"Bearer {DEMO_TOKEN}"},
        )
        refused = client.get("/sync/activities?client_id=unknown&code=abc123")
    assert (read.status_code, refused.status_code) == (200, 412)
    lines = logged(server)
    banner = lines.index(f"demo client_id:    {DEMO_CLIENT_ID}")
    assert f"http://127.0.0.1:{server.port}/sync/activities" in lines[banner + 2]
    assert lines[banner + 3].endswith(DEMO_V2_CLIENT_ID)
    assert f"http://127.0.0.1:{server.port}/signin" in lines[banner + 4]
    started = next(i for i, line in enumerate(lines) if "Application startup complete" in line)
    assert banner < started
    assert all(LOG_LINE.match(line) for line in lines[: banner - 1] + lines[banner + 5 :]), lines
    access = [found.groupdict() for line in lines if (found := ACCESS.search(line))]
    assert [(a["method"], a["status"], a["app"]) for a in access[-2:]] == [
        ("GET", "200", "plex-sync/2.1"),
        ("GET", "412", "client_id=unknown"),
    ]
    assert "token=***&client_secret=***" in access[-2]["target"]
    assert access[-1]["target"] == "/sync/activities?client_id=unknown&code=***"
    text = "\n".join(lines)
    for secret in ("hunter2", "swordfish", "abc123"):
        assert secret not in text
    assert "'unknown'" not in text, "a refused client_id is not noted as accepted"


def test_an_empty_catalog_is_pointed_out_and_the_access_log_can_be_off(
    sqlite_url: str, tmp_path: Path
) -> None:
    server = ServerProcess(
        sqlite_url, tmp_path / "empty.log", env={"SIMKL_SERVER_ACCESS_LOG": "false"}
    )
    with server, httpx2.Client(base_url=server.url) as client:
        assert client.get("/health").status_code == 200
    warnings = [line for line in logged(server) if " WARNING " in line]
    assert len(warnings) == 1
    assert "the catalog is empty" in warnings[0]
    assert "simkl-server catalog import --demo" in warnings[0]
    assert "simkl_server.access" not in server.log_text()


def test_libpq_url_parameters_work_end_to_end(tmp_path: Path) -> None:
    require_postgres()
    database = create_pg_database()
    url = (
        f"{database}?sslmode=disable&connect_timeout=5&application_name=simkl-e2e"
        "&keepalives=1&options=-c%20statement_timeout%3D30000"
    )
    try:
        created = simkl_server(url, "apps", "create", "x")
        assert "ignoring keepalives in SIMKL_SERVER_DATABASE_URL" in created.stderr
        with ServerProcess(url, tmp_path / "pg.log") as server:
            health = httpx2.get(f"{server.url}/health")
            names = asyncio.run(_application_names(database))
        assert health.status_code == 200
        assert "simkl-e2e" in names
    finally:
        drop_pg_database(database)


async def _application_names(url: str) -> set[str]:
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT application_name FROM pg_stat_activity WHERE datname = $1 AND pid <> "
            "pg_backend_pid()",
            name,
        )
    finally:
        await conn.close()
    return {row[0] for row in rows}


def test_make_serve_honours_port_and_host() -> None:
    done = subprocess.run(
        ["make", "-n", "serve", "PORT=9123", "HOST=0.0.0.0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert re.search(r"simkl-server serve --demo --host 0\.0\.0\.0 --port 9123$", done.stdout, re.M)
    default = subprocess.run(
        ["make", "-n", "serve"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env=environment_without_port(),
    )
    assert re.search(
        r"simkl-server serve --demo --host 127\.0\.0\.1 --port 8765$", default.stdout, re.M
    )


def environment_without_port() -> dict[str, str]:
    """The environment minus a PORT or HOST the developer's shell may set."""
    return {k: v for k, v in os.environ.items() if k not in {"PORT", "HOST"}}


def test_serving_freezes_what_start_up_loaded_and_collects_young_objects_less_often() -> None:
    before = gc.get_threshold()
    try:
        settle_collector()
        assert gc.get_freeze_count() > 0  # start-up's objects left the generations
        young, middle, oldest = gc.get_threshold()
        assert young > 700  # CPython's default collected a batch's live objects every request
        assert (middle, oldest) == before[1:]
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
