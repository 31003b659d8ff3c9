"""The /health body."""

from __future__ import annotations

from typing import Any


def health_response(*, version: str, schema_revision: str) -> dict[str, Any]:
    """`{"status": "ok", "version": ..., "schema_revision": ...}`."""
    return {"status": "ok", "version": version, "schema_revision": schema_revision}
