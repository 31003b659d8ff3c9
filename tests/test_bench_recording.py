"""The storage ceilings' statements (bench/recording.py) are the server's own: replaying what
a batch's domain calls ran, on a second copy of the same data, leaves every table the calls
wrote as the calls left it, and each step runs the way the store ran it (a catalog lookup on
the reader, then the write: in a transaction on SQLite; on PostgreSQL a remove as one call, an
add run ahead of the user's lock, its entries read with the lookup and saved in one call)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import uvloop

from bench import ceiling, datagen, scenarios
from bench.recording import Recording, record, replay
from simkl_server.config import Settings
from simkl_server.storage.drivers import open_driver
from tests.conftest import copy_sqlite, create_pg_database, drop_pg_database, fresh_database

SPEC = datagen.Spec.tiny()
REQUESTS = 6
# Every table a ratings batch writes, whole: the stamps come from the recorded parameters.
TABLES = {
    "library": "SELECT * FROM library ORDER BY user_id, item_id",
    "user_episodes": "SELECT * FROM user_episodes ORDER BY user_id, item_id, season, number",
    "activity": "SELECT * FROM activity ORDER BY user_id, bucket",
}


def test_a_replayed_add_batch_writes_what_the_domain_calls_wrote(
    backend: str, tmp_path: Path
) -> None:
    dataset = datagen.generate(SPEC)
    pool = scenarios.write_pool(
        tmp_path / "add.pool", scenarios.add_pool(dataset, batch=20, per_user=2, seed=3)
    )
    requests = ceiling.read_requests(dataset, pool.path, first=0, count=REQUESTS, adding=True)
    for recorded_url in fresh_database(backend, tmp_path):
        asyncio.run(datagen.load(recorded_url, dataset))
        with copy_of(recorded_url, tmp_path) as replayed_url:
            uvloop.run(record(recorded_url, requests))
            uvloop.run(replay_all(replayed_url, [r.recording for r in requests]))
            recorded = asyncio.run(tables(recorded_url))
            replayed = asyncio.run(tables(replayed_url))
    assert recorded == replayed
    # The add files rated shows as completed with their episodes watched: those rows are
    # written, and replayed, too (a ceiling written by hand had left them out).
    assert recorded["user_episodes"]
    # On SQLite the add reads its lookup ahead, out of the lock every process's writes share,
    # then writes in a transaction; on PostgreSQL it runs ahead of the user's lock: the
    # lookup with the entries of the items it finds on the reader, then the one call.
    expected = ["reader", "transaction"] if backend == "sqlite" else ["reader", "routine"]
    steps = [[step.kind for step in r.recording.steps] for r in requests]
    assert steps == [expected] * REQUESTS


def test_a_replayed_remove_batch_runs_as_the_store_ran_it(backend: str, tmp_path: Path) -> None:
    dataset = datagen.generate(SPEC)
    users = dataset.users
    pool = scenarios.write_pool(
        tmp_path / "remove.pool",
        scenarios.remove_pool(dataset, users, batch=20, per_user=2, seed=3),
    )
    requests = ceiling.read_requests(dataset, pool.path, first=0, count=REQUESTS, adding=False)
    for recorded_url in fresh_database(backend, tmp_path):
        asyncio.run(datagen.load(recorded_url, dataset))
        with copy_of(recorded_url, tmp_path) as replayed_url:
            before = asyncio.run(tables(replayed_url))
            uvloop.run(record(recorded_url, requests))
            uvloop.run(replay_all(replayed_url, [r.recording for r in requests]))
            recorded = asyncio.run(tables(recorded_url))
            replayed = asyncio.run(tables(replayed_url))
    assert recorded == replayed
    assert recorded["library"] != before["library"]  # ratings were cleared
    write = "transaction" if backend == "sqlite" else "routine"
    steps = [[step.kind for step in r.recording.steps] for r in requests]
    assert steps == [["reader", write]] * REQUESTS


@contextmanager
def copy_of(url: str, tmp_path: Path) -> Iterator[str]:
    """A second database holding the same rows, stamps included, removed afterwards."""
    if url.startswith("sqlite"):
        target = f"sqlite:///{tmp_path / 'copy.db'}"
        copy_sqlite(url, target)
        yield target
        return
    copied = create_pg_database(copy_of=url)
    try:
        yield copied
    finally:
        drop_pg_database(copied)


async def replay_all(url: str, recordings: list[Recording]) -> None:
    settings = Settings(database_url=url)
    driver = await open_driver(
        settings.database, pool_size=settings.pg_pool_size, write_wait_ms=settings.write_wait_ms
    )
    try:
        for recording in recordings:
            await replay(driver, recording)
    finally:
        await driver.close()


async def tables(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables a ratings batch writes."""
    if url.startswith("sqlite"):
        with sqlite3.connect(url.split("///", 1)[1]) as raw:
            return {name: raw.execute(query).fetchall() for name, query in TABLES.items()}
    connection = await asyncpg.connect(url)
    try:
        return {
            name: [tuple(row) for row in await connection.fetch(query)]
            for name, query in TABLES.items()
        }
    finally:
        await connection.close()
