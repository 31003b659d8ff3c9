"""Scrobbling across server processes on one database: the windows are held in the database,
so two processes enforce them together, and an acknowledged pause survives a kill -9."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx2

from simkl_server.clock import SystemClock
from simkl_server.config import Settings
from simkl_server.storage.base import WriteTx, open_store
from tests.robustness import database
from tests.robustness.conftest import Launch

ROUNDS = 12


async def _post(client: httpx2.AsyncClient, url: str, path: str, body: Any, account: Any) -> Any:
    return await client.post(
        f"{url}{path}",
        params={"client_id": account.client_id},
        headers={"Authorization": f"Bearer {account.token}"},
        json=body,
    )


def test_concurrent_duplicate_stops_on_two_servers_record_one_watch(
    launch: Launch, empty_database: str
) -> None:
    account = database.provision(empty_database, movies=ROUNDS)
    urls = [launch(empty_database).url, launch(empty_database).url]

    async def race() -> list[tuple[int, int]]:
        outcomes = []
        async with httpx2.AsyncClient(timeout=30) as client:
            for movie in account.movies:
                body = {"movie": {"ids": {"simkl": movie}}, "progress": 95}
                first, second = await asyncio.gather(
                    *(_post(client, url, "/scrobble/stop", body, account) for url in urls)
                )
                outcomes.append((first.status_code, second.status_code))
                for response in (first, second):
                    if response.status_code == 409:
                        assert set(response.json()) == {"watched_at", "expires_at"}
        return outcomes

    outcomes = asyncio.run(race())
    assert all(sorted(pair) == [201, 409] for pair in outcomes), outcomes
    scrobbled = database.query(
        empty_database, "SELECT COUNT(*) FROM playbacks WHERE scrobbled_at IS NOT NULL"
    )
    completed = database.query(
        empty_database, "SELECT COUNT(*) FROM library WHERE status = 'completed'"
    )
    assert scrobbled == [(ROUNDS,)]
    assert completed == [(ROUNDS,)]
    assert database.integrity_problems(empty_database) == []


def _hold_lock(url: str, username: str, seconds: float) -> None:
    """A scrobble of the user running in some other process (its lease in the database)."""

    async def work() -> None:
        store = await open_store(Settings(database_url=url), SystemClock())
        try:
            user_id = await store.read.accounts.find_user(username)
            assert user_id is not None
            now = int(time.time() * 1000)

            async def take(tx: WriteTx) -> bool:
                return await tx.playbacks.acquire(user_id, now=now, until=now + int(seconds * 1000))

            assert await store.transaction(take)
        finally:
            await store.close()

    asyncio.run(work())


def test_a_lock_held_by_one_process_is_seen_by_every_other(
    launch: Launch, empty_database: str
) -> None:
    account = database.provision(empty_database, movies=1)
    env = {"SIMKL_SERVER_SCROBBLE_LOCK_WAIT_MS": "0"}
    urls = [launch(empty_database, env=env).url, launch(empty_database, env=env).url]
    _hold_lock(empty_database, "robot", seconds=20)

    async def scrobbles() -> list[Any]:
        async with httpx2.AsyncClient(timeout=30) as client:
            body = {"movie": {"ids": {"simkl": account.movies[0]}}, "progress": 50}
            return [await _post(client, url, "/scrobble/pause", body, account) for url in urls]

    for response in asyncio.run(scrobbles()):
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "RATE_LIMIT"
    assert database.query(empty_database, "SELECT COUNT(*) FROM playbacks") == [(0,)]


def test_an_acknowledged_pause_survives_kill_9(launch: Launch, empty_database: str) -> None:
    account = database.provision(empty_database, movies=1)
    server = launch(empty_database)

    async def pause_then_list(url: str, pause: bool) -> Any:
        async with httpx2.AsyncClient(timeout=30) as client:
            if pause:
                body = {"movie": {"ids": {"simkl": account.movies[0]}}, "progress": 37.5}
                answered = await _post(client, url, "/scrobble/pause", body, account)
                assert answered.status_code == 201, answered.text
            listed = await client.get(
                f"{url}/sync/playback",
                params={"client_id": account.client_id},
                headers={"Authorization": f"Bearer {account.token}"},
            )
            return listed.json()

    asyncio.run(pause_then_list(server.url, pause=True))
    server.kill()
    again = launch(empty_database)
    listed = asyncio.run(pause_then_list(again.url, pause=False))
    assert [(row["progress"], row["movie"]["ids"]["simkl"]) for row in listed] == [
        (37.5, account.movies[0])
    ]
