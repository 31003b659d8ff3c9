"""The storage ceiling: the batch scenarios' work done on the database without HTTP.

Two measurements over the same request pools the HTTP runs replay:

- `sql`: the very statements the store ran for one request (the area modules' statements
  under `storage/`), recorded once from the domain call with their parameters and replayed
  the way the store ran them (bench/recording.py): a remove's catalog lookup on the reader,
  then its write transaction (on PostgreSQL, one server-side call); an add's lookup and writes
  in one transaction. Nothing else runs.
- `domain`: `domain.ratings.remove_ratings` / `add_ratings` on a `Store`, as the handler
  calls them (matching, planning and row mapping included), minus HTTP, parsing and
  rendering.

Both run on uvloop, like the server, with the server's default settings (pool size, inline
batch limit), and `concurrency` tasks pulling requests from the pool in order.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from bench.datagen import Dataset, User
from bench.recording import Recording, record, replay
from simkl_server.clock import SystemClock
from simkl_server.config import Settings
from simkl_server.domain import ratings
from simkl_server.domain.models import SyncItem
from simkl_server.domain.ratings import RatingInput
from simkl_server.storage.base import Store, open_store
from simkl_server.storage.drivers import open_driver
from simkl_server.wire.common import parse_json_object, sync_items
from simkl_server.wire.ratings import rating_inputs

Op = Callable[[], Awaitable[Any]]


@dataclass(slots=True)
class Request:
    """One pool line, parsed once up front, and the statements its domain call ran."""

    user: User
    items: list[SyncItem]
    inputs: list[RatingInput]
    recording: Recording = field(default_factory=Recording)


def read_requests(dataset: Dataset, pool: Path, *, first: int, count: int) -> list[Request]:
    """Parse `count` pool lines from `first` on (wrapping) into refs and rating inputs."""
    users = dataset.all_users
    lines = pool.read_bytes().splitlines()
    parsed = []
    for n in range(count):
        token_index, body = lines[(first + n) % len(lines)].split(b"\t", 1)
        items = sync_items(parse_json_object(body), max_items=100_000)
        parsed.append(
            Request(users[int(token_index)], items, rating_inputs(items, query_rating=None))
        )
    return parsed


def _domain_call(request: Request, *, adding: bool) -> Callable[[Store], Awaitable[Any]]:
    """What the handler asks of the domain for this request."""
    user_id = request.user.db_id
    if adding:
        return lambda store: ratings.add_ratings(store, user_id=user_id, inputs=request.inputs)
    return lambda store: ratings.remove_ratings(store, user_id=user_id, items=request.items)


async def drive(ops: Sequence[Op], *, concurrency: int, duration_s: float) -> dict[str, Any]:
    """`concurrency` tasks running the ops in order until `duration_s` is up: throughput and
    latency, and whether the ops ran out (`wrapped`: some ran twice)."""
    latencies: list[float] = []
    position = 0
    started = time.perf_counter()
    deadline = started + duration_s

    async def worker() -> None:
        nonlocal position
        while time.perf_counter() < deadline:
            op = ops[position % len(ops)]
            position += 1
            began = time.perf_counter()
            await op()
            latencies.append(time.perf_counter() - began)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "seconds": round(seconds, 3),
        "rps": round(len(latencies) / seconds, 1),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 3),
        "p99_ms": round(latencies[min(len(latencies) - 1, len(latencies) * 99 // 100)] * 1000, 3),
        "wrapped": position > len(ops),
    }


@dataclass(frozen=True, slots=True)
class CeilingRun:
    """One ceiling measurement."""

    mode: str
    adding: bool
    concurrency: int
    duration_s: float


async def plan(database_url: str, requests: list[Request], *, adding: bool) -> None:
    """Run every request's domain call once, keeping the statements it ran (its writes stay:
    the caller restores the database afterwards)."""
    calls = [_domain_call(request, adding=adding) for request in requests]
    for request, made in zip(requests, await record(database_url, calls), strict=True):
        request.recording = made


async def measure(database_url: str, requests: list[Request], run: CeilingRun) -> dict[str, Any]:
    """Run one ceiling measurement over `requests` (planned first for the `sql` mode)."""
    settings = Settings(database_url=database_url)
    store = await open_store(settings, SystemClock())
    driver = await open_driver(
        settings.database, pool_size=settings.pg_pool_size, write_wait_ms=settings.write_wait_ms
    )
    try:
        if run.mode == "sql":
            ops: list[Op] = [partial(replay, driver, r.recording) for r in requests]
        else:
            ops = [partial(_domain_call(r, adding=run.adding), store) for r in requests]
        return await drive(ops, concurrency=run.concurrency, duration_s=run.duration_s)
    finally:
        await driver.close()
        await store.close()
