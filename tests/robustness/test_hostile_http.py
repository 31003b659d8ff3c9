"""HTTP framing attacks on a real server process: broken Content-Length and Transfer-Encoding,
bad chunks, bodies past the limit without a Content-Length, clients that hang up mid-body.

Each is answered with a Simkl error envelope (or, for a client that left, nothing) and applies
nothing: every request would rate a movie of its own, yet every table is unchanged after.
"""

from __future__ import annotations

import gzip
import socket
from collections.abc import Callable

import httpx2
import orjson

from tests.robustness import database
from tests.robustness.conftest import Launch

LIMIT = 64 * 1024
BAD = (400, "wrong_parameter")
TOO_LARGE = (413, "body_too_large")
# name -> (headers after the request line, body) built around a JSON payload, and the answer.
Framing = Callable[[bytes], tuple[str, bytes]]


def _chunked(*parts: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


CASES: dict[str, tuple[Framing, tuple[int, str]]] = {
    "TE chunked and Content-Length": (
        lambda p: (f"Transfer-Encoding: chunked\r\nContent-Length: {len(p)}\r\n", _chunked(p)),
        BAD,
    ),
    "TE chunked, identity": (
        lambda p: ("Transfer-Encoding: chunked, identity\r\n", _chunked(p)),
        BAD,
    ),
    "TE identity": (
        lambda p: (f"Transfer-Encoding: identity\r\nContent-Length: {len(p)}\r\n", p),
        BAD,
    ),
    "TE unknown coding": (lambda p: ("Transfer-Encoding: xchunked\r\n", p), BAD),
    "TE twice": (
        lambda p: ("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", _chunked(p)),
        BAD,
    ),
    "TE gzip, chunked": (
        lambda p: ("Transfer-Encoding: gzip, chunked\r\n", _chunked(gzip.compress(p))),
        BAD,
    ),
    "chunk size not hex": (
        lambda p: ("Transfer-Encoding: chunked\r\n", b"zz\r\n" + p + b"\r\n0\r\n\r\n"),
        BAD,
    ),
    "chunk size overflow": (
        lambda p: ("Transfer-Encoding: chunked\r\n", b"f" * 20 + b"\r\n" + p + b"\r\n0\r\n\r\n"),
        BAD,
    ),
    "chunk longer than declared": (
        lambda p: ("Transfer-Encoding: chunked\r\n", b"4\r\n" + p + b"\r\n0\r\n\r\n"),
        BAD,
    ),
    "Content-Length negative": (lambda p: ("Content-Length: -1\r\n", p), BAD),
    "Content-Length not a number": (lambda p: ("Content-Length: 12abc\r\n", p), BAD),
    "Content-Length twice, differing": (
        lambda p: (f"Content-Length: {len(p)}\r\nContent-Length: {len(p) + 1}\r\n", p),
        BAD,
    ),
    "Content-Length past 2**64": (
        lambda p: ("Content-Length: 99999999999999999999999\r\n", p),
        BAD,
    ),
    "NUL in a header": (
        lambda p: (f"X-Note: a\x00b\r\nContent-Length: {len(p)}\r\n", p),
        BAD,
    ),
    "chunked past the limit, no Content-Length": (
        lambda p: ("Transfer-Encoding: chunked\r\n", _chunked(*[b" " * 8192] * 10, p)),
        TOO_LARGE,
    ),
    "Content-Length past the limit": (
        lambda p: (f"Content-Length: {LIMIT + len(p)}\r\n", b" " * LIMIT + p),
        TOO_LARGE,
    ),
}


def _exchange(port: int, request: bytes, *, half_close: bool = False) -> bytes:
    """Send raw bytes; return the raw response (empty when the server answered nothing)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
            head, _, body = received.partition(b"\r\n\r\n")
            lengths = [
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ]
            if lengths and len(body) >= lengths[0]:
                break
        return received


def _assert_envelope(response: bytes, expect: tuple[int, str], name: str) -> None:
    head, _, body = response.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in header_lines)
    status = int(status_line.split()[1])
    assert (status, headers.get("content-type")) == (expect[0], "application/json"), (name, body)
    answer = orjson.loads(body)
    assert set(answer) == {"error", "code", "message"}, (name, answer)
    assert (answer["error"], answer["code"]) == (expect[1], expect[0]), (name, answer)


def test_framing_attacks(launch: Launch, empty_database: str) -> None:
    account = database.provision(empty_database, movies=len(CASES) + 2)
    server = launch(empty_database, env={"SIMKL_SERVER_MAX_BODY_BYTES": str(LIMIT)})
    query = f"client_id={account.client_id}&app-name=robustness&app-version=1"
    start = (
        f"POST /sync/ratings?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {account.token}\r\nContent-Type: application/json\r\n"
    )
    before = database.dump(empty_database)
    for movie, (name, (framing, expect)) in zip(account.movies, CASES.items(), strict=False):
        payload = orjson.dumps({"movies": [{"ids": {"simkl": movie}, "rating": 7}]})
        headers, body = framing(payload)
        response = _exchange(server.port, f"{start}{headers}\r\n".encode("latin-1") + body)
        _assert_envelope(response, expect, name)
    # Clients that hang up mid-body: the server sees them go and applies nothing.
    for movie, cut in zip(account.movies[-2:], ("chunked", "content-length"), strict=True):
        payload = orjson.dumps({"movies": [{"ids": {"simkl": movie}, "rating": 7}]})
        if cut == "chunked":
            partial = b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s" % (len(payload), payload)
        else:
            partial = b"Content-Length: %d\r\n\r\n%s" % (len(payload) + 10, payload)
        assert _exchange(server.port, start.encode() + partial, half_close=True) == b""
    with httpx2.Client(base_url=server.url) as client:  # and it still serves
        alive = client.get(
            f"/sync/activities?{query}", headers={"Authorization": f"Bearer {account.token}"}
        )
        assert alive.status_code == 200, alive.text
    assert database.dump(empty_database) == before


def test_an_upgrade_request_is_answered_as_plain_http(launch: Launch, empty_database: str) -> None:
    """No WebSocket endpoints: the Upgrade is ignored (RFC 9110 lets a server), the request is
    answered in the envelope, and the connection closes (the parser reads no further)."""
    account = database.provision(empty_database, movies=1)
    server = launch(empty_database)
    upgrade = (
        "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    )
    query = f"client_id={account.client_id}&app-name=robustness&app-version=1"
    known = _exchange(
        server.port,
        f"GET /sync/activities?{query} HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {account.token}\r\n{upgrade}\r\n".encode(),
    )
    unknown = _exchange(
        server.port, f"GET /sync/nothing HTTP/1.1\r\nHost: x\r\n{upgrade}\r\n".encode()
    )
    assert known.startswith(b"HTTP/1.1 200 "), known[:300]
    assert b"\r\nconnection: close\r\n" in known.lower()
    assert "all" in orjson.loads(known.partition(b"\r\n\r\n")[2])
    _assert_envelope(unknown, (404, "url_failed"), "upgrade to an unknown path")
