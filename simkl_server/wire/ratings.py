"""Ratings request and response shapes: ratings on write items, the write answers, the read
path's filters and its rows."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from simkl_server.domain.kinds import TYPE_OF_PLURAL, MediaType
from simkl_server.domain.library import LibraryRead
from simkl_server.domain.models import RatingsQuery, SyncItem
from simkl_server.domain.ratings import (
    AddOutcome,
    Counts,
    RatingInput,
    RemoveOutcome,
    valid_rating,
)
from simkl_server.wire.common import echo, not_found
from simkl_server.wire.library import date_from as parse_date_from
from simkl_server.wire.library import encode_parts
from simkl_server.wire.timestamps import format_ms, parse_iso

# Longer digit strings are no usable rating (and int() refuses past 4,300 digits).
_INTEGER = re.compile(r"\s*[+-]?[0-9]{1,30}\s*")


def rating_inputs(items: Sequence[SyncItem], *, query_rating: str | None) -> list[RatingInput]:
    """Each item's rating (falling back to `?rating=`) and `rated_at`, validated."""
    fallback = rating_value(query_rating)
    return [_rating_input(item, fallback) for item in items]


def _rating_input(item: SyncItem, fallback: int | None) -> RatingInput:
    sent = item.sent.get("rating")
    rating = fallback if sent is None else rating_value(sent)
    rated_at = item.sent.get("rated_at")
    if rated_at is None:
        return RatingInput(item, rating)
    stamp = parse_iso(rated_at) if isinstance(rated_at, str) else None
    return RatingInput(item, rating, stamp, rated_at_invalid=stamp is None)


def rating_value(value: Any) -> int | None:
    """An integer, or an integer literal string, on the 1-10 scale; anything else is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return valid_rating(value)
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return valid_rating(int(value))
    return None


def _counts(counts: Counts) -> dict[str, int]:
    return {"movies": counts.movies, "shows": counts.shows}


def remove_response(outcome: RemoveOutcome) -> dict[str, Any]:
    """`{"deleted": {...}, "not_found": {...}}` of POST /sync/ratings/remove."""
    return {"deleted": _counts(outcome.deleted), "not_found": not_found(outcome.not_found)}


def add_response(outcome: AddOutcome) -> dict[str, Any]:
    """`{"added": {..., "statuses": [...]}, "not_found": {...}}` of POST /sync/ratings."""
    statuses = [
        {"request": _applied_echo(entry), "response": {"status": status}}
        for entry, status in outcome.statuses
    ]
    return {
        "added": {**_counts(outcome.added), "statuses": statuses},
        "not_found": not_found(outcome.not_found),
    }


def _applied_echo(entry: RatingInput) -> dict[str, Any]:
    sent = echo(entry.item)
    if entry.rated_at is not None:
        sent["rated_at"] = format_ms(entry.rated_at)
    return sent


def ratings_parts(read: LibraryRead) -> Iterator[bytes]:
    """The same rows a library read gives, grouped under `movies`, `shows` and `anime` (a
    bucket appears only when filled), encoded as JSON in parts (see `encode_parts`)."""
    return encode_parts(read)


_ALL_TYPES = frozenset(MediaType)
_NUMBER = re.compile(r"\s*[+-]?[0-9]+\s*")


def ratings_query(
    type_word: str | None, rating_segment: str | None, date_from: str | None
) -> RatingsQuery:
    """Parse `/sync/ratings/{type}/{rating}?date_from=` leniently, as Simkl does: an unknown
    type word means every type; a segment with no number means no rating filter; numbers
    outside 1-10 never match."""
    media_type = TYPE_OF_PLURAL.get((type_word or "").strip().lower())
    types = _ALL_TYPES if media_type is None else frozenset({media_type})
    return RatingsQuery(types, _rating_filter(rating_segment), parse_date_from(date_from))


def _rating_filter(segment: str | None) -> frozenset[int] | None:
    parts = [part for part in (segment or "").split(",") if _NUMBER.fullmatch(part)]
    # 0 stands for a number too long to convert: like any outside 1-10 it matches nothing.
    numbers = [int(part) if len(part.strip()) <= 30 else 0 for part in parts]
    if not numbers:
        return None
    return frozenset(n for n in numbers if valid_rating(n) is not None)
