"""kill -9 during a stream of 100-item batches, restart on the same database: the database is
sound, every acknowledged batch is there, and the batch in flight is all there or not at all.

Four writers each own a pool of 150 items and send batches one after another (so each
writer's commit order is its send order). In the ratings mode every add batch sets one rating
and one `rated_at` unique to it on 100 of its writer's items; in the history mode it marks
them watched at one `watched_at` unique to it (three episodes each of the shows). Every fifth
batch removes 100 instead (in the history mode, half the shows only lose three episodes).
After the restart each writer's items must equal the replay of its acknowledged batches, with
or without the one batch whose answer the kill swallowed: never a part of it. The soak run
repeats kill and restart until its time is up; on SQLite, writes run both inline on the event
loop and in the worker thread used for big batches.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

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
    parse_ms,
    read_ratings,
    reference,
)

WRITERS = 4
POOL = 150
BATCH = 100
MARKED = 3  # episodes of a show one history batch marks or unmarks
# A library row as a mode sees it: (rating, rated_at ms) in the ratings mode; in the history
# mode a movie's last watched_at ms, a show's watched episodes {(season, number): ms}.
Row = object


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


def stamp_ms(number: int) -> int:
    """The rated_at or watched_at a batch sends, in ms."""
    return RATED_AT_BASE_MS + number * 1000


def stamp_text(number: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp_ms(number) // 1000))


def is_show(item: int) -> bool:
    return item >= database.SHOW_BASE


def marked(number: int, item: int) -> list[int]:
    """The episodes of season 1 a history batch marks or unmarks on a show."""
    return sorted(random.Random(number * 7919 + item).sample(range(1, 11), MARKED))


def whole(number: int, item: int) -> bool:
    """Whether a history removal takes the item out (else it unmarks a show's episodes)."""
    return not is_show(item) or (number + item) % 2 == 0


def replay_ratings(
    state: dict[int, Row], kind: str, number: int, items: list[int]
) -> dict[int, Row]:
    """The state after one batch: an add rates every item, a remove unrates the rows it finds."""
    after = dict(state)
    for item in items:
        if kind == "add":
            after[item] = (number % 10 + 1, stamp_ms(number))
        elif item in after:
            after[item] = (None, None)
    return after


def replay_history(
    state: dict[int, Row], kind: str, number: int, items: list[int]
) -> dict[int, Row]:
    """The state after one batch: an add marks a movie or a show's episodes watched (what is
    watched already keeps its date); a remove takes items out, or unmarks episodes."""
    after = dict(state)
    at = stamp_ms(number)
    for item in items:
        now = after.get(item)
        if kind == "remove":
            if whole(number, item):
                after.pop(item, None)
            elif isinstance(now, dict):
                after[item] = {k: v for k, v in now.items() if k[1] not in marked(number, item)}
        elif not is_show(item):
            after[item] = now if isinstance(now, int) else at
        else:
            episodes = dict(now) if isinstance(now, dict) else {}
            for episode in marked(number, item):
                episodes.setdefault((1, episode), at)
            after[item] = episodes
    return after


def batch_body(
    mode: str, kind: str, number: int, items: list[int]
) -> dict[str, list[dict[str, object]]]:
    """Items named in mixed forms; an add carries the batch's own rating and rated_at, or its
    watched_at (and a show's episodes); a history removal names the episodes it unmarks."""
    rng = random.Random(number)
    body: dict[str, list[dict[str, object]]] = {"movies": [], "shows": []}
    for item in items:
        entry = reference(item, rng.choice((0, 0, 1, 2)))
        if mode == "ratings" and kind == "add":
            entry |= {"rating": number % 10 + 1, "rated_at": stamp_text(number)}
        elif mode == "history" and kind == "add":
            entry["watched_at"] = stamp_text(number)
        if mode == "history" and is_show(item) and (kind == "add" or not whole(number, item)):
            episodes = [{"number": n} for n in marked(number, item)]
            entry["seasons"] = [{"number": 1, "episodes": episodes}]
        body["shows" if is_show(item) else "movies"].append(entry)
    return body


async def read_history(url: str, account: Account) -> dict[int, Row]:
    """Every library item of the user as the history mode sees it (completed shows' episodes
    too)."""
    params, headers = auth(account)
    params |= {"extended": "full", "episode_watched_at": "yes", "include_all_episodes": "yes"}
    async with http_client() as client:
        response = await client.get(url + "/sync/all-items", params=params, headers=headers)
    assert response.status_code == 200, response.text
    state: dict[int, Row] = {}
    for bucket in response.json().values():
        for row in bucket:
            if "movie" in row:
                state[row["movie"]["ids"]["simkl"]] = parse_ms(row["last_watched_at"])
                continue
            state[row["show"]["ids"]["simkl"]] = {
                (season["number"], episode["number"]): parse_ms(episode["watched_at"])
                for season in row.get("seasons", [])
                for episode in season["episodes"]
            }
    return state


@dataclass(frozen=True, slots=True)
class Mode:
    """What a mode's batches call, how they add up, and how the outcome is read back."""

    paths: tuple[str, str]
    replay: Callable[[dict[int, Row], str, int, list[int]], dict[int, Row]]
    read: Callable[[str, Account], Coroutine[Any, Any, Mapping[int, Row]]]


MODES = {
    "ratings": Mode(("/sync/ratings", "/sync/ratings/remove"), replay_ratings, read_ratings),
    "history": Mode(("/sync/history", "/sync/history/remove"), replay_history, read_history),
}


async def write_until_killed(
    server: ServerProcess,
    account: Account,
    writers: list[Writer],
    *,
    rng: random.Random,
    mode: str,
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
            path = MODES[mode].paths[kind == "remove"]
            writer.in_doubt = (kind, number, chosen)
            try:
                response = await client.post(
                    server.url + path,
                    params=params,
                    headers=headers,
                    json=batch_body(mode, kind, number, chosen),
                )
            except httpx2.TransportError:
                return  # the kill: this batch stays in doubt
            finally:
                progress.set()
            if response.status_code != 201:
                writer.failure = f"batch {number}: {response.status_code} {response.text[:300]}"
                return
            writer.state = MODES[mode].replay(writer.state, kind, number, chosen)
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


def verify(writer: Writer, observed: Mapping[int, Row], mode: str) -> str | None:
    """None when the writer's items hold exactly its acknowledged batches, plus all or none of
    the batch in doubt; then that outcome becomes the writer's state."""
    mine = {item: row for item, row in observed.items() if item in set(writer.items)}
    doubt, writer.in_doubt = writer.in_doubt, None
    writer.doubted += doubt is not None
    if mine == writer.state:
        return None
    if doubt is not None and mine == MODES[mode].replay(writer.state, *doubt):
        writer.state = mine
        writer.doubted_applied += 1
        return None
    missing = {
        i: (writer.state.get(i), mine.get(i))
        for i in writer.state.keys() | mine.keys()
        if mine.get(i) != writer.state.get(i)
    }
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
@pytest.mark.parametrize("mode", MODES)
def test_kill_during_writes(
    launch: Launch, empty_database: str, env: dict[str, str], seconds: float, mode: str
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
        asyncio.run(write_until_killed(server, account, writers, rng=rng, mode=mode))
        kills += 1
        failures = [w.failure for w in writers if w.failure]
        assert not failures, failures
        assert database.integrity_problems(empty_database) == [], f"after kill {kills}"
        server.start()
        observed = asyncio.run(MODES[mode].read(server.url, account))
        for number, writer in enumerate(writers):
            problem = verify(writer, observed, mode)
            assert problem is None, f"writer {number} after kill {kills}: {problem}"
    print(
        f"{kills} kills, {sum(w.acked for w in writers)} acknowledged batches, "
        f"{sum(w.doubted for w in writers)} in doubt at a kill "
        f"({sum(w.doubted_applied for w in writers)} of them committed)"
    )
