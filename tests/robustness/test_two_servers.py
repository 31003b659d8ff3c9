"""Two server processes on one database, clients alternating between them: the guarantees of
test_concurrency hold across processes (no lost update, a serial replay explains the final
state, activity stamps never go back, whichever process a client reads from)."""

from __future__ import annotations

import asyncio

import pytest

from tests.robustness import database
from tests.robustness.conftest import Launch, run_lengths
from tests.robustness.workload import run_traffic, summary, verdict

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
    assert verdict(traffic, urls, account, items)[:10] == []
    for server in servers:
        server.stop()
    assert database.integrity_problems(empty_database) == []
