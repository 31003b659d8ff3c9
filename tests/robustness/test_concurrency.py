"""32 clients adding and removing ratings of the same user's overlapping items at once, against
a real server process: nothing acknowledged is lost, the final state is the replay of the
acknowledged requests in some order real time allows, and activity stamps never go back."""

from __future__ import annotations

import asyncio

import pytest

from tests.robustness import database
from tests.robustness.conftest import Launch, run_lengths
from tests.robustness.workload import run_traffic, summary, verdict

CLIENTS = 32


@pytest.mark.parametrize("seconds", run_lengths(2.0))
def test_concurrent_writers(launch: Launch, empty_database: str, seconds: float) -> None:
    account = database.provision(empty_database, movies=24, shows=8)
    items = account.movies + account.shows
    server = launch(empty_database)
    traffic = asyncio.run(
        run_traffic([server.url], account, items=items, clients=CLIENTS, seconds=seconds, seed=32)
    )
    print(summary(traffic))
    assert verdict(traffic, [server.url], account, items)[:10] == []
    assert {op.client for op in traffic.ops if op.status == 201} == set(range(CLIENTS))
    server.stop()
    assert database.integrity_problems(empty_database) == []
