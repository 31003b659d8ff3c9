"""Id kinds, their normal forms, and the lookup keys the catalog index is built on."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from simkl_server.domain.kinds import tmdb_scope_of
from simkl_server.domain.models import CatalogItem

# The order in which external ids are tried when `simkl` is absent or does not resolve.
EXTERNAL_ID_PRIORITY: tuple[str, ...] = (
    "imdb",
    "tmdb",
    "tvdb",
    "mal",
    "anidb",
    "anilist",
    "kitsu",
    "livechart",
    "anisearch",
    "animeplanet",
    "letterboxd",
    "traktslug",
    "netflix",
    "crunchyroll",
    "hulu",
)
NUMERIC_ID_KINDS = frozenset(
    {
        "tmdb",
        "mal",
        "anidb",
        "anilist",
        "kitsu",
        "livechart",
        "anisearch",
        "netflix",
        "crunchyroll",
        "hulu",
    }
)
_INDEXED_KINDS = frozenset(EXTERNAL_ID_PRIORITY)
# Kinds whose ids are digits (tvdb: when given as digits), and the first number too long.
_DIGIT_KINDS = NUMERIC_ID_KINDS | {"tvdb"}
_DIGITS_LIMIT = 10**30
_IMDB_ID = re.compile(r"tt[0-9]+", re.IGNORECASE)
# No id has more than 30 digits; int() refuses strings past 4,300 digits (a ValueError).
_DIGITS = re.compile(r"\s*[+]?[0-9]{1,30}\s*")
_NOT_WORD = re.compile(r"[\W_]+")


_RANK = {kind: rank for rank, kind in enumerate(EXTERNAL_ID_PRIORITY)}


def external_ids(values: Mapping[str, str | int | None]) -> tuple[tuple[str, str], ...]:
    """The external ids among `values` (by kind) that can be ids, normalized, in
    EXTERNAL_ID_PRIORITY order; other kinds and unusable values are left out."""
    # Walks the kinds given (one to three, mostly), not every kind there is.
    found = [
        (kind, normal)
        for kind, value in values.items()
        if value is not None and kind in _RANK and (normal := normalize_id(kind, value))
    ]
    if len(found) > 1:
        found.sort(key=lambda pair: _RANK[pair[0]])
    return tuple(found)


def normalize_id(kind: str, value: str | int) -> str | None:
    """Return the canonical string form of an external id, or None when it cannot be one."""
    if type(value) is int and 0 <= value < _DIGITS_LIMIT and kind in _DIGIT_KINDS:
        return str(value)  # what the digit-string path gives, without its two passes
    text = str(value).strip()
    if not text or "\x00" in text:  # no id holds NUL, and PostgreSQL text cannot hold one
        return None
    if kind == "imdb":
        found = _IMDB_ID.search(text)
        return found.group(0).lower() if found else None
    numeric = kind in NUMERIC_ID_KINDS
    if numeric or kind == "tvdb":
        if _DIGITS.fullmatch(text):
            return str(int(text))
        if numeric:
            return None
    return text.lower()


def parse_simkl_id(value: str | int) -> int | None:
    """Return a Simkl id from a number or a digit string, or None."""
    text = str(value).strip()
    if not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if 0 < number < 2**63 else None


def lookup_key(kind: str, value: str, *, tmdb_scope: str) -> str:
    """The key under which the catalog index stores one external id."""
    if kind == "tmdb":
        return f"tmdb:{tmdb_scope}:{value}"
    return f"{kind}:{value}"


def item_lookup_keys(item: CatalogItem) -> list[str]:
    """Every index key of a catalog item's external ids."""
    scope = tmdb_scope_of(item.type, item.anime_type)
    keys = []
    for kind, value in item.ids.items():
        if kind not in _INDEXED_KINDS:
            continue
        normal = normalize_id(kind, value)
        if normal is not None:
            keys.append(lookup_key(kind, normal, tmdb_scope=scope))
    return keys


def title_key(title: str) -> str:
    """Fold a title for matching: case-, punctuation- and whitespace-insensitive."""
    folded = unicodedata.normalize("NFKC", title).casefold()
    return _NOT_WORD.sub(" ", folded).strip()
