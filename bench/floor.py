"""The statement floor of a single remove: the store's own statements for one
`POST /sync/ratings/remove`, with the least Python around them, on the server's HTTP stack.

Per request: the caller's user from a dict of token hashes read at start (the server keeps
its tokens in a cache too), the body parsed with orjson, each id made its lookup key with the
domain's own functions; then the statements the server runs, compiled from the same storage
modules and run on the store's own driver. On SQLite: the catalog lookup (`FIND`), then BEGIN
IMMEDIATE, the user's lock (`LOCK_USER`), the clear (`CLEAR`), the activity touch (`TOUCH`),
COMMIT. On PostgreSQL: the lookup, then the one call that locks, clears and touches
(`CLEAR_AT_ONCE`).

Everything else the server does is left out: validation and its errors, the matching rules,
the auth stamp's check, the process's memories of lookups and answers, the middleware (CORS,
limits, errors), the response's full shape. The floor's share of the HTTP ceiling is what
these statements leave on this stack; the server's distance from it is that Python.

    python -m bench.floor --port 8901 --database-url sqlite:////tmp/bench.sqlite
"""

from __future__ import annotations

import argparse
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.bare_asgi import serve
from simkl_server.config import Settings
from simkl_server.domain.ids import lookup_key, normalize_id, title_key
from simkl_server.domain.kinds import MEDIA_TYPE_OF_WORD, Wrapper, rated_bucket
from simkl_server.domain.tokens import token_hash
from simkl_server.storage import activities, catalog
from simkl_server.storage import ratings as ratings_sql
from simkl_server.storage.dialect import statement
from simkl_server.storage.drivers import Connection, Driver, open_driver

TOKENS = statement("SELECT token_hash, user_id FROM tokens")
UNKNOWN_TOKEN_BODY = b'{"error":"user_token_failed"}'
_UNKNOWN_TOKEN = Response(UNKNOWN_TOKEN_BODY, 401, media_type="application/json")

# (kind, key) rows of a FIND answer: the item's id and type word.
Found = Mapping[tuple[str, str], tuple[int, str]]
Items = list[tuple[str, dict[str, Any], list[tuple[str, str]]]]
Remove = Callable[[int, Items], Awaitable[Found]]


def item_keys(name: str, item: dict[str, Any]) -> list[tuple[str, str]]:
    """The FIND answer's (branch, key) pairs that would name an item: its simkl id, its
    external ids' lookup keys, its folded title when it gives a year."""
    scope = Wrapper(name).tmdb_scope
    keys = []
    for kind, value in item.get("ids", {}).items():
        if kind == "simkl":
            keys.append(("s", str(value)))
        elif (normal := normalize_id(kind, value)) is not None:
            keys.append(("k", lookup_key(kind, normal, tmdb_scope=scope)))
    if item.get("title") and item.get("year") is not None:
        keys.append(("t", title_key(item["title"])))
    return keys


def lookup(document: dict[str, Any]) -> Items:
    """Every item of the body with its wrapper and keys."""
    return [
        (name, item, item_keys(name, item)) for name, items in document.items() for item in items
    ]


def find_params(items: Items, array: Any) -> dict[str, Any]:
    """The FIND variant's parameters: only the arrays the body gives."""
    wanted: dict[str, set[Any]] = {"s": set(), "k": set(), "t": set()}
    for _, _, keys in items:
        for branch, key in keys:
            wanted[branch].add(int(key) if branch == "s" else key)
    names = {"s": "simkl_ids", "k": "keys", "t": "titles"}
    return {names[branch]: array(list(keys)) for branch, keys in wanted.items() if keys}


def variant(params: Mapping[str, Any]) -> tuple[bool, bool, bool]:
    """Which FIND statement a lookup of these parameters runs."""
    return ("simkl_ids" in params, "keys" in params, "titles" in params)


def answer(items: Items, found: Found) -> Response:
    """Counts of matched items by response bucket, and the items nothing matched."""
    deleted = {"movies": 0, "shows": 0}
    missing: dict[str, list[Any]] = {"movies": [], "shows": []}
    for name, item, keys in items:
        wrapper = Wrapper(name)
        if any(key in found for key in keys):
            deleted[wrapper.response_bucket] += 1
        else:
            missing[wrapper.response_bucket].append({**item, "type": wrapper.echo_type})
    return Response(orjson.dumps({"deleted": deleted, "not_found": missing}), 201)


async def open_with_tokens(database_url: str) -> tuple[Driver, dict[str, int]]:
    """The store's own driver for the URL (its pragmas, background checkpoints and write lock
    on SQLite; its pool and session settings on PostgreSQL), and the token hashes its users
    hold, each with its user's id."""
    settings = Settings(database_url=database_url)
    driver = await open_driver(
        settings.database, pool_size=settings.pg_pool_size, write_wait_ms=settings.write_wait_ms
    )
    return driver, {row[0]: row[1] for row in await driver.reader.fetch(TOKENS, {})}


def caller(tokens: Mapping[str, int], authorization: str) -> int | None:
    """The user whose bearer token an Authorization header carries, if any."""
    return tokens.get(token_hash(authorization.partition(" ")[2].strip()))


async def open_floor(database_url: str) -> tuple[Remove, dict[str, int], Driver]:
    """The remove as the store runs it, on the store's own driver (`open_with_tokens`), and
    the token hashes its users hold."""
    driver, tokens = await open_with_tokens(database_url)
    reader = driver.reader

    async def clear(user_id: int, buckets: dict[int, str], conn: Connection) -> None:
        row = await conn.fetchrow(activities.LOCK_USER, {"user_id": user_id})
        now = max(now_ms(), (row[0] if row else None) or 0)
        params = {"user_id": user_id, "item_ids": conn.array(buckets), "now": now}
        moved = sorted({buckets[row[0]] for row in await conn.fetch(ratings_sql.CLEAR, params)})
        if moved:
            touch = {"user_id": user_id, "buckets": conn.array(moved), "at": now}
            await conn.execute(activities.TOUCH, touch)

    async def remove(user_id: int, items: Items) -> Found:
        params = find_params(items, reader.array)
        # As the store: the lookup outside the write, and no write when nothing matched.
        rows = await reader.fetch(catalog.FIND[variant(params)], params) if params else []
        found = {(r[0], r[1]): (r[2], r[3]) for r in rows}
        buckets = {i: rated_bucket(MEDIA_TYPE_OF_WORD[word]) for i, word in found.values()}
        if not buckets:
            return found
        if driver.has_routines:
            routine = ratings_sql.ClearRatings(user_id, buckets)
            await driver.routine(routine.call, routine.params(now=now_ms(), auth_stamp=None))
        else:
            await driver.transaction(partial(clear, user_id, buckets), offload=False)
        return found

    return remove, tokens, driver


def now_ms() -> int:
    """Now, in epoch milliseconds."""
    return int(time.time() * 1000)


def app(database_url: str) -> Starlette:
    """The floor's app: one route, its store opened at start-up."""
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        state["remove"], state["tokens"], driver = await open_floor(database_url)
        try:
            yield
        finally:
            await driver.close()

    async def remove(request: Request) -> Response:
        user_id = caller(state["tokens"], request.headers.get("authorization", ""))
        if user_id is None:
            return _UNKNOWN_TOKEN
        items = lookup(orjson.loads(await request.body()))
        return answer(items, await state["remove"](user_id, items))

    routes = [Route("/sync/ratings/remove", remove, methods=["POST"])]
    return Starlette(routes=routes, lifespan=lifespan)


def main() -> None:
    """Serve the floor on 127.0.0.1 with `simkl-server serve`'s uvicorn flags."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    serve(app(args.database_url), args.port)


if __name__ == "__main__":
    main()
