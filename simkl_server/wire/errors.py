"""The error envelope: `{"error": id, "code": status, "message": text}`."""

from __future__ import annotations

import orjson

from simkl_server.errors import SimklError


def error_body(error: SimklError) -> bytes:
    """The JSON bytes of an error response."""
    return orjson.dumps({"error": error.error, "code": error.status, "message": error.message})
