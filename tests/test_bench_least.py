"""The least-work apps of the benchmark (bench/least.py) on both databases: each answers a
known token 201 and an unknown one 401, does its kind's work and no more, the group commit
puts the touches of requests that wait together into fewer transactions, and the least
remove clears the caller's ratings it names and stamps their activity."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from bench import datagen, floor, least
from simkl_server.config import Settings
from simkl_server.domain.kinds import rated_bucket
from simkl_server.storage.drivers import Connection, open_driver
from tests.conftest import fresh_database
from tests.test_bench_floor import pairs

SPEC = datagen.Spec.tiny()
TOUCHED = f"SELECT user_id, at FROM activity WHERE bucket = '{least.BUCKET}'"
BODY = b'{"movies":[{"ids":{"simkl":1}},{"ids":{"imdb":"tt0000001"}}]}'


@pytest.fixture
def loaded(backend: str, tmp_path: Path) -> Any:
    """A database with the tiny data set, and the data set."""
    dataset = datagen.generate(SPEC)
    for url in fresh_database(backend, tmp_path):
        asyncio.run(datagen.load(url, dataset))
        yield url, dataset


@pytest.mark.parametrize("kind", least.KINDS)
def test_each_kind_answers_and_does_its_work_alone(loaded: Any, kind: str) -> None:
    url, dataset = loaded
    token = dataset.users[0].token
    before = asyncio.run(pairs(url, TOUCHED))
    with TestClient(least.LeastWork(url, kind)) as client:
        known = client.post("/sync/ratings/remove", content=BODY, headers=_bearer(token))
        unknown = client.post("/sync/ratings/remove", content=BODY, headers=_bearer("nope"))
    after = asyncio.run(pairs(url, TOUCHED))

    assert (known.status_code, known.json()) == (201, {"deleted": {"movies": 2, "shows": 0}})
    assert unknown.status_code == 401
    changed = after - before
    if kind in {"write", "grouped"}:
        assert len(changed) == 1  # the caller's row, and no one else's
    else:
        assert not changed


def test_the_least_remove_clears_the_callers_ratings_and_stamps_their_activity(
    loaded: Any,
) -> None:
    url, dataset = loaded
    user = dataset.users[0]
    by_simkl, by_key = (dataset.catalog[index] for index in user.library[:2])
    kind, value = next(iter(by_key.ids.items()))
    body = orjson.dumps(
        {
            "movies": [{"ids": {"simkl": by_simkl.id}}, {"ids": {kind: value}}],
            "shows": [{"ids": {"imdb": "tt99999999"}}, {"title": "Nothing", "year": 2000}],
        }
    )
    rated = "SELECT user_id, item_id FROM library WHERE user_rating IS NOT NULL"
    stamps = "SELECT user_id || ' ' || bucket, at FROM activity"
    rated_before, stamps_before = asyncio.run(pairs(url, rated)), asyncio.run(pairs(url, stamps))
    with TestClient(least.LeastWork(url, "remove")) as client:
        answer = client.post("/sync/ratings/remove", content=body, headers=_bearer(user.token))
    rated_after, stamps_after = asyncio.run(pairs(url, rated)), asyncio.run(pairs(url, stamps))

    assert answer.status_code == 201
    assert rated_before - rated_after == {(user.db_id, by_simkl.id), (user.db_id, by_key.id)}
    assert not rated_after - rated_before
    moved = {who for who, _ in stamps_after - stamps_before}
    buckets = {rated_bucket(item.type) for item in (by_simkl, by_key)}
    assert moved == {f"{user.db_id} {bucket}" for bucket in buckets}


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="no kind"):
        least.LeastWork("sqlite:///unused.db", "everything")


def test_touches_that_wait_together_share_a_commit(loaded: Any) -> None:
    url, dataset = loaded
    users = len(dataset.all_users)

    async def run() -> int:
        settings = Settings(database_url=url)
        driver = await open_driver(settings.database, pool_size=4, write_wait_ms=2000)
        transactions = 0
        inner = driver.transaction

        async def counted(work: Callable[[Connection], Awaitable[Any]], *, offload: bool) -> Any:
            nonlocal transactions
            transactions += 1
            return await inner(work, offload=offload)

        driver.transaction = counted  # type: ignore[method-assign]
        try:
            group = least.GroupCommit(driver)
            user_ids = [row[1] for row in await driver.reader.fetch(floor.TOKENS, {})]
            await asyncio.gather(*(group(user_id, {}) for user_id in user_ids))
            return transactions
        finally:
            await driver.close()

    transactions = asyncio.run(run())
    touched = {user_id for user_id, _ in asyncio.run(pairs(url, TOUCHED))}
    assert len(touched) == users
    assert transactions == 1  # all of them arrived before the first commit began


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
