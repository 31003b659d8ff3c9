"""The processes under test (simkl-server, the bare ASGI app, the statement floor, Prism)
and the databases.

Each server is a child process on a free loopback port, logging to a file in the work
directory, stopped with SIGTERM (then SIGKILL) by its own pid.
"""

from __future__ import annotations

import asyncio
import http.client
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import asyncpg

BENCH_DIR = Path(__file__).parent
PRISM_BIN = BENCH_DIR / "node_modules" / ".bin" / "prism"
TRIMMED_OPENAPI = BENCH_DIR / "openapi-trimmed.json"
HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


# Headers the server under test's ASGI stack writes itself (uvicorn: date, server; the bare app
# sets content-length and content-type on its own), so not replayed by the bare ASGI app.
_STACK_HEADERS = frozenset(
    {"date", "server", "content-length", "content-type", "connection", "transfer-encoding"}
)


@dataclass(frozen=True, slots=True)
class Captured:
    """A response as a client saw it; `headers` are those the app set beyond content-type
    and content-length (a redirect's Location and Cache-Control), lower-cased."""

    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


def request(
    port: int, method: str, path: str, *, headers: dict[str, str], body: bytes | None = None
) -> Captured:
    """One HTTP request on loopback."""
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        extra = tuple(
            (name.lower(), value)
            for name, value in response.getheaders()
            if name.lower() not in _STACK_HEADERS
        )
        return Captured(
            response.status, response.getheader("content-type", ""), response.read(), extra
        )
    finally:
        connection.close()


class Server:
    """A child process serving HTTP on a loopback port."""

    def __init__(self, name: str, command: list[str], *, log: Path, env: dict[str, str]) -> None:
        self.name = name
        self.port = free_port()
        self._command = [part.replace("{port}", str(self.port)) for part in command]
        self._env = {
            **os.environ,
            **{k: v.replace("{port}", str(self.port)) for k, v in env.items()},
        }
        self._log = log
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL."""
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        """Process id of the running server."""
        assert self._process is not None
        return self._process.pid

    @property
    def pids(self) -> list[int]:
        """The server's process and its children (the workers of `serve --workers N`)."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        found = children.read_text().split() if children.exists() else []
        return [self.pid, *map(int, found)]

    def __enter__(self) -> Server:
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(
                self._command, stdout=log, stderr=subprocess.STDOUT, env=self._env
            )
        self._wait_ready()
        return self

    def _wait_ready(self, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early; see {self._log}")
            try:
                with socket.create_connection((HOST, self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not listen within {timeout_s} s; see {self._log}")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def simkl_server(
    database_url: str, *, log: Path, workers: int = 1, extra: dict[str, str] | None = None
) -> Server:
    """`simkl-server serve` on a database, with every setting at its default but the access
    log: off, as Prism runs at `warn`, so per-request log lines are not part of what is
    compared (`python -m bench.access_log` measures what they cost); learn mode off (the
    scenarios' unknown items stay not_found, as on Simkl) unless `extra` settings say;
    `workers` processes."""
    script = Path(sys.executable).with_name("simkl-server")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "simkl_server"]
    return Server(
        "simkl-server" if workers == 1 else f"simkl-server, {workers} workers",
        [*command, "serve"],
        log=log,
        env={
            "SIMKL_SERVER_DATABASE_URL": database_url,
            "SIMKL_SERVER_HOST": HOST,
            "SIMKL_SERVER_PORT": "{port}",
            "SIMKL_SERVER_ACCESS_LOG": "false",
            "SIMKL_SERVER_WORKERS": str(workers),
            "SIMKL_SERVER_CATALOG_LEARN": "false",
            **(extra or {}),
        },
    )


def bare_asgi(captured: Captured, *, body_file: Path, log: Path) -> Server:
    """The bare ASGI app answering `captured`'s bytes (status, headers, body)."""
    body_file.write_bytes(captured.body)
    headers = [part for name, value in captured.headers for part in ("--header", f"{name}:{value}")]
    options = ["--status", str(captured.status), "--content-type", captured.content_type]
    return _bench_app(
        "bare ASGI", "bench.bare_asgi", [*options, "--body", str(body_file), *headers], log=log
    )


def floor(database_url: str, *, log: Path) -> Server:
    """The statement floor (bench/floor.py): the store's statements for a single remove, with
    the least Python around them, on the same database."""
    return _bench_app("statement floor", "bench.floor", ["--database-url", database_url], log=log)


def least_work(database_url: str, kind: str, *, log: Path) -> Server:
    """One kind of the least work a request can do (bench/least.py), on the same database."""
    arguments = ["--kind", kind, "--database-url", database_url]
    return _bench_app(f"least work ({kind})", "bench.least", arguments, log=log)


def _bench_app(name: str, module: str, arguments: list[str], *, log: Path) -> Server:
    """One of the bench's own apps (`python -m <module> --port <port> ...`)."""
    command = [sys.executable, "-m", module, "--port", "{port}", *arguments]
    return Server(name, command, log=log, env={"PYTHONPATH": str(BENCH_DIR.parent)})


def prism(*, log: Path, verbosity: str) -> Server:
    """Stoplight Prism mocking the trimmed official OpenAPI document."""
    return Server(
        "Prism",
        [
            "node",
            str(PRISM_BIN),
            "mock",
            str(TRIMMED_OPENAPI),
            "--host",
            HOST,
            "--port",
            "{port}",
            "--verboseLevel",
            verbosity,
        ],
        log=log,
        env={},
    )


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one run, dropped afterwards."""
    name = f"simkl_bench_{uuid.uuid4().hex[:10]}"

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(admin_url)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def postgres_version(admin_url: str) -> str:
    """The server's version string (short form)."""
    connection = await asyncpg.connect(admin_url)
    try:
        version: str = await connection.fetchval("SHOW server_version")
        return version
    finally:
        await connection.close()


def postgres_reachable(admin_url: str) -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        asyncio.run(postgres_version(admin_url))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return str(exc)
    return None
