"""Large library reads are streamed: the answer goes out in HTTP chunks, a few hundred rows
each, rendered one after another, and is byte for byte the whole document; a client that
leaves halfway costs the server nothing it keeps (it logs no error and goes on serving)."""

from __future__ import annotations

import socket
from contextlib import closing

import httpx2
import orjson
import pytest

from simkl_server.wire.library import PART_ROWS
from tests.robustness import attacks
from tests.robustness.attacks import Target
from tests.robustness.conftest import Launch
from tests.robustness.test_attacks import start

MOVIES = 4 * PART_ROWS + 10  # five parts
READS = ["/sync/all-items", "/sync/all-items/movies", "/sync/ratings", "/sync/ratings/movies"]


@pytest.fixture
def library(launch: Launch, empty_database: str) -> Target:
    target = start(launch, empty_database, movies=MOVIES)
    attacks.fill_library(target, target.account.movies)
    return target


def _request(target: Target, path: str) -> bytes:
    query = "&".join(f"{name}={value}" for name, value in target.query.items())
    headers = "".join(f"{name}: {value}\r\n" for name, value in target.auth.items())
    return f"GET {path}?{query} HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode()


def _answer(sock: socket.socket) -> tuple[bytes, list[bytes]]:
    """The head of a chunked answer, and its chunks, read off the socket one by one."""
    stream = sock.makefile("rb")
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        head += stream.readline()
    chunks = []
    while size := int(stream.readline().split(b";")[0], 16):
        chunks.append(stream.read(size))
        assert stream.read(2) == b"\r\n"
    return head.lower(), chunks


def test_a_large_read_arrives_in_parts_that_make_the_whole_document(library: Target) -> None:
    for path in READS:  # one library for all four: filling it is most of the test's time
        with closing(socket.create_connection(("127.0.0.1", library.port), timeout=30)) as sock:
            sock.sendall(_request(library, path))
            head, chunks = _answer(sock)
        assert head.startswith(b"http/1.1 200"), path
        assert b"transfer-encoding: chunked" in head, path
        assert b"content-length" not in head, path
        assert len(chunks) >= MOVIES // PART_ROWS, path
        body = b"".join(chunks)
        assert body == orjson.dumps(orjson.loads(body)), path
        assert len(orjson.loads(body)["movies"]) == MOVIES, path


def test_a_client_leaving_halfway_leaves_the_server_serving(library: Target) -> None:
    for _ in range(3):
        with closing(socket.create_connection(("127.0.0.1", library.port), timeout=30)) as sock:
            sock.sendall(_request(library, "/sync/all-items"))
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    with httpx2.Client(base_url=library.url, timeout=30) as client:
        whole = client.get("/sync/all-items", params=library.query, headers=library.auth)
    assert whole.status_code == 200
    assert len(whole.json()["movies"]) == MOVIES
