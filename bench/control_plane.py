"""Micro-benchmark: what the control plane adds to an API request.

The whole app (edge, router, authentication, the store) answers `GET /sync/activities` for the
demo user on a SQLite file, called as uvicorn calls it, without sockets. Variants: the control
plane off (its middleware is not installed: the default), on with no fault, and on with a
fault that does not match (what a test suite's server does between failures). With the
control plane on, each request reads the clock setting and the faults and writes one journal
entry. Time is this process's CPU time; the variants run in turns and the best round is kept.

    python -m bench.control_plane [--requests 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from simkl_server.app import controlled, create_app
from simkl_server.clock import SystemClock
from simkl_server.config import Settings
from simkl_server.demo import DEMO_CLIENT_ID, DEMO_TOKEN, ensure_demo
from simkl_server.storage import migrate
from simkl_server.storage.base import open_store

BENCH_KEY = "bench-only-secret-key-0123456789abcdefABCDEF"

REQUEST = {
    "type": "http",
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/sync/activities",
    "raw_path": b"/sync/activities",
    "query_string": f"client_id={DEMO_CLIENT_ID}&app-name=bench&app-version=1".encode(),
    "headers": [
        (b"host", b"127.0.0.1:8765"),
        (b"user-agent", b"bench/1"),
        (b"authorization", f"Bearer {DEMO_TOKEN}".encode()),
    ],
    "client": ("127.0.0.1", 50000),
    "server": ("127.0.0.1", 8765),
}


async def no_body() -> Any:
    """A request without a body."""
    return {"type": "http.request", "body": b"", "more_body": False}


async def per_request_us(folder: Path, requests: int, **settings: Any) -> float:
    """Microseconds of CPU per request through the app with these settings."""
    options = Settings(
        database_url=f"sqlite:///{folder / 'bench.db'}",
        secret_key=BENCH_KEY,
        access_log=False,
        **settings,
    )
    store = await open_store(options, controlled(options, SystemClock()))
    app = create_app(options, store=store)
    statuses: list[int] = []

    async def sent(message: Any) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    try:
        if options.control:
            await store.transaction(lambda tx: tx.control.clear_journal())
        started = time.process_time()
        for _ in range(requests):
            await app(dict(REQUEST), no_body, sent)
        spent = time.process_time() - started
    finally:
        await store.close()
    assert set(statuses) == {200}, set(statuses)
    return spent / requests * 1e6


async def prepare(folder: Path) -> None:
    """The database with the demo data."""
    url = f"sqlite:///{folder / 'bench.db'}"
    options = Settings(database_url=url, secret_key=BENCH_KEY)
    await asyncio.to_thread(migrate.upgrade, options.database)
    store = await open_store(options, SystemClock())
    try:
        await ensure_demo(store)
    finally:
        await store.close()


def main() -> None:
    """Print the cost of each variant against the control plane off."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    variants: dict[str, dict[str, Any]] = {
        "control plane off (default)": {},
        "control plane on, journal on": {"control": True},
    }
    best = dict.fromkeys(variants, float("inf"))
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        asyncio.run(prepare(folder))
        for _ in range(args.rounds):
            for variant, settings in variants.items():
                cost = asyncio.run(per_request_us(folder, args.requests, **settings))
                best[variant] = min(best[variant], cost)
    off = best["control plane off (default)"]
    print(f"Python {sys.version.split()[0]}, {args.requests:,} requests x {args.rounds} rounds")
    for variant, cost in best.items():
        print(f"{variant:32} {cost:7.1f} us/request  (+{cost - off:6.1f} over off)")


if __name__ == "__main__":
    main()
