"""Micro-benchmark: what the access log adds to every request.

The edge middleware wraps an app that answers at once, so nothing but the edge is measured,
with a request as the load generator sends it (client_id, app-name, app-version, a token and
a User-Agent). Lines go through the server's own log set-up into /dev/null: formatting and the
write system call are paid, a terminal's speed is not. Time is this process's CPU time, the
variants run in turns, and the best of the rounds is kept (the least disturbed by other
programs on the machine).

    python -m bench.access_log [--requests 200000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from typing import Any

from simkl_server import logs
from simkl_server.api.edge import EdgeMiddleware

QUERY = b"client_id=" + b"a" * 64 + b"&app-name=plex-sync&app-version=2.1"
HEADERS = [
    (b"host", b"127.0.0.1:8765"),
    (b"user-agent", b"plex-sync/2.1"),
    (b"authorization", b"Bearer " + b"b" * 64),
]
START = {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}
BODY = {"type": "http.response.body", "body": b"{}", "more_body": False}


async def answer(scope: Any, receive: Any, send: Any) -> None:
    """An app that answers at once."""
    await send(START)
    await send(BODY)


async def nothing(message: Any) -> None:
    """A transport that takes every message."""


async def no_body() -> Any:
    """A request without a body."""
    return {"type": "http.request", "body": b"", "more_body": False}


def scope(query: bytes) -> dict[str, Any]:
    """A request as uvicorn hands it over."""
    return {
        "type": "http",
        "method": "GET",
        "path": "/sync/activities",
        "raw_path": b"/sync/activities",
        "query_string": query,
        "headers": HEADERS,
    }


async def per_request_us(edge: Any, query: bytes, requests: int) -> float:
    """Microseconds per request through `edge` (plus the loop's own await cost)."""
    request = scope(query)
    started = time.process_time()
    for _ in range(requests):
        await edge(dict(request), no_body, nothing)
    return (time.process_time() - started) / requests * 1e6


def main() -> None:
    """Print the cost of each variant against the bare app."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sys.stderr = open(os.devnull, "w", buffering=1)  # noqa: SIM115 -- line-buffered, as stderr
    logs.configure("info")
    fast = logs.info_writer("simkl_server.access")
    variants = {
        "bare app (no edge)": (answer, QUERY),
        "edge, access log off": (EdgeMiddleware(answer, access_log=False), QUERY),
        "edge, access log on": (EdgeMiddleware(answer, write_access=fast), QUERY),
        "edge, access log on, secret in query": (
            EdgeMiddleware(answer, write_access=fast),
            QUERY + b"&client_secret=" + b"c" * 64,
        ),
        "edge, access log on, through logging": (EdgeMiddleware(answer), QUERY),
    }
    best = dict.fromkeys(variants, float("inf"))
    for _ in range(args.rounds):
        for name, (edge, query) in variants.items():
            cost = asyncio.run(per_request_us(edge, query, args.requests))
            best[name] = min(best[name], cost)
    bare = best["bare app (no edge)"]
    sys.stderr = sys.__stderr__
    print(f"Python {sys.version.split()[0]}, {args.requests:,} requests x {args.rounds} rounds")
    for name, cost in best.items():
        print(f"{name:40} {cost:6.2f} us/request  (+{cost - bare:5.2f} over the bare app)")


if __name__ == "__main__":
    main()
