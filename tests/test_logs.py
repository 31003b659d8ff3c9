"""The server's log lines: access lines are written in batches, never out of order."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Callable, Iterator

import pytest

from simkl_server import logs


@pytest.fixture
def stream(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """`logs.configure` writing to a string instead of stderr; logging put back afterwards."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    captured = io.StringIO()
    monkeypatch.setattr("sys.stderr", captured)
    logs.configure("info")
    yield captured
    root.handlers[:], level = saved
    root.setLevel(level)


def access_writer() -> Callable[[str], None]:
    """The access log's writer, as a server process makes it: with the server's handler the
    only one (pytest adds capturing handlers of its own while a test runs)."""
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if type(h).__module__ == logs.__name__]
    return logs.info_writer("simkl_server.access")


def test_outside_an_event_loop_a_line_is_written_at_once(stream: io.StringIO) -> None:
    access_writer()("GET /health 200")
    assert stream.getvalue().endswith(" INFO simkl_server.access: GET /health 200\n")


def test_in_a_loop_lines_wait_for_their_batch_and_other_lines_never_overtake_them(
    stream: io.StringIO,
) -> None:
    write = access_writer()

    async def requests() -> str:
        write("GET /a 200")
        write("GET /b 200")
        before = stream.getvalue()
        logging.getLogger("simkl_server").warning("after both")
        return before

    assert asyncio.run(requests()) == ""  # one write for the batch, not one per line
    lines = stream.getvalue().splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == ["GET /a 200", "GET /b 200", "after both"]


def test_a_full_batch_is_written_without_waiting(stream: io.StringIO) -> None:
    write = access_writer()

    async def burst() -> int:
        for number in range(logs._BatchedLines.BATCH_LINES):
            write(f"GET /{number} 200")
        return stream.getvalue().count("\n")

    assert asyncio.run(burst()) == logs._BatchedLines.BATCH_LINES
