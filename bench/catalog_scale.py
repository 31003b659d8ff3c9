"""Catalog scale: a 100-item batch of mixed ids resolved against catalogs of 10k, 100k and 1M
items, on each backend, without HTTP; and at each size the latency of `GET /search/{type}` and
`POST /search/file` through the whole app in process (`bench.search`'s queries).

The catalog is the synthetic one of `bench.catalog_file`, grown step by step through the real
import path (`import_records`, as `catalog import` runs it), so the import rate at each size is
measured too. A batch is what a client sends: a JSON body of 100 items under `movies`, `shows`
and `anime`, each named by one id kind (simkl, imdb, tmdb, tvdb, mal, anidb, anilist) or by
title and year, about 5 % matching nothing; it is parsed by the wire code and resolved by the
domain's matching in one catalog query. Indexed lookups should keep the per-batch time flat.

    python -m bench.catalog_scale [sqlite|postgresql ...]   # also part of `make bench`
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from bench import search
from bench.catalog_file import document, item_type
from bench.progress import say
from simkl_server.catalog.interchange import parse_line
from simkl_server.clock import SystemClock
from simkl_server.config import Settings
from simkl_server.domain.catalog import import_records
from simkl_server.domain.kinds import MediaType
from simkl_server.domain.matching import catalog_query, resolve
from simkl_server.domain.models import CatalogItem
from simkl_server.storage import migrate
from simkl_server.storage.base import Store, open_store
from simkl_server.wire.common import parse_json_object, sync_items

Result = dict[str, Any]
SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000, 10_000)
BATCH = 100
BATCHES = 300
MISSING_SHARE = 0.05
# Title searches and file names per query kind at each catalog size.
SEARCHES = 50
_WRAPPERS = {"movie": "movies", "show": "shows", "anime": "anime"}


def batch_body(rng: random.Random, size: int) -> bytes:
    """A sync body of BATCH items of a catalog of `size` items, one id kind each."""
    body: dict[str, list[dict[str, Any]]] = {"movies": [], "shows": [], "anime": []}
    for _ in range(BATCH):
        missing = rng.random() < MISSING_SHARE
        index = rng.randrange(size, size * 2) if missing else rng.randrange(size)
        doc = document(index)
        ids = doc["ids"]
        kind = rng.choice([*ids, "title"])
        item: dict[str, Any]
        if kind == "title":
            item = {"title": doc["title"], "year": doc["year"]}
        else:
            item = {"ids": {kind: ids[kind]}}
        body[_WRAPPERS[item_type(index)]].append(item)
    return orjson.dumps(body)


async def grow(store: Store, have: int, size: int) -> Result:
    """Import items `have` to `size` - 1 through the real import path."""
    records = (
        parse_line(orjson.dumps(doc), f"item {i}")
        for i, doc in enumerate(_documents(have, size), start=have)
    )
    started = time.perf_counter()
    done = await import_records(store, records)
    seconds = time.perf_counter() - started
    if done.skipped:
        raise RuntimeError(f"synthetic catalog refused: {done.problems[:3]}")
    return {
        "items": size - have,
        "seconds": round(seconds, 1),
        "rate": round((size - have) / seconds),
    }


def _documents(start: int, stop: int) -> Iterator[dict[str, Any]]:
    for index in range(start, stop):
        yield document(index)


def search_latency(database_url: str, size: int, *, seed: int) -> Result:
    """p50 / p99 / max ms of SEARCHES title searches of each kind and file names, one at a
    time, for items of the synthetic catalog of `size` items."""
    rng = random.Random(seed)
    docs = [document(index) for index in rng.sample(range(size), SEARCHES)]
    items = [
        CatalogItem(id=0, type=MediaType(doc["type"]), title=doc["title"], year=doc.get("year"))
        for doc in docs
    ]
    return search._measure(database_url, search._queries(rng, items, len(items)))


async def resolve_batches(store: Store, size: int, batches: int, seed: int) -> Result:
    """Time `batches` mixed-id batches: parse, one catalog query, resolve every item."""
    rng = random.Random(seed)
    bodies = [batch_body(rng, size) for _ in range(batches)]
    timings, matched = [], 0
    for body in bodies:
        started = time.perf_counter()
        refs = [entry.ref for entry in sync_items(parse_json_object(body), max_items=BATCH)]
        hits = await store.read.catalog.find(catalog_query(refs))
        found = [item for ref in refs if (item := resolve(ref, hits)) is not None]
        timings.append(time.perf_counter() - started)
        matched += len(found)
    timings.sort()
    p50 = statistics.median(timings)
    return {
        "catalog_items": size,
        "batches": batches,
        "matched_share": round(matched / (batches * BATCH), 3),
        "p50_ms": round(p50 * 1000, 2),
        "p99_ms": round(timings[int(len(timings) * 0.99) - 1] * 1000, 2),
        "us_per_item": round(p50 * 1e6 / BATCH, 1),
    }


async def run_backend(database_url: str, sizes: tuple[int, ...], batches: int = BATCHES) -> Result:
    """Grow the catalog to each size and resolve batches against it."""
    settings = Settings(database_url=database_url)
    await asyncio.to_thread(migrate.upgrade, settings.database)
    store = await open_store(settings, SystemClock())
    out: Result = {"imports": [], "resolve": [], "search": []}
    try:
        have = 0
        for size in sizes:
            out["imports"].append({"to": size, **await grow(store, have, size)})
            have = size
            out["resolve"].append(await resolve_batches(store, size, batches, seed=size))
            latency = await asyncio.to_thread(search_latency, database_url, size, seed=size)
            out["search"].append({"catalog_items": size, **latency})
    finally:
        await store.close()
    return out


def run(config: Any, backends: list[str]) -> Result:
    """The catalog-scale block of a `make bench` run (fresh databases of its own)."""
    from bench import servers  # noqa: PLC0415 - the harness's helpers, not needed standalone

    sizes = QUICK_SIZES if config.quick else SIZES
    out: Result = {}
    for backend in backends:
        say(f"[{backend}] catalog scale: {', '.join(f'{s:,}' for s in sizes)} items")
        if backend == "sqlite":
            path = config.work_dir / "catalog-scale.db"
            _remove(config.work_dir, "catalog-scale.db*")
            out[backend] = asyncio.run(run_backend(f"sqlite:///{path}", sizes))
            _remove(config.work_dir, "catalog-scale.db*")
        else:
            with servers.postgres_database(config.postgres_url) as url:
                out[backend] = asyncio.run(run_backend(url, sizes))
    return out


def _remove(folder: Path, pattern: str) -> None:
    for leftover in folder.glob(pattern):
        leftover.unlink()


def markdown(results: Result) -> str:
    """The README table: p50 / p99 per batch and µs per item at each catalog size."""
    block = results.get("catalog_scale") or {}
    if not block:
        return ""
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    sizes = [r["catalog_items"] for r in next(iter(block.values()))["resolve"]]
    head = ["100-item mixed-id batch resolved (parse + 1 query + match), p50 / p99 ms"]
    head += [f"{size:,} items" for size in sizes]
    rows = [_row(head), _row(["---"] + ["--:"] * len(sizes))]
    for backend, runs in block.items():
        cells = [f"{r['p50_ms']:.2f} / {r['p99_ms']:.2f}" for r in runs["resolve"]]
        rows.append(_row([names.get(backend, backend), *cells]))
        rates = [f"{step['rate']:,} items/s" for step in runs["imports"]]
        rows.append(_row([f"{names.get(backend, backend)}: import rate while growing", *rates]))
    for backend, runs in block.items():
        for kind in ("one word", "two words", "whole title", "file"):
            cells = [f"{r[kind]['p50']:.1f} / {r[kind]['p99']:.1f}" for r in runs.get("search", [])]
            if cells:
                what = (
                    "`POST /search/file`" if kind == "file" else f"`GET /search/{{type}}`, {kind}"
                )
                rows.append(_row([f"{names.get(backend, backend)}: {what}, p50 / p99 ms", *cells]))
    return "\n".join(rows)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    """Standalone: `[--sizes 10000,100000] [sqlite] [postgresql]`, JSON on stdout."""
    import argparse  # noqa: PLC0415
    import os  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    from bench import servers  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("backends", nargs="*", default=["sqlite"])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--batches", type=int, default=BATCHES)
    args = parser.parse_args()
    sizes = tuple(int(size) for size in args.sizes.split(","))
    out: Result = {}
    for backend in args.backends:
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                url = f"sqlite:///{Path(folder) / 'scale.db'}"
                out[backend] = asyncio.run(run_backend(url, sizes, args.batches))
        else:
            admin = os.environ.get(
                "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
            )
            with servers.postgres_database(admin) as url:
                out[backend] = asyncio.run(run_backend(url, sizes, args.batches))
    sys.stdout.write(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode() + "\n")


if __name__ == "__main__":
    main()
