"""Resolve request items against the catalog: ids.simkl, then external ids in a fixed order,
then title and year. A whole batch is looked up at once, never one query per item."""

from __future__ import annotations

from collections.abc import Sequence

from simkl_server.domain.ids import lookup_key
from simkl_server.domain.models import CatalogHits, CatalogItem, CatalogQuery, ItemRef


def ref_id_keys(ref: ItemRef) -> list[str]:
    """The index keys of a request item's external ids, in priority order."""
    scope = ref.wrapper.tmdb_scope
    return [lookup_key(kind, value, tmdb_scope=scope) for kind, value in ref.external]


def catalog_query(refs: Sequence[ItemRef]) -> CatalogQuery:
    """Collect every id and title a batch mentions."""
    simkl_ids = {ref.simkl for ref in refs if ref.simkl is not None}
    keys = {key for ref in refs for key in ref_id_keys(ref)}
    titles = {ref.title_key for ref in refs if ref.title_key}
    return CatalogQuery(frozenset(simkl_ids), frozenset(keys), frozenset(titles))


def resolve(ref: ItemRef, hits: CatalogHits) -> CatalogItem | None:
    """The catalog item a request item means, or None when it matches nothing or several."""
    if ref.simkl is not None:
        item = hits.by_simkl.get(ref.simkl)
        if item is not None and ref.wrapper.accepts(item.type, item.anime_type):
            return item
    for key in ref_id_keys(ref):
        item = hits.by_key.get(key)
        if item is not None and ref.wrapper.accepts(item.type, item.anime_type):
            return item
    return _resolve_title(ref, hits)


def _resolve_title(ref: ItemRef, hits: CatalogHits) -> CatalogItem | None:
    if not ref.title_key:
        return None
    candidates = [
        item
        for item in hits.by_title.get(ref.title_key, ())
        if ref.wrapper.accepts(item.type, item.anime_type)
        and (ref.year is None or item.year == ref.year)
    ]
    return candidates[0] if len(candidates) == 1 else None
