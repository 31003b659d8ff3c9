"""The pages in a real headless browser (Debian's chromium driven by playwright): sign up,
register an app, both consent pages end to end, the PIN flow while a client polls, revoking
from Connected apps, and My ratings. A screenshot of each page goes to the test's temporary
folder.

The server runs in this process on a real socket (uvicorn in a thread) with a frozen clock, so
the polling client moves time instead of sleeping. Without a browser these tests skip, saying
why; with SIMKL_SERVER_REQUIRE_BROWSER=1 (CI) a missing browser fails them instead.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import uvicorn
from authlib.integrations.requests_client import OAuth2Session
from playwright.sync_api import sync_playwright

from simkl_server.app import create_app
from simkl_server.clock import FrozenClock
from simkl_server.config import Settings
from simkl_server.domain import auth
from simkl_server.domain.models import AppKind
from simkl_server.storage.base import open_store
from tests.api.oauth_support import RFC_CHALLENGE, RFC_VERIFIER
from tests.api.support import TERMINATOR_3, WALKING_DEAD
from tests.conftest import START_MS

CHROMIUM = Path(os.environ.get("SIMKL_SERVER_CHROMIUM", "/usr/bin/chromium"))
REQUIRED = os.environ.get("SIMKL_SERVER_REQUIRE_BROWSER") == "1"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CALLBACK = "http://127.0.0.1:9/callback"  # nothing listens: the browser's request is caught
PASSWORD = "correct horse battery"


def _browser_missing() -> str | None:
    if not CHROMIUM.exists():
        return f"no chromium at {CHROMIUM} (apt-get install chromium)"
    return None


class LiveServer:
    """The app served by uvicorn in a thread, on a frozen clock the test moves."""

    def __init__(self, database_url: str) -> None:
        self.clock = FrozenClock(START_MS)
        self.app = create_app(Settings(database_url=database_url), clock=self.clock)
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", lifespan="on"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]})

    def __enter__(self) -> LiveServer:
        self._thread.start()
        started = threading.Event()
        while not self._server.started and self._thread.is_alive():
            started.wait(0.02)  # waiting for a condition, not for time
        return self

    def __exit__(self, *_: object) -> None:
        self._server.should_exit = True
        self._thread.join()
        self._sock.close()

    def call(self, use: Any) -> Any:
        """Run a domain call on a store of its own, in a thread of its own (the server's loop
        and playwright's each hold a thread already)."""
        url = self.app.services.settings.database_url

        async def run() -> Any:
            store = await open_store(Settings(database_url=url), self.clock)
            try:
                return await use(store)
            finally:
                await store.close()

        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, run()).result()


@pytest.fixture
def live(catalog_database: str) -> Iterator[LiveServer]:
    reason = _browser_missing()
    if reason is not None:
        if REQUIRED:
            pytest.fail(reason)
        pytest.skip(reason)
    with LiveServer(catalog_database) as server:
        server.call(lambda store: store.reset(keep_catalog=True))
        yield server


@pytest.fixture
def browser_page(live: LiveServer, tmp_path: Path) -> Iterator[Any]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        context = browser.new_context(base_url=live.url, viewport={"width": 1100, "height": 800})
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.shots = tmp_path / "screenshots"  # type: ignore[attr-defined]
        page.shots.mkdir()  # type: ignore[attr-defined]
        try:
            yield page
        finally:
            browser.close()


def shot(page: Any, name: str) -> None:
    path: Path = page.shots / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000


def sign_up(page: Any, username: str = "carol") -> None:
    page.goto("/signup")
    shot(page, "signup")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("form[action='/signup'] button")
    page.wait_for_selector("text=My ratings")


def catch_callback(page: Any) -> list[str]:
    """Collect the URLs the browser is redirected to on the (unreachable) callback."""
    caught: list[str] = []

    def fulfil(route: Any) -> None:
        caught.append(route.request.url)
        route.fulfill(status=200, body="back in the app", content_type="text/plain")

    page.route("http://127.0.0.1:9/**", fulfil)
    return caught


def new_app(live: LiveServer, **kwargs: Any) -> Any:
    return live.call(lambda store: auth.create_app(store, name="Browser client", **kwargs))


def test_sign_up_and_register_an_app(live: LiveServer, browser_page: Any) -> None:
    page = browser_page
    sign_up(page)
    shot(page, "ratings-empty")
    page.goto("/apps")
    page.fill("input[name=name]", "My TV app")
    page.select_option("select[name=kind]", "device")
    page.select_option("select[name=auth]", "v2")
    page.click("form[action='/apps'] button[type=submit]")
    client_id = page.inner_text("#client-id")
    shot(page, "apps")
    assert len(client_id) == 64
    created = live.call(lambda store: store.read.accounts.find_app(client_id))
    assert created.is_v2
    assert created.kind is AppKind.DEVICE


def test_v1_consent_end_to_end(live: LiveServer, browser_page: Any) -> None:
    page = browser_page
    app = new_app(live, redirect_uris=[CALLBACK])
    caught = catch_callback(page)
    sign_up(page)
    page.goto(
        f"/oauth/authorize?response_type=code&client_id={app.app.client_id}"
        f"&redirect_uri={CALLBACK}&state=abc"
    )
    assert page.inner_text("#app-name") == "Browser client"
    shot(page, "consent-v1")
    page.click("#allow")
    page.wait_for_url(f"{CALLBACK}*")
    answer = parse_qs(urlsplit(caught[0]).query)
    assert answer["state"] == ["abc"]
    token = requests.post(
        f"{live.url}/oauth/token",
        json={
            "code": answer["code"][0],
            "client_id": app.app.client_id,
            "client_secret": app.client_secret,
            "redirect_uri": CALLBACK,
            "grant_type": "authorization_code",
        },
        timeout=10,
    ).json()["access_token"]
    me = requests.get(
        f"{live.url}/users/settings",
        params={"client_id": app.app.client_id},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert me.json()["user"]["name"] == "carol"


def test_v2_consent_with_authlib(live: LiveServer, browser_page: Any) -> None:
    page = browser_page
    app = new_app(
        live, redirect_uris=["http://127.0.0.1/callback"], kind=AppKind.PUBLIC, auth_version=2
    )
    caught = catch_callback(page)
    sign_up(page)
    session = OAuth2Session(
        app.app.client_id,
        scope="media:read media:write",
        redirect_uri=CALLBACK,  # loopback: the registered URI with any port
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )
    meta = requests.get(f"{live.url}/.well-known/oauth-authorization-server", timeout=10).json()
    uri, _ = session.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=RFC_VERIFIER
    )
    page.goto(uri)
    shot(page, "consent-v2")
    page.click("#allow")
    page.wait_for_url(f"{CALLBACK}*")
    assert parse_qs(urlsplit(caught[0]).query)["iss"] == [live.url]
    token = session.fetch_token(
        meta["token_endpoint"], authorization_response=caught[0], code_verifier=RFC_VERIFIER
    )
    assert token["scope"] == "media:read media:write"
    assert RFC_CHALLENGE in uri


def test_pin_flow_while_a_client_polls(live: LiveServer, browser_page: Any) -> None:
    page = browser_page
    app = new_app(live)
    client = {"client_id": app.app.client_id}
    started = requests.get(f"{live.url}/oauth/pin", params=client, timeout=10).json()
    code = started["user_code"]

    def poll() -> dict[str, Any]:
        live.clock.advance(5_000)  # the client's interval passes
        answer: dict[str, Any] = requests.get(
            f"{live.url}/oauth/pin/{code}", params=client, timeout=10
        ).json()
        return answer

    assert poll()["message"] == "Authorization pending"
    sign_up(page)
    assert poll()["message"] == "Authorization pending"
    page.goto("/pin")
    page.fill("#user-code", code.lower())
    shot(page, "pin")
    page.click("form[action='/pin'] button")
    assert page.inner_text("#app-name") == "Browser client"
    assert poll()["message"] == "Authorization pending"
    shot(page, "pin-confirm")
    page.click("#allow")
    page.wait_for_selector("#done")
    shot(page, "pin-done")
    token = poll()["access_token"]
    assert len(token) == 64


def test_revoke_from_connected_apps(live: LiveServer, browser_page: Any) -> None:
    page = browser_page
    app = new_app(live)
    sign_up(page)
    token = live.call(
        lambda store: auth.issue_token(
            store, live.app.services.keys, username="carol", client_id=app.app.client_id
        )
    )
    params = {"client_id": app.app.client_id}
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{live.url}/sync/activities"
    assert requests.get(url, params=params, headers=headers, timeout=10).status_code == 200
    page.goto("/connected")
    shot(page, "connected")
    page.click("#grants button")
    page.wait_for_selector("#no-grants")
    shot(page, "connected-revoked")
    assert requests.get(url, params=params, headers=headers, timeout=10).status_code == 401


def test_my_ratings_page(live: LiveServer, browser_page: Any) -> None:
    page = browser_page
    app = new_app(live)
    sign_up(page)
    token = live.call(
        lambda store: auth.issue_token(
            store, live.app.services.keys, username="carol", client_id=app.app.client_id
        )
    )
    rated = requests.post(
        f"{live.url}/sync/ratings",
        params={"client_id": app.app.client_id},
        headers={"Authorization": f"Bearer {token}"},
        json={
            "movies": [{"ids": {"simkl": TERMINATOR_3}, "rating": 8}],
            "shows": [{"ids": {"simkl": WALKING_DEAD}, "rating": 10}],
        },
        timeout=10,
    )
    assert rated.status_code == 201
    page.goto("/")
    assert page.locator("#ratings tbody tr").count() == 2
    assert page.locator("#chart rect").count() == 10
    shot(page, "ratings")
    page.select_option("select[name=type]", "movie")
    page.click("form.filters button")
    assert page.locator("#ratings tbody tr").count() == 1
    page.click("#ratings tbody tr button")
    page.wait_for_selector("#count")
    assert page.inner_text("#count").startswith("0 of 1")
    shot(page, "ratings-removed")


def test_my_library_page(live: LiveServer, browser_page: Any) -> None:
    page = browser_page
    app = new_app(live)
    sign_up(page)
    token = live.call(
        lambda store: auth.issue_token(
            store, live.app.services.keys, username="carol", client_id=app.app.client_id
        )
    )
    episodes = [{"number": 1}, {"number": 2}, {"number": 3}]
    watched = requests.post(
        f"{live.url}/sync/history",
        params={"client_id": app.app.client_id},
        headers={"Authorization": f"Bearer {token}"},
        json={
            "movies": [{"ids": {"simkl": TERMINATOR_3}}],
            "shows": [
                {"ids": {"simkl": WALKING_DEAD}, "seasons": [{"number": 1, "episodes": episodes}]}
            ],
        },
        timeout=10,
    )
    assert watched.status_code == 201
    page.goto("/")
    assert page.locator("#library-summary #recent li").count() == 2
    page.click("text=My library")
    page.wait_for_selector("#library")
    assert page.locator("#library tbody tr").count() == 2
    assert "S01E04" in page.inner_text("#library")  # next to watch
    shot(page, "library")
    page.click("#lists >> text=Watching")
    assert page.inner_text("#count").startswith("1 of 2")
    page.click("#library tbody tr button")
    page.wait_for_selector("#count")
    assert page.inner_text("#count").startswith("0 of 1")
    shot(page, "library-removed")
