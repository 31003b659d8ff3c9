"""Authenticating a request: one indexed lookup the first time, then the process's cache of it
while the auth stamp stands (one tiny read at most; none in a user write, whose lock statement
reads the stamp, in the small reads that return it, or in a kept library read, whose one
statement reads the stamps it was read under, the auth stamp among them); a token revoked
elsewhere (another process: here a second store on the same database) fails on its next
request, read or write, on both databases."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest

from simkl_server.config import parse_database_url
from simkl_server.domain import auth
from simkl_server.storage.accounts import PROFILE
from simkl_server.storage.activities import ALL, LOCK_USER
from simkl_server.storage.base import Store
from simkl_server.storage.dialect import Statement
from simkl_server.storage.grants import AUTHENTICATE, STAMP
from simkl_server.storage.library import ROWS as LIBRARY_ROWS
from simkl_server.storage.library import STAMPS as LIBRARY_STAMPS
from simkl_server.storage.ratings import CLEAR_AT_ONCE
from simkl_server.storage.ratings import ROWS as RATINGS_ROWS
from tests.api.support import TERMINATOR_3, by_simkl, elsewhere, rate, read
from tests.conftest import Api
from tests.helpers import StatementLog, assert_simkl_error


def _sent_by(
    api: Api, statements: StatementLog, method: str, path: str, **kw: Any
) -> list[Statement]:
    start = len(statements.sent)
    response = api.request(method, path, **kw)
    assert response.status_code < 300, response.text
    return [statement for statement, _ in statements.sent[start:]]


def test_a_first_request_looks_its_token_up_once(api: Api, statements: StatementLog) -> None:
    sent = _sent_by(api, statements, "GET", "/sync/activities", token=api.new_user("fresh"))
    assert sent == [STAMP, AUTHENTICATE, ALL]


SMALL_READS = [("/sync/activities", ALL), ("/users/settings", PROFILE)]


@pytest.mark.parametrize(("path", "read"), SMALL_READS)
def test_a_repeated_small_read_is_one_statement_that_returns_the_stamp(
    api: Api, statements: StatementLog, path: str, read: Statement
) -> None:
    assert api.get(path).status_code == 200
    assert _sent_by(api, statements, "GET", path) == [read]


# Library reads whose rows render alone (no details read beside them).
LIBRARY_READS = [
    ("/sync/all-items", LIBRARY_ROWS),
    ("/sync/all-items/movies/completed?extended=simkl_ids_only", LIBRARY_ROWS),
    ("/sync/ratings/movies", RATINGS_ROWS),
]


@pytest.mark.parametrize(("path", "variants"), LIBRARY_READS)
def test_a_repeated_library_read_is_one_statement_of_its_stamps(
    api: Api, statements: StatementLog, path: str, variants: dict[Any, Statement]
) -> None:
    """Its rows, read once, are kept: a read again asks only whether the stamps they were
    read under stand, and that statement returns the auth stamp too."""
    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=8)]})
    first = _sent_by(api, statements, "GET", path)
    assert len(first) == 1
    assert first[0] in variants.values()
    assert _sent_by(api, statements, "GET", path) == [LIBRARY_STAMPS]
    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=3)]}, token=api.new_user("other"))
    assert _sent_by(api, statements, "GET", path) == [LIBRARY_STAMPS]  # theirs, not mine

    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=9)]})
    again = _sent_by(api, statements, "GET", path)
    assert again[0] == LIBRARY_STAMPS
    assert again[1:] == [again[1]]
    assert again[1] in variants.values()


def test_a_library_read_with_details_settles_by_its_rows_stamp(
    api: Api, statements: StatementLog
) -> None:
    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=8)]})
    sent = _sent_by(api, statements, "GET", "/sync/all-items?next_watch_info=yes")
    assert STAMP not in sent
    assert sent[0] in LIBRARY_ROWS.values()


def test_a_repeated_read_that_returns_no_stamp_reads_it_once(
    api: Api, statements: StatementLog
) -> None:
    assert api.get("/sync/activities").status_code == 200
    sent = _sent_by(api, statements, "GET", "/sync/ratings")
    assert sent.count(STAMP) == 1
    assert AUTHENTICATE not in sent


def test_a_cached_write_checks_the_stamp_in_its_lock(
    api: Api, statements: StatementLog, backend: str
) -> None:
    assert api.get("/sync/activities").status_code == 200
    body = {"movies": [by_simkl(TERMINATOR_3)]}
    sent = _sent_by(api, statements, "POST", "/sync/ratings/remove", json=body)
    assert STAMP not in sent
    assert AUTHENTICATE not in sent
    # After the catalog lookup: on PostgreSQL one call that locks, checks and clears; on
    # SQLite the write transaction, whose first statement is the lock.
    if backend == "postgres":
        assert sent[1:] == [CLEAR_AT_ONCE]
    else:
        assert sent[1] == LOCK_USER


def _revokeelsewhere(api: Api, database_url: str, token: str) -> None:
    elsewhere(api, database_url, lambda other: auth.revoke_token(other, token=token))


# What the next request of a cached token earns once another process deleted its app or user.
DELETED_ELSEWHERE = {"app": (412, "client_id_failed"), "user": (401, "user_token_failed")}


def _deletion(api: Api, deleted: str) -> Callable[[Store], Awaitable[None]]:
    if deleted == "app":
        return lambda other: auth.delete_app(other, client_id=api.client_id)
    return lambda other: auth.delete_user(other, username="alice")


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("deleted", sorted(DELETED_ELSEWHERE))
def test_an_app_or_user_deleted_elsewhere_fails_the_next_request(
    api: Api, catalog_database: str, deleted: str, method: str
) -> None:
    status, error = DELETED_ELSEWHERE[deleted]
    assert api.get("/sync/activities").status_code == 200
    elsewhere(api, catalog_database, _deletion(api, deleted))
    body = {"movies": [by_simkl(TERMINATOR_3, rating=6)]} if method == "POST" else None
    path = "/sync/ratings" if method == "POST" else "/sync/activities"
    assert_simkl_error(api.request(method, path, json=body), status, error)


@pytest.mark.parametrize("path", ["/sync/activities", "/users/settings", "/sync/ratings"])
def test_a_token_revoked_elsewhere_fails_its_next_read(
    api: Api, catalog_database: str, path: str
) -> None:
    assert api.get(path).status_code == 200
    _revokeelsewhere(api, catalog_database, api.token)
    assert_simkl_error(api.get(path), 401, "user_token_failed")


@pytest.mark.parametrize(
    "path", ["/sync/all-items", "/sync/all-items?next_watch_info=yes", "/sync/ratings/movies"]
)
def test_a_token_revoked_elsewhere_fails_its_next_library_read_of_rows(
    api: Api, catalog_database: str, path: str
) -> None:
    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=8)]})
    assert api.get(path).json()
    _revokeelsewhere(api, catalog_database, api.token)
    assert_simkl_error(api.get(path), 401, "user_token_failed")


def test_a_token_revoked_elsewhere_fails_its_next_write_which_changes_nothing(
    api: Api, catalog_database: str
) -> None:
    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=9)]})
    _revokeelsewhere(api, catalog_database, api.token)
    removed = api.post("/sync/ratings/remove", json={"movies": [by_simkl(TERMINATOR_3)]})
    assert_simkl_error(removed, 401, "user_token_failed")
    api.token = api.call(
        auth.issue_token, api.store, api.keys, username="alice", client_id=api.client_id
    )
    assert read(api)["movies"][0]["user_rating"] == 9


def test_a_revoked_token_is_refused_before_its_malformed_body(
    api: Api, catalog_database: str
) -> None:
    assert api.get("/sync/activities").status_code == 200
    _revokeelsewhere(api, catalog_database, api.token)
    refused = api.post("/sync/ratings/remove", content=b"{not json")
    assert_simkl_error(refused, 401, "user_token_failed")


def test_a_revoked_token_is_refused_by_a_post_that_only_reads(
    api: Api, catalog_database: str
) -> None:
    assert api.post("/sync/activities").status_code == 200
    _revokeelsewhere(api, catalog_database, api.token)
    assert_simkl_error(api.post("/sync/activities"), 401, "user_token_failed")


def test_another_tokens_revocation_leaves_this_one_working(api: Api, catalog_database: str) -> None:
    other = api.new_user("bob")
    assert api.get("/sync/activities").status_code == 200
    _revokeelsewhere(api, catalog_database, other)
    body = {"movies": [by_simkl(TERMINATOR_3, rating=7)]}
    assert api.post("/sync/ratings", json=body).status_code == 201
    assert api.get("/sync/activities").status_code == 200


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


def test_another_tokens_revocation_leaves_this_ones_remove_working(
    api: Api, catalog_database: str
) -> None:
    other = api.new_user("bob")
    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=7)]})
    _revokeelsewhere(api, catalog_database, other)
    removed = api.post("/sync/ratings/remove", json={"movies": [by_simkl(TERMINATOR_3)]})
    assert removed.status_code == 201
    assert read(api, "/sync/ratings/movies/7") == {}
