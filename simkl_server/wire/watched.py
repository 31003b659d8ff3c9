"""Watched-lookup request and response shapes: POST /sync/watched takes a JSON array of items
(ids nested or flat, or title and year; `season` + `episode` for one episode) and answers a
parallel array, each item as sent plus what the library says of it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simkl_server.domain.ids import EXTERNAL_ID_PRIORITY
from simkl_server.domain.kinds import Wrapper
from simkl_server.domain.watched import WatchedAnswer, WatchedQuestion
from simkl_server.errors import MaxItems, WrongParameter
from simkl_server.wire.common import as_integer, parse_ref
from simkl_server.wire.timestamps import format_seconds

EXTENDED_WORDS = frozenset({"counters", "episodes", "specials"})
# With per-episode answers, one call may ask about at most this many items (Simkl's cap).
MAX_EPISODE_ITEMS = 100
_ID_KINDS = ("simkl", *EXTERNAL_ID_PRIORITY)
_MOVIE_FIRST = (Wrapper.MOVIES, Wrapper.SHOWS)


def extended_flags(value: str | None) -> frozenset[str]:
    """The words of `extended` (CSV, any order); unknown ones are ignored."""
    words = {word.strip().lower() for word in (value or "").split(",")}
    return frozenset(words & EXTENDED_WORDS)


def watched_questions(
    document: Any, *, max_items: int, flags: frozenset[str]
) -> list[tuple[dict[str, Any], WatchedQuestion]]:
    """Each item of the array as sent and the question it asks."""
    if not isinstance(document, list):
        raise WrongParameter("Request body must be a JSON array of items")
    if len(document) > max_items:
        raise MaxItems(f"At most {max_items} items per request; this one has {len(document)}")
    if "episodes" in flags and len(document) > MAX_EPISODE_ITEMS:
        raise MaxItems(f"At most {MAX_EPISODE_ITEMS} items per request with extended=episodes")
    return [_question(raw, f"[{position}]") for position, raw in enumerate(document)]


def _question(raw: Any, where: str) -> tuple[dict[str, Any], WatchedQuestion]:
    if not isinstance(raw, dict):
        raise WrongParameter(f'"{where}" must be an object')
    season = _number(raw.get("season"), f"{where}.season")
    episode = _number(raw.get("episode"), f"{where}.episode")
    shaped = raw if "ids" in raw else {**raw, "ids": _flat_ids(raw)}
    kind = raw.get("type") if isinstance(raw.get("type"), str) else None
    wrappers: tuple[Wrapper, ...] = _MOVIE_FIRST
    if kind == "movie":
        wrappers = (Wrapper.MOVIES,)
    elif kind in {"show", "tv", "anime"} or episode is not None:
        wrappers = (Wrapper.SHOWS,)
    refs = tuple(parse_ref(shaped, wrapper, where=where) for wrapper in wrappers)
    return raw, WatchedQuestion(refs, season, episode)


def _flat_ids(raw: dict[str, Any]) -> dict[str, Any]:
    """Ids sent as keys of the item itself (`{"simkl": 2090}`, `{"netflix": 70262639}`)."""
    return {kind: raw[kind] for kind in _ID_KINDS if kind in raw}


def _number(value: Any, where: str) -> int | None:
    if value is None:
        return None
    number = as_integer(value) if isinstance(value, str | int | float) else None
    if isinstance(value, bool) or number is None or not 0 <= number < 2**31:
        raise WrongParameter(f'"{where}" must be a non-negative integer')
    return number


def watched_response(
    asked: Sequence[tuple[dict[str, Any], WatchedQuestion]],
    answers: Sequence[WatchedAnswer],
    flags: frozenset[str],
) -> list[dict[str, Any]]:
    """The parallel array: each item as sent, plus `result`, `simkl`, `list`,
    `last_watched_at` (and counts and episodes when `extended` asks)."""
    return [_answer(sent, answer, flags) for (sent, _), answer in zip(asked, answers, strict=True)]


def _answer(sent: dict[str, Any], answer: WatchedAnswer, flags: frozenset[str]) -> dict[str, Any]:
    out = dict(sent)
    item, entry = answer.item, answer.entry
    if item is None:
        out["result"] = "not_found"
        return out
    out["simkl"] = item.id
    out["list"] = None if entry is None else entry.status.value
    out["last_watched_at"] = None if entry is None else format_seconds(entry.last_watched_at)
    question = answer.question
    if question.episode is not None:
        key = (1 if question.season is None else question.season, question.episode)
        out["result"] = key in (answer.watched or {})
    else:
        out["result"] = entry is not None
    if flags & {"counters", "episodes"} and answer.episodes is not None:
        out |= _counters(answer, flags)
    return out


def _counters(answer: WatchedAnswer, flags: frozenset[str]) -> dict[str, Any]:
    episodes, watched = answer.episodes, answer.watched or {}
    assert episodes is not None
    regular = sorted(set(episodes.keys) | {key for key in watched if key[0] > 0})
    aired = set(episodes.aired) | {key for key in watched if key not in episodes.keys}
    listed: dict[int, list[tuple[int, int]]] = {}
    for key in regular:
        listed.setdefault(key[0], []).append(key)
    if "specials" in flags and "episodes" in flags:
        specials = [(e.season, e.number) for e in answer.catalog if e.season == 0]
        aired |= set(specials)
        if specials:
            listed = {0: specials, **listed}
    seasons = [
        _season(number, keys, aired, watched, with_episodes="episodes" in flags)
        for number, keys in listed.items()
    ]
    totals = _tally(regular, aired, watched)
    return {**totals, "seasons": seasons}


def _tally(
    keys: Sequence[tuple[int, int]], aired: set[tuple[int, int]], watched: Any
) -> dict[str, int]:
    on_air = sum(1 for key in keys if key in aired)
    return {
        "episodes_total": len(keys),
        "episodes_aired": on_air,
        "episodes_to_be_aired": len(keys) - on_air,
        "episodes_watched": sum(1 for key in keys if key in watched),
    }


def _season(
    number: int,
    keys: Sequence[tuple[int, int]],
    aired: set[tuple[int, int]],
    watched: Any,
    *,
    with_episodes: bool,
) -> dict[str, Any]:
    season: dict[str, Any] = {"number": number, **_tally(keys, aired, watched)}
    if with_episodes:
        season["episodes"] = [
            {
                "number": key[1],
                "watched": key in watched,
                "aired": key in aired,
                "last_watched_at": format_seconds(watched.get(key)),
            }
            for key in keys
        ]
    return season
