"""The storage ceiling: the batch scenarios' work done on the database without HTTP.

Two measurements over the same request pools the HTTP runs replay:

- `sql`: the very statements the store runs for one request (the area modules' statements
  under `storage/`), in one transaction per request, with every parameter prepared beforehand:
  remove = lock user, find catalog, clear ratings, touch activities (on PostgreSQL: find
  catalog, then the one call that locks, clears and touches); add = lock user, find
  catalog, library states, save ratings, touch activities. Nothing else runs.
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
from pathlib import Path
from typing import Any

import orjson

from bench.datagen import Dataset, User
from simkl_server.clock import SystemClock
from simkl_server.config import Settings
from simkl_server.domain import ratings
from simkl_server.domain.kinds import list_bucket, rated_bucket
from simkl_server.domain.library import auto_status
from simkl_server.domain.matching import catalog_query, resolve
from simkl_server.domain.models import CatalogItem, ItemRef, SyncItem
from simkl_server.domain.ratings import RatingInput
from simkl_server.storage import activities, catalog, library
from simkl_server.storage import ratings as ratings_sql
from simkl_server.storage.base import Store, open_store
from simkl_server.storage.dialect import POSTGRES
from simkl_server.storage.drivers import Connection, Driver, open_driver
from simkl_server.wire.common import parse_json_object, sync_items
from simkl_server.wire.ratings import rating_inputs

Op = Callable[[], Awaitable[Any]]


def _json(values: Any) -> str:
    return orjson.dumps(values).decode()


@dataclass(slots=True)
class Request:
    """One pool line, parsed once up front."""

    user: User
    items: list[SyncItem]
    inputs: list[RatingInput]
    find_params: dict[str, Any] = field(default_factory=dict)
    find_variant: tuple[bool, bool, bool] = (False, False, False)
    item_ids: Any = None
    bucket_of: dict[int, str] = field(default_factory=dict)
    rows: list[tuple[int, str, int, int | None]] = field(default_factory=list)
    buckets: Any = None


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


async def _plan_sql(store: Store, request: Request, *, adding: bool) -> None:
    """Prepare every parameter of the request's statements (what the domain would derive)."""
    refs: list[ItemRef] = [i.item.ref for i in request.inputs if i.acceptable]
    if not adding:
        refs = [item.ref for item in request.items]
    query = catalog_query(refs)
    array = store.read.conn.array
    wanted = {"simkl_ids": query.simkl_ids, "keys": query.id_keys, "titles": query.title_keys}
    request.find_variant = (bool(query.simkl_ids), bool(query.id_keys), bool(query.title_keys))
    request.find_params = {name: array(sorted(v)) for name, v in wanted.items() if v}
    hits = await store.read.catalog.find(query)
    if not adding:
        matched = {item.id: item for ref in refs if (item := resolve(ref, hits)) is not None}
        request.item_ids = array(list(matched))
        request.bucket_of = {i: rated_bucket(item.type) for i, item in matched.items()}
        return
    picked: dict[int, tuple[CatalogItem, RatingInput]] = {}
    for entry in request.inputs:
        item = resolve(entry.item.ref, hits) if entry.acceptable else None
        if item is not None:
            picked[item.id] = (item, entry)
    request.item_ids = array(list(picked))
    request.rows = [
        (item.id, auto_status(item).value, entry.rating or 0, entry.rated_at)
        for item, entry in picked.values()
    ]
    buckets = {rated_bucket(item.type) for item, _ in picked.values()}
    buckets |= {list_bucket(item.type, auto_status(item)) for item, _ in picked.values()}
    request.buckets = array(sorted(buckets))


def _sql_op(driver: Driver, request: Request, *, adding: bool) -> Op:
    user_id = request.user.db_id
    clock = SystemClock()

    async def begin(conn: Connection) -> int:
        row = await conn.fetchrow(activities.LOCK_USER, {"user_id": user_id})
        latest = row[0] if row is not None and row[0] is not None else 0
        if any(request.find_variant):
            await conn.fetch(catalog.FIND[request.find_variant], request.find_params)
        return max(clock.now_ms(), latest)

    array = driver.reader.array

    async def touch(conn: Connection, buckets: Any, now: int) -> None:
        params = {"user_id": user_id, "buckets": buckets, "at": now}
        await conn.execute(activities.TOUCH, params)

    async def remove(conn: Connection) -> None:
        now = await begin(conn)
        params = {"user_id": user_id, "item_ids": request.item_ids, "now": now}
        cleared = await conn.fetch(ratings_sql.CLEAR, params)
        names = sorted({request.bucket_of[row[0]] for row in cleared})
        if names:
            await touch(conn, array(names), now)

    async def add(conn: Connection) -> None:
        now = await begin(conn)
        params = {"user_id": user_id, "item_ids": request.item_ids}
        await conn.fetch(library.STATES, params)
        rows = _json([(i, s, r, now if at is None else at) for i, s, r, at in request.rows])
        await conn.execute(ratings_sql.SAVE, {"user_id": user_id, "rows": rows, "now": now})
        await touch(conn, request.buckets, now)

    async def remove_at_once() -> None:
        if any(request.find_variant):
            await driver.reader.fetch(catalog.FIND[request.find_variant], request.find_params)
        routine = ratings_sql.ClearRatings(user_id, request.bucket_of)
        await driver.routine(routine.call, routine.params(now=clock.now_ms(), auth_stamp=None))

    if not adding and driver.dialect is POSTGRES:
        return remove_at_once
    work = add if adding else remove
    return lambda: driver.transaction(work, offload=False)


def _domain_op(store: Store, request: Request, *, adding: bool) -> Op:
    user_id = request.user.db_id
    if adding:
        return lambda: ratings.add_ratings(store, user_id=user_id, inputs=request.inputs)
    return lambda: ratings.remove_ratings(store, user_id=user_id, items=request.items)


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
    """Derive the SQL parameters of every request (once; they do not depend on the state)."""
    store = await open_store(Settings(database_url=database_url), SystemClock())
    try:
        for request in requests:
            await _plan_sql(store, request, adding=adding)
    finally:
        await store.close()


async def measure(database_url: str, requests: list[Request], run: CeilingRun) -> dict[str, Any]:
    """Run one ceiling measurement over `requests` (planned first for the `sql` mode)."""
    settings = Settings(database_url=database_url)
    store = await open_store(settings, SystemClock())
    driver = await open_driver(
        settings.database, pool_size=settings.pg_pool_size, write_wait_ms=settings.write_wait_ms
    )
    try:
        if run.mode == "sql":
            ops = [_sql_op(driver, r, adding=run.adding) for r in requests]
        else:
            ops = [_domain_op(store, r, adding=run.adding) for r in requests]
        return await drive(ops, concurrency=run.concurrency, duration_s=run.duration_s)
    finally:
        await driver.close()
        await store.close()
