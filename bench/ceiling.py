"""The storage ceiling: the batch scenarios' work done on the database without HTTP.

Two measurements over the same request pools the HTTP runs replay:

- `sql`: the very statements the store ran for one request (the area modules' statements
  under `storage/`), recorded once from the domain call with their parameters and replayed
  the way the store ran them (bench/recording.py): the catalog lookup on the reader where the
  store makes it there (a remove; on SQLite an add too, read ahead of its write), then the
  write transaction (on PostgreSQL, the remove's one server-side call). Nothing else runs.
- `domain`: `domain.ratings.remove_ratings` / `add_ratings` on a `Store`, as the handler
  calls them (matching, planning and row mapping included), minus HTTP, parsing and
  rendering.

Both run on uvloop, like the server, with the server's default settings (pool size, inline
batch limit), and `concurrency` tasks pulling requests from the pool in order. The library
scenarios (bench/library.py) measure their ceilings with the same `measure`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from bench.datagen import Dataset, User
from bench.recording import DomainCall, replay
from simkl_server.clock import SystemClock
from simkl_server.config import Settings
from simkl_server.domain import ratings
from simkl_server.domain.models import SyncItem
from simkl_server.storage.base import Store, open_store
from simkl_server.storage.drivers import open_driver
from simkl_server.wire.common import parse_json_object, sync_items
from simkl_server.wire.ratings import rating_inputs

Op = Callable[[], Awaitable[Any]]


def read_requests(
    dataset: Dataset, pool: Path, *, first: int, count: int, adding: bool
) -> list[DomainCall]:
    """`count` pool lines from `first` on (wrapping), parsed into the ratings call each makes."""
    users = dataset.all_users
    lines = pool.read_bytes().splitlines()
    parsed = []
    for n in range(count):
        token_index, body = lines[(first + n) % len(lines)].split(b"\t", 1)
        items = sync_items(parse_json_object(body), max_items=100_000)
        user = users[int(token_index)]
        parsed.append(DomainCall(_ratings_call(user, items, adding=adding), writes=True))
    return parsed


def _ratings_call(
    user: User, items: list[SyncItem], *, adding: bool
) -> Callable[[Store], Awaitable[Any]]:
    """What the handler asks of the domain for these items (the user's database id is read
    when the call runs: the data set may be loaded after the pool is read)."""
    if adding:
        inputs = rating_inputs(items, query_rating=None)
        return lambda store: ratings.add_ratings(store, user_id=user.db_id, inputs=inputs)
    return lambda store: ratings.remove_ratings(store, user_id=user.db_id, items=items)


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


async def measure(
    database_url: str,
    calls: Sequence[DomainCall],
    *,
    mode: str,
    concurrency: int,
    duration_s: float,
) -> dict[str, Any]:
    """One ceiling run over `calls`: `sql` replays each call's recorded statements as the store
    ran them (bench/recording.py; record them first); `domain` repeats the domain call."""
    settings = Settings(database_url=database_url)
    store = await open_store(settings, SystemClock())
    driver = await open_driver(
        settings.database, pool_size=settings.pg_pool_size, write_wait_ms=settings.write_wait_ms
    )
    try:
        if mode == "sql":
            ops: list[Op] = [partial(replay, driver, entry.recording) for entry in calls]
        else:
            ops = [partial(entry.call, store) for entry in calls]
        result = await drive(ops, concurrency=concurrency, duration_s=duration_s)
        if not any(entry.writes for entry in calls):
            result["wrapped"] = False  # a read may be repeated: it changes nothing
        return result
    finally:
        await driver.close()
        await store.close()
