"""Library writes prepared outside the user's lock (PostgreSQL, migration 0010): a small rating,
list move or watch is two statements, one read and one claimed write; when anything the write
was prepared from moves before its claim (another write of the user, a revoked token, a reset),
it changes nothing and the write runs the ordinary way, with the answer a serial run gives.
SQLite never prepares a write: its statements cost no round trip."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from simkl_server.clock import FrozenClock
from simkl_server.config import Settings
from simkl_server.domain import auth
from simkl_server.domain.kinds import MediaType, rated_bucket
from simkl_server.domain.models import LibrarySave, LibraryWrite
from simkl_server.storage.activities import LOCK_USER
from simkl_server.storage.base import ClearRatings, Store, WriteTx, open_store
from simkl_server.storage.library import BASIS, SAVE_AT_ONCE
from tests.api.library_support import BREAKING_BAD, INCEPTION, history, ids, library, post
from tests.api.support import warm_credentials
from tests.conftest import START_MS, Api
from tests.helpers import CATALOG_LOOKUPS, StatementLog

Change = Callable[[Store, int], Awaitable[None]]


def _rate(api: Api, rating: int) -> Any:
    return post(api, "/sync/ratings", {"movies": [ids(INCEPTION, rating=rating)]})


def _file(api: Api, to: str) -> Any:
    return post(api, "/sync/add-to-list", {"movies": [ids(INCEPTION, to=to)]})


def _watch(api: Api, episode: int) -> Any:
    seasons = [{"number": 1, "episodes": [{"number": episode}]}]
    return history(api, {"shows": [ids(BREAKING_BAD, seasons=seasons)]})


Write = Callable[[Api], Any]
WRITES: dict[str, tuple[Write, Write]] = {
    "rating": (lambda api: _rate(api, 6), lambda api: _rate(api, 9)),
    "list": (lambda api: _file(api, "plantowatch"), lambda api: _file(api, "dropped")),
    "history": (lambda api: _watch(api, 1), lambda api: _watch(api, 2)),
}
WRITTEN = {
    "rating": (INCEPTION, "user_rating", 9),
    "list": (INCEPTION, "status", "dropped"),
    "history": (BREAKING_BAD, "watched_episodes_count", 2),
}


def _sent(statements: StatementLog, start: int) -> list[Any]:
    return [s for s, _ in statements.sent[start:] if s not in CATALOG_LOOKUPS]


@pytest.mark.parametrize("write", list(WRITES))
def test_a_small_library_write_is_one_read_and_one_write_on_postgresql(
    api: Api, statements: StatementLog, backend: str, write: str
) -> None:
    first, second = WRITES[write]
    warm_credentials(api)
    first(api)

    start = len(statements.sent)
    second(api)

    if backend == "postgres":
        assert _sent(statements, start) == [BASIS, SAVE_AT_ONCE]
    else:
        assert LOCK_USER in _sent(statements, start)
        assert SAVE_AT_ONCE not in _sent(statements, start)
    item, field, value = WRITTEN[write]
    assert library(api)[item][field] == value


async def _in_another_process(url: str, change: Change) -> None:
    """`change` through a store of its own, outside the request's context (as another
    process would run it)."""

    async def run() -> None:
        other = await open_store(Settings(database_url=url), FrozenClock(START_MS))
        try:
            user_id = await other.read.accounts.find_user("alice")
            assert user_id is not None
            await change(other, user_id)
        finally:
            await other.close()

    await asyncio.create_task(run(), context=contextvars.Context())


def _between_read_and_write(
    api: Api, monkeypatch: pytest.MonkeyPatch, url: str, change: Change
) -> list[bool]:
    """Run `change` once, right after a prepared write has read what it needs; the list
    returned tells whether it ran."""
    read_basis = api.store.library_basis
    ran: list[bool] = []

    async def read_then_change(*args: Any) -> Any:
        basis = await read_basis(*args)
        if not ran:
            ran.append(True)
            await _in_another_process(url, change)
        return basis

    monkeypatch.setattr(api.store, "library_basis", read_then_change)
    return ran


async def _clear_the_rating_in_one_call(store: Store, user_id: int) -> None:
    clear = ClearRatings(user_id, {INCEPTION: rated_bucket(MediaType.MOVIE)})
    await store.write_at_once(clear, size=1)


async def _clear_the_rating_in_a_transaction(store: Store, user_id: int) -> None:
    async def clear(tx: WriteTx) -> None:
        await tx.ratings.clear(user_id, [INCEPTION], now=tx.now_ms)

    await store.write(user_id, clear, size=1)


@pytest.mark.parametrize(
    "clear", [_clear_the_rating_in_one_call, _clear_the_rating_in_a_transaction]
)
def test_a_write_prepared_before_another_write_runs_after_it(
    api: Api,
    *,
    catalog_database: str,
    monkeypatch: pytest.MonkeyPatch,
    statements: StatementLog,
    backend: str,
    clear: Change,
) -> None:
    _rate(api, 8)  # filed completed, rated 8
    ran = _between_read_and_write(api, monkeypatch, catalog_database, clear)

    start = len(statements.sent)
    _file(api, "plantowatch")

    row = library(api)[INCEPTION]
    if backend == "postgres":
        assert ran == [True]
        # Stored as prepared, the entry would have come back with the rating it was read with.
        assert (row["status"], row["user_rating"]) == ("plantowatch", None)
        sent = _sent(statements, start)
        assert LOCK_USER in sent[sent.index(SAVE_AT_ONCE) :], "refused, then the usual write"
    else:
        assert ran == [], "SQLite prepares no write"
        assert (row["status"], row["user_rating"]) == ("plantowatch", 8)


def test_a_reset_moves_every_write_count(api: Api, backend: str) -> None:
    """A reset keeps no token, so no request that started before it can go on; a write
    prepared before it is still refused by the claim itself."""
    _rate(api, 8)
    store = api.store

    async def prepare_reset_and_store() -> bool:
        user_id = await store.read.accounts.find_user("alice")
        assert user_id is not None
        basis = await store.library_basis(user_id, [INCEPTION], [])
        assert basis is not None
        assert INCEPTION in basis.entries
        await store.reset(keep_catalog=True, keep_accounts=True)
        save = LibrarySave([], [LibraryWrite(basis.entries[INCEPTION])], [], [], set())
        return await store.save_prepared(
            user_id, save, now=START_MS, writes=basis.writes, catalog_stamp=None
        )

    if backend == "postgres":
        assert api.call(prepare_reset_and_store) is False
        api.token = api.new_user("bob")
        assert library(api) == {}
    else:  # read anyway (the statement is PostgreSQL's); the write is never prepared there
        assert not api.store.prepares_writes(1)


def test_a_token_revoked_before_the_claim_writes_nothing(
    api: Api, catalog_database: str, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    _rate(api, 8)
    token = api.token

    async def revoke(store: Store, user_id: int) -> None:
        del user_id
        await auth.revoke_token(store, token=token)

    ran = _between_read_and_write(api, monkeypatch, catalog_database, revoke)

    response = api.post("/sync/add-to-list", json={"movies": [ids(INCEPTION, to="dropped")]})

    if backend == "postgres":
        assert ran == [True]
        assert response.status_code == 401, response.text
        api.token = api.new_user("bob")
        assert library(api) == {}
    else:  # nothing came between: the token was still good
        assert ran == []
        assert response.status_code == 201


def test_a_write_that_meets_an_entry_twice_runs_the_ordinary_way(
    api: Api, statements: StatementLog, backend: str
) -> None:
    _rate(api, 8)
    start = len(statements.sent)

    twice = {"movies": [ids(INCEPTION, to="remove"), ids(INCEPTION, to="plantowatch")]}
    post(api, "/sync/add-to-list", twice)

    sent = _sent(statements, start)
    assert SAVE_AT_ONCE not in sent
    assert LOCK_USER in sent
    row = library(api)[INCEPTION]
    assert (row["status"], row["user_rating"]) == ("plantowatch", None)
    del backend
