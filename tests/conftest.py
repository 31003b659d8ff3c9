"""Fixtures: the app over real HTTP (ASGI) on a real database, SQLite and PostgreSQL alike.

Each backend's database is created, migrated and loaded with tests/fixtures/catalog.jsonl once
per session; every test starts from empty user state on it. PostgreSQL tests are skipped (with
the reason printed) when no server answers, unless SIMKL_SERVER_REQUIRE_POSTGRES=1 (CI), which
turns that into a failure.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sqlite3
import threading
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from starlette.testclient import TestClient

from simkl_server.app import create_app
from simkl_server.catalog.load import import_file
from simkl_server.clock import FrozenClock
from simkl_server.config import Settings, parse_database_url
from simkl_server.domain import auth
from simkl_server.domain.tokens import Keys
from simkl_server.storage import migrate
from simkl_server.storage.base import Store, open_store
from simkl_server.storage.dialect import Statement
from simkl_server.storage.drivers import PgConnection, SqliteConnection
from tests.helpers import StatementLog

T = TypeVar("T")
FIXTURES = Path(__file__).parent / "fixtures"
PG_ADMIN_URL = os.environ.get(
    "SIMKL_SERVER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("SIMKL_SERVER_REQUIRE_POSTGRES") == "1"
START_MS = 1_780_000_000_000  # 2026-05-28T20:26:40Z
# Every server the tests start, in process or not, derives with this key; nothing writes a key
# file into the working folder.
TEST_SECRET_KEY = "tests-only-secret-key-0123456789abcdefABCDEF"
os.environ["SIMKL_SERVER_SECRET_KEY"] = TEST_SECRET_KEY
TEST_KEYS = Keys(TEST_SECRET_KEY.encode())


def run(coro_fn: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
    """Run an async function to completion on a fresh event loop."""
    return asyncio.run(coro_fn(*args))


def postgres_available() -> str | None:
    """None when PostgreSQL answers, else why not."""

    async def probe() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=3)
        await conn.close()

    try:
        run(probe)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}"
    return None


def require_postgres() -> None:
    """Skip the test when no PostgreSQL answers (fail it in CI, where one must)."""
    reason = postgres_available()
    if reason is not None:
        if REQUIRE_POSTGRES:
            pytest.fail(reason)
        pytest.skip(reason)


def _administer(sql: str) -> None:
    """Run one statement as the PostgreSQL administrator (CREATE and DROP DATABASE)."""

    async def execute() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    run(execute)


def create_pg_database(*, copy_of: str | None = None) -> str:
    """A new empty PostgreSQL database, or a copy of the one at URL `copy_of` (which nothing
    may be connected to); returns its URL."""
    name = f"simkl_test_{uuid.uuid4().hex[:12]}"
    template = "" if copy_of is None else f' TEMPLATE "{copy_of.rsplit("/", 1)[1]}"'
    _administer(f'CREATE DATABASE "{name}"{template}')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(url: str) -> None:
    """Drop a database made by create_pg_database."""
    name = url.rsplit("/", 1)[1]
    _administer(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fresh_database(backend: str, tmp_path: Path, *, migrated: bool = True) -> Iterator[str]:
    """An empty database of that backend (migrated unless told not to), removed afterwards; an
    SQLite database that is not migrated is a file not made yet. A migrated one is a copy of
    the process's migrated template (`_templates`), not migrated again."""
    if backend == "sqlite":
        tmp_path.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{tmp_path / f'simkl-{uuid.uuid4().hex[:8]}.db'}"
        if migrated:
            copy_sqlite(_migrated_template("sqlite"), url)
        yield url
        return
    require_postgres()
    url = create_pg_database(copy_of=_migrated_template("postgres") if migrated else None)
    try:
        yield url
    finally:
        drop_pg_database(url)


# Each test process's migrated empty database of each backend, made on first use and copied
# for every fresh one: running the migrations cost more than the rest of most tests' set-up.
_TEMPLATES: dict[str, str] = {}
_TEMPLATE_FOLDER: list[Path] = []


def _migrated_template(backend: str) -> str:
    if backend not in _TEMPLATES:
        if backend == "sqlite":
            url = f"sqlite:///{_TEMPLATE_FOLDER[0] / 'template.db'}"
        else:
            url = create_pg_database()
        migrate.upgrade(parse_database_url(url))
        _TEMPLATES[backend] = url
    return _TEMPLATES[backend]


def copy_sqlite(source_url: str, url: str) -> None:
    """A consistent copy of an SQLite database (sqlite3's backup: WAL or not)."""
    source = sqlite3.connect(source_url.removeprefix("sqlite:///"))
    copy = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()


@pytest.fixture(scope="session", autouse=True)
def _templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Where the templates live, and their removal at the end of the session."""
    _TEMPLATE_FOLDER.append(tmp_path_factory.mktemp("templates"))
    yield
    postgres = _TEMPLATES.pop("postgres", None)
    if postgres is not None:
        drop_pg_database(postgres)


async def _load_catalog(url: str) -> None:
    store = await open_store(Settings(database_url=url), FrozenClock(START_MS))
    try:
        report = await import_file(store, FIXTURES / "catalog.jsonl")
        assert not report.problems, report.problems
    finally:
        await store.close()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """Every storage test runs once per database."""
    return str(request.param)


@pytest.fixture(scope="session")
def catalog_database(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database holding the test catalog, shared by the session."""
    for url in fresh_database(backend, tmp_path_factory.mktemp(backend)):
        run(_load_catalog, url)
        yield url


@pytest.fixture
def empty_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A migrated database of its own, with no catalog (for tests that import one)."""
    yield from fresh_database(backend, tmp_path)


class Api:
    """The app over HTTP, authenticated as one test user unless told otherwise."""

    def __init__(self, client: TestClient, clock: FrozenClock) -> None:
        self.client = client
        self.clock = clock
        self.client_id = ""
        self.token = ""

    @property
    def store(self) -> Store:
        """The app's own store."""
        store: Store = self.client.app.services.store  # type: ignore[attr-defined]
        return store

    def call(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Run an async function on the app's event loop."""
        portal = self.client.portal
        assert portal is not None
        return portal.call(lambda: fn(*args, **kwargs))

    @property
    def keys(self) -> Keys:
        """The app's key derivations."""
        keys: Keys = self.client.app.services.keys  # type: ignore[attr-defined]
        return keys

    def new_user(self, username: str, *, client_id: str | None = None) -> str:
        """Create a user with a token for this app (or the given one); return the token."""
        self.call(auth.create_user, self.store, username=username)
        return self.call(
            auth.issue_token,
            self.store,
            self.keys,
            username=username,
            client_id=client_id or self.client_id,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = "default",
        client_id: str | None = "default",
        **kwargs: Any,
    ) -> Any:
        """Send a request with `client_id` and `Authorization` (pass None to omit either)."""
        params = dict(kwargs.pop("params", {}) or {})
        if client_id is not None:
            params.setdefault("client_id", self.client_id if client_id == "default" else client_id)
        headers = dict(kwargs.pop("headers", {}) or {})
        if token is not None:
            headers.setdefault(
                "Authorization", f"Bearer {self.token if token == 'default' else token}"
            )
        headers.setdefault("User-Agent", "simkl-server-tests/1.0")
        params.setdefault("app-name", "simkl-server-tests")
        params.setdefault("app-version", "1.0")
        kwargs.setdefault("follow_redirects", False)  # /redirect's Location is the answer
        return self.client.request(method, path, params=params, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        """GET with credentials."""
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        """POST with credentials."""
        return self.request("POST", path, **kwargs)


def _settings(database_url: str, **settings: Any) -> Settings:
    """A test app's settings; those with nothing but the database are made once for each
    database and environment (reading the environment was a sixth of a test's set-up)."""
    if settings:
        return Settings(database_url=database_url, **settings)
    own = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("SIMKL_SERVER_")))
    return _plain_settings(database_url, own)


@functools.cache
def _plain_settings(database_url: str, environment: tuple[tuple[str, str], ...]) -> Settings:
    return Settings(database_url=database_url)


@contextmanager
def serve_api(database_url: str, **settings: Any) -> Iterator[Api]:
    """The app on that database with these settings, user state emptied, one app and user
    ready (tests that need a setting changed, such as a small body limit, open their own)."""
    clock = FrozenClock(START_MS)
    app = create_app(_settings(database_url, **settings), clock=clock)
    with TestClient(app) as client:
        api = Api(client, clock)
        api.call(api.store.reset, keep_catalog=True)
        created = api.call(auth.create_app, api.store, name="tests")
        api.client_id = created.app.client_id
        api.token = api.new_user("alice")
        yield api


@pytest.fixture
def api(catalog_database: str) -> Iterator[Api]:
    """The app on the shared test catalog, user state emptied, one app and user ready."""
    with serve_api(catalog_database) as api:
        yield api


@pytest.fixture
def own_catalog(empty_database: str) -> Iterator[Api]:
    """The app on an empty catalog of its own, which a test may import into and change."""
    with serve_api(empty_database) as api:
        yield api


def _counting(log: StatementLog, method: Callable[..., Awaitable[Any]]) -> Any:
    async def counted(self: Any, statement: Statement, params: Any) -> Any:
        log.sent.append((statement, threading.get_ident()))
        return await method(self, statement, params)

    return counted


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> StatementLog:
    """Record every statement run through either driver's connections."""
    log = StatementLog()
    for connection in (SqliteConnection, PgConnection):
        for name in ("fetch", "fetchrow", "execute"):
            monkeypatch.setattr(connection, name, _counting(log, getattr(connection, name)))
    return log
