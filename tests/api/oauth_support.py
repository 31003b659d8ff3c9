"""Shared vocabulary of the sign-in tests: apps of each kind, codes, PKCE pairs, fixtures."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from pathlib import Path
from typing import Any

from simkl_server.domain import auth, oauth, oauth2, pin
from simkl_server.domain.models import AppKind, NewApp
from tests.conftest import Api

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
# RFC 7636 Appendix B: the worked example every implementation must reproduce.
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
CALLBACK = "https://client.example/oauth/callback"
LOOPBACK = "http://127.0.0.1/callback"


def official(operation_id: str) -> dict[str, Any]:
    """One operation's fixture extracted from Simkl's official OpenAPI."""
    document: dict[str, Any] = json.loads(
        (FIXTURES / "openapi" / f"{operation_id}.json").read_text()
    )
    return document


def capture(name: str) -> dict[str, Any]:
    """A recorded 2020 Simkl response."""
    document: dict[str, Any] = json.loads((FIXTURES / "captures" / f"{name}.json").read_text())
    return document


def pkce_pair() -> tuple[str, str]:
    """A fresh (verifier, S256 challenge)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_app(
    api: Api,
    *,
    kind: AppKind = AppKind.SERVER,
    v2: bool = False,
    redirect_uris: tuple[str, ...] = (CALLBACK,),
    name: str = "client app",
) -> NewApp:
    """Register an app the way the CLI and the apps page do."""
    return api.call(
        auth.create_app,
        api.store,
        name=name,
        redirect_uris=list(redirect_uris),
        kind=kind,
        auth_version=2 if v2 else 1,
    )


def user_id(api: Api, username: str = "alice") -> int:
    """The database id of a user."""
    found = api.call(api.store.read.accounts.find_user, username)
    assert found is not None
    return found


def v1_code(
    api: Api,
    app: NewApp,
    *,
    username: str = "alice",
    redirect_uri: str | None = CALLBACK,
    challenge: str | None = None,
    method: str | None = None,
) -> str:
    """An authorization code as the consent page issues it once the user allows."""
    authorization = api.call(
        oauth.check_authorize,
        api.store,
        client_id=app.app.client_id,
        response_type="code",
        redirect_uri=redirect_uri,
        state=None,
        code_challenge=challenge,
        code_challenge_method=method,
    )
    return api.call(oauth.issue_code, api.store, authorization, user_id=user_id(api, username))


def approve(api: Api, user_code: str, *, username: str = "alice", allowed: bool = True) -> None:
    """What a signed-in user's click on the /pin page does."""
    api.call(
        pin.decide, api.store, typed=user_code, user_id=user_id(api, username), allowed=allowed
    )


def post(api: Api, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """A form POST to /oauth2/*, which needs no client_id in the query; asserts no-store."""
    response = api.post(path, token=None, client_id=None, data=data, **kwargs)
    assert response.headers["cache-control"] == "no-store", response.headers
    assert response.headers["pragma"] == "no-cache"
    return response


def v2_app(api: Api, kind: AppKind = AppKind.PUBLIC) -> NewApp:
    uris = () if kind is AppKind.DEVICE else (LOOPBACK,)
    return new_app(api, kind=kind, v2=True, redirect_uris=uris)


def v2_code(api: Api, app: NewApp, challenge: str, *, scope: str | None = None) -> str:
    authorization = api.call(
        oauth2.check_authorize,
        api.store,
        client_id=app.app.client_id,
        redirect_uri="http://127.0.0.1:53682/callback",  # any loopback port
        response_type="code",
        code_challenge=challenge,
        code_challenge_method="S256",
        scope=scope,
        state="xyz",
    )
    return api.call(oauth.issue_code, api.store, authorization, user_id=user_id(api))


def code_exchange(api: Api, app: NewApp, code: str, verifier: str, **extra: str) -> Any:
    data = {
        "grant_type": "authorization_code",
        "client_id": app.app.client_id,
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": "http://127.0.0.1:53682/callback",
        **extra,
    }
    return post(api, "/oauth2/token", data)


def tokens(api: Api, app: NewApp, *, scope: str | None = None) -> dict[str, Any]:
    verifier, challenge = pkce_pair()
    response = code_exchange(api, app, v2_code(api, app, challenge, scope=scope), verifier)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
