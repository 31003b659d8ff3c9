"""The benchmark's statement floor (bench/floor.py) does the server's work for the single-remove
pool, on both databases: the same statuses and bodies, and the same ratings left behind. The
benchmark then compares the server with a floor that does what it does, not less."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
from starlette.testclient import TestClient

from bench import datagen, floor, scenarios
from bench.scenarios import parse_line
from simkl_server.app import create_app
from simkl_server.config import Settings
from tests.conftest import fresh_database

SPEC = datagen.Spec.tiny()
LINES = 60
UNKNOWN = [  # items the catalog lacks: echoed in not_found
    parse_line(b'0\t{"movies":[{"ids":{"imdb":"tt999999999"}}]}'),
    parse_line(b'1\t{"anime":[{"title":"No Such Title","year":1901,"ids":{"mal":999999}}]}'),
]
RATED = "SELECT user_id, item_id FROM library WHERE user_rating IS NOT NULL"
TOUCHED = "SELECT user_id, bucket FROM activity WHERE at >= {since}"


def server_app(url: str) -> Any:
    return create_app(Settings(database_url=url))


async def pairs(url: str, query: str) -> set[tuple[Any, Any]]:
    """The rows of a two-column query."""
    if url.startswith("sqlite"):
        with sqlite3.connect(url.split("///", 1)[1]) as raw:
            return set(raw.execute(query).fetchall())
    connection = await asyncpg.connect(url)
    try:
        return {(row[0], row[1]) for row in await connection.fetch(query)}
    finally:
        await connection.close()


def test_the_floor_answers_the_single_removes_as_the_server_does(
    backend: str, tmp_path: Path
) -> None:
    dataset = datagen.generate(SPEC)
    pool = scenarios.single_remove_pool(dataset, per_user=SPEC.library_size, seed=7)
    lines = [parse_line(raw.rstrip(b"\n")) for raw in pool][:LINES] + UNKNOWN
    answers: list[list[tuple[int, Any]]] = []
    before: list[set[tuple[Any, Any]]] = []
    after: list[set[tuple[Any, Any]]] = []
    touched: list[set[tuple[Any, Any]]] = []
    make: Callable[[str], Any]
    for name, make in (("server", server_app), ("floor", floor.app)):
        for url in fresh_database(backend, tmp_path / name):
            info = asyncio.run(datagen.load(url, dataset))
            before.append(asyncio.run(pairs(url, RATED)))
            since = max(info.loaded_at_ms, int(time.time() * 1000)) + 1
            with TestClient(make(url)) as client:
                answers.append([_send(client, dataset, line) for line in lines])
            after.append(asyncio.run(pairs(url, RATED)))
            touched.append(asyncio.run(pairs(url, TOUCHED.format(since=since))))
    assert answers[0] == answers[1]
    assert {status for status, _ in answers[0]} == {201}
    assert before[0] == before[1]
    assert after[0] == after[1]
    assert touched[0] == touched[1]
    assert touched[0]  # and moved the users' rated_at buckets
    assert len(before[0] - after[0]) >= LINES * 0.9  # the removes cleared ratings


def _send(client: TestClient, dataset: datagen.Dataset, line: scenarios.PoolLine) -> Any:
    response = client.post(
        f"/sync/ratings/remove?client_id={dataset.client_id}",
        headers={
            "Authorization": f"Bearer {dataset.all_users[line.token_index].token}",
            "Content-Type": "application/json",
        },
        content=line.body,
    )
    return response.status_code, response.json()
