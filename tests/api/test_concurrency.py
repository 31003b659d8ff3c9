"""Many concurrent writes of one user through one app: no update is lost and activity
timestamps never go backwards."""

from __future__ import annotations

import asyncio
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx2

from simkl_server.app import create_app
from simkl_server.config import Settings
from simkl_server.domain import auth
from simkl_server.storage.base import Store, open_store
from tests.api.support import (
    ATTACK_ON_TITAN,
    DEATH_NOTE,
    DEMON_SLAYER,
    DUNE_2,
    GAME_OF_THRONES,
    HUNTER_X_HUNTER,
    LAST_SHIP,
    MALEFICENT,
    SEVERANCE,
    TERMINATOR_3,
    TRUMAN_SHOW,
    WALKING_DEAD,
    rows_by_id,
)
from tests.conftest import START_MS, TEST_KEYS
from tests.helpers import flatten

WRITERS = 50
# Even positions are only ever rated (always with the same value); odd positions are rated
# and then un-rated by the same writer, so whatever the interleaving, the last word on an odd
# item is a removal.
ITEMS = [
    ("movies", TERMINATOR_3),
    ("movies", MALEFICENT),
    ("movies", TRUMAN_SHOW),
    ("movies", DUNE_2),
    ("shows", WALKING_DEAD),
    ("shows", GAME_OF_THRONES),
    ("shows", LAST_SHIP),
    ("shows", SEVERANCE),
    ("anime", ATTACK_ON_TITAN),
    ("anime", DEMON_SLAYER),
    ("anime", HUNTER_X_HUNTER),
    ("anime", DEATH_NOTE),
]


class TickingClock:
    """A clock that moves one second every time it is read, from any thread (so activities,
    printed in whole seconds, differ from one write to the next)."""

    def __init__(self, start_ms: int) -> None:
        self._now = start_ms
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        """The next second."""
        with self._lock:
            self._now += 1_000
            return self._now


@dataclass
class Session:
    """One app's HTTP client with a user's credentials."""

    client: httpx2.AsyncClient
    params: dict[str, str]
    headers: dict[str, str]
    seen_activities: list[dict[str, Any]] = field(default_factory=list)
    snapshot_taken: asyncio.Event = field(default_factory=asyncio.Event)

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST, asserting 201."""
        response = await self.client.post(path, params=self.params, headers=self.headers, json=body)
        assert response.status_code == 201, response.text
        answer: dict[str, Any] = response.json()
        return answer

    async def get(self, path: str) -> dict[str, Any]:
        """GET, asserting 200."""
        response = await self.client.get(path, params=self.params, headers=self.headers)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer


async def writer(session: Session, index: int) -> None:
    """Rate one item; on odd items, remove that rating again."""
    wrapper, simkl = ITEMS[index % len(ITEMS)]
    position = index % len(ITEMS)
    rating = position % 10 + 1 if position % 2 == 0 else index % 10 + 1
    items = [{"ids": {"simkl": simkl}, "rating": rating}]
    if index % 3 == 0:  # a two-item batch: over inline_batch_items, so SQLite offloads it
        items.append({"ids": {"imdb": "tt0000001"}, "rating": rating})
    added = await session.post("/sync/ratings", {wrapper: items})
    assert added["added"]["statuses"], added
    if position % 2 == 1:
        removed = await session.post("/sync/ratings/remove", {wrapper: [{"ids": {"simkl": simkl}}]})
        assert sum(removed["deleted"].values()) == 1, removed


async def watcher(session: Session, done: asyncio.Event) -> None:
    """Read the activities until every writer is done."""
    while not done.is_set():
        session.seen_activities.append(await session.get("/sync/activities"))
        session.snapshot_taken.set()
        await asyncio.sleep(0)  # yield to the writers between reads (not a wait)


async def credentials(store: Store, clock: TickingClock) -> tuple[str, str]:
    """A fresh app and user on emptied user state: (client_id, token)."""
    await store.reset(keep_catalog=True)
    app = (await auth.create_app(store, name="concurrency")).app
    await auth.create_user(store, username="alice")
    token = await auth.issue_token(store, TEST_KEYS, username="alice", client_id=app.client_id)
    return app.client_id, token


async def run_writers(database_url: str) -> Session:
    """Run every writer and the watcher against one app; returns the session after them."""
    clock = TickingClock(START_MS)
    settings = Settings(database_url=database_url, inline_batch_items=1)
    store = await open_store(settings, clock)
    try:
        client_id, token = await credentials(store, clock)
        transport = httpx2.ASGITransport(app=create_app(settings, store=store, clock=clock))
        async with httpx2.AsyncClient(transport=transport, base_url="http://simkl.test") as client:
            session = Session(
                client, {"client_id": client_id}, {"Authorization": f"Bearer {token}"}
            )
            done = asyncio.Event()
            watching = asyncio.create_task(watcher(session, done))
            # Two waves, with two of the watcher's reads between them (the second began after
            # the first wave): however the pool queues its reads behind the writers, the
            # watcher's snapshots span the run.
            await asyncio.gather(*(writer(session, i) for i in range(WRITERS // 2)))
            for _ in range(2):
                session.snapshot_taken.clear()
                await session.snapshot_taken.wait()
            await asyncio.gather(*(writer(session, i) for i in range(WRITERS // 2, WRITERS)))
            done.set()
            await watching
            session.seen_activities.append(await session.get("/sync/activities"))
            session.seen_activities.append(await session.get("/sync/ratings"))
            return session
    finally:
        await store.close()


def assert_never_backwards(snapshots: list[dict[str, Any]]) -> None:
    """Each bucket only ever moves forward from one snapshot to the next."""
    for earlier, later in itertools.pairwise(snapshots):
        old, new = flatten(earlier), flatten(later)
        for name, stamp in old.items():
            if stamp is not None:
                moved = new[name]
                assert moved is not None, name
                assert moved >= stamp, (name, stamp, moved)


def test_concurrent_writes_lose_nothing_and_time_only_moves_forward(catalog_database: str) -> None:
    session = asyncio.run(run_writers(catalog_database))

    *snapshots, library = session.seen_activities
    rows = rows_by_id(library)
    expected = {
        simkl: (position % 10 + 1 if position % 2 == 0 else None)
        for position, (_, simkl) in enumerate(ITEMS)
    }
    assert {simkl: row["user_rating"] for simkl, row in rows.items()} == expected
    assert len({flatten(s)["all"] for s in snapshots}) > 2, "the watcher saw no progress"
    assert_never_backwards(snapshots)
    final = snapshots[-1]
    assert all(final[domain]["rated_at"] is not None for domain in ("movies", "tv_shows", "anime"))
