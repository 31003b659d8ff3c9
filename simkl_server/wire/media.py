"""Standard media objects in responses: `{"title", "year", "ids": {"simkl": int, ...}}`."""

from __future__ import annotations

from typing import Any

import orjson

from simkl_server.domain.models import CatalogItem, StoredIds


def media_object(item: CatalogItem) -> dict[str, Any]:
    """The media object of a catalog item; `simkl` is an integer, other ids strings."""
    return {"title": item.title, "year": item.year, "ids": ids_object(item)}


def ids_object(item: CatalogItem) -> Any:
    """`{"simkl": id, ...external ids}`; stored ids are spliced in as JSON text, unparsed."""
    if isinstance(item.ids, StoredIds):
        text = item.ids.text
        rest = "}" if text == "{}" else "," + text[1:]
        return orjson.Fragment(f'{{"simkl":{item.id}{rest}')
    return {"simkl": item.id, **item.ids}
