"""A pytest plugin for Simkl client developers: a real simkl-server, in process, for your tests.

Installed with the package and registered as a pytest plugin, it gives every test the
`simkl_server` fixture: a server with the control plane on, listening on a free loopback port,
its state reset and seeded before each test with one app, one user and that user's token:

    def test_my_sync(simkl_server):
        client = MySimklClient(base_url=simkl_server.url, client_id=simkl_server.client_id,
                               token=simkl_server.access_token)
        client.sync()
        assert simkl_server.journal()[0]["path"] == "/sync/history"

One server (one SQLite database in pytest's temporary folder, holding the demo catalog) serves
the whole test session; each test starts from a reset, so no state leaks between tests.
Override the `simkl_server_settings` fixture (session scope) to change settings, e.g.
`{"rate_limits": True}` or a PostgreSQL `database_url`.

Imports of the server itself happen when a fixture first runs, so loading the plugin costs a
test run that does not use it nothing.
"""

from __future__ import annotations

import asyncio
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

# The seeded app, user and token: fixed values, so a failing test's output can be replayed.
CLIENT_ID = "simkl-test-client-id"
CLIENT_SECRET = "simkl-test-client-secret"  # noqa: S105 -- a test fixture's documented value
USERNAME = "tester"
ACCESS_TOKEN = "simkl-test-access-token"  # noqa: S105 -- a test fixture's documented value
_START_TIMEOUT_S = 60.0
_REQUEST_TIMEOUT_S = 30.0


class ControlError(AssertionError):
    """The control plane refused a call; the message holds its answer."""


@dataclass
class SimklServer:
    """A running server: its base URL, the seeded credentials, and the control plane."""

    url: str
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    username: str = USERNAME
    access_token: str = ACCESS_TOKEN

    @property
    def headers(self) -> dict[str, str]:
        """The headers a Simkl client sends: the token and the client id."""
        return {
            "Authorization": f"Bearer {self.access_token}",
            "simkl-api-key": self.client_id,
            "Content-Type": "application/json",
        }

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """One control-plane call (`path` below /_control/); its JSON answer (None for none)."""
        data = None if body is None else orjson.dumps(body)
        request = urllib.request.Request(  # noqa: S310 -- always this server's http:// URL
            f"{self.url}/_control/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=_REQUEST_TIMEOUT_S) as answer:  # noqa: S310
                text = answer.read()
        except urllib.error.HTTPError as exc:
            raise ControlError(f"{method} /_control/{path}: {exc.code} {exc.read()!r}") from None
        return orjson.loads(text) if text else None

    def reset(self, *, catalog: bool = False, accounts: bool = False) -> None:
        """Every user's data gone (and the faults, the journal and the clock's setting); the
        catalog and the accounts too when asked."""
        self.control("POST", "reset", {"catalog": catalog, "accounts": accounts})

    def seed(self, **wanted: Any) -> dict[str, Any]:
        """Create apps, users, tokens and catalog items in one call (see the README)."""
        seeded: dict[str, Any] = self.control("POST", "seed", wanted)
        return seeded

    def state(self) -> dict[str, Any]:
        """The whole state as one document."""
        state: dict[str, Any] = self.control("GET", "state")
        return state

    def load_state(self, document: dict[str, Any]) -> None:
        """Replace the whole state with a document `state()` gave."""
        self.control("PUT", "state", document)

    def set_clock(self, now: str) -> dict[str, Any]:
        """Fix the server's clock at an ISO 8601 UTC time (`2024-05-01T18:00:00Z`)."""
        clock: dict[str, Any] = self.control("PUT", "clock", {"now": now})
        return clock

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move the server's clock on (past a PIN's or a token's expiry, a window...)."""
        clock: dict[str, Any] = self.control("PUT", "clock", {"advance_s": seconds})
        return clock

    def restore_clock(self) -> None:
        """Give the server its real clock back."""
        self.control("PUT", "clock", {"system": True})

    def journal(self, limit: int = 100) -> list[dict[str, Any]]:
        """The last requests the server received, newest first, secrets masked."""
        entries: list[dict[str, Any]] = self.control("GET", f"journal?limit={limit}")
        return entries

    def clear_journal(self) -> None:
        """Forget the requests received so far."""
        self.control("DELETE", "journal")

    def fail(self, path: str, respond: str, *, method: str = "*", **options: Any) -> Any:
        """Make matching requests fail as Simkl does (`rate_limit`, `client_id_failed`,
        `user_token_failed`, `empty`, `null`, `server_error`, or `none` for a delay only);
        options: `times`, `probability` and `seed`, `delay_ms`, `retry_after_s`."""
        fault = {"method": method, "path": path, "respond": respond, **options}
        return self.control("POST", "faults", fault)

    def clear_faults(self) -> None:
        """Remove every fault."""
        self.control("DELETE", "faults")

    def approve(self, user_code: str, username: str | None = None, *, allow: bool = True) -> None:
        """Approve (or decline) a PIN or device code as the user would on the /pin page."""
        wanted = {"user_code": user_code, "username": username or self.username, "allow": allow}
        self.control("POST", "approve", wanted)

    def fresh(self) -> SimklServer:
        """Reset everything but the catalog and seed the app, user and token again."""
        self.reset(accounts=True)
        self.seed(
            apps=[{"name": "tests", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                   "redirect_uris": ["http://127.0.0.1/callback"]}],
            users=[{"username": USERNAME}],
            tokens=[{"username": USERNAME, "client_id": CLIENT_ID,
                     "access_token": ACCESS_TOKEN}],
        )  # fmt: skip
        return self


class InProcessServer:
    """simkl-server on a free loopback port, served by a thread of this process."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self._settings = settings
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._uvicorn: Any = None
        self._thread = threading.Thread(target=self._run, name="simkl-server", daemon=True)
        self.url = ""

    def start(self) -> InProcessServer:
        """Start serving; return once the server accepts requests."""
        from simkl_server import server  # noqa: PLC0415 -- the plugin loads nothing until used

        self._socket = server.listen("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT_S):
            raise RuntimeError("simkl-server did not start in time")
        if self._failure is not None:
            raise RuntimeError(f"simkl-server did not start: {self._failure}") from self._failure
        return self

    def stop(self) -> None:
        """Stop serving and close the database."""
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
        self._thread.join(_START_TIMEOUT_S)
        self._socket.close()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to the thread that waits for the start
            self._failure = exc
            self._ready.set()

    async def _serve(self) -> None:
        import uvicorn  # noqa: PLC0415

        from simkl_server import demo, server  # noqa: PLC0415
        from simkl_server.app import controlled, create_app  # noqa: PLC0415
        from simkl_server.catalog.load import import_file  # noqa: PLC0415
        from simkl_server.clock import SystemClock  # noqa: PLC0415
        from simkl_server.config import Settings  # noqa: PLC0415
        from simkl_server.storage import migrate  # noqa: PLC0415
        from simkl_server.storage.base import open_store  # noqa: PLC0415

        settings = Settings(**{"access_log": False, **self._settings, "control": True})
        await asyncio.to_thread(migrate.upgrade, settings.database)
        store = await open_store(settings, controlled(settings, SystemClock()))
        try:
            if await store.read.catalog.size() == 0:
                with demo.demo_catalog() as path:
                    await import_file(store, path)
        except BaseException:
            await store.close()
            raise
        app = create_app(settings, store=store, close_store=True)
        self._uvicorn = uvicorn.Server(server.uvicorn_config(settings, app))
        # Requests that arrive before the server accepts wait in the socket's backlog.
        self._ready.set()
        await self._uvicorn.serve(sockets=[self._socket])


@pytest.fixture(scope="session")
def simkl_server_settings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Settings of the session's server (override to change them): a SQLite database in
    pytest's temporary folder by default."""
    folder: Path = tmp_path_factory.mktemp("simkl-server")
    return {
        "database_url": f"sqlite:///{folder / 'simkl-server.db'}",
        "secret_key_file": folder / "simkl-server.secret-key",
    }


@pytest.fixture(scope="session")
def simkl_server_process(simkl_server_settings: dict[str, Any]) -> Iterator[SimklServer]:
    """The session's server, started on first use, stopped at the end of the session."""
    running = InProcessServer(simkl_server_settings).start()
    try:
        yield SimklServer(running.url)
    finally:
        running.stop()


@pytest.fixture
def simkl_server(simkl_server_process: SimklServer) -> SimklServer:
    """The server, reset and seeded for this test: `url`, `client_id`, `client_secret`,
    `username`, `access_token`, and the control plane's helpers."""
    return simkl_server_process.fresh()
