"""Two server processes on one database, clients alternating between them: the guarantees of
test_concurrency hold across processes (no lost update, a serial replay explains the final
state, activity stamps never go back, whichever process a client reads from)."""

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
def test_two_servers_share_the_load(launch: Launch, empty_database: str, seconds: float) -> None:
    account = database.provision(empty_database, movies=24, shows=8)
    items = account.movies + account.shows
    servers = [launch(empty_database), launch(empty_database)]
    urls = [server.url for server in servers]
    traffic = asyncio.run(
        run_traffic(urls, account, items=items, clients=CLIENTS, seconds=seconds, seed=2)
    )
    print(summary(traffic))
    failed = [f"{op.describe()}: {op.problem}" for op in traffic.ops if op.problem]
    assert not failed + traffic.failures, (failed + traffic.failures)[:10]
    for url in urls:
        final = asyncio.run(read_ratings(url, account))
        assert check_final_state(traffic.ops, final, items) == []
    assert check_activities(traffic.polls) == []
    for server in servers:
        server.stop()
    assert database.integrity_problems(empty_database) == []
