"""Search latency at catalog scale: `GET /search/{type}` and `POST /search/file` on a synthetic
catalog of N items (the benchmark's generator, bench/datagen.py), on SQLite and PostgreSQL.

    python -m bench.search [--items 1000000] [--backends sqlite,postgresql] [--requests 300]

Each backend gets a fresh database (PostgreSQL at BENCH_POSTGRES_URL), the catalog loaded
through the catalog upsert (so the title index is built by the same triggers / expression
index every writer goes through), then the requests go one at a time through the whole app
in process (routing, parsing, the domain call, the queries, rendering; no sockets):
- `/search/{type}`: one word of a title, two words, and a whole title, of random items;
- `/search/file`: file names made from random titles (`Title.Year.1080p.BluRay.x264.mkv`,
  `Title.S01E02.720p.mkv`), parsed by guessit and matched.
It prints the load time and p50 / p99 / max per query kind. No assertion: numbers only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
from starlette.testclient import TestClient

from bench.datagen import (
    _ADJECTIVES,
    _NOUNS,
    CATALOG_CHUNK,
    SEED,
    _catalog,
    _catalog_upsert,
    _words,
)
from simkl_server.app import create_app
from simkl_server.clock import SystemClock
from simkl_server.config import Settings
from simkl_server.domain import auth
from simkl_server.domain.kinds import MediaType
from simkl_server.domain.models import CatalogItem
from simkl_server.storage import migrate
from simkl_server.storage.base import open_store

POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
_SEARCH_TYPE = {MediaType.MOVIE: "movie", MediaType.SHOW: "tv", MediaType.ANIME: "anime"}


_SYLLABLES = _words("ka ro mi ne su ta li vo den mar el an ist or ber gan tho quel ris sa")
_TYPES = (MediaType.MOVIE,) * 45 + (MediaType.SHOW,) * 30 + (MediaType.ANIME,) * 25


def fast_catalog(rng: random.Random, size: int) -> list[CatalogItem]:
    """A catalog of `size` items in seconds: titles of one to four words drawn with a long
    tail (a few words are common, as "the" and "of" are, most are rare) from the generator's
    English words and some 15,000 made-up ones; one tmdb id each. Titles may repeat."""
    made_up = {
        "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))).title()
        for _ in range(25_000)
    }
    vocabulary = ["The", "of", *_ADJECTIVES, *_NOUNS, *sorted(made_up)]
    last = len(vocabulary) - 1
    items = []
    for position in range(size):
        count = rng.choice((1, 2, 2, 3, 3, 4))
        words = [
            vocabulary[min(int((rng.paretovariate(1.1) - 1) * 60), last)] for _ in range(count)
        ]
        media_type = rng.choice(_TYPES)
        items.append(
            CatalogItem(
                id=position + 1,
                type=media_type,
                title=" ".join(words),
                year=rng.randint(1950, 2026),
                ids={"tmdb": str(position + 1)},
                anime_type="tv" if media_type is MediaType.ANIME else None,
            )
        )
    return items


async def _load(url: str, items: list[CatalogItem]) -> float:
    started = time.perf_counter()
    store = await open_store(Settings(database_url=url), SystemClock())
    try:
        for start in range(0, len(items), CATALOG_CHUNK):
            chunk = items[start : start + CATALOG_CHUNK]
            await store.transaction(_catalog_upsert(chunk), offload=True)
        await store.read.catalog.refresh_statistics()
    finally:
        await store.close()
    return time.perf_counter() - started


def _queries(rng: random.Random, items: list[CatalogItem], count: int) -> dict[str, list[Any]]:
    picked = rng.sample(items, count)
    one, two, whole, files = [], [], [], []
    for item in picked:
        kind = _SEARCH_TYPE[item.type]
        words = item.title.split()
        one.append((kind, rng.choice(words)))
        two.append((kind, " ".join(words[:2])))
        whole.append((kind, item.title))
        dotted = ".".join("".join(c for c in word if c.isalnum()) for word in words)
        if item.type is MediaType.MOVIE:
            files.append(f"{dotted}.{item.year}.1080p.BluRay.x264.mkv")
        else:
            files.append(f"{dotted}.S01E02.720p.WEB.x264-GROUP.mkv")
    return {"one word": one, "two words": two, "whole title": whole, "file": files}


def _timed(send: Callable[[Any], Any], values: list[Any]) -> dict[str, float]:
    laps = []
    for value in values:
        started = time.perf_counter()
        response = send(value)
        laps.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    laps.sort()
    return {
        "p50": statistics.median(laps),
        "p99": laps[min(len(laps) - 1, int(len(laps) * 0.99))],
        "max": laps[-1],
    }


def _measure(url: str, queries: dict[str, list[Any]]) -> dict[str, dict[str, float]]:
    app = create_app(Settings(database_url=url))
    results = {}
    with TestClient(app) as client:
        store = client.app.services.store  # type: ignore[attr-defined]
        created = client.portal.call(lambda: auth.create_app(store, name="bench"))  # type: ignore[union-attr]
        params = {"client_id": created.app.client_id, "app-name": "bench", "app-version": "1"}

        def search(query: tuple[str, str]) -> Any:
            return client.get(f"/search/{query[0]}", params={**params, "q": query[1]})

        def match(name: str) -> Any:
            return client.post("/search/file", params=params, json={"file": name})

        match("Warm.Up.S01E01.mkv")  # guessit builds its rules once per process
        for label, values in queries.items():
            results[label] = _timed(match if label == "file" else search, values)
    return results


def _database(backend: str, folder: Path) -> Iterator[str]:
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'search-bench.db'}"
        migrate.upgrade(Settings(database_url=url).database)
        yield url
        return
    name = f"simkl_search_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        migrate.upgrade(Settings(database_url=url).database)
        yield url
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def main() -> None:
    """Load, measure and print, per backend."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument(
        "--generator", choices=("fast", "datagen"), default="fast", help="whose catalog"
    )
    args = parser.parse_args()
    rng = random.Random(SEED)
    items = (fast_catalog if args.generator == "fast" else _catalog)(rng, args.items)
    queries = _queries(rng, items, args.requests)
    print(
        f"catalog: {args.items:,} items ({args.generator}); {args.requests} requests per kind, "
        "one at a time",
        flush=True,
    )
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as folder:
            for url in _database(backend, Path(folder)):
                seconds = asyncio.run(_load(url, items))
                print(f"{backend}: loaded in {seconds:.0f} s", flush=True)
                for label, numbers in _measure(url, queries).items():
                    shown = " / ".join(f"{numbers[k]:.1f}" for k in ("p50", "p99", "max"))
                    print(f"  {label:12} p50 / p99 / max ms: {shown}", flush=True)


if __name__ == "__main__":
    main()
