"""The statement floor of a single remove: the store's own statements for one
`POST /sync/ratings/remove`, with the least Python around them, on the server's HTTP stack.

Per request: the caller's user from a dict of token hashes read at start (the server keeps
its tokens in a cache too), the body parsed with orjson, each id made its lookup key with the
domain's own functions; then the statements the server runs, compiled from the same storage
modules. On SQLite, on one connection: the catalog lookup (`FIND`), then BEGIN IMMEDIATE, the
user's lock (`LOCK_USER`), the clear (`CLEAR`), the activity touch (`TOUCH`), COMMIT. On
PostgreSQL: the lookup, then the one call that locks, clears and touches (`CLEAR_AT_ONCE`), on
connections with the same session settings.

Everything else the server does is left out: validation and its errors, the matching rules,
the auth stamp's check, the process's memories of lookups and answers, the middleware (CORS,
limits, errors), the response's full shape. The floor's share of the HTTP ceiling is what
these statements leave on this stack; the server's distance from it is that Python.

    python -m bench.floor --port 8901 --database-url sqlite:////tmp/bench.sqlite
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.bare_asgi import serve
from simkl_server.config import Settings
from simkl_server.domain.ids import lookup_key, normalize_id, title_key
from simkl_server.domain.kinds import MEDIA_TYPE_OF_WORD, Wrapper, rated_bucket
from simkl_server.storage import activities, catalog
from simkl_server.storage import ratings as ratings_sql
from simkl_server.storage.dialect import Statement
from simkl_server.storage.drivers import PG_SESSION

TOKENS = "SELECT token_hash, user_id FROM tokens"
_UNKNOWN_TOKEN = Response(b'{"error":"user_token_failed"}', 401, media_type="application/json")

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


Close = Callable[[], Awaitable[None]]


def sqlite_remove(path: str) -> tuple[Remove, dict[str, int], Close]:
    """The remove as the SQLite store runs it, on one connection of its own."""
    raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
        raw.execute(f"PRAGMA {pragma}")
    tokens = dict(raw.execute(TOKENS).fetchall())

    def run(statement: Statement, params: Mapping[str, Any]) -> sqlite3.Cursor:
        query = statement.sqlite
        return raw.execute(query.sql, query.args(params))

    def array(values: list[Any]) -> str:
        return orjson.dumps(values).decode()

    async def remove(user_id: int, items: Items) -> Found:
        params = find_params(items, array)
        # As the store: the lookup outside the write, and no write when nothing matched.
        rows = run(catalog.FIND[variant(params)], params).fetchall() if params else []
        found = {(r[0], r[1]): (r[2], r[3]) for r in rows}
        types = dict(found.values())
        if not types:
            return found
        raw.execute("BEGIN IMMEDIATE")
        try:
            row = run(activities.LOCK_USER, {"user_id": user_id}).fetchone()
            now = max(int(time.time() * 1000), (row[0] if row else None) or 0)
            clear = {"user_id": user_id, "item_ids": array(list(types)), "now": now}
            cleared = [r[0] for r in run(ratings_sql.CLEAR, clear).fetchall()]
            buckets = sorted({rated_bucket(MEDIA_TYPE_OF_WORD[types[i]]) for i in cleared})
            if buckets:
                touch = {"user_id": user_id, "buckets": array(buckets), "at": now}
                run(activities.TOUCH, touch)
        except BaseException:
            raw.execute("ROLLBACK")
            raise
        raw.execute("COMMIT")
        return found

    async def close() -> None:
        raw.close()

    return remove, tokens, close


async def postgres_remove(url: str, pool_size: int) -> tuple[Remove, dict[str, int], Close]:
    """The remove as the PostgreSQL store runs it: the lookup, then the one call."""
    pool = await asyncpg.create_pool(
        url.replace("+asyncpg", ""), max_size=pool_size, server_settings=PG_SESSION
    )
    tokens = {row[0]: row[1] for row in await pool.fetch(TOKENS)}
    find = {key: statement.postgres for key, statement in catalog.FIND.items()}
    call = ratings_sql.CLEAR_AT_ONCE.postgres

    async def remove(user_id: int, items: Items) -> Found:
        params = find_params(items, list)
        query = find[variant(params)] if params else None
        rows = await pool.fetch(query.sql, *query.args(params)) if query else []
        found = {(r[0], r[1]): (r[2], r[3]) for r in rows}
        types = dict(found.values())
        if types:  # as the store: no call when nothing matched
            routine = ratings_sql.ClearRatings(
                user_id, {i: rated_bucket(MEDIA_TYPE_OF_WORD[w]) for i, w in types.items()}
            )
            routine_params = routine.params(now=int(time.time() * 1000), auth_stamp=None)
            await pool.fetchrow(call.sql, *call.args(routine_params))
        return found

    return remove, tokens, pool.close


def app(database_url: str) -> Starlette:
    """The floor's app: one route, its store opened at start-up."""
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        settings = Settings(database_url=database_url)
        if database_url.startswith("sqlite"):
            opened = sqlite_remove(database_url.split("///", 1)[1])
        else:
            opened = await postgres_remove(database_url, settings.pg_pool_size)
        state["remove"], state["tokens"], close = opened
        try:
            yield
        finally:
            await close()

    async def remove(request: Request) -> Response:
        header = request.headers.get("authorization", "")
        token = header.partition(" ")[2].strip()
        user_id = state["tokens"].get(hashlib.sha256(token.encode()).hexdigest())
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
