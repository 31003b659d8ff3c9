"""The scrobble scenarios: start → pause → stop cycles of movies, one request per call, for one
user alone and for every main user at once (100 in the full data set), next to the bare ASGI
app answering the same requests (the HTTP ceiling).

Each pool line is `<token index>\\t<path>\\t<body>`: a user's cycle is three consecutive calls
on one movie (start at 10 %, pause at 50 %, stop at 95 %: marked watched), a new movie each
cycle, so no stop meets the one-hour duplicate window until the pool wraps (`wrapped` flags a
run that did). With every user at once, a round sends every user's start, then every pause,
then every stop, so a user's calls stay in order while the users run side by side.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from bench.datagen import Dataset, User
from bench.progress import say
from bench.scenarios import Pool, _token_indexes, write_pool
from bench.servers import Captured, Server, bare_asgi, request
from simkl_server.domain.kinds import MediaType

if TYPE_CHECKING:
    from bench.run import Bench

Result = dict[str, Any]
SCRIPT = "scrobble_cycle.lua"
CYCLE = (("/scrobble/start", 10), ("/scrobble/pause", 50), ("/scrobble/stop", 95))
SINGLE_CYCLES = 3_000
CYCLES_PER_USER = 300


def _lines(dataset: Dataset, users: Sequence[User], cycles: int, seed: int) -> Iterator[bytes]:
    rng = random.Random(seed)
    movies = [i for i, item in enumerate(dataset.catalog) if item.type is MediaType.MOVIE]
    token_index = _token_indexes(dataset)
    picked = {user.index: rng.sample(movies, min(cycles, len(movies))) for user in users}
    for round_ in range(min(len(p) for p in picked.values())):
        for path, progress in CYCLE:
            for user in users:
                item = dataset.catalog[picked[user.index][round_]]
                body = orjson.dumps({"movie": {"ids": {"simkl": item.id}}, "progress": progress})
                yield f"{token_index[user.index]}\t{path}\t".encode() + body + b"\n"


def write_pools(directory: Path, dataset: Dataset) -> dict[str, Pool]:
    """The one-user and the every-user cycle pools."""
    directory.mkdir(parents=True, exist_ok=True)
    return {
        "scrobble_1_user": write_pool(
            directory / "scrobble_1.pool", _lines(dataset, dataset.users[:1], SINGLE_CYCLES, 11)
        ),
        "scrobble_all_users": write_pool(
            directory / "scrobble_all.pool",
            _lines(dataset, dataset.users, CYCLES_PER_USER, 12),
        ),
    }


def _capture(bench: Bench, server: Server, pool: Pool, line: int) -> Captured:
    token_index, path, body = pool.path.read_bytes().splitlines()[line].split(b"\t", 2)
    token = bench.dataset.all_users[int(token_index)].token
    return request(
        server.port,
        "POST",
        path.decode() + bench.query(),
        headers=bench.headers(token, body=True),
        body=body,
    )


def _runs(bench: Bench, server: Server, pool: Pool, connections: int) -> Result:
    half = pool.lines // 2
    run = bench.measured(server, SCRIPT, pool, connections=connections, warm_from=half)
    run["wrapped"] = run["requests"] > half
    run["cycles_per_s"] = round(run["rps"] / len(CYCLE), 1)
    return run


def run(
    bench: Bench, server: Server, pools: dict[str, Pool], restore: Callable[[], None]
) -> Result:
    """Each pool through the server (one connection for one user, one per user for all),
    then through the bare ASGI app answering the captured stop."""
    out: Result = {}
    levels = {"scrobble_1_user": 1, "scrobble_all_users": len(bench.dataset.users)}
    for name, pool in pools.items():
        captured = _capture(bench, server, pool, pool.lines - 1)
        if captured.status >= 300:
            raise RuntimeError(f"{name}: {captured.status} {captured.body[:300]!r}")
        result = _runs(bench, server, pool, levels[name])
        body_file = bench.config.work_dir / f"bare-{name}.body"
        log = bench.config.work_dir / "bare-asgi.log"
        with bare_asgi(captured, body_file=body_file, log=log) as bare:
            ceiling = _runs(bench, bare, pool, levels[name])
        out[name] = {
            "connections": levels[name],
            "server": result,
            "bare_asgi": ceiling,
            "ratio_to_bare": round(result["rps"] / ceiling["rps"], 3) if ceiling["rps"] else None,
        }
        say(
            f"  {name}: {result['rps']:,.0f} req/s ({result['cycles_per_s']:,.0f} cycles/s), "
            f"bare ASGI {ceiling['rps']:,.0f} req/s"
        )
        restore()
    return out
