"""Learn mode (issue 11): `POST /sync/ratings` with 100 items the catalog lacks, each carrying
external ids, title and year, on a server with learn mode on; every line of the pool names
items no other line names, and learned items are deleted after each run, so every measured
request learns 100 items. Compared with `add_100` (100 catalog items rated) of the same run.

`python -m bench.learn [DATABASE_URL]` measures the same batch as domain calls, without HTTP
or wrk: learning 100 unknown items against rating 100 known ones, on a fresh database.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from bench.datagen import Dataset
from bench.scenarios import Pool, Scenario, write_pool
from simkl_server.clock import SystemClock
from simkl_server.config import Settings
from simkl_server.domain import auth, ratings
from simkl_server.domain.catalog import LOCAL_ID_BASE, CatalogRecord, import_records
from simkl_server.domain.kinds import MediaType, Wrapper
from simkl_server.domain.learn import LearnPolicy
from simkl_server.domain.ratings import RatingInput
from simkl_server.storage import migrate
from simkl_server.storage.base import Store, WriteTx, open_store
from simkl_server.storage.dialect import statement
from simkl_server.wire.common import parse_ref

LEARN_100 = Scenario(
    "learn_100",
    "learn 100-item batch (unknown items, learn mode)",
    "learn_batch.lua",
    "POST",
    "/sync/ratings",
    100,
    writes=True,
)
# Far above any id the data set generates, so no line names a catalog item.
_FIRST_UNKNOWN = 50_000_000
_WRAPPERS = ("movies", "shows", "anime")
_FORGET_LEARNED = statement("DELETE FROM catalog_items WHERE id >= :base")
_FORGET_BUDGETS = statement("DELETE FROM attempts WHERE key LIKE 'catalog-learn%'")
# What the bench server is told: learn, with budgets no run reaches.
SERVER_SETTINGS = {
    "SIMKL_SERVER_CATALOG_LEARN": "true",
    "SIMKL_SERVER_CATALOG_LEARN_PER_USER_DAY": "1000000000",
    "SIMKL_SERVER_CATALOG_LEARN_PER_DAY": "1000000000",
}


def unknown_item(n: int) -> tuple[str, dict[str, Any]]:
    """(wrapper, item) for the n-th unknown item: ids of the kinds clients send for its type,
    title and year."""
    wrapper = _WRAPPERS[n % 3]
    number = str(_FIRST_UNKNOWN + n)
    ids: dict[str, str] = {
        "movies": {"imdb": f"tt{number}", "tmdb": number},
        "shows": {"tvdb": number, "imdb": f"tt{number}"},
        "anime": {"mal": number, "anilist": number},
    }[wrapper]
    return wrapper, {"title": f"Unknown Title {number}", "year": 2000 + n % 25, "ids": ids}


def learn_body(first: int, count: int) -> dict[str, list[dict[str, Any]]]:
    """A ratings body of `count` unknown items, numbered from `first`."""
    document: dict[str, list[dict[str, Any]]] = {}
    for n in range(first, first + count):
        wrapper, item = unknown_item(n)
        document.setdefault(wrapper, []).append({**item, "rating": 1 + n % 10})
    return document


def learn_pool(dataset: Dataset, *, batch: int, per_user: int) -> Iterator[bytes]:
    """Lines cycling through the main users, no item named twice in the pool."""
    token_index = {user.index: position for position, user in enumerate(dataset.all_users)}
    line = 0
    for _ in range(per_user):
        for user in dataset.users:
            body = orjson.dumps(learn_body(line * batch, batch))
            yield str(token_index[user.index]).encode() + b"\t" + body + b"\n"
            line += 1


def write_learn_pool(directory: Path, dataset: Dataset, *, batch: int) -> Pool:
    """The learn scenario's pool: about 2,000 lines, more than a run sends before it wraps."""
    per_user = max(4, 2_000 // max(1, len(dataset.users)))
    return write_pool(
        directory / "learn_100.pool", learn_pool(dataset, batch=batch, per_user=per_user)
    )


async def forget_learned(database_url: str) -> None:
    """Delete every learned item and the learn budgets (after the library rows that name
    them are gone): the next run learns the same items again."""
    store = await open_store(Settings(database_url=database_url), SystemClock())
    try:

        async def wipe(tx: WriteTx) -> None:
            await tx.conn.execute(_FORGET_LEARNED, {"base": LOCAL_ID_BASE})
            await tx.conn.execute(_FORGET_BUDGETS, {})

        await store.transaction(wipe)
    finally:
        await store.close()


def restorer(database_url: str, restore: Callable[[], None]) -> Callable[[], None]:
    """The harness's restore, then the learned items."""

    def run() -> None:
        restore()
        asyncio.run(forget_learned(database_url))

    return run


# Domain-level measurement ---------------------------------------------------------------------

_CATALOG = 10_000
_ROUNDS = 20


def _catalog_records() -> Iterator[CatalogRecord]:
    for n in range(_CATALOG):
        yield CatalogRecord(f"#{n}", MediaType.MOVIE, f"Known {n}", {"imdb": f"tt{n + 1}"}, n + 1)


def _inputs(body: dict[str, list[dict[str, Any]]]) -> list[RatingInput]:
    from simkl_server.domain.models import SyncItem  # noqa: PLC0415

    inputs = []
    for word, items in body.items():
        for position, raw in enumerate(items):
            ref = parse_ref(raw, Wrapper(word), where=f"{word}[{position}]")
            inputs.append(RatingInput(SyncItem(raw, ref), raw["rating"]))
    return inputs


async def measure(database_url: str) -> dict[str, float]:
    """Median ms of a 100-item ratings batch: 100 unknown items learned, 100 known items."""
    store: Store = await open_store(Settings(database_url=database_url), SystemClock())
    try:
        await import_records(store, _catalog_records())
        user_id = await auth.create_user(store, username="bench")
        policy = LearnPolicy(enabled=True, per_user_day=10**9, per_day=10**9)
        learned, known = [], []
        for round_ in range(_ROUNDS):
            body = learn_body(round_ * 100, 100)
            started = time.perf_counter()
            outcome = await ratings.add_ratings(
                store, user_id=user_id, inputs=_inputs(body), learning=policy
            )
            learned.append(time.perf_counter() - started)
            assert outcome.added.movies + outcome.added.shows == 100
            first = 1 + (round_ * 100) % (_CATALOG - 100)
            body = {
                "movies": [{"ids": {"imdb": f"tt{first + i}"}, "rating": 7} for i in range(100)]
            }
            started = time.perf_counter()
            await ratings.add_ratings(store, user_id=user_id, inputs=_inputs(body), learning=policy)
            known.append(time.perf_counter() - started)
    finally:
        await store.close()
    learn_ms = statistics.median(learned) * 1000
    known_ms = statistics.median(known) * 1000
    return {"learn_100_ms": learn_ms, "known_100_ms": known_ms, "ratio": learn_ms / known_ms}


def main() -> None:
    """Measure on the database the argument names, else on a temporary SQLite file."""
    if len(sys.argv) > 1:
        url = sys.argv[1]
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'learn-bench.db'}"
    migrate.upgrade(Settings(database_url=url).database)
    result = asyncio.run(measure(url))
    print(
        f"100-item ratings batch: learn {result['learn_100_ms']:.1f} ms, "
        f"known items {result['known_100_ms']:.1f} ms, ratio {result['ratio']:.2f}"
    )


if __name__ == "__main__":
    main()
