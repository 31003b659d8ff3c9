"""What any design on this stack pays per request: the least work a single-item request can
do, as a bare ASGI app on the server's uvicorn set-up, on the same database, under the same
load as the single remove.

Each kind builds on the one before:

- `parse`: the body read and parsed (orjson), the caller found by its token's hash in a dict
  read at start, a small JSON answer rendered. No database.
- `read`: and one indexed statement of the caller's rows (the activities read), on the
  store's reader.
- `write`: and, instead, one statement that changes one row of the caller (the activity
  touch), committed alone: one round trip on PostgreSQL (autocommit on the store's pool), a
  write transaction of the store's driver on SQLite (BEGIN IMMEDIATE, the statement, COMMIT).
- `grouped` (SQLite): `write`, but requests that arrive while a commit runs wait for the next
  one and share it (group commit): a transaction holds every waiting request's statement, so
  the commit's cost is split among them. The most a design that batches its commits could
  gain.
- `remove`: `parse`, then the remove's own work at its least, whatever the server's design:
  each item found by its simkl id or one external id (a primary-key read of the catalog),
  its rating cleared by primary key (the row and its entry in the index that `date_from`
  reads use) and the caller's ratings activity stamped, both committed together. PostgreSQL:
  one statement in one round trip; SQLite: the read, then BEGIN IMMEDIATE, the clear and the
  stamp, COMMIT, on the store's driver. On the server's schema, so its triggers run too.

A target share of the HTTP ceiling above a kind's share is out of reach of any design that
does at least that kind's work per request on this stack (Python, uvicorn, this database
driver), whatever its statements.

    python -m bench.least --port 8902 --kind write --database-url sqlite:////tmp/bench.sqlite
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from functools import partial
from typing import Any

import orjson

from bench import floor
from bench.bare_asgi import serve
from bench.floor import UNKNOWN_TOKEN_BODY, caller, now_ms, open_with_tokens
from simkl_server.domain.kinds import MEDIA_TYPE_OF_WORD, rated_bucket
from simkl_server.storage import activities
from simkl_server.storage.dialect import statement
from simkl_server.storage.drivers import Connection, Driver

KINDS = ("parse", "read", "write", "grouped", "remove")
BUCKET = "movies.rated_at"
_JSON = [(b"content-type", b"application/json")]
# A kind's work for the caller's user id and the parsed body.
Work = Callable[[int, Any], Awaitable[None]]


async def _nothing(user_id: int, body: Any) -> None:
    del user_id, body


def _reader(driver: Driver) -> Work:
    async def read(user_id: int, body: Any) -> None:
        del body
        await driver.reader.fetch(activities.ALL, {"user_id": user_id})

    return read


def _touch_params(conn: Connection, user_id: int) -> dict[str, Any]:
    return {"user_id": user_id, "buckets": conn.array([BUCKET]), "at": now_ms()}


def _writer(driver: Driver) -> Work:
    if driver.has_routines:  # PostgreSQL: the statement is its own transaction

        async def write_alone(user_id: int, body: Any) -> None:
            del body
            conn = driver.reader
            await conn.execute(activities.TOUCH, _touch_params(conn, user_id))

        return write_alone

    async def write(user_id: int, body: Any) -> None:
        del body

        async def touch(conn: Connection) -> None:
            await conn.execute(activities.TOUCH, _touch_params(conn, user_id))

        await driver.transaction(touch, offload=False)

    return write


class GroupCommit:
    """Touches that arrive while a transaction runs wait for the next one, which holds all of
    them: one commit for every request waiting."""

    def __init__(self, driver: Driver) -> None:
        self._driver = driver
        self._waiting: list[tuple[int, asyncio.Future[None]]] = []
        self._running = False

    async def __call__(self, user_id: int, body: Any) -> None:
        del body
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((user_id, done))
        if not self._running:
            self._running = True
            asyncio.get_running_loop().create_task(self._drain())
        await done

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []

                async def touch_all(conn: Connection, batch: Any = batch) -> None:
                    for user_id, _ in batch:
                        await conn.execute(activities.TOUCH, _touch_params(conn, user_id))

                try:
                    await self._driver.transaction(touch_all, offload=False)
                except Exception as exc:  # every waiter hears of it
                    for _, done in batch:
                        done.set_exception(exc)
                    continue
                for _, done in batch:
                    done.set_result(None)
        finally:
            self._running = False


# The remove's least statements. An item is found by one primary-key read: its simkl id, or
# the key of one external id; its rating's activity bucket comes with it.
_BUCKET_OF_TYPE = (
    "CASE c.type "
    + " ".join(
        f"WHEN '{word}' THEN '{rated_bucket(kind)}'" for word, kind in MEDIA_TYPE_OF_WORD.items()
    )
    + " END"
)
_FOUND = (
    f"SELECT c.id, {_BUCKET_OF_TYPE} AS bucket FROM catalog_items c WHERE c.id = :simkl_id "  # noqa: S608
    f"UNION ALL SELECT c.id, {_BUCKET_OF_TYPE} FROM catalog_ids k "
    "JOIN catalog_items c ON c.id = k.item_id WHERE k.key = :key LIMIT 1"
)
_CLEAR_SET = "SET user_rating = NULL, user_rated_at = NULL, rating_changed_at = :now"
_CLEARED = (
    f"UPDATE library {_CLEAR_SET} "
    "WHERE user_id = :user_id AND item_id = :item_id AND user_rating IS NOT NULL "
    "RETURNING item_id"
)
FIND_ONE = statement(_FOUND)
CLEAR_ONE = statement(_CLEARED)
STAMP_ONE = statement(
    lambda d: (
        "INSERT INTO activity (user_id, bucket, at) VALUES (:user_id, :bucket, :now) "  # noqa: S608
        "ON CONFLICT (user_id, bucket) DO UPDATE SET at = "
        + d.greatest("activity.at", "excluded.at")
    )
)
# PostgreSQL: the three in one statement, one round trip in autocommit.
REMOVE_AT_ONCE = statement(
    f"WITH found AS ({_FOUND}), cleared AS ("  # noqa: S608
    f"UPDATE library l {_CLEAR_SET} "
    "FROM found f WHERE l.user_id = :user_id AND l.item_id = f.id AND l.user_rating IS NOT NULL "
    "RETURNING f.bucket) "
    "INSERT INTO activity (user_id, bucket, at) "
    "SELECT CAST(:user_id AS INTEGER), bucket, CAST(:now AS BIGINT) FROM cleared "
    "ON CONFLICT (user_id, bucket) DO UPDATE SET at = GREATEST(activity.at, excluded.at)"
)


def wanted(body: Any) -> list[dict[str, Any]]:
    """Each item of a remove body as FIND_ONE's parameters: its simkl id, else the lookup key
    of its first external id (items naming neither are left out: nothing could match them)."""
    out = []
    for name, items in body.items() if isinstance(body, dict) else ():
        for item in items:
            keys = dict(reversed(floor.item_keys(name, item)))  # the first key of each branch
            if "s" in keys or "k" in keys:
                simkl = keys.get("s")
                out.append(
                    {"simkl_id": None if simkl is None else int(simkl), "key": keys.get("k")}
                )
    return out


def _remover(driver: Driver) -> Work:
    reader = driver.reader
    if driver.has_routines:  # PostgreSQL

        async def remove_at_once(user_id: int, body: Any) -> None:
            for item in wanted(body):
                await reader.execute(REMOVE_AT_ONCE, {**item, "user_id": user_id, "now": now_ms()})

        return remove_at_once

    async def clear(user_id: int, item_id: int, bucket: str, conn: Connection) -> None:
        params = {"user_id": user_id, "item_id": item_id, "now": now_ms()}
        if await conn.fetch(CLEAR_ONE, params):
            await conn.execute(STAMP_ONE, {**params, "bucket": bucket})

    async def remove(user_id: int, body: Any) -> None:
        for item in wanted(body):
            found = await reader.fetchrow(FIND_ONE, item)
            if found is not None:
                await driver.transaction(partial(clear, user_id, *found), offload=False)

    return remove


def _work(kind: str, driver: Driver) -> Work:
    if kind == "parse":
        return _nothing
    if kind == "read":
        return _reader(driver)
    if kind == "write":
        return _writer(driver)
    if kind == "remove":
        return _remover(driver)
    return GroupCommit(driver)


class LeastWork:
    """The bare ASGI app of one kind: lifespan opens the store's driver and reads the tokens."""

    def __init__(self, database_url: str, kind: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"no kind {kind!r} (known: {', '.join(KINDS)})")
        self._url = database_url
        self._kind = kind
        self._tokens: dict[str, int] = {}
        self._driver: Driver | None = None
        self._work: Work = _nothing

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        """Lifespan, or one request."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._request(scope, receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._driver, self._tokens = await open_with_tokens(self._url)
                self._work = _work(self._kind, self._driver)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._driver is not None:
                    await self._driver.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _request(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        authorization = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
        user_id = caller(self._tokens, authorization.decode())
        if user_id is None:
            await _send(send, 401, UNKNOWN_TOKEN_BODY)
            return
        items = orjson.loads(body) if body else {}
        await self._work(user_id, items)
        count = sum(len(value) for value in items.values()) if isinstance(items, dict) else 0
        await _send(send, 201, orjson.dumps({"deleted": {"movies": count, "shows": 0}}))


async def _send(send: Any, status: int, body: bytes) -> None:
    headers = [(b"content-length", str(len(body)).encode()), *_JSON]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def main() -> None:
    """Serve one kind on 127.0.0.1 with `simkl-server serve`'s uvicorn flags."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--kind", choices=KINDS, required=True)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    serve(LeastWork(args.database_url, args.kind), args.port)


if __name__ == "__main__":
    main()
