"""A user write run ahead of the user's lock (storage/ahead.py). On PostgreSQL a one-item add,
history or watchlist write reads its entries without the lock and saves in one call: two round
trips once its lookup is kept. The call saves only if what the write read still stands; when
another process changed the user's library, revoked the token or stamped an activity later
than the write's time in between, nothing of the run is saved and the write runs again under
the lock, so nothing is lost and no time goes back. A write that needs more than entries (the
account's plan, a show's watched episodes) runs under the lock from the start. Both databases
give the same answers: SQLite, whose statements cost no round trip, always writes under the
lock, and the same changes made elsewhere land before its write."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from datetime import datetime
from typing import Any

import pytest

from simkl_server.clock import FrozenClock
from simkl_server.config import Settings
from simkl_server.domain import auth
from simkl_server.domain.history import HistoryInput, add_history
from simkl_server.domain.kinds import Wrapper
from simkl_server.domain.models import ItemRef, SyncItem
from simkl_server.storage.activities import LOCK_USER
from simkl_server.storage.ahead import FIND_WITH_ENTRIES, AheadLibrary
from simkl_server.storage.base import Store, open_store
from simkl_server.storage.library import ENTRIES_STAMPED, SAVE_AHEAD
from tests.api.library_support import (
    GAME_OF_THRONES,
    INCEPTION,
    TERMINATOR_3,
    get,
    history,
    ids,
    library,
    post,
)
from tests.api.support import rate, warm_credentials
from tests.conftest import START_MS, Api
from tests.helpers import StatementLog, assert_simkl_error

ADD_MOVIE = {"movies": [ids(INCEPTION)]}
WATCH_MOVIE = {"movies": [ids(INCEPTION, watched_at="2026-01-02T03:04:05Z")]}


def _sent(api: Api, statements: StatementLog, action: Callable[[], Any]) -> list[Any]:
    warm_credentials(api)
    return statements.during(action)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/sync/ratings", {"movies": [ids(INCEPTION, rating=8)]}),
        ("/sync/history", WATCH_MOVIE),
        ("/sync/add-to-list", {"movies": [ids(INCEPTION, to="plantowatch")]}),
    ],
    ids=["rating", "history", "watchlist"],
)
def test_a_one_item_write_is_two_round_trips_on_postgresql(
    api: Api, statements: StatementLog, backend: str, path: str, body: dict[str, Any]
) -> None:
    post(api, path, body)  # the lookup is kept
    api.clock.advance(1000)

    sent = _sent(api, statements, lambda: post(api, path, body))

    if backend == "postgres":
        assert sent == [ENTRIES_STAMPED, SAVE_AHEAD]
    else:
        assert sent[0] == LOCK_USER
    assert INCEPTION in library(api)


def test_an_item_new_to_the_process_is_looked_up_with_its_entry(
    api: Api, catalog_database: str, statements: StatementLog, backend: str
) -> None:
    """The lookup reads the entries of the items it finds: the write is still two round
    trips, and it sees the entry another process saved (watched, rated 9)."""
    api.call(_watched_elsewhere(catalog_database, _user_id(api)))

    sent = _sent(api, statements, lambda: rate(api, {"movies": [ids(INCEPTION, rating=6)]}))

    if backend == "postgres":
        assert sent == [FIND_WITH_ENTRIES[(True, False, False)], SAVE_AHEAD]
    row = library(api)[INCEPTION]
    assert (row["status"], row["user_rating"], row["last_watched_at"]) == (
        "completed",
        6,
        "2026-05-28T20:26:40.000Z",  # START_MS, the other process's watch
    )


def test_a_show_with_episodes_runs_under_the_lock_from_the_start(
    api: Api, statements: StatementLog
) -> None:
    """Its watched episodes are not covered by the library stamp: nothing is read ahead."""
    show = {"shows": [ids(GAME_OF_THRONES, seasons=[{"number": 1, "episodes": [{"number": 1}]}])]}

    sent = _sent(api, statements, lambda: history(api, show))

    assert LOCK_USER in sent
    assert ENTRIES_STAMPED not in sent
    assert SAVE_AHEAD not in sent
    assert library(api)[GAME_OF_THRONES]["watched_episodes_count"] == 1


def _between_read_and_write(
    monkeypatch: pytest.MonkeyPatch, change: Callable[[], Awaitable[object]]
) -> list[str]:
    """Make `change` once, between a write's entries read and its save: on PostgreSQL right
    after the run ahead read the entries, on SQLite (which does not run ahead) before the
    write takes its lock. Returns the log of where it was made."""
    made: list[str] = []
    read_entries = AheadLibrary.entries
    write = Store._write

    async def read_then_change(self: AheadLibrary, user_id: int, items: Collection[int]) -> Any:
        found = await read_entries(self, user_id, items)
        if not made:
            made.append("ahead")
            await change()
        return found

    async def change_then_write(store: Store, *args: Any, **kwargs: Any) -> Any:
        if not made:
            made.append("locked")
            await change()
        return await write(store, *args, **kwargs)

    monkeypatch.setattr(AheadLibrary, "entries", read_then_change)
    monkeypatch.setattr(Store, "_write", change_then_write)
    return made


def _watched_elsewhere(database_url: str, user_id: int) -> Callable[[], Awaitable[object]]:
    """The same movie marked watched with a rating by another process's write for the same
    user (a store of its own on the same database)."""
    sent = ids(INCEPTION)
    ref = ItemRef(Wrapper.MOVIES, simkl=INCEPTION)
    inputs = [HistoryInput(SyncItem(sent, ref), watched_at=START_MS, rating=9)]

    async def change() -> object:
        other = await open_store(Settings(database_url=database_url), FrozenClock(START_MS))
        try:
            return await add_history(
                other, user_id=user_id, inputs=inputs, skip_auto_watching=False
            )
        finally:
            await other.close()

    return change


def _user_id(api: Api) -> int:
    return int(get(api, "/users/settings")["account"]["id"])


def test_a_library_changed_after_the_read_is_not_overwritten(
    api: Api,
    catalog_database: str,
    statements: StatementLog,
    monkeypatch: pytest.MonkeyPatch,
    backend: str,
) -> None:
    """The other write filed the movie and rated it: this one, which read no entry, finds it
    under the lock, counts nothing added and keeps the rating."""
    change = _watched_elsewhere(catalog_database, _user_id(api))
    made = _between_read_and_write(monkeypatch, change)
    answers: list[Any] = []

    sent = _sent(api, statements, lambda: answers.append(history(api, WATCH_MOVIE)))
    (answer,) = answers

    assert made == (["ahead"] if backend == "postgres" else ["locked"])
    if backend == "postgres":
        assert sent.index(SAVE_AHEAD) < sent.index(LOCK_USER)  # refused, then run locked
    assert answer["added"]["movies"] == 0
    row = library(api)[INCEPTION]
    assert row["user_rating"] == 9
    assert row["status"] == "completed"


def test_a_token_revoked_after_the_read_fails_the_write(
    api: Api, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    warm_credentials(api)

    async def revoke() -> None:
        await auth.revoke_token(api.store, token=api.token)

    made = _between_read_and_write(monkeypatch, revoke)

    assert_simkl_error(api.post("/sync/history", json=WATCH_MOVIE), 401, "user_token_failed")
    assert made == (["ahead"] if backend == "postgres" else ["locked"])
    api.token = api.new_user("bob")
    assert api.post("/sync/history", json=WATCH_MOVIE).status_code == 201


def test_an_activity_newer_than_the_clock_keeps_the_write_from_going_back(
    api: Api, statements: StatementLog, backend: str
) -> None:
    """A clock set back (another process's clock, a test's): the run ahead's time would be
    older than a stamp the user has, so the call refuses and the locked write stamps at the
    newest one, as it always did."""
    rate(api, {"movies": [ids(TERMINATOR_3, rating=7)]})
    newest = get(api, "/sync/activities")["all"]
    api.clock.current_ms -= 60_000

    sent = _sent(api, statements, lambda: history(api, ADD_MOVIE))

    if backend == "postgres":
        assert sent.index(SAVE_AHEAD) < sent.index(LOCK_USER)
    watched = library(api)[INCEPTION]["last_watched_at"]
    assert datetime.fromisoformat(watched) == datetime.fromisoformat(newest)
    assert get(api, "/sync/activities")["all"] == newest
