"""The error envelope: `{"error": id, "code": status, "message": text}`."""

from __future__ import annotations

import orjson

from simkl_server.errors import OAuth2Error, SimklError


def error_body(error: SimklError) -> bytes:
    """The JSON bytes of an error response."""
    return orjson.dumps({"error": error.error, "code": error.status, "message": error.message})


def oauth2_error_body(error: OAuth2Error) -> bytes:
    """RFC 6749 §5.2: `{"error": code, "error_description": text}`, no `code` member."""
    return orjson.dumps({"error": error.error, "error_description": error.description})
