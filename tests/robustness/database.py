"""Direct database access for the robustness tests: provisioning, snapshots, integrity checks.

Everything here reads or writes the database behind the server's back, through the package's
own store (for set-up) or the raw drivers (for inspection), never through the code under test.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from simkl_server.catalog.load import import_file
from simkl_server.clock import SystemClock
from simkl_server.config import Settings, parse_database_url
from simkl_server.domain import auth
from simkl_server.domain.catalog import CatalogRecord, import_records
from simkl_server.domain.kinds import MediaType
from simkl_server.domain.models import CatalogEpisode
from simkl_server.storage.base import open_store
from tests.conftest import TEST_KEYS

TEST_CATALOG = Path(__file__).parents[1] / "fixtures" / "catalog.jsonl"
MOVIE_BASE = 7_000_000
SHOW_BASE = 8_000_000
# Every table and a column order that makes a full dump deterministic.
TABLES: dict[str, str] = {
    "apps": "id",
    "users": "id",
    "grants": "id",
    "tokens": "token_hash",
    "user_codes": "id",
    "auth_codes": "code_hash",
    "sessions": "session_hash",
    "attempts": "key",
    "library": "user_id, item_id",
    "activity": "user_id, bucket",
    "catalog_items": "id",
    "catalog_ids": "key",
    "catalog_episodes": "item_id, season, number",
    "user_episodes": "user_id, item_id, season, number",
    "rewatches": "id",
    "rewatch_episodes": "rewatch_id, season, number",
    "playbacks": "id",
}
SHOW_EPISODES = 10  # every generated show: season 1, episodes 1..10, all aired


@dataclass(frozen=True, slots=True)
class Account:
    """What a client needs to call the server as the provisioned user."""

    client_id: str
    token: str
    movies: tuple[int, ...]
    shows: tuple[int, ...]


def movie_record(n: int) -> CatalogRecord:
    """A generated released movie: simkl id MOVIE_BASE + n, imdb tt7nnnnnn."""
    return CatalogRecord(
        where=f"movie {n}",
        type=MediaType.MOVIE,
        title=f"Robustness Movie {n:05d}",
        ids={"imdb": f"tt{MOVIE_BASE + n}"},
        simkl=MOVIE_BASE + n,
        year=2000 + n % 20,
        status="released",
    )


def show_record(n: int) -> CatalogRecord:
    """A generated ended show: simkl id SHOW_BASE + n, tvdb 8nnnnnn, ten aired episodes."""
    return CatalogRecord(
        where=f"show {n}",
        type=MediaType.SHOW,
        title=f"Robustness Show {n:05d}",
        ids={"tvdb": str(SHOW_BASE + n)},
        simkl=SHOW_BASE + n,
        year=2000 + n % 20,
        status="ended",
        total_episodes=SHOW_EPISODES,
        episodes=tuple(
            CatalogEpisode(1, number, aired_at=946_684_800_000 + number * 604_800_000)
            for number in range(1, SHOW_EPISODES + 1)
        ),
    )


def provision(url: str, *, movies: int, shows: int = 0, username: str = "robot") -> Account:
    """Load a generated catalog into a migrated database and create one app, user and token."""

    async def work() -> Account:
        clock = SystemClock()
        store = await open_store(Settings(database_url=url), clock)
        try:
            records = [movie_record(n) for n in range(movies)]
            records += [show_record(n) for n in range(shows)]
            report = await import_records(store, records)
            assert not report.problems, report.problems
            app = (await auth.create_app(store, name="robustness")).app
            await auth.create_user(store, username=username)
            token = await auth.issue_token(
                store, TEST_KEYS, username=username, client_id=app.client_id
            )
        finally:
            await store.close()
        return Account(
            client_id=app.client_id,
            token=token,
            movies=tuple(MOVIE_BASE + n for n in range(movies)),
            shows=tuple(SHOW_BASE + n for n in range(shows)),
        )

    return asyncio.run(work())


Rows = list[tuple[Any, ...]]


def queries(url: str, statements: Sequence[str]) -> list[Rows]:
    """Rows of each read-only statement, on one connection of their own."""
    if url.startswith("sqlite"):
        raw = sqlite3.connect(url.split(":///", 1)[1])
        try:
            return [[tuple(row) for row in raw.execute(sql).fetchall()] for sql in statements]
        finally:
            raw.close()

    async def fetch() -> list[Rows]:
        conn = await asyncpg.connect(parse_database_url(url).postgres_dsn)
        try:
            return [[tuple(row) for row in await conn.fetch(sql)] for sql in statements]
        finally:
            await conn.close()

    return asyncio.run(fetch())


def load_test_catalog(url: str) -> None:
    """Import tests/fixtures/catalog.jsonl (real Simkl ids the official examples use)."""

    async def work() -> None:
        store = await open_store(Settings(database_url=url), SystemClock())
        try:
            await import_file(store, TEST_CATALOG)
        finally:
            await store.close()

    asyncio.run(work())


def query(url: str, sql: str) -> Rows:
    """Rows of one read-only statement."""
    return queries(url, [sql])[0]


def dump(url: str, tables: Sequence[str] = tuple(TABLES)) -> dict[str, Rows]:
    """Every row of the named tables, in a stable order."""
    statements = [f"SELECT * FROM {name} ORDER BY {TABLES[name]}" for name in tables]
    return dict(zip(tables, queries(url, statements), strict=True))


# Each query lists rows that must not exist in a consistent database.
_ORPHANS = {
    "library without user": "SELECT l.user_id, l.item_id FROM library l "
    "LEFT JOIN users u ON u.id = l.user_id WHERE u.id IS NULL",
    "library without catalog item": "SELECT l.user_id, l.item_id FROM library l "
    "LEFT JOIN catalog_items c ON c.id = l.item_id WHERE c.id IS NULL",
    "activity without user": "SELECT a.user_id, a.bucket FROM activity a "
    "LEFT JOIN users u ON u.id = a.user_id WHERE u.id IS NULL",
    "token without user, app or grant": "SELECT t.token_hash FROM tokens t "
    "LEFT JOIN users u ON u.id = t.user_id LEFT JOIN apps a ON a.id = t.app_id "
    "LEFT JOIN grants g ON g.id = t.grant_id WHERE u.id IS NULL OR a.id IS NULL OR g.id IS NULL",
    "grant without user or app": "SELECT g.id FROM grants g LEFT JOIN users u ON u.id = g.user_id "
    "LEFT JOIN apps a ON a.id = g.app_id WHERE u.id IS NULL OR a.id IS NULL",
    "index key without item": "SELECT k.key FROM catalog_ids k "
    "LEFT JOIN catalog_items c ON c.id = k.item_id WHERE c.id IS NULL",
    "rating without rated_at": "SELECT user_id, item_id FROM library "
    "WHERE (user_rating IS NULL) <> (user_rated_at IS NULL)",
    "rating out of range": "SELECT user_id, item_id FROM library "
    "WHERE user_rating NOT BETWEEN 1 AND 10",
    "watched episode without library row": "SELECT e.user_id, e.item_id FROM user_episodes e "
    "LEFT JOIN library l ON l.user_id = e.user_id AND l.item_id = e.item_id "
    "WHERE l.item_id IS NULL",
    "rewatch without library row": "SELECT r.id FROM rewatches r "
    "LEFT JOIN library l ON l.user_id = r.user_id AND l.item_id = r.item_id "
    "WHERE l.item_id IS NULL",
    "rewatch episode without rewatch": "SELECT e.rewatch_id FROM rewatch_episodes e "
    "LEFT JOIN rewatches r ON r.id = e.rewatch_id WHERE r.id IS NULL",
    # A row's count of watched episodes is kept with its episodes, in the same transaction.
    "episode count out of step": "SELECT l.user_id, l.item_id, l.watched_episodes, w.regular "
    "FROM library l JOIN (SELECT user_id, item_id, "
    "SUM(CASE WHEN season > 0 THEN 1 ELSE 0 END) AS regular FROM user_episodes "
    "GROUP BY user_id, item_id) w ON w.user_id = l.user_id AND w.item_id = l.item_id "
    "WHERE l.watched_episodes <> w.regular",
}
_DOMAIN_OF_TYPE = {"movie": "movies", "show": "tv_shows", "anime": "anime"}


def integrity_problems(url: str) -> list[str]:
    """Everything inconsistent in the database; empty when it is sound.

    Beyond the engine's own checks: no orphan rows, every row's episode count in step with its
    watched episodes, and each `<domain>.rated_at` activity equal to the newest
    `rating_changed_at` of that domain's library rows. Each pair is written in one transaction,
    so a difference means a write was applied in part."""
    problems: list[str] = []
    if url.startswith("sqlite"):
        verdict = query(url, "PRAGMA integrity_check")
        if verdict != [("ok",)]:
            problems.append(f"integrity_check: {verdict[:10]}")
        broken = query(url, "PRAGMA foreign_key_check")
        if broken:
            problems.append(f"foreign_key_check: {broken[:10]}")
    for what, sql in _ORPHANS.items():
        rows = query(url, sql)
        if rows:
            problems.append(f"{what}: {rows[:10]}")
    newest = query(
        url,
        "SELECT l.user_id, c.type, MAX(l.rating_changed_at) FROM library l "
        "JOIN catalog_items c ON c.id = l.item_id WHERE l.rating_changed_at IS NOT NULL "
        "GROUP BY l.user_id, c.type",
    )
    stamps = {
        (user, bucket): at
        for user, bucket, at in query(url, "SELECT user_id, bucket, at FROM activity")
    }
    expected = {
        (user, f"{_DOMAIN_OF_TYPE[item_type]}.rated_at"): changed
        for user, item_type, changed in newest
    }
    recorded = {key: at for key, at in stamps.items() if key[1].endswith(".rated_at")}
    for user, bucket in sorted(expected.keys() | recorded.keys()):
        if expected.get((user, bucket)) != recorded.get((user, bucket)):
            problems.append(
                f"user {user}: {bucket} is {recorded.get((user, bucket))}, "
                f"newest rating change is {expected.get((user, bucket))}"
            )
    return problems
