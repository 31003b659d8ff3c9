"""kill -9 during a stream of 100-item batches, restart on the same database: the database is
sound, every acknowledged batch is there, and the batch in flight is all there or not at all.

Four writers each own a pool of 150 items and send batches one after another (so each
writer's commit order is its send order). Every add batch sets one rating and one `rated_at`
unique to it on 100 of its writer's items; every fifth batch removes 100 instead. After the
restart each writer's items must equal the replay of its acknowledged batches, with or without
the one batch whose answer the kill swallowed: never a part of it. The soak run repeats kill
and restart until its time is up; on SQLite, writes run both inline on the event loop and in
the worker thread used for big batches.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

import httpx2
import pytest

from tests.robustness import database
from tests.robustness.conftest import Launch, run_lengths
from tests.robustness.database import Account
from tests.robustness.server import ServerProcess
from tests.robustness.workload import (
    RATED_AT_BASE_MS,
    auth,
    http_client,
    read_ratings,
    reference,
)

WRITERS = 4
POOL = 150
BATCH = 100
Row = tuple[int | None, int | None]  # (rating, rated_at ms) of a library row


@dataclass(slots=True)
class Writer:
    """One writer's items, the state its acknowledged batches add up to, its batch in doubt."""

    items: list[int]
    state: dict[int, Row] = field(default_factory=dict)
    in_doubt: tuple[str, int, list[int]] | None = None
    acked: int = 0
    doubted: int = 0  # batches whose answer a kill swallowed
    doubted_applied: int = 0  # ... and that turned out committed
    failure: str | None = None


def replay(state: dict[int, Row], kind: str, number: int, items: list[int]) -> dict[int, Row]:
    """The state after one batch: an add rates every item, a remove unrates the rows it finds."""
    after = dict(state)
    for item in items:
        if kind == "add":
            after[item] = (number % 10 + 1, RATED_AT_BASE_MS + number * 1000)
        elif item in after:
            after[item] = (None, None)
    return after


def batch_body(kind: str, number: int, items: list[int]) -> dict[str, list[dict[str, object]]]:
    """Items named in mixed forms; an add carries the batch's own rating and rated_at."""
    rng = random.Random(number)
    rating, rated_at = replay({}, "add", number, items[:1])[items[0]]
    assert rated_at is not None
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(rated_at // 1000))
    body: dict[str, list[dict[str, object]]] = {"movies": [], "shows": []}
    for item in items:
        entry = reference(item, rng.choice((0, 0, 1, 2)))
        if kind == "add":
            entry |= {"rating": rating, "rated_at": f"{stamp}Z"}
        body["shows" if item >= database.SHOW_BASE else "movies"].append(entry)
    return body


async def write_until_killed(
    server: ServerProcess, account: Account, writers: list[Writer], *, rng: random.Random
) -> None:
    """Every writer streams batches; once each has some acknowledged, kill -9 the server."""
    numbers = iter(range(rng.randrange(10**6) * 100, 10**9))
    target = [w.acked + rng.randint(1, 4) for w in writers]
    params, headers = auth(account)
    progress = asyncio.Event()

    async def stream(writer: Writer, client: httpx2.AsyncClient) -> None:
        for turn in range(10**6):
            number = next(numbers)
            kind = "remove" if turn % 5 == 4 else "add"
            chosen = rng.sample(writer.items, BATCH)
            path = "/sync/ratings" if kind == "add" else "/sync/ratings/remove"
            writer.in_doubt = (kind, number, chosen)
            try:
                response = await client.post(
                    server.url + path,
                    params=params,
                    headers=headers,
                    json=batch_body(kind, number, chosen),
                )
            except httpx2.TransportError:
                return  # the kill: this batch stays in doubt
            finally:
                progress.set()
            if response.status_code != 201:
                writer.failure = f"batch {number}: {response.status_code} {response.text[:300]}"
                return
            writer.state = replay(writer.state, kind, number, chosen)
            writer.in_doubt = None
            writer.acked += 1

    async def killer() -> None:
        while any(w.acked < t and w.failure is None for w, t in zip(writers, target, strict=True)):
            progress.clear()
            await progress.wait()
        await asyncio.sleep(rng.random() * 0.05)  # a random moment within the next batches
        server.kill()

    async with http_client() as first, http_client() as second:
        clients = [first, second, first, second]
        await asyncio.gather(
            killer(), *(stream(w, c) for w, c in zip(writers, clients, strict=True))
        )


def verify(writer: Writer, observed: dict[int, Row]) -> str | None:
    """None when the writer's items hold exactly its acknowledged batches, plus all or none of
    the batch in doubt; then that outcome becomes the writer's state."""
    mine = {item: row for item, row in observed.items() if item in set(writer.items)}
    doubt, writer.in_doubt = writer.in_doubt, None
    writer.doubted += doubt is not None
    if mine == writer.state:
        return None
    if doubt is not None and mine == replay(writer.state, *doubt):
        writer.state = mine
        writer.doubted_applied += 1
        return None
    missing = {i: r for i, r in writer.state.items() if mine.get(i) != r}
    return (
        f"{len(missing)} rows differ from the acknowledged state, e.g. {list(missing.items())[:3]}"
    )


CASES = [
    pytest.param("sqlite", {}, id="sqlite-inline"),
    pytest.param("sqlite", {"SIMKL_SERVER_INLINE_BATCH_ITEMS": "10"}, id="sqlite-offload"),
    pytest.param("postgres", {}, id="postgres"),
]


@pytest.mark.parametrize("seconds", run_lengths(0.0))
@pytest.mark.parametrize(("backend", "env"), CASES)
def test_kill_during_writes(
    launch: Launch, empty_database: str, env: dict[str, str], seconds: float
) -> None:
    shows = POOL // 5
    account = database.provision(
        empty_database, movies=WRITERS * (POOL - shows), shows=WRITERS * shows
    )
    movies, show_ids = list(account.movies), list(account.shows)
    writers = [
        Writer(
            movies[i * (POOL - shows) : (i + 1) * (POOL - shows)]
            + show_ids[i * shows : (i + 1) * shows]
        )
        for i in range(WRITERS)
    ]
    rng = random.Random(9)
    server = launch(empty_database, env=env)
    deadline = time.monotonic() + seconds
    kills = 0
    while kills == 0 or time.monotonic() < deadline:
        asyncio.run(write_until_killed(server, account, writers, rng=rng))
        kills += 1
        failures = [w.failure for w in writers if w.failure]
        assert not failures, failures
        assert database.integrity_problems(empty_database) == [], f"after kill {kills}"
        server.start()
        observed = asyncio.run(read_ratings(server.url, account))
        for number, writer in enumerate(writers):
            assert verify(writer, observed) is None, f"writer {number} after kill {kills}"
    print(
        f"{kills} kills, {sum(w.acked for w in writers)} acknowledged batches, "
        f"{sum(w.doubted for w in writers)} in doubt at a kill "
        f"({sum(w.doubted_applied for w in writers)} of them committed)"
    )
