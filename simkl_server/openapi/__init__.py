"""This server's own OpenAPI document, read once and served as is."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import orjson


@cache
def document_bytes() -> bytes:
    """The document as served at /openapi.json."""
    return resources.files(__package__).joinpath("openapi.json").read_bytes()


def document() -> dict[str, Any]:
    """The document, decoded."""
    decoded: dict[str, Any] = orjson.loads(document_bytes())
    return decoded
