"""The OAuth and PIN wire: form or JSON parameters, HTTP Basic client credentials, and the
AUTH V1 response bodies (`/oauth/pin`, its poll, `/oauth/token`)."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import parse_qsl, unquote

import orjson

from simkl_server.domain.grants import V1_EXPIRES_IN
from simkl_server.domain.oauth import TokenRequest
from simkl_server.domain.pin import (
    CODE_LIFETIME_S,
    POLL_INTERVAL_S,
    PinApproved,
    PinPoll,
    PinStarted,
)
from simkl_server.domain.tokens import V1_SCOPE

PLACEHOLDER_DEVICE_CODE = "DEVICE_CODE"  # Simkl's PIN flow sends this literal (spec §2.2)
MAX_PARAMS = 50


class ParamError(ValueError):
    """A parameter that is not one plain string (or a body that is no form or JSON object)."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name
        self.problem = problem


def parameters(body: bytes, content_type: str | None) -> dict[str, Any]:
    """A token-endpoint body as name -> value: `application/x-www-form-urlencoded` when it
    says so (a repeated name becomes a list of values), else JSON (spec §1.7: a POST without a
    content type is read as JSON)."""
    text = body.strip()
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return _json_object(text)
    try:
        pairs = parse_qsl(text.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_PARAMS)
    except (UnicodeDecodeError, ValueError):
        raise ParamError("body", "is not a readable form") from None
    found: dict[str, Any] = {}
    for name, value in pairs:
        if name not in found:
            found[name] = value
        else:  # a repeated name is no single string: the caller refuses it by name
            previous = found[name]
            found[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
    return found


def _json_object(text: bytes) -> dict[str, Any]:
    if not text:
        return {}
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise ParamError("body", "is not valid JSON") from None
    if not isinstance(document, dict):
        raise ParamError("body", "must be a JSON object")
    return document


def string_param(found: dict[str, Any], name: str) -> str | None:
    """One parameter as a plain string (None when absent; an empty string counts as absent)."""
    value = found.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ParamError(name, "must be a single plain string")
    if "\x00" in value:
        raise ParamError(name, "must not contain NUL")
    return value or None


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(client_id, client_secret) of an `Authorization: Basic` header (RFC 6749 §2.3.1:
    each part form-encoded, then base64); None when the header is absent or not Basic."""
    if header is None:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ParamError("Authorization", "is not valid HTTP Basic credentials") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon or "\x00" in decoded:
        raise ParamError("Authorization", "is not valid HTTP Basic credentials")
    return unquote(client_id), unquote(secret)


def token_request(
    found: dict[str, Any], basic: tuple[str, str] | None, *, fallback_client_id: str | None
) -> TokenRequest:
    """`POST /oauth/token`'s fields; HTTP Basic credentials stand in for body ones, and the
    query's client_id (sent on every Simkl request) for a body without one."""
    client_id = string_param(found, "client_id")
    client_secret = string_param(found, "client_secret")
    if basic is not None:
        client_id, client_secret = client_id or basic[0] or None, client_secret or basic[1] or None
    client_id = client_id or fallback_client_id
    return TokenRequest(
        grant_type=string_param(found, "grant_type"),
        code=string_param(found, "code"),
        client_id=client_id,
        client_secret=client_secret,
        code_verifier=string_param(found, "code_verifier"),
        redirect_uri=string_param(found, "redirect_uri"),
    )


def v1_token_response(access_token: str) -> dict[str, Any]:
    """`{"access_token", "token_type": "bearer", "scope": "public", "expires_in"}`."""
    return {
        "access_token": access_token,
        "token_type": "bearer",
        "scope": V1_SCOPE,
        "expires_in": V1_EXPIRES_IN,
    }


def pin_started(user_code: str, verification_uri: str) -> dict[str, Any]:
    """`GET /oauth/pin`'s body (also a poll's answer for a code that is gone)."""
    return {
        "result": "OK",
        "device_code": PLACEHOLDER_DEVICE_CODE,
        "user_code": user_code,
        "verification_uri": verification_uri,
        "verification_url": verification_uri,
        "expires_in": CODE_LIFETIME_S,
        "interval": POLL_INTERVAL_S,
    }


def pin_poll(outcome: PinPoll, verification_uri: str) -> dict[str, Any]:
    """A poll's body: pending, "Slow down", the token, or a fresh code."""
    if isinstance(outcome, PinStarted):
        return pin_started(outcome.user_code, verification_uri)
    if isinstance(outcome, PinApproved):
        return {"result": "OK", "access_token": outcome.access_token}
    message = "Slow down" if outcome.slow_down else "Authorization pending"
    return {"result": "KO", "message": message}
