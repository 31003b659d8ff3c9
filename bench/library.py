"""The library scenarios: `GET /sync/all-items` of a 10,000-item library (plain, and
`extended=full` with its watched episodes) and `POST /sync/history` (a 100-item batch, and a
ten-season show by episodes), each next to its storage ceiling; the per-item cost of a
history batch and of a library read from 1k to 100k library items; and the latency of an
activities poll while a 10k read runs.

Storage ceiling, as for the ratings batches: `sql` runs, without HTTP, exactly the statements
the server runs for one request, the way the store ran them (bench/recording.py): they are
recorded once from the domain call, with their parameters, then replayed on the same state.
`domain` runs the domain call the handler makes (for a read, with the rendering the handler
does off the event loop, minus HTTP).
"""

from __future__ import annotations

import asyncio
import math
import random
import statistics
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import uvloop

from bench import state
from bench.ceiling import measure
from bench.datagen import Dataset, User
from bench.loadgen import MAX_DURATION_S
from bench.progress import say
from bench.recording import DomainCall, record
from bench.scenarios import ItemWriter, Pool, _line, _split, _token_indexes, write_pool
from bench.servers import Captured, Server, request
from simkl_server.config import Settings
from simkl_server.domain import history
from simkl_server.domain.kinds import MediaType
from simkl_server.domain.library import read_library
from simkl_server.storage.base import Store
from simkl_server.wire.common import parse_json_object, sync_items
from simkl_server.wire.history import history_inputs
from simkl_server.wire.library import all_items_parts, all_items_request

if TYPE_CHECKING:
    from bench.run import Bench

Result = dict[str, Any]
# Connection counts the library scenarios run at (a 10k read at 64 connections only queues).
LEVELS = (1, 16)
# Requests recorded for a storage ceiling: this many times what HTTP got through in a run (the
# ceiling is faster; a run that wraps around is flagged `wrapped`), at most the pool.
CEILING_HEADROOM = 4
CURVE_ROUNDS = 5
READ_CURVE_USERS = 3
SHOWS_PER_USER = 100
_MAX_ITEMS = Settings().max_batch_items


@dataclass(frozen=True, slots=True)
class LibraryScenario:
    """One benchmarked library request shape."""

    name: str
    label: str
    script: str
    method: str
    path: str
    unit: str  # what items/s counts: rows read, items sent, episodes sent
    writes: bool


LIBRARY_SCENARIOS: tuple[LibraryScenario, ...] = (
    LibraryScenario(
        "all_items",
        "GET /sync/all-items (10k library)",
        "all_items.lua",
        "GET",
        "/sync/all-items",
        "rows",
        writes=False,
    ),
    LibraryScenario(
        "all_items_full",
        "GET /sync/all-items?extended=full (10k library, watched episodes)",
        "all_items_full.lua",
        "GET",
        "/sync/all-items?extended=full",
        "rows",
        writes=False,
    ),
    LibraryScenario(
        "history_100",
        "POST /sync/history, 100-item batch",
        "history.lua",
        "POST",
        "/sync/history",
        "items",
        writes=True,
    ),
    LibraryScenario(
        "history_show",
        "POST /sync/history, a 10-season show by episodes",
        "history.lua",
        "POST",
        "/sync/history",
        "episodes",
        writes=True,
    ),
)


# Pools ----------------------------------------------------------------------------------------


def _history_fields(rng: random.Random, entry: dict[str, Any], total: int | None) -> None:
    """What a history item carries: a watched_at, and for a show its first episodes (or the
    whole show, now and then, when it is short)."""
    entry["watched_at"] = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T20:00:00Z"
    if total is None:
        return
    if total <= 40 and rng.random() < 0.3:
        return
    count = min(total, rng.randint(1, 5))
    entry["seasons"] = [{"number": 1, "episodes": [{"number": n} for n in range(1, count + 1)]}]


def _history_line(
    dataset: Dataset,
    writer: ItemWriter,
    rng: random.Random,
    user: User,
    *,
    indexes: Sequence[int],
    missing: int,
) -> bytes:
    entries = []
    for index in indexes:
        item = dataset.catalog[index]
        wrapper, entry = writer.request_item(item, with_ids=False)
        show = item.type is not MediaType.MOVIE and wrapper != "movies"
        _history_fields(rng, entry, (item.total_episodes or 1) if show else None)
        entries.append((wrapper, entry))
    for _ in range(missing):
        wrapper, entry = writer.missing_item(with_ids=False)
        _history_fields(rng, entry, None)
        entries.append((wrapper, entry))
    rng.shuffle(entries)
    document: dict[str, list[dict[str, Any]]] = {}
    for wrapper, entry in entries:
        document.setdefault(wrapper, []).append(entry)
    return _line(_token_indexes(dataset)[user.index], orjson.dumps(document))


def history_pool(dataset: Dataset, *, batch: int, per_user: int, seed: int) -> Iterator[bytes]:
    """History batches of items outside each main user's library (disjoint across one user's
    lines), ids in mixed forms, about 5 % not found."""
    writer = ItemWriter(seed)
    found, missing = _split(batch)
    rng = random.Random(seed)
    fresh: dict[int, list[int]] = {}
    for user in dataset.users:
        owned = set(user.library)
        candidates = rng.sample(range(dataset.spec.catalog_size), found * per_user + len(owned))
        fresh[user.index] = [i for i in candidates if i not in owned][: found * per_user]
    rounds = min(len(f) // found for f in fresh.values())
    for round_ in range(min(rounds, per_user)):
        for user in dataset.users:
            picked = fresh[user.index][round_ * found : (round_ + 1) * found]
            yield _history_line(dataset, writer, rng, user, indexes=picked, missing=missing)


def show_pool(dataset: Dataset, *, per_user: int) -> Iterator[tuple[bytes, int]]:
    """(line, episodes): one ten-season show outside the user's library per request, every
    episode of every season listed, the user's turns interleaved."""
    token_index = _token_indexes(dataset)
    chosen: dict[int, list[int]] = {}
    for user in dataset.users:
        owned = set(user.library)
        chosen[user.index] = [i for i in dataset.episode_shows if i not in owned][:per_user]
    rounds = min(len(c) for c in chosen.values())
    for round_ in range(rounds):
        for user in dataset.users:
            item = dataset.catalog[chosen[user.index][round_]]
            episodes = dataset.episodes[item.id]
            seasons: dict[int, list[dict[str, int]]] = {}
            for episode in episodes:
                seasons.setdefault(episode.season, []).append({"number": episode.number})
            entry = {
                "title": item.title,
                "year": item.year,
                "ids": {"simkl": item.id, **item.ids},
                "watched_at": "2025-06-01T20:00:00Z",
                "seasons": [{"number": n, "episodes": e} for n, e in seasons.items()],
            }
            body = orjson.dumps({"shows": [entry]})
            yield _line(token_index[user.index], body), len(episodes)


def own_shows_pool(
    dataset: Dataset, users: Sequence[User], *, batch: int, limit: int, seed: int
) -> tuple[list[bytes], list[tuple[User, int]]]:
    """History batches marking the first episodes of shows already in each user's library
    (the same work at every library size); also every (user, item) they change."""
    writer = ItemWriter(seed)
    found, missing = _split(batch)
    token_index = _token_indexes(dataset)
    chunks: dict[int, list[list[int]]] = {}
    for user in users:
        shows = [i for i in user.library if dataset.catalog[i].type is not MediaType.MOVIE]
        chunks[user.index] = [
            shows[start : start + found] for start in range(0, len(shows) - found + 1, found)
        ]
    lines: list[bytes] = []
    touched: list[tuple[User, int]] = []
    rounds = min(len(c) for c in chunks.values())
    for round_ in range(rounds):
        for user in users:
            if len(lines) == limit:
                return lines, touched
            picked = chunks[user.index][round_]
            entries: list[tuple[str, dict[str, Any]]] = []
            for index in picked:
                item = dataset.catalog[index]
                wrapper, entry = writer.request_item(item, with_ids=True)
                if wrapper == "movies":  # an anime film named under movies[]: as a show
                    wrapper = "anime"
                entry["watched_at"] = "2025-06-01T20:00:00Z"
                count = min(item.total_episodes or 1, 3)
                episodes = [{"number": n} for n in range(1, count + 1)]
                entry["seasons"] = [{"number": 1, "episodes": episodes}]
                entries.append((wrapper, entry))
                touched.append((user, item.id))
            entries += [writer.missing_item(with_ids=True) for _ in range(missing)]
            document: dict[str, list[dict[str, Any]]] = {}
            for wrapper, entry in entries:
                document.setdefault(wrapper, []).append(entry)
            lines.append(_line(token_index[user.index], orjson.dumps(document)))
    return lines, touched


def read_pool(dataset: Dataset, users: Sequence[User]) -> Iterator[bytes]:
    """One bodiless line per user."""
    token_index = _token_indexes(dataset)
    for user in users:
        yield _line(token_index[user.index], b"")


@dataclass(frozen=True, slots=True)
class LibraryPools:
    """Every pool of the library scenarios."""

    scenarios: dict[str, Pool]
    episodes_per_show: float
    history_curve: dict[int, Pool]
    touched: dict[int, list[tuple[User, int]]]
    read_curve: dict[int, Pool]


def write_pools(directory: Path, dataset: Dataset) -> LibraryPools:
    """Write every library pool into `directory`."""
    spec = dataset.spec
    directory.mkdir(parents=True, exist_ok=True)
    batches_per_user = spec.library_size // _split(spec.batch_size)[0]
    shows = list(show_pool(dataset, per_user=SHOWS_PER_USER))
    histories = read_pool(dataset, dataset.library_users)
    scenarios = {
        "all_items": write_pool(directory / "all_items.pool", histories),
        "history_100": write_pool(
            directory / "history_100.pool",
            history_pool(dataset, batch=spec.batch_size, per_user=batches_per_user, seed=6),
        ),
        "history_show": write_pool(directory / "history_show.pool", (line for line, _ in shows)),
    }
    scenarios["all_items_full"] = scenarios["all_items"]
    history_curve: dict[int, Pool] = {}
    touched: dict[int, list[tuple[User, int]]] = {}
    read_curve: dict[int, Pool] = {}
    for size, users in sorted(dataset.curve_users.items()):
        lines, touched[size] = own_shows_pool(
            dataset, users, batch=spec.batch_size, limit=spec.curve_batches, seed=7 + size
        )
        history_curve[size] = write_pool(directory / f"history_curve_{size}.pool", iter(lines))
        read_curve[size] = write_pool(
            directory / f"read_curve_{size}.pool", read_pool(dataset, users[:READ_CURVE_USERS])
        )
    per_show = statistics.mean(count for _, count in shows) if shows else 0.0
    return LibraryPools(scenarios, per_show, history_curve, touched, read_curve)


def pool_lines(pool: Pool, first: int, count: int) -> list[tuple[int, bytes]]:
    """(token index, body) of `count` pool lines from `first` on, wrapping."""
    lines = pool.path.read_bytes().splitlines()
    out = []
    for n in range(count):
        token_index, body = lines[(first + n) % len(lines)].split(b"\t", 1)
        out.append((int(token_index), body))
    return out


# Requests as the domain sees them ---------------------------------------------------------------


def domain_request(
    dataset: Dataset, scenario: LibraryScenario, token_index: int, body: bytes
) -> DomainCall:
    """The domain call (and, for a read, the rendering) one pool line makes the server do."""
    user_id = dataset.all_users[token_index].db_id
    if scenario.writes:
        items = sync_items(parse_json_object(body), max_items=_MAX_ITEMS, episodes=True)
        inputs = history_inputs(items)

        async def write(store: Store) -> Any:
            return await history.add_history(
                store, user_id=user_id, inputs=inputs, skip_auto_watching=False
            )

        return DomainCall(write, writes=True)
    params = dict(urllib.parse.parse_qsl(scenario.path.partition("?")[2]))
    parsed = all_items_request(None, None, params)
    settings = Settings()

    async def read(store: Store) -> Any:
        done = await read_library(
            store,
            user_id=user_id,
            query=parsed.query,
            view=parsed.view,
            max_episodes=settings.max_read_episodes,
        )
        return await asyncio.to_thread(lambda: b"".join(all_items_parts(parsed, done)))

    return DomainCall(read, writes=False)


# The runs ---------------------------------------------------------------------------------------


def capture(bench: Bench, server: Server, scenario: LibraryScenario, pool: Pool) -> Captured:
    """One request of the pool (its last line), answered."""
    token_index, body = pool_lines(pool, pool.lines - 1, 1)[0]
    token = bench.dataset.all_users[token_index].token
    joiner = "&" if "?" in scenario.path else "?"
    return request(
        server.port,
        scenario.method,
        scenario.path + joiner + bench.query().removeprefix("?"),
        headers=bench.headers(token, body=bool(body)),
        body=body or None,
    )


def _per_request(scenario: LibraryScenario, captured: Captured, pools: LibraryPools) -> float:
    if scenario.unit == "rows":
        return float(sum(len(rows) for rows in orjson.loads(captured.body).values()))
    if scenario.unit == "episodes":
        return round(pools.episodes_per_show, 1)
    return float(sum(_split(100)))


def run(
    bench: Bench,
    server: Server,
    database_url: str,
    pools: LibraryPools,
    restore: Callable[[], None],
) -> Result:
    """Every library measurement on one backend."""
    levels = [c for c in bench.config.concurrency if c in LEVELS] or [1]
    out: Result = {"scenarios": {}, "ceiling": {}}
    for scenario in LIBRARY_SCENARIOS:
        pool = pools.scenarios[scenario.name]
        captured = capture(bench, server, scenario, pool)
        if captured.status >= 300:
            raise RuntimeError(f"{scenario.name}: {captured.status} {captured.body[:300]!r}")
        if scenario.writes:
            restore()
        out["scenarios"][scenario.name] = {
            "label": scenario.label,
            "unit": scenario.unit,
            "status": captured.status,
            "response_bytes": len(captured.body),
            "items_per_request": _per_request(scenario, captured, pools),
            "runs": _runs(bench, server, scenario, pool, levels=levels, restore=restore),
        }
        out["ceiling"][scenario.name] = _ceiling(
            bench,
            database_url,
            scenario,
            pool,
            http_runs=out["scenarios"][scenario.name]["runs"],
            levels=levels,
            restore=restore,
        )
    out["history_curve"] = _history_curve(bench, server, database_url, pools)
    out["read_curve"] = _read_curve(bench, server, pools)
    out["poll_during_read"] = _poll_during_read(bench, server, pools)
    return out


def _runs(
    bench: Bench,
    server: Server,
    scenario: LibraryScenario,
    pool: Pool,
    *,
    levels: Sequence[int],
    restore: Callable[[], None],
) -> Result:
    """Warm-up and measured run at each level; slow requests get a longer run."""
    half = pool.lines // 2 if scenario.writes else 0
    runs: Result = {}
    single_s: float | None = None
    for c in levels:
        duration = bench.config.duration_s
        if single_s is not None:
            duration = max(duration, min(MAX_DURATION_S, 3 * c * single_s))
        result = bench.measured(
            server, scenario.script, pool, connections=c, warm_from=half, duration_s=duration
        )
        result["wrapped"] = bool(scenario.writes and result["requests"] > half)
        runs[str(c)] = result
        single_s = single_s or result["p50_ms"] / 1000
        say(f"  {scenario.name} c={c}: {result['rps']:,.1f} req/s, p50 {result['p50_ms']:.1f} ms")
        if scenario.writes:
            restore()
    return runs


def _ceiling(
    bench: Bench,
    database_url: str,
    scenario: LibraryScenario,
    pool: Pool,
    *,
    http_runs: Result,
    levels: Sequence[int],
    restore: Callable[[], None],
) -> Result:
    best = max(run["rps"] for run in http_runs.values())
    wanted = math.ceil(best * bench.config.duration_s * CEILING_HEADROOM)
    count = min(pool.lines, max(100, wanted)) if scenario.writes else pool.lines
    requests = [
        domain_request(bench.dataset, scenario, token_index, body)
        for token_index, body in pool_lines(pool, 0, count)
    ]
    uvloop.run(record(database_url, requests))
    if scenario.writes:
        restore()
    out: Result = {}
    for mode in ("sql", "domain"):
        out[mode] = {}
        for c in levels:
            result = uvloop.run(
                measure(
                    database_url,
                    requests,
                    mode=mode,
                    concurrency=c,
                    duration_s=bench.config.duration_s,
                )
            )
            out[mode][str(c)] = result
            say(f"  ceiling {scenario.name} {mode} c={c}: {result['rps']:,.1f} req/s")
            if scenario.writes:
                restore()
    return out


def _curve_summary(runs: list[Result], per_request: float) -> Result:
    p50s = sorted(run["p50_ms"] for run in runs)
    p50 = statistics.median(p50s)
    return {
        "requests": sum(run["requests"] for run in runs),
        "p50_ms": p50,
        "round_p50_ms": p50s,
        "p99_ms": max(run["p99_ms"] for run in runs),
        "per_item_us": round(p50 * 1000 / per_request, 3),
        "cpu_cores_other_max": max(run["cpu_cores"]["other"] for run in runs),
    }


def _history_curve(bench: Bench, server: Server, database_url: str, pools: LibraryPools) -> Result:
    """Per-item cost of a 100-item history batch (episodes of shows in the library) by
    library size: sizes take turns, a slice of each pool at a time; the changed rows are put
    back afterwards."""
    pairs = [
        (user.db_id, item_id) for touched in pools.touched.values() for user, item_id in touched
    ]
    saved = asyncio.run(state.save_rows(database_url, pairs))
    episodes = asyncio.run(state.episode_count(database_url))
    rounds: dict[int, list[Result]] = {size: [] for size in pools.history_curve}
    try:
        for index in range(CURVE_ROUNDS):
            for size, pool in sorted(pools.history_curve.items()):
                share = max(1, pool.lines // CURVE_ROUNDS)
                rounds[size].append(
                    bench.wrk(
                        server,
                        "history.lua",
                        pool,
                        connections=1,
                        first_line=index * share,
                        limit=share,
                        duration_s=300,
                    )
                )
    finally:
        asyncio.run(state.put_back(database_url, saved))
    if asyncio.run(state.episode_count(database_url)) != episodes:
        raise RuntimeError("the history curve's rows were not put back as they were")
    batch = bench.config.spec.batch_size
    out: Result = {}
    for size, runs in sorted(rounds.items()):
        out[str(size)] = _curve_summary(runs, batch) | {"lines": pools.history_curve[size].lines}
        say(f"  history curve {size:,}: {out[str(size)]['per_item_us']:.1f} µs/item")
    return out


def _read_curve(bench: Bench, server: Server, pools: LibraryPools) -> Result:
    """Per-row cost of a plain all-items read by library size, sizes taking turns."""
    rounds: dict[int, list[Result]] = {size: [] for size in pools.read_curve}
    for _ in range(CURVE_ROUNDS):
        for size, pool in sorted(pools.read_curve.items()):
            rounds[size].append(
                bench.wrk(
                    server,
                    "all_items.lua",
                    pool,
                    connections=1,
                    limit=pool.lines,
                    duration_s=300,
                )
            )
    out: Result = {}
    for size, runs in sorted(rounds.items()):
        out[str(size)] = _curve_summary(runs, size)
        say(f"  read curve {size:,}: {out[str(size)]['per_item_us']:.2f} µs/row")
    return out


def _poll_during_read(bench: Bench, server: Server, pools: LibraryPools) -> Result:
    """Latency of an activities poll (1 connection) alone, then while 10k reads run back to
    back on another connection (plain, then `extended=full`)."""
    duration = bench.config.duration_s
    activities = bench.pools.scenarios["activities"]
    out: Result = {
        "alone": bench.wrk(server, "activities.lua", activities, connections=1, duration_s=duration)
    }
    for name in ("all_items", "all_items_full"):
        scenario = next(s for s in LIBRARY_SCENARIOS if s.name == name)
        pool = pools.scenarios[name]
        with ThreadPoolExecutor(max_workers=1) as background:
            reads = background.submit(
                bench.wrk, server, scenario.script, pool, connections=1, duration_s=duration + 2
            )
            time.sleep(1.0)
            during = bench.wrk(
                server, "activities.lua", activities, connections=1, duration_s=duration
            )
            out[f"during_{name}"] = {"poll": during, "read": reads.result()}
    for key, value in out.items():
        poll = value if key == "alone" else value["poll"]
        say(f"  activities poll {key}: p50 {poll['p50_ms']:.2f} ms, p99 {poll['p99_ms']:.2f} ms")
    return out
