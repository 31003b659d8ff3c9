"""A real OAuth client library (Authlib) drives AUTH V2 against real server processes:
discovery, the device flow, the authorization code with PKCE, refresh and revocation.

Two servers share one database and the client alternates between them, and the device code is
approved by a third process (the command line): every flow state lives in the database.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
import subprocess
import sys
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from simkl_server.clock import SystemClock
from simkl_server.config import Settings
from simkl_server.demo import DEMO_CLIENT_ID, DEMO_PASSWORD, DEMO_V2_CLIENT_ID
from simkl_server.domain import auth, oauth, oauth2
from simkl_server.domain.models import AppKind, NewApp
from simkl_server.storage.base import open_store
from tests.robustness.conftest import Launch

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
CALLBACK = "http://127.0.0.1/callback"


def _setup(url: str, kind: AppKind) -> NewApp:
    """A V2 app and the user alice, made on the shared database."""

    async def work() -> NewApp:
        store = await open_store(Settings(database_url=url), SystemClock())
        try:
            uris = [] if kind is AppKind.DEVICE else [CALLBACK]
            created = await auth.create_app(
                store, name="authlib", redirect_uris=uris, kind=kind, auth_version=2
            )
            if await store.read.accounts.find_user("alice") is None:
                await auth.create_user(store, username="alice", password="correct horse")
            return created
        finally:
            await store.close()

    return asyncio.run(work())


def _cli(url: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "simkl_server", *args],
        env={**os.environ, "SIMKL_SERVER_DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _metadata(base: str) -> dict[str, Any]:
    response = requests.get(f"{base}/.well-known/oauth-authorization-server", timeout=10)
    response.raise_for_status()
    document: dict[str, Any] = response.json()
    assert document["issuer"] == base
    return document


def _activities(session: OAuth2Session, base: str, client_id: str) -> int:
    response = session.get(f"{base}/sync/activities", params={"client_id": client_id}, timeout=10)
    return int(response.status_code)


def test_device_flow_refresh_and_revoke_across_processes(
    launch: Launch, empty_database: str
) -> None:
    created = _setup(empty_database, AppKind.DEVICE)
    client_id = created.app.client_id
    one, two = launch(empty_database).url, launch(empty_database).url
    meta_one, meta_two = _metadata(one), _metadata(two)
    session = OAuth2Session(
        client_id, scope="media:read media:write", token_endpoint_auth_method="none"
    )

    def device_code() -> dict[str, Any]:
        answer: dict[str, Any] = session.post(
            meta_one["device_authorization_endpoint"],
            data={"client_id": client_id, "scope": "media:read media:write"},
            withhold_token=True,
            timeout=10,
        ).json()
        return answer

    waiting = device_code()  # polled once, never approved (a second poll would be too soon)
    with pytest.raises(OAuthError) as pending:
        session.fetch_token(
            meta_two["token_endpoint"], grant_type=DEVICE_GRANT, device_code=waiting["device_code"]
        )
    assert pending.value.error == "authorization_pending"
    started = device_code()
    assert "approved" in _cli(
        empty_database, "pin", "approve", started["user_code"], "--user", "alice"
    )
    token = session.fetch_token(
        meta_two["token_endpoint"], grant_type=DEVICE_GRANT, device_code=started["device_code"]
    )
    assert token["scope"] == "media:read media:write"
    assert _activities(session, one, client_id) == 200
    first_access = token["access_token"]
    renewed = session.refresh_token(meta_one["token_endpoint"])
    assert renewed["refresh_token"] == token["refresh_token"]
    assert renewed["access_token"] != first_access
    stale = requests.get(
        f"{two}/sync/activities",
        params={"client_id": client_id},
        headers={"Authorization": f"Bearer {first_access}"},
        timeout=10,
    )
    assert stale.status_code == 401
    assert _activities(session, two, client_id) == 200
    revoked = session.revoke_token(
        meta_two["revocation_endpoint"],
        token=renewed["refresh_token"],
        token_type_hint="refresh_token",
    )
    assert revoked.status_code == 200
    assert _activities(session, one, client_id) == 401


def _consent(url: str, authorize_url: str) -> str:
    """What the consent page does once alice allows: check the request, issue a code, and
    the redirect it sends the browser to (pages and browsers are tested in tests/web)."""
    query = {key: values[0] for key, values in parse_qs(urlsplit(authorize_url).query).items()}

    async def work() -> str:
        store = await open_store(Settings(database_url=url), SystemClock())
        try:
            authorization = await oauth2.check_authorize(
                store,
                client_id=query.get("client_id"),
                redirect_uri=query.get("redirect_uri"),
                response_type=query.get("response_type"),
                code_challenge=query.get("code_challenge"),
                code_challenge_method=query.get("code_challenge_method"),
                scope=query.get("scope"),
                state=query.get("state"),
            )
            user = await store.read.accounts.find_user("alice")
            assert user is not None
            return await oauth.issue_code(store, authorization, user_id=user)
        finally:
            await store.close()

    code = asyncio.run(work())
    params = {"code": code, "state": query["state"], "iss": "issuer"}
    return f"{query['redirect_uri']}?{urlencode(params)}"


def test_authorization_code_with_pkce_through_authlib(launch: Launch, empty_database: str) -> None:
    created = _setup(empty_database, AppKind.PUBLIC)
    base = launch(empty_database).url
    meta = _metadata(base)
    session = OAuth2Session(
        created.app.client_id,
        scope="media:read",
        redirect_uri="http://127.0.0.1:61234/callback",  # loopback: any port matches
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )
    verifier = "v" * 20 + "erifier-of-forty-three-chars"
    uri, _ = session.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier
    )
    callback = _consent(empty_database, uri)
    token = session.fetch_token(
        meta["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    assert (token["token_type"], token["scope"]) == ("Bearer", "media:read")
    assert _activities(session, base, created.app.client_id) == 200
    write = session.post(
        f"{base}/sync/ratings",
        params={"client_id": created.app.client_id},
        json={"movies": []},
        timeout=10,
    )
    assert write.status_code == 403
    assert write.json()["error"] == "insufficient_scope"


def _person(base: str) -> requests.Session:
    """A person's browser (cookies kept), signed in as the demo user."""
    browser = requests.Session()
    page = browser.get(f"{base}/signin", timeout=10)
    fields = {"csrf_token": _csrf(page.text), "username": "demo", "password": DEMO_PASSWORD}
    assert browser.post(f"{base}/signin", data=fields, timeout=10).status_code == 200
    return browser


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, html[:300]
    return found.group(1)


def _approve(browser: requests.Session, base: str, user_code: str) -> None:
    """What the person does on /pin: type the code, then Allow."""
    page = browser.get(f"{base}/pin", timeout=10)
    asked = browser.post(
        f"{base}/pin", data={"csrf_token": _csrf(page.text), "user_code": user_code}, timeout=10
    )
    allowed = browser.post(
        f"{base}/pin/decide",
        data={"csrf_token": _csrf(asked.text), "user_code": user_code, "decision": "allow"},
        timeout=10,
    )
    assert "is connected" in allowed.text


def test_a_fresh_demo_server_signs_clients_in_with_no_command_line_step(
    launch: Launch, empty_database: str
) -> None:
    """Done when: knowing only the base URL and a client_id, a PIN client, a V1 PKCE client and
    an RFC 8628/8414 client each get a working token, and their sync calls work."""
    base = launch(empty_database, env={"SIMKL_SERVER_DEMO_DATA": "true"}).url
    browser = _person(base)
    v1 = {"client_id": DEMO_CLIENT_ID}
    started = requests.get(f"{base}/oauth/pin", params=v1, timeout=10).json()
    _approve(browser, base, started["user_code"])
    pin_token = requests.get(f"{base}/oauth/pin/{started['user_code']}", params=v1, timeout=10)
    headers = {"Authorization": f"Bearer {pin_token.json()['access_token']}"}
    rated = requests.get(f"{base}/sync/ratings/movies", params=v1, headers=headers, timeout=10)
    assert rated.json()["movies"][0]["user_rating"] == 8  # the demo user's own ratings

    verifier = "d" * 50
    digest = hashlib.sha256(verifier.encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    params = {"response_type": "code", "client_id": DEMO_CLIENT_ID, "code_challenge": challenge}
    consent = browser.get(f"{base}/oauth/authorize", params=params, timeout=10)
    shown = browser.post(
        f"{base}/oauth/authorize",
        data={**params, "csrf_token": _csrf(consent.text), "decision": "allow"},
        timeout=10,
    )
    code = re.search(r'id="code">([^<]+)<', shown.text)
    assert code is not None, shown.text[:500]
    exchange = {"grant_type": "authorization_code", "code": code.group(1),
                "client_id": DEMO_CLIENT_ID, "code_verifier": verifier}  # fmt: skip
    v1_token = requests.post(f"{base}/oauth/token", json=exchange, timeout=10).json()
    assert v1_token["access_token"] == pin_token.json()["access_token"]  # one per (app, user)

    meta = _metadata(base)
    session = OAuth2Session(DEMO_V2_CLIENT_ID, token_endpoint_auth_method="none")
    device = session.post(
        meta["device_authorization_endpoint"],
        data={"client_id": DEMO_V2_CLIENT_ID, "scope": "media:read media:write"},
        withhold_token=True,
        timeout=10,
    ).json()
    _approve(browser, base, device["user_code"])
    token = session.fetch_token(
        meta["token_endpoint"], grant_type=DEVICE_GRANT, device_code=device["device_code"]
    )
    assert token["scope"] == "media:read media:write"
    wrote = session.post(
        f"{base}/sync/ratings",
        params={"client_id": DEMO_V2_CLIENT_ID},
        json={"movies": [{"ids": {"simkl": 53536}, "rating": 7}]},
        timeout=10,
    )
    assert wrote.status_code == 201
