"""32 clients adding and removing ratings of the same user's overlapping items at once, against
a real server process: nothing acknowledged is lost, the final state is the replay of the
acknowledged requests in some order real time allows, and activity stamps never go back."""

from __future__ import annotations

import asyncio

import pytest

from tests.robustness import database
from tests.robustness.conftest import Launch, run_lengths
from tests.robustness.workload import (
    check_activities,
    check_final_state,
    read_ratings,
    run_traffic,
    summary,
)

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
    failed = [f"{op.describe()}: {op.problem}" for op in traffic.ops if op.problem]
    assert not failed + traffic.failures, (failed + traffic.failures)[:10]
    assert {op.client for op in traffic.ops if op.status == 201} == set(range(CLIENTS))
    final = asyncio.run(read_ratings(server.url, account))
    assert check_final_state(traffic.ops, final, items) == []
    assert check_activities(traffic.polls) == []
    server.stop()
    assert database.integrity_problems(empty_database) == []
