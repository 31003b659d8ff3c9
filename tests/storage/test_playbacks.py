"""Playback statements on a user who has scrobbled a lot: every playback a user ends stays, so
the statements that look for the running sessions (each scrobble, each playback read, the
check-in sweep) must find them through the index of running sessions alone, on both
databases, not through all of the user's playbacks."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from typing import Any

import asyncpg

from simkl_server.config import parse_database_url
from simkl_server.domain.models import Playback
from simkl_server.storage import playbacks as playbacks_sql
from simkl_server.storage.base import Store, WriteTx
from tests.api.library_support import INCEPTION
from tests.conftest import START_MS, Api

ENDED = 2_000
LIVE_STATEMENTS = {
    "live_and_one": playbacks_sql.LIVE_AND_ONE,
    "due_checkins": playbacks_sql.DUE_CHECKINS,
    "due_users": playbacks_sql.DUE_USERS,
}


def _scrobbled_a_lot(api: Api) -> int:
    """The api's user, with ENDED ended playbacks, one running session and one check-in."""
    user_id = api.call(api.store.read.accounts.find_user, "alice")
    assert user_id is not None

    async def fill(store: Store) -> int:

        async def save(tx: WriteTx) -> None:
            for season in range(ENDED):
                ended = Playback(0, INCEPTION, (season, 1), "ended", 9_500, START_MS)
                await tx.playbacks.save(user_id, ended)
            playing = Playback(0, INCEPTION, (ENDED, 1), "playing", 1_000, START_MS)
            checkin = Playback(0, INCEPTION, (ENDED + 1, 1), "checkin", 0, START_MS, None, 1)
            await tx.playbacks.save(user_id, playing)
            await tx.playbacks.save(user_id, checkin)

        await store.transaction(save)
        return user_id

    return api.call(fill, api.store)


def _params(user_id: int) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "item_id": INCEPTION,
        "season": 0,
        "number": 1,
        "now": START_MS,
        "limit": 100,
    }


def _sqlite_plans(path: str, user_id: int) -> dict[str, str]:
    raw = sqlite3.connect(path)
    try:
        plans = {}
        for name, sql in LIVE_STATEMENTS.items():
            query = sql.sqlite
            rows = raw.execute(f"EXPLAIN QUERY PLAN {query.sql}", query.args(_params(user_id)))
            plans[name] = " / ".join(str(row[-1]) for row in rows)
        return plans
    finally:
        raw.close()


def _postgres_plans(dsn: str, user_id: int) -> dict[str, str]:
    async def explain() -> dict[str, str]:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("ANALYZE playbacks")
            plans = {}
            for name, sql in LIVE_STATEMENTS.items():
                query = sql.postgres
                plan = await conn.fetchval(
                    f"EXPLAIN (FORMAT JSON) {query.sql}", *query.args(_params(user_id))
                )
                plans[name] = json.dumps(json.loads(plan))
            return plans
        finally:
            await conn.close()

    return asyncio.run(explain())


def _statements_plans(url: str, user_id: int) -> dict[str, str]:
    database = parse_database_url(url)
    if database.sqlite_path is not None:
        return _sqlite_plans(str(database.sqlite_path), user_id)
    assert database.postgres_dsn is not None
    return _postgres_plans(database.postgres_dsn, user_id)


def test_the_running_sessions_are_read_through_their_own_index(
    api: Api, catalog_database: str
) -> None:
    user_id = _scrobbled_a_lot(api)
    plans = _statements_plans(catalog_database, user_id)
    for name, plan in plans.items():
        assert "ix_playbacks_live" in plan, (name, plan)


def test_live_and_one_finds_the_running_sessions_and_the_one_playback(api: Api) -> None:
    user_id = _scrobbled_a_lot(api)

    async def read(store: Store) -> list[tuple[list[Playback], Playback | None]]:
        return [
            await store.read.playbacks.live_and_one(user_id, INCEPTION, key)
            for key in ((7, 1), (ENDED, 1), (ENDED + 5, 1))
        ]

    ended, running, missing = api.call(read, api.store)
    states = [[p.state for p in sessions] for sessions, _ in (ended, running, missing)]
    assert states == [["playing", "checkin"]] * 3
    assert ended[1] is not None
    assert (ended[1].key, ended[1].state) == ((7, 1), "ended")
    assert running[1] is running[0][0]  # the same session, read once
    assert missing[1] is None


def test_check_ins_are_due_by_their_end(api: Api) -> None:
    user_id = _scrobbled_a_lot(api)

    async def due(store: Store) -> tuple[list[Playback], list[int]]:
        return (
            await store.read.playbacks.due_checkins(user_id, START_MS),
            await store.read.playbacks.due_users(START_MS, limit=10),
        )

    checkins, users = api.call(due, api.store)
    assert [(p.key, p.state) for p in checkins] == [((ENDED + 1, 1), "checkin")]
    assert users == [user_id]
