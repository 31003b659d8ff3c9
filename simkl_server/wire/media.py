"""Standard media objects in responses: `{"title", "year", "ids": {"simkl": int, ...}}`."""

from __future__ import annotations

from typing import Any

from simkl_server.domain.models import CatalogItem


def media_object(item: CatalogItem) -> dict[str, Any]:
    """The media object of a catalog item; `simkl` is an integer, other ids strings."""
    return {"title": item.title, "year": item.year, "ids": {"simkl": item.id, **item.ids}}
