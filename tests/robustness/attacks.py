"""The hostile clients of the attack that found issue 7, as functions a test or the measuring
script (`python -m bench.hostile`) runs against a real server, and the measure of what they do
to everyone else: a probe client's latencies and the server's resident memory.

Each attack returns what its own requests got (statuses, or None where the server answered
nothing), so a test can check the answers while the probe shows the server kept serving.
"""

from __future__ import annotations

import json
import selectors
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx2

from tests.robustness.database import Account

MIB = 1024 * 1024
PROBE_PATH = "/sync/activities"
_TIMEOUT_S = 120.0


@dataclass(frozen=True, slots=True)
class Target:
    """A running server and the account its clients use."""

    url: str
    port: int
    pid: int
    account: Account
    database_url: str
    log_path: Path | None = None

    @property
    def query(self) -> dict[str, str]:
        """The identification every request of a well-behaved client carries."""
        return {"client_id": self.account.client_id, "app-name": "attack", "app-version": "1"}

    @property
    def auth(self) -> dict[str, str]:
        """The account's bearer token."""
        return {"Authorization": f"Bearer {self.account.token}"}


def rss_mib(pid: int) -> float:
    """Resident memory of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


@dataclass(slots=True)
class Pressure:
    """What an attack did to everyone else: a probe client's latencies (seconds), its
    answers that were not 200, and the server's memory before and at its highest."""

    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    rss_start: float = 0.0
    rss_peak: float = 0.0
    rss_end: float = 0.0

    def quantile(self, q: float) -> float:
        """The q-quantile of the probe's latencies, in milliseconds."""
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def rss_growth(self) -> float:
        """MiB the server grew by at its highest."""
        return self.rss_peak - self.rss_start

    def describe(self) -> str:
        """One line for logs and the README."""
        return (
            f"probe p50 {self.quantile(0.5):.1f} ms, p99 {self.quantile(0.99):.1f} ms, "
            f"max {self.quantile(1.0):.1f} ms over {len(self.latencies)} requests "
            f"({len(self.failures)} not 200); RSS {self.rss_start:.0f} -> peak "
            f"{self.rss_peak:.0f} -> {self.rss_end:.0f} MiB"
        )


@contextmanager
def pressure(target: Target, *, local_address: str | None = None) -> Iterator[Pressure]:
    """Probe the server from a process of its own (an authenticated read, over and over, on
    one keep-alive connection, from `local_address` if given) and sample the server's memory
    while the block runs; the block starts once the probe has had its first answer."""
    seen = Pressure(rss_start=rss_mib(target.pid))
    seen.rss_peak = seen.rss_start
    query = "&".join(f"{name}={value}" for name, value in target.query.items())
    command = [sys.executable, "-m", "tests.robustness.probe", target.url, PROBE_PATH, query]
    command += [target.account.token, *([local_address] if local_address else [])]
    probe = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    stop = threading.Event()
    first = threading.Event()

    def read_probe() -> None:
        assert probe.stdout is not None
        for line in probe.stdout:
            measured = json.loads(line)
            seen.latencies.append(measured["seconds"])
            if measured["failure"] is not None:
                seen.failures.append(measured["failure"])
            first.set()

    def sample_memory() -> None:
        while not stop.wait(0.005):
            seen.rss_peak = max(seen.rss_peak, rss_mib(target.pid))

    reader = threading.Thread(target=read_probe, name="probe", daemon=True)
    sampler = threading.Thread(target=sample_memory, name="rss", daemon=True)
    reader.start()
    sampler.start()
    try:
        assert first.wait(_TIMEOUT_S), "the probe did not start"
        yield seen
    finally:
        stop.set()
        probe.send_signal(signal.SIGTERM)
        probe.wait(_TIMEOUT_S)
        reader.join(_TIMEOUT_S)
        sampler.join(_TIMEOUT_S)
        if probe.stdout is not None:
            probe.stdout.close()
        seen.rss_end = rss_mib(target.pid)
        seen.rss_peak = max(seen.rss_peak, seen.rss_end)


def in_parallel(count: int, attack: Callable[[int], int | None]) -> list[int | None]:
    """Run `attack(i)` for i < count, all at once; their results in order."""
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(attack, range(count)))


def raw_exchange(port: int, request: bytes, *, timeout: float = _TIMEOUT_S) -> bytes:
    """Send raw bytes (the server may hang up part-way) and read the answer until it closes."""
    with closing(socket.create_connection(("127.0.0.1", port), timeout=timeout)) as sock:
        # The server may answer and close before taking everything: read what it said.
        with suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)
        return read_until_closed(sock)


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the peer sends until it closes (or resets) the connection."""
    received = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk


def status_of(response: bytes) -> int | None:
    """The status of a raw HTTP response, None when there was none."""
    if not response.startswith(b"HTTP/1.1 "):
        return None
    return int(response.split(b" ", 2)[1])


# --- 1. Unbounded headers ------------------------------------------------------------------


def huge_header(target: Target, size: int) -> int | None:
    """One unauthenticated request with a header of `size` bytes."""
    head = b"GET /openapi.json HTTP/1.1\r\nHost: x\r\nX-Big: "
    return status_of(raw_exchange(target.port, head + b"a" * size + b"\r\n\r\n"))


# --- 2. Memory kept per unknown key --------------------------------------------------------


def distinct_keys(target: Target, count: int, key_bytes: int) -> list[int | None]:
    """`count` requests, each with a distinct `simkl-api-key` of `key_bytes` and no app-name."""
    statuses: list[int | None] = []
    with httpx2.Client(base_url=target.url, timeout=_TIMEOUT_S) as client:
        for number in range(count):
            key = f"{number:08d}".ljust(key_bytes, "k")
            answer = client.get("/openapi.json", headers={"simkl-api-key": key})
            statuses.append(answer.status_code)
    return statuses


# --- 3. An outside SQLite writer -----------------------------------------------------------


@contextmanager
def outside_writer(database_url: str) -> Iterator[sqlite3.Connection]:
    """Another process's view of the SQLite file holding its write lock (as a `sqlite3` shell
    after BEGIN IMMEDIATE) until the block ends."""
    path = database_url.split(":///", 1)[1]
    raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        raw.execute("BEGIN IMMEDIATE")
        yield raw
        raw.execute("ROLLBACK")
    finally:
        raw.close()


def rate(target: Target, movie: int, rating: int) -> httpx2.Response:
    """One rating write as a well-behaved client sends it."""
    body = {"movies": [{"ids": {"simkl": movie}, "rating": rating}]}
    with httpx2.Client(base_url=target.url, timeout=_TIMEOUT_S) as client:
        return client.post("/sync/ratings", params=target.query, headers=target.auth, json=body)


# --- 4. Unicode expansion ------------------------------------------------------------------


def expanding_title(target: Target, body_bytes: int, concurrency: int) -> list[int | None]:
    """Ratings writes whose one title is `body_bytes` of U+FDFA (NFKC makes it 18 times
    longer), `concurrency` at once."""
    title = "\ufdfa" * (body_bytes // 3)
    body = {"movies": [{"title": title, "year": 2000, "rating": 5}]}

    def send(_: int) -> int | None:
        with httpx2.Client(base_url=target.url, timeout=_TIMEOUT_S) as client:
            answer = client.post(
                "/sync/ratings", params=target.query, headers=target.auth, json=body
            )
            return answer.status_code

    return in_parallel(concurrency, send)


# --- 6. Idle and half-sent connections -----------------------------------------------------


def half_sent_requests(target: Target) -> dict[str, bytes]:
    """A connection that sends nothing, one that stops inside its head, and one that stops
    inside its (authenticated) body."""
    query = "&".join(f"{name}={value}" for name, value in target.query.items())
    return {
        "idle": b"",
        "half head": b"GET /openapi.json HTTP/1.1\r\nHost: x\r\nX-Wait: ",
        "half body": (
            f"POST /sync/ratings?{query} HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {target.account.token}\r\nContent-Length: 1000\r\n\r\n{{"
        ).encode(),
    }


def half_sent(target: Target, per_kind: int, *, wait_s: float) -> dict[str, list[int | None]]:
    """`per_kind` connections of each kind, left as they are; what each got before the server
    closed it (None: closed without an answer). Each waits at most `wait_s` for the close."""
    requests = half_sent_requests(target)
    sockets: dict[str, list[socket.socket]] = {kind: [] for kind in requests}
    try:
        for kind, request in requests.items():
            for _ in range(per_kind):
                sock = socket.create_connection(("127.0.0.1", target.port), timeout=wait_s)
                sock.sendall(request)
                sockets[kind].append(sock)
        return {
            kind: [status_of(read_until_closed(sock)) for sock in opened]
            for kind, opened in sockets.items()
        }
    finally:
        for opened in sockets.values():
            for sock in opened:
                sock.close()


@contextmanager
def held_connections(target: Target, count: int) -> Iterator[list[int | None]]:
    """`count` connections opened and held silent until the block ends; the statuses of those
    the server refused at once (None for those it kept open)."""
    opened = [socket.create_connection(("127.0.0.1", target.port)) for _ in range(count)]
    answers: dict[socket.socket, int | None] = {}
    with selectors.DefaultSelector() as watching:
        try:
            for sock in opened:
                watching.register(sock, selectors.EVENT_READ, data=sock)
            # A refusal is written as the connection is accepted: wait until a round brings
            # none.
            while ready := watching.select(timeout=0.5):
                for key, _ in ready:
                    refused: socket.socket = key.data
                    answers[refused] = status_of(refused.recv(4096))
                    watching.unregister(refused)
            yield [answers.get(sock) for sock in opened]
        finally:
            for sock in opened:
                sock.close()


# --- 7. Many large bodies at once ----------------------------------------------------------


def padded_body(size: int) -> bytes:
    """A valid ratings body of exactly `size` bytes (no items, one long padding string)."""
    head, tail = b'{"movies": [], "padding": "', b'"}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


def large_bodies(target: Target, connections: int, size: int) -> list[int | None]:
    """`connections` ratings writes of `size` bytes each, all at once."""
    body = padded_body(size)

    def send(_: int) -> int | None:
        with httpx2.Client(base_url=target.url, timeout=_TIMEOUT_S) as client:
            answer = client.post(
                "/sync/ratings", params=target.query, headers=target.auth, content=body
            )
            return answer.status_code

    return in_parallel(connections, send)


# --- 8. The duplicate-key check on large escaped bodies --------------------------------------


def escaped_objects(size: int) -> bytes:
    """`size` bytes of `{}` objects after one key with an escaped colon."""
    head, tail = b'{"movies": [], "a\\u003a": [', b"{}]}"
    return head + b"{}," * ((size - len(head) - len(tail)) // 3) + tail


def escaped_colons(size: int) -> bytes:
    """`size` bytes of a string of escaped colons: every one must be counted, none repeated."""
    head, tail = b'{"movies": [], "a": "', b'"}'
    return head + b"\\u003a" * ((size - len(head) - len(tail)) // 6) + tail


def posted_bodies(target: Target, body: bytes, concurrency: int) -> list[int | None]:
    """The same ratings body posted `concurrency` times at once."""

    def send(_: int) -> int | None:
        with httpx2.Client(base_url=target.url, timeout=_TIMEOUT_S) as client:
            answer = client.post(
                "/sync/ratings", params=target.query, headers=target.auth, content=body
            )
            return answer.status_code

    return in_parallel(concurrency, send)


# --- 9. Large library reads ----------------------------------------------------------------


def fill_library(target: Target, movies: tuple[int, ...], *, batch: int = 5_000) -> None:
    """Rate every one of `movies` (through the API, in batches)."""
    with httpx2.Client(base_url=target.url, timeout=_TIMEOUT_S) as client:
        for start in range(0, len(movies), batch):
            items = [
                {"ids": {"simkl": movie}, "rating": 1 + movie % 10}
                for movie in movies[start : start + batch]
            ]
            answer = client.post(
                "/sync/ratings", params=target.query, headers=target.auth, json={"movies": items}
            )
            assert answer.status_code == 201, answer.text[:500]


def library_reads(target: Target, readers: int, rounds: int) -> list[int | None]:
    """`readers` clients each reading the whole rated library `rounds` times; the row count
    of each answer (None when it was not 200)."""
    path = "/sync/ratings/movies/" + ",".join(str(n) for n in range(1, 11))

    def read(_: int) -> int | None:
        rows: int | None = 0
        with httpx2.Client(base_url=target.url, timeout=_TIMEOUT_S) as client:
            for _ in range(rounds):
                answer = client.get(path, params=target.query, headers=target.auth)
                if answer.status_code != 200:
                    return None
                rows = len(answer.json().get("movies", []))
        return rows

    return in_parallel(readers, read)


# --- 11. Learn mode: a flood of unknown ids -------------------------------------------------


def unknown_items_body(count: int, *, first: int, title_chars: int) -> bytes:
    """A ratings body of `count` distinct items no catalog has (imdb ids from tt8800000000),
    each with a title of `title_chars` characters."""
    items = [
        {"title": f"{n:08d}".ljust(title_chars, "x"), "year": 2000, "ids": {"imdb": f"tt88{n:08d}"}}
        for n in range(first, first + count)
    ]
    for item in items:
        item["rating"] = 5
    return json.dumps({"movies": items}).encode()


def learn_flood(
    target: Target, *, requests: int, items: int, title_chars: int, concurrency: int = 1
) -> list[tuple[int, int]]:
    """`requests` ratings writes of `items` distinct unknown items each (none repeated), sent
    `concurrency` at a time; (status, items added) of each."""
    bodies = [
        unknown_items_body(items, first=index * items, title_chars=title_chars)
        for index in range(requests)
    ]

    def send(index: int) -> tuple[int, int]:
        with httpx2.Client(base_url=target.url, timeout=_TIMEOUT_S) as client:
            answer = client.post(
                "/sync/ratings", params=target.query, headers=target.auth, content=bodies[index]
            )
            added = answer.json()["added"]["movies"] if answer.status_code == 201 else 0
            return answer.status_code, added

    results: list[tuple[int, int]] = []
    for start in range(0, requests, concurrency):
        with ThreadPoolExecutor(concurrency) as pool:
            results += list(pool.map(send, range(start, min(requests, start + concurrency))))
    return results
