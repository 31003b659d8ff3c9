"""Ratings request and response shapes: ratings on write items, the write answers, the read
path's filters and its rows."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import orjson

from simkl_server.domain.kinds import TYPE_OF_PLURAL, MediaType
from simkl_server.domain.models import LibraryRow, RatingsQuery, SyncItem
from simkl_server.domain.ratings import (
    AddOutcome,
    Counts,
    RatingInput,
    RemoveOutcome,
    valid_rating,
)
from simkl_server.errors import WrongParameter
from simkl_server.wire.common import echo, not_found
from simkl_server.wire.media import media_object
from simkl_server.wire.timestamps import format_ms, parse_iso

# Longer digit strings are no usable rating (and int() refuses past 4,300 digits).
_INTEGER = re.compile(r"\s*[+-]?[0-9]{1,30}\s*")


def rating_inputs(items: Sequence[SyncItem], *, query_rating: str | None) -> list[RatingInput]:
    """Each item's rating (falling back to `?rating=`) and `rated_at`, validated."""
    fallback = _rating_value(query_rating)
    return [_rating_input(item, fallback) for item in items]


def _rating_input(item: SyncItem, fallback: int | None) -> RatingInput:
    sent = item.sent.get("rating")
    rating = fallback if sent is None else _rating_value(sent)
    rated_at = item.sent.get("rated_at")
    if rated_at is None:
        return RatingInput(item, rating)
    stamp = parse_iso(rated_at) if isinstance(rated_at, str) else None
    return RatingInput(item, rating, stamp, rated_at_invalid=stamp is None)


def _rating_value(value: Any) -> int | None:
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


def ratings_response(rows: Sequence[LibraryRow]) -> dict[str, list[dict[str, Any]]]:
    """Rows grouped under `movies`, `shows` and `anime`; a bucket appears only when filled."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row.item.type.plural, []).append(library_row(row))
    return grouped


class RatingsDocument:
    """The ratings read's JSON, rendered a batch of rows at a time as rows arrive (a whole
    library's dictionaries never exist at once): the same bytes `ratings_response` gives. A
    single batch (a small library, the common case) is encoded in one piece."""

    def __init__(self) -> None:
        self._first: dict[str, list[dict[str, Any]]] | None = None
        self._parts: dict[str, list[bytes]] = {}  # bucket -> its rendered rows, comma-joined

    def add(self, rows: Sequence[LibraryRow]) -> None:
        """Render a batch of rows (in read order) into their buckets."""
        if self._first is None and not self._parts:
            self._first = ratings_response(rows)
            return
        if self._first is not None:
            self._encode(self._first)
            self._first = None
        self._encode(ratings_response(rows))

    def _encode(self, grouped: dict[str, list[dict[str, Any]]]) -> None:
        for bucket, entries in grouped.items():
            part = orjson.dumps(entries)[1:-1]  # the entries without the enclosing brackets
            self._parts.setdefault(bucket, []).append(part)

    def chunks(self) -> Iterator[bytes]:
        """The document in pieces: `{"movies":[...],"shows":[...]}`, `{}` when empty."""
        if not self._parts:
            yield orjson.dumps(self._first or {})
            return
        yield b"{"
        for number, (bucket, parts) in enumerate(self._parts.items()):
            yield (b',"' if number else b'"') + bucket.encode("ascii") + b'":['
            yield from _joined(parts)
            yield b"]"
        yield b"}"


def _joined(parts: list[bytes]) -> Iterator[bytes]:
    """The parts with commas between, each as it is (joining would copy megabytes)."""
    for number, part in enumerate(parts):
        if number:
            yield b","
        yield part


def library_row(row: LibraryRow) -> dict[str, Any]:
    """One library entry: watch state, the user's rating and the media object."""
    entry: dict[str, Any] = {
        "last_watched_at": format_ms(row.last_watched_at),
        "user_rated_at": format_ms(row.user_rated_at),
        "user_rating": row.user_rating,
        "status": row.status.value,
    }
    if row.item.type is MediaType.MOVIE:
        entry["movie"] = media_object(row.item)
        return entry
    entry["last_watched"] = row.last_watched
    entry["next_to_watch"] = row.next_to_watch
    if row.item.type is MediaType.ANIME and row.item.anime_type is not None:
        entry["anime_type"] = row.item.anime_type
    entry["show"] = media_object(row.item)
    return entry


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
    return RatingsQuery(types, _rating_filter(rating_segment), _date_from(date_from))


def _rating_filter(segment: str | None) -> frozenset[int] | None:
    parts = [part for part in (segment or "").split(",") if _NUMBER.fullmatch(part)]
    # 0 stands for a number too long to convert: like any outside 1-10 it matches nothing.
    numbers = [int(part) if len(part.strip()) <= 30 else 0 for part in parts]
    if not numbers:
        return None
    return frozenset(n for n in numbers if valid_rating(n) is not None)


def _date_from(text: str | None) -> int | None:
    if text is None or not text.strip():
        return None
    stamp = parse_iso(text)
    if stamp is None:
        raise WrongParameter(f"date_from is not an ISO-8601 date-time: {text!r}")
    return stamp
