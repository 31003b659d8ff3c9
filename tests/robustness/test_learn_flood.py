"""Learn mode under a flood: batches of 10,000 distinct unknown ids with long titles teach
the catalog no more than the budgets allow, learned titles are cut, and a probe client is
served throughout."""

from __future__ import annotations

import asyncio

from simkl_server.clock import SystemClock
from simkl_server.config import Settings
from simkl_server.storage.base import open_store
from tests.robustness import attacks
from tests.robustness.conftest import Launch
from tests.robustness.test_attacks import assert_unharmed, start

CATALOG = 10  # the provisioned movies
# 10,000 items with 750-character titles: just under the 8 MiB body limit.
ITEMS = 10_000
TITLE_CHARS = 750
PER_USER_DAY = 2_500


def catalog_shape(database_url: str) -> tuple[int, int]:
    """(items in the catalog, longest title)."""

    async def read() -> tuple[int, int]:
        store = await open_store(Settings(database_url=database_url), SystemClock())
        try:
            longest = 0
            async for page in store.read.catalog.pages():
                longest = max([longest, *(len(item.title) for item in page)])
            return await store.read.catalog.size(), longest
        finally:
            await store.close()

    return asyncio.run(read())


def test_a_flood_of_unknown_ids_learns_only_the_budget(launch: Launch, empty_database: str) -> None:
    env = {"SIMKL_SERVER_CATALOG_LEARN_PER_USER_DAY": str(PER_USER_DAY)}
    target = start(launch, empty_database, env=env)  # `serve`: learn mode on by default

    with attacks.pressure(target) as seen:
        answers = attacks.learn_flood(target, requests=4, items=ITEMS, title_chars=TITLE_CHARS)

    # 1,000 per request, then the user's day runs out; the rest stays not_found.
    assert answers == [(201, 1_000), (201, 1_000), (201, 500), (201, 0)]
    assert catalog_shape(empty_database) == (CATALOG + PER_USER_DAY, 250)
    assert_unharmed(seen)


def test_serve_emulates_strictly_when_told(launch: Launch, empty_database: str) -> None:
    target = start(launch, empty_database, env={"SIMKL_SERVER_CATALOG_LEARN": "false"})

    answers = attacks.learn_flood(target, requests=1, items=3, title_chars=20)

    assert answers == [(201, 0)]
    assert catalog_shape(empty_database)[0] == CATALOG
