"""Fixtures of the robustness suite: real server processes and the fast / soak split.

Every long test exists twice: a short run in `make test` and a long one marked `slow` that
`make soak` runs (SIMKL_SERVER_SOAK=1; SIMKL_SERVER_SOAK_SECONDS sets its length, default 20).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest

from tests.robustness.server import ServerProcess

SOAK = os.environ.get("SIMKL_SERVER_SOAK") == "1"
SOAK_SECONDS = float(os.environ.get("SIMKL_SERVER_SOAK_SECONDS", "20"))


def run_lengths(fast_seconds: float) -> list[pytest.ParameterSet]:
    """`seconds` parameters: the fast run, and the soak run (slow; skipped unless soaking)."""
    return [
        pytest.param(fast_seconds, id="fast"),
        pytest.param(
            SOAK_SECONDS,
            id="soak",
            marks=[
                pytest.mark.slow,
                pytest.mark.skipif(not SOAK, reason="long run: SIMKL_SERVER_SOAK=1 (make soak)"),
            ],
        ),
    ]


class Launch(Protocol):
    """Start a server on a database, with extra environment settings."""

    def __call__(self, database_url: str, *, env: dict[str, str] | None = None) -> ServerProcess:
        """Start it and wait until it answers."""
        ...


@pytest.fixture
def launch(empty_database: str, tmp_path: Path) -> Iterator[Launch]:
    """Start servers on a database; each is stopped at the end of the test whatever happens.

    It depends on `empty_database` (the database server tests use) so that the servers stop
    before that database is dropped. A server that logged an unhandled error fails the test:
    robustness means none."""
    started: list[ServerProcess] = []

    def start(database_url: str, *, env: dict[str, str] | None = None) -> ServerProcess:
        server = ServerProcess(database_url, tmp_path / f"server-{len(started)}.log", env=env)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()
    for server in started:
        text = server.log_text()
        assert "Traceback" not in text, f"server {server.log_path.name} logged:\n{text[-6000:]}"
