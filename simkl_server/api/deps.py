"""Who is calling: the app (client_id) and, on user endpoints, the user (bearer token)."""

from __future__ import annotations

from starlette.requests import Request

from simkl_server.api.http import query_value
from simkl_server.domain.models import Caller
from simkl_server.errors import ClientIdFailed, UserTokenFailed
from simkl_server.storage.base import Store


def client_id_of(request: Request) -> str | None:
    """`?client_id=` (preferred) or the `simkl-api-key` header."""
    value = query_value(request.scope["query_string"], "client_id") or request.headers.get(
        "simkl-api-key"
    )
    # No credential holds NUL, and PostgreSQL text cannot even be compared with one: a value
    # carrying it counts as absent (the same goes for the bearer token).
    return value if value is None or "\x00" not in value else None


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer ...` header."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token and "\x00" not in token else None


async def require_user(store: Store, request: Request) -> Caller:
    """412 client_id_failed for a missing or unknown app, 401 user_token_failed for a
    missing, unknown or revoked token or one issued to another app."""
    client_id = client_id_of(request)
    if not client_id:
        raise ClientIdFailed
    token = bearer_token(request)
    found = await store.authenticate(client_id, token)
    if found.app_id is None:
        raise ClientIdFailed
    if token is None or found.user_id is None:
        raise UserTokenFailed
    return Caller(app_id=found.app_id, user_id=found.user_id)
