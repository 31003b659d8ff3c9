"""Concurrent rating traffic against real servers, and the checks that judge what it left.

Every add request carries a `rated_at` no other request uses, so the final `user_rated_at` of
an item names the one write that set it. Each request's start and end are taken on one clock
(the test process's), so when X ended before Y started, X committed before Y.

The verdict (check_final_state): there must be one serial order of all acknowledged requests
that (a) respects real time (X before Y whenever X ended before Y started) and (b) replays to
the final state (the write that set an item's rating comes after every other write of that
item). The order's existence is decided with a graph: requests as nodes, (a) and (b) as edges,
acyclic if and only if such an order exists. (a) is encoded in O(n) edges through a chain of
"time points" instead of O(n²) pairs. An item whose final rating is empty was last touched by
a remove, which leaves nothing naming it: for those, some remove must not be followed (in real
time) by an add of the item.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
import random
import time
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2

from tests.helpers import flatten
from tests.robustness.database import MOVIE_BASE, SHOW_BASE, Account

RATED_AT_BASE_MS = 1_600_000_000_000  # 2020-09-13: every add's rated_at is this plus its number
_TIMEOUT = httpx2.Timeout(120.0)


def http_client() -> httpx2.AsyncClient:
    """A client for plain HTTP on loopback (no TLS: skipping its set-up saves ~80 ms each)."""
    return httpx2.AsyncClient(timeout=_TIMEOUT, verify=False)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class Op:
    """One acknowledged-or-not write: what it asked for and when it ran."""

    number: int
    client: int
    kind: str  # "add" or "remove"
    ratings: dict[int, int | None]  # item id -> rating (None for a remove)
    start: float = 0.0
    end: float = 0.0
    status: int | None = None
    problem: str | None = None

    @property
    def rated_at_ms(self) -> int:
        """The rated_at this op's add sends (unique to it)."""
        return RATED_AT_BASE_MS + self.number

    def describe(self) -> str:
        """For failure messages."""
        return (
            f"#{self.number} client {self.client} {self.kind} {self.ratings} "
            f"[{self.start:.4f}, {self.end:.4f}] -> {self.status}"
        )


@dataclass(slots=True)
class Poll:
    """One GET /sync/activities, flattened to `path -> stamp`."""

    start: float
    end: float
    stamps: dict[str, str | None]


@dataclass(slots=True)
class Traffic:
    """Everything a run produced."""

    ops: list[Op] = field(default_factory=list)
    polls: list[Poll] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def is_show(item: int) -> bool:
    """Items are generated movies below SHOW_BASE and shows from it."""
    return item >= SHOW_BASE


def reference(item: int, form: int) -> dict[str, Any]:
    """A request item naming `item` by simkl id, by external id, or by title and year."""
    show = is_show(item)
    n = item - (SHOW_BASE if show else MOVIE_BASE)
    if form == 0:
        return {"ids": {"simkl": item}}
    if form == 1:
        return {"ids": {"tvdb": str(item)}} if show else {"ids": {"imdb": f"tt{item}"}}
    title = f"Robustness {'Show' if show else 'Movie'} {n:05d}"
    return {"title": title, "year": 2000 + n % 20}


def body(op: Op, forms: Sequence[int]) -> dict[str, list[dict[str, Any]]]:
    """The request body of an op, each item named in the given form."""
    wrapped: dict[str, list[dict[str, Any]]] = {"movies": [], "shows": []}
    rated_at = datetime.fromtimestamp(op.rated_at_ms / 1000, tz=UTC).isoformat(
        timespec="milliseconds"
    )
    for (item, rating), form in zip(op.ratings.items(), forms, strict=True):
        entry = reference(item, form)
        if op.kind == "add":
            entry |= {"rating": rating, "rated_at": rated_at}
        wrapped["shows" if is_show(item) else "movies"].append(entry)
    return wrapped


def auth(account: Account) -> tuple[dict[str, str], dict[str, str]]:
    """Query parameters and headers of an authenticated call."""
    params = {"client_id": account.client_id, "app-name": "robustness", "app-version": "1"}
    return params, {"Authorization": f"Bearer {account.token}", "User-Agent": "robustness/1"}


def check_answer(op: Op, answer: dict[str, Any]) -> str | None:
    """Every item of an op resolves, so every item is counted and none is unmatched."""
    shows = sum(is_show(item) for item in op.ratings)
    movies = len(op.ratings) - shows
    counts = answer.get("added" if op.kind == "add" else "deleted", {})
    if (counts.get("movies"), counts.get("shows")) != (movies, shows):
        return f"counts {counts} for {movies} movies and {shows} shows"
    if answer.get("not_found") != {"movies": [], "shows": []}:
        return f"not_found {answer.get('not_found')}"
    return None


async def send(client: httpx2.AsyncClient, url: str, account: Account, op: Op) -> None:
    """Send one op and record its timing and outcome (a transport error leaves status None)."""
    rng = random.Random(op.number)
    forms = [rng.choice((0, 0, 1, 2)) for _ in op.ratings]
    path = "/sync/ratings" if op.kind == "add" else "/sync/ratings/remove"
    params, headers = auth(account)
    op.start = time.monotonic()
    try:
        response = await client.post(
            url + path, params=params, headers=headers, json=body(op, forms)
        )
    except httpx2.TransportError as exc:
        op.end = time.monotonic()
        op.problem = f"{type(exc).__name__}: {exc}"
        return
    op.end = time.monotonic()
    op.status = response.status_code
    if response.status_code != 201:
        op.problem = response.text[:300]
        return
    op.problem = check_answer(op, response.json())


async def poll(client: httpx2.AsyncClient, url: str, account: Account, traffic: Traffic) -> None:
    """One GET /sync/activities, recorded."""
    params, headers = auth(account)
    start = time.monotonic()
    response = await client.get(url + "/sync/activities", params=params, headers=headers)
    end = time.monotonic()
    if response.status_code != 200:
        traffic.failures.append(f"activities answered {response.status_code}: {response.text}")
        return
    traffic.polls.append(Poll(start, end, flatten(response.json())))


async def run_traffic(
    urls: Sequence[str],
    account: Account,
    *,
    items: Sequence[int],
    clients: int,
    seconds: float,
    seed: int,
) -> Traffic:
    """`clients` writers adding and removing ratings of overlapping `items` for `seconds`,
    each request going to the next server of `urls` in turn, with one activities poller per
    server; returns once every request in flight has been answered."""
    traffic = Traffic()
    numbers = itertools.count(1)
    deadline = time.monotonic() + seconds

    async def writer(index: int, client: httpx2.AsyncClient) -> None:
        rng = random.Random(seed * 1000 + index)
        for turn in itertools.count():  # at least one request per client, however slow
            chosen = rng.sample(list(items), rng.randint(1, 6))
            kind = "add" if rng.random() < 0.7 else "remove"
            ratings = {i: (rng.randint(1, 10) if kind == "add" else None) for i in chosen}
            op = Op(next(numbers), index, kind, ratings)
            traffic.ops.append(op)
            await send(client, urls[(index + turn) % len(urls)], account, op)
            if time.monotonic() >= deadline:
                return

    async def poller(url: str, client: httpx2.AsyncClient) -> None:
        while time.monotonic() < deadline:
            await poll(client, url, account, traffic)

    async with contextlib.AsyncExitStack() as stack:
        pool = [await stack.enter_async_context(http_client()) for _ in range(clients + 1)]
        deadline = time.monotonic() + seconds
        await asyncio.gather(
            *(writer(i, pool[i]) for i in range(clients)),
            *(poller(url, pool[-1]) for url in urls),
        )
        for url in urls:  # after everything: must not be behind any earlier poll
            await poll(pool[-1], url, account, traffic)
    return traffic


def parse_ms(text: str | None) -> int | None:
    """Epoch milliseconds of a `...T..:..:...mmmZ` stamp (exact: no float on the way)."""
    if text is None:
        return None
    return (datetime.fromisoformat(text) - _EPOCH) // timedelta(milliseconds=1)


async def read_ratings(url: str, account: Account) -> dict[int, tuple[int | None, int | None]]:
    """Every library row of the user: item -> (rating, rated_at ms); unrated rows included."""
    params, headers = auth(account)
    async with http_client() as client:
        response = await client.get(url + "/sync/ratings", params=params, headers=headers)
    assert response.status_code == 200, response.text
    state: dict[int, tuple[int | None, int | None]] = {}
    for bucket in response.json().values():
        for row in bucket:
            media = row.get("movie") or row["show"]
            state[media["ids"]["simkl"]] = (row["user_rating"], parse_ms(row["user_rated_at"]))
    return state


def check_final_state(
    ops: Sequence[Op], final: dict[int, tuple[int | None, int | None]], items: Iterable[int]
) -> list[str]:
    """Problems with `final` as the outcome of the acknowledged `ops` (see the module doc)."""
    acked = [op for op in ops if op.status == 201]
    writes: dict[int, list[Op]] = defaultdict(list)
    for op in acked:
        for item in op.ratings:
            writes[item].append(op)
    by_stamp = {op.rated_at_ms: op for op in acked if op.kind == "add"}
    problems: list[str] = []
    winners: dict[int, Op] = {}
    for item in items:
        touching = writes.get(item, [])
        adds = [op for op in touching if op.kind == "add"]
        rating, stamp = final.get(item, (None, None))
        if item not in final:
            if adds:
                problems.append(f"item {item}: no library row, but added by {adds[0].describe()}")
            continue
        if rating is None:
            removes = [op for op in touching if op.kind == "remove"]
            if not adds:
                problems.append(f"item {item}: a library row nobody added")
            elif not any(all(a.start <= r.end for a in adds) for r in removes):
                problems.append(f"item {item}: unrated, but no remove could have come last")
            continue
        winner = by_stamp.get(stamp) if stamp is not None else None
        if winner is None or winner.ratings.get(item) != rating:
            problems.append(f"item {item}: ({rating}, {stamp}) was never acknowledged")
            continue
        winners[item] = winner
        later = [op for op in touching if op.start > winner.end]
        if later:
            problems.append(
                f"item {item}: kept {winner.describe()}, lost the later {later[0].describe()}"
            )
    if not problems:
        problems += _serial_order_problems(acked, winners, writes)
    return problems


def _serial_order_problems(
    acked: Sequence[Op], winners: dict[int, Op], writes: dict[int, list[Op]]
) -> list[str]:
    """Empty when one serial order explains real time and the final state (see module doc)."""
    index = {id(op): i for i, op in enumerate(acked)}
    n = len(acked)
    edges: list[list[int]] = [[] for _ in range(2 * n)]  # ops are 0..n-1, time points n..2n-1
    by_end = sorted(range(n), key=lambda i: acked[i].end)
    ends = [acked[i].end for i in by_end]
    for rank, i in enumerate(by_end):
        edges[i].append(n + rank)  # op -> the time point of its end
        if rank + 1 < n:
            edges[n + rank].append(n + rank + 1)
    for i, op in enumerate(acked):
        before = bisect.bisect_left(ends, op.start) - 1  # last end strictly before op started
        if before >= 0:
            edges[n + before].append(i)
    for item, winner in winners.items():
        for op in writes[item]:
            if op is not winner:
                edges[index[id(op)]].append(index[id(winner)])
    remaining = _unsortable(edges)
    if not remaining:
        return []
    stuck = [acked[i].describe() for i in sorted(remaining) if i < n][:8]
    return [f"no serial order explains the final state; {len(remaining)} nodes in cycles:", *stuck]


def _unsortable(edges: list[list[int]]) -> set[int]:
    """Nodes that Kahn's topological sort cannot place (empty when the graph is acyclic)."""
    incoming = [0] * len(edges)
    for targets in edges:
        for target in targets:
            incoming[target] += 1
    ready = deque(node for node, count in enumerate(incoming) if count == 0)
    while ready:
        node = ready.popleft()
        for target in edges[node]:
            incoming[target] -= 1
            if incoming[target] == 0:
                ready.append(target)
    return {node for node, count in enumerate(incoming) if count > 0}


def check_activities(polls: Sequence[Poll]) -> list[str]:
    """No stamp ever goes back: a poll sees at least what any poll finished before it saw."""
    problems: list[str] = []
    finished = sorted(polls, key=lambda p: p.end)
    seen: dict[str, str] = {}
    cursor = 0
    for current in sorted(polls, key=lambda p: p.start):
        while cursor < len(finished) and finished[cursor].end < current.start:
            for key, value in finished[cursor].stamps.items():
                if value is not None and (key not in seen or value > seen[key]):
                    seen[key] = value
            cursor += 1
        for key, value in seen.items():
            now = current.stamps.get(key)
            if now is None or now < value:
                problems.append(f"{key} went back from {value} to {now} at {current.start:.4f}")
    return problems[:20]


def verdict(
    traffic: Traffic, urls: Sequence[str], account: Account, items: Sequence[int]
) -> list[str]:
    """Everything wrong with what the traffic left, as every server answers it (empty: none)."""
    problems = [f"{op.describe()}: {op.problem}" for op in traffic.ops if op.problem]
    problems += traffic.failures
    for url in urls:
        final = asyncio.run(read_ratings(url, account))
        problems += check_final_state(traffic.ops, final, items)
    return problems + check_activities(traffic.polls)


def summary(traffic: Traffic) -> str:
    """A line for the test log: how much traffic the verdict rests on."""
    acked = sum(op.status == 201 for op in traffic.ops)
    adds = sum(op.kind == "add" and op.status == 201 for op in traffic.ops)
    return f"{acked} acknowledged writes ({adds} adds), {len(traffic.polls)} activity polls"
