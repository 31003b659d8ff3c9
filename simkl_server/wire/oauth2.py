"""The AUTH V2 wire: plain-string parameters (anything else is 400 invalid_request naming the
parameter), client credentials, the token and device responses and the RFC 8414 metadata."""

from __future__ import annotations

from typing import Any

from simkl_server.domain.grants import TokenSet
from simkl_server.domain.oauth2 import (
    DEVICE_GRANT,
    ClientCredentials,
    DeviceStart,
    TokenRequest,
)
from simkl_server.domain.pin import CODE_LIFETIME_S, POLL_INTERVAL_S
from simkl_server.domain.tokens import READ_SCOPE
from simkl_server.errors import OAuth2Error
from simkl_server.wire.oauth import ParamError, basic_credentials, parameters


def v2_parameters(body: bytes, content_type: str | None) -> dict[str, str | None]:
    """A form or JSON body whose every value is one plain string."""
    try:
        found = parameters(body, content_type)
    except ParamError as exc:
        raise OAuth2Error("invalid_request", f"The request {exc.problem}") from None
    strings: dict[str, str | None] = {}
    for name, value in found.items():
        if not isinstance(value, str) or "\x00" in value:
            raise OAuth2Error("invalid_request", f"Parameter {name[:50]!r} must be a plain string")
        strings[name] = value
    return strings


def credentials(found: dict[str, str | None], authorization: str | None) -> ClientCredentials:
    """The client's credentials: HTTP Basic when sent (RFC 6749 §2.3.1), else the body."""
    try:
        basic = basic_credentials(authorization)
    except ParamError:
        error = OAuth2Error("invalid_client", "Malformed HTTP Basic credentials", status=401)
        error.basic_challenge = True
        raise error from None
    if basic is not None:
        body_id = found.get("client_id")
        if body_id and body_id != basic[0]:
            raise OAuth2Error("invalid_request", "client_id differs from the HTTP Basic one")
        return ClientCredentials(basic[0] or None, basic[1], basic=True)
    return ClientCredentials(found.get("client_id") or None, found.get("client_secret"))


def token_request(found: dict[str, str | None]) -> TokenRequest:
    """The grant parameters (an empty value counts as absent)."""

    def get(name: str) -> str | None:
        return found.get(name) or None

    return TokenRequest(
        grant_type=get("grant_type"),
        code=get("code"),
        code_verifier=get("code_verifier"),
        redirect_uri=get("redirect_uri"),
        refresh_token=get("refresh_token"),
        device_code=get("device_code"),
        scope=found.get("scope"),
    )


def token_response(tokens: TokenSet) -> dict[str, Any]:
    """RFC 6749 §5.1, identical for the three grants."""
    return {
        "access_token": tokens.access_token,
        "token_type": "Bearer",
        "expires_in": tokens.expires_in,
        "refresh_token": tokens.refresh_token,
        "scope": tokens.scope,
    }


def device_response(started: DeviceStart, verification_uri: str) -> dict[str, Any]:
    """RFC 8628 §3.2."""
    return {
        "device_code": started.device_code,
        "user_code": started.user_code,
        "verification_uri": verification_uri,
        "verification_uri_complete": f"{verification_uri}?user_code={started.user_code}",
        "expires_in": CODE_LIFETIME_S,
        "interval": POLL_INTERVAL_S,
    }


def metadata(issuer: str) -> dict[str, Any]:
    """RFC 8414 authorization server metadata: it describes AUTH V2 (Simkl's does too)."""
    auth_methods = ["none", "client_secret_basic", "client_secret_post"]
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth2/authorize",
        "token_endpoint": f"{issuer}/oauth2/token",
        "device_authorization_endpoint": f"{issuer}/oauth2/device",
        "revocation_endpoint": f"{issuer}/oauth2/revoke",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", DEVICE_GRANT],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "scopes_supported": [READ_SCOPE.split()[0], "media:write"],
        "authorization_response_iss_parameter_supported": True,
    }
