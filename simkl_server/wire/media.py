"""Standard media objects in responses: title, poster, year and `ids` (`simkl` an integer)."""

from __future__ import annotations

from typing import Any

import orjson

from simkl_server.domain.models import CatalogItem, StoredIds

# Ids Simkl accepts on requests but never returns (docs /conventions/standard-media-objects).
REQUEST_ONLY_IDS = ("netflix", "crunchyroll", "hulu")
_REQUEST_ONLY_MARKS = tuple(f'"{kind}"' for kind in REQUEST_ONLY_IDS)


def media_object(item: CatalogItem, *, runtime: bool = False) -> dict[str, Any]:
    """The media object of a catalog item: `poster` when known, `runtime` when asked for;
    `simkl` is an integer, other ids strings."""
    media: dict[str, Any] = {"title": item.title}
    if item.poster is not None:
        media["poster"] = item.poster
    media["year"] = item.year
    media["ids"] = ids_object(item)
    if runtime:
        media["runtime"] = item.runtime
    return media


def media_stub(item: CatalogItem, *, simkl_only: bool) -> dict[str, Any]:
    """`{"ids": ...}` alone: every id, or only `simkl` and `slug`."""
    if not simkl_only:
        return {"ids": ids_object(item)}
    ids: dict[str, Any] = {"simkl": item.id}
    if "slug" in item.ids:
        ids["slug"] = item.ids["slug"]
    return {"ids": ids}


def ids_object(item: CatalogItem) -> Any:
    """`{"simkl": id, ...external ids}` without request-only ids; stored ids are spliced in as
    JSON text, unparsed, unless they hold a request-only id."""
    if isinstance(item.ids, StoredIds):
        text = item.ids.text
        if not any(mark in text for mark in _REQUEST_ONLY_MARKS):
            rest = "}" if text == "{}" else "," + text[1:]
            return orjson.Fragment(f'{{"simkl":{item.id}{rest}')
    shown = {kind: value for kind, value in item.ids.items() if kind not in REQUEST_ONLY_IDS}
    return {"simkl": item.id, **shown}
