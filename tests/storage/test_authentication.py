"""Authenticating a request is one statement, an indexed lookup on both databases: it runs
before every user endpoint (make bench measures its cost)."""

from __future__ import annotations

import asyncio
import sqlite3

import asyncpg

from simkl_server.config import parse_database_url
from simkl_server.storage.grants import AUTHENTICATE
from tests.conftest import Api
from tests.helpers import StatementLog


def test_a_user_request_authenticates_with_one_statement(
    api: Api, statements: StatementLog
) -> None:
    assert api.get("/sync/activities").status_code == 200
    spent = statements.count_during(lambda: api.get("/sync/activities"))
    sent = [statement for statement, _ in statements.sent[-spent:]]
    assert sent.count(AUTHENTICATE) == 1
    assert spent == 2  # the lookup, then the activities read


def _plan(database_url: str) -> str:
    """The query plan of the authentication statement, as text."""
    database = parse_database_url(database_url)
    if database.sqlite_path is not None:
        raw = sqlite3.connect(database.sqlite_path)
        try:
            sql = AUTHENTICATE.sqlite.sql
            rows = raw.execute(f"EXPLAIN QUERY PLAN {sql}", ("x" * 64, "client")).fetchall()
        finally:
            raw.close()
        return "\n".join(str(row[-1]) for row in rows)

    async def explain() -> str:
        conn = await asyncpg.connect(database.postgres_dsn)
        try:  # tables this small are scanned by choice: ask whether an index could serve
            await conn.execute("SET enable_seqscan = off")
            rows = await conn.fetch(f"EXPLAIN {AUTHENTICATE.postgres.sql}", "x" * 64, "client")
        finally:
            await conn.close()
        return "\n".join(row[0] for row in rows)

    return asyncio.run(explain())


def test_the_lookup_uses_indexes_only(api: Api, catalog_database: str) -> None:
    plan = _plan(catalog_database)
    assert "SCAN" not in plan.upper().replace("INDEX SCAN", "").replace("INDEX ONLY SCAN", ""), plan
