"""Responses of the ratings family."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from simkl_server.domain.models import LibraryRow, MediaType, Wrapper
from simkl_server.domain.ratings import (
    AddOutcome,
    Counts,
    RatingInput,
    RatingsQuery,
    RemoveOutcome,
    valid_rating,
)
from simkl_server.errors import WrongParameter
from simkl_server.wire.media import media_object
from simkl_server.wire.sync_items import SentItem
from simkl_server.wire.timestamps import format_ms, parse_iso

_ECHO_TYPE = {Wrapper.MOVIES: "movie", Wrapper.SHOWS: "show", Wrapper.ANIME: "show"}
_READ_BUCKET = {MediaType.MOVIE: "movies", MediaType.SHOW: "shows", MediaType.ANIME: "anime"}


def echo(item: SentItem) -> dict[str, Any]:
    """The item as sent, plus the `type` Simkl adds (`movie`, or `show` for shows and anime)."""
    return {**item.raw, "type": _ECHO_TYPE[item.ref.wrapper]}


def _counts(counts: Counts) -> dict[str, int]:
    return {"movies": counts.movies, "shows": counts.shows}


def _not_found(items: Sequence[SentItem], positions: Sequence[int]) -> dict[str, list[Any]]:
    buckets: dict[str, list[Any]] = {"movies": [], "shows": []}
    for position in positions:
        item = items[position]
        buckets["movies" if item.ref.wrapper is Wrapper.MOVIES else "shows"].append(echo(item))
    return buckets


def remove_response(items: Sequence[SentItem], outcome: RemoveOutcome) -> dict[str, Any]:
    """`{"deleted": {...}, "not_found": {...}}` of POST /sync/ratings/remove."""
    return {"deleted": _counts(outcome.deleted), "not_found": _not_found(items, outcome.not_found)}


def add_response(
    items: Sequence[SentItem], inputs: Sequence[RatingInput], outcome: AddOutcome
) -> dict[str, Any]:
    """`{"added": {..., "statuses": [...]}, "not_found": {...}}` of POST /sync/ratings."""
    statuses = [
        {
            "request": _applied_echo(items[position], inputs[position]),
            "response": {"status": status},
        }
        for position, status in outcome.statuses
    ]
    return {
        "added": {**_counts(outcome.added), "statuses": statuses},
        "not_found": _not_found(items, outcome.not_found),
    }


def _applied_echo(item: SentItem, entry: RatingInput) -> dict[str, Any]:
    sent = echo(item)
    if entry.rated_at is not None:
        sent["rated_at"] = format_ms(entry.rated_at)
    return sent


def ratings_response(rows: Sequence[LibraryRow]) -> dict[str, list[dict[str, Any]]]:
    """Rows grouped under `movies`, `shows` and `anime`; a bucket appears only when filled."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(_READ_BUCKET[row.item.type], []).append(library_row(row))
    return grouped


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


_TYPE_WORDS = {"movies": MediaType.MOVIE, "shows": MediaType.SHOW, "anime": MediaType.ANIME}
_ALL_TYPES = frozenset(MediaType)
_NUMBER = re.compile(r"\s*[+-]?[0-9]+\s*")


def ratings_query(
    type_word: str | None, rating_segment: str | None, date_from: str | None
) -> RatingsQuery:
    """Parse `/sync/ratings/{type}/{rating}?date_from=` leniently, as Simkl does: an unknown
    type word means every type; a segment with no number means no rating filter; numbers
    outside 1-10 never match."""
    media_type = _TYPE_WORDS.get((type_word or "").strip().lower())
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
