"""What every sync write shares: the JSON body, `{"movies": [...], "shows": [...], "anime":
[...]}` read item by item into SyncItems, and the counts and `not_found` echoes of responses.

Simkl reports an item it cannot use in `not_found` rather than failing the request, so values
that are merely unusable (an unknown id, a rating of 11, an unparsable `rated_at`) reach the
domain as "unmatchable". Structure that is wrong (a wrapper that is not an array, an item or
`ids` that is not an object, an id of a non-scalar type, a title too long to fold) fails the
whole request with 400 wrong_parameter before anything is applied.

Integers too wide for 64 bits are kept exact (orjson would read them as floats), so an item
echoed in `not_found` comes back as it was sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from simkl_server.domain.ids import external_ids, parse_simkl_id, title_key
from simkl_server.domain.kinds import RESPONSE_BUCKETS, WRAPPERS, Wrapper
from simkl_server.domain.models import EpisodeTarget, ItemRef, SeasonTarget, SyncItem
from simkl_server.errors import EmptyField, MaxItems, WrongParameter
from simkl_server.wire.timestamps import parse_iso

# Longer digit strings are no usable year or rating (and int() refuses past 4,300 digits).
_INTEGER = re.compile(r"\s*[+-]?[0-9]{1,30}\s*")
# A number token of 19 digits or more: it may not fit orjson's 64-bit integers. The regular
# expression is slow on megabytes, so a cheap test (19 digits in a row anywhere) comes first.
_WIDE_NUMBER = re.compile(rb"[:,\[]\s*-?[0-9]{19}")
_DIGITS_ONLY = bytes(
    ord("0") if chr(byte).isdigit() and byte < 128 else ord("x") for byte in range(256)
)
_WIDE_DIGITS = b"0" * 19
_NOT_DIGITS = bytes(byte for byte in range(256) if not ord("0") <= byte <= ord("9"))
_INT64_MIN, _UINT64_MAX = -(2**63), 2**64 - 1
# Repeated keys are named in the error only for bodies this small (naming needs a slow,
# memory-hungry second parse).
_NAMED_REPEAT_BYTES = 64 * 1024
# The longest title folded when a caller names no limit (the server passes its setting).
MAX_TITLE_CHARS = 1_000


class WideInt(int):
    """An integer beyond 64 bits as the client sent it; responses write it back exactly."""

    __slots__ = ()


def _exact_int(text: str) -> int:
    number = int(text)
    return number if _INT64_MIN <= number <= _UINT64_MAX else WideInt(number)


def kept_json(value: Any) -> bytes:
    """`value` as JSON bytes of their own size, for an answer kept in memory: orjson's result
    holds a 4 KB buffer however short it is (100,000 short results kept: 400 MB)."""
    return bytes(memoryview(orjson.dumps(value)))


def parse_json_object(body: bytes) -> dict[str, Any]:
    """The request body as a JSON object; an empty body counts as `{}`."""
    document = parse_json(body, empty={})
    if not isinstance(document, dict):
        raise WrongParameter("Request body must be a JSON object")
    return document


def parse_json(body: bytes, *, empty: Any) -> Any:
    """The request body as JSON (`empty` when there is none); an object repeating a key
    anywhere in it is refused."""
    if not body.strip():
        return empty
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise WrongParameter(f"Request body is not valid JSON: {exc.msg}") from None
    _reject_duplicate_keys(body, document)
    if _may_hold_wide_number(body) and _WIDE_NUMBER.search(body) is not None:
        exact: dict[str, Any] = json.loads(body, parse_int=_exact_int)
        return exact
    return document


def _may_hold_wide_number(body: bytes) -> bool:
    """19 digits in a row somewhere (cheap tests first: a body of megabytes is common)."""
    if len(body.translate(None, _NOT_DIGITS)) < len(_WIDE_DIGITS):
        return False
    return _WIDE_DIGITS in body.translate(_DIGITS_ONLY)


def _reject_duplicate_keys(body: bytes, document: Any) -> None:
    """Refuse an object that repeats a key: orjson silently keeps the last value, but which
    one the client meant is unknowable.

    Outside strings a colon only ever separates a key from its value, and orjson writes colons
    inside strings unescaped, so re-encoding the document gives back exactly the body's colons
    plus those it escaped as `\\u003a`, unless a repeated key dropped a member (and at least
    its own colon). That is exact, and linear in the body's size."""
    try:
        encoded = orjson.dumps(document)
    except orjson.JSONEncodeError:  # deeper than orjson writes (254 levels); no Simkl body is
        raise WrongParameter("Request body is nested too deeply") from None
    colons = body.count(b":")
    if b"\\" in body and b"\\u" in body:  # one byte is found far faster than two
        # Escaped backslashes (pairs, from the left of each run) first: what stays is a
        # backslash that starts an escape.
        unescaped = body.replace(b"\\\\", b"") if b"\\\\" in body else body
        colons += unescaped.count(b"\\u003a") + unescaped.count(b"\\u003A")
    if colons == encoded.count(b":"):
        return
    repeated = _repeated_key(body) if len(body) <= _NAMED_REPEAT_BYTES else None
    shown = "a key" if repeated is None else f"the key {repeated[:100]!r}"
    raise WrongParameter(f"Request body repeats {shown} in one object: ambiguous")


def _repeated_key(body: bytes) -> str | None:
    """The first key some object of the body repeats (the body is known to be valid JSON)."""
    repeated: list[str] = []

    def pairs(members: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in members:
            if key in seen:
                repeated.append(key)
            seen.add(key)
        return dict(members)

    json.loads(body, object_pairs_hook=pairs)
    return repeated[0] if repeated else None


def sync_items(
    document: dict[str, Any],
    *,
    max_items: int,
    episodes: bool = False,
    wrappers: tuple[Wrapper, ...] = WRAPPERS,
    max_title_chars: int = MAX_TITLE_CHARS,
) -> list[SyncItem]:
    """Every item under movies[], shows[] and anime[] (or the given arrays), in that order;
    with `episodes`, the seasons and episodes each item narrows the write to. A title longer
    than `max_title_chars` (the server passes its setting) is refused before it is folded."""
    # Counted before any item is read: reading 100k items would hold the event loop for seconds.
    # (Wrappers are str enums: they index the document as they are; `.value` costs a lookup.)
    count = sum(len(a) for w in wrappers if isinstance(a := document.get(w), list))
    if count > max_items:
        raise MaxItems(f"At most {max_items} items per request; this one has {count}")
    items = []
    budget = _EpisodeBudget(max_items * EPISODES_PER_ITEM)
    for wrapper, raw, where in _walk(document, wrappers):
        ref = parse_ref(raw, wrapper, where=where, max_title_chars=max_title_chars)
        if not episodes or wrapper is Wrapper.MOVIES:
            items.append(SyncItem(raw, ref))
            continue
        seasons, bad_date = parse_seasons(raw, where, budget)
        items.append(SyncItem(raw, ref, seasons, bad_date))
    return items


# Seasons and episodes one request may name, per item it may carry: a long show's whole
# history fits many times over, a body built to keep the server busy does not.
EPISODES_PER_ITEM = 10


@dataclass(slots=True)
class _EpisodeBudget:
    left: int

    def spend(self, count: int) -> None:
        self.left -= count
        if self.left < 0:
            raise MaxItems("Too many seasons and episodes in one request")


def parse_seasons(
    raw: dict[str, Any], where: str, budget: _EpisodeBudget | None = None
) -> tuple[tuple[SeasonTarget, ...] | None, bool]:
    """The seasons an item names (`seasons[]`, and the `episodes[]` shorthand for season 1),
    or None for the whole item; and whether some date in them does not parse."""
    seasons_raw = _array(raw.get("seasons"), f"{where}.seasons")
    shorthand = _array(raw.get("episodes"), f"{where}.episodes")
    if seasons_raw is None and shorthand is None:
        return None, False
    budget = budget or _EpisodeBudget(len(seasons_raw or ()) + len(shorthand or ()))
    bad = False
    seasons: list[SeasonTarget] = []
    for position, entry in enumerate(seasons_raw or ()):
        season, season_bad = _season(entry, f"{where}.seasons[{position}]", budget)
        seasons.append(season)
        bad = bad or season_bad
    if shorthand is not None:
        budget.spend(len(shorthand))
        episodes, episodes_bad = _episodes(shorthand, 1, f"{where}.episodes")
        seasons.append(SeasonTarget(1, episodes))
        bad = bad or episodes_bad
    return tuple(seasons), bad


def _array(value: Any, where: str) -> list[Any] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise WrongParameter(f'"{where}" must be an array of objects')
    return value


def _season(entry: Any, where: str, budget: _EpisodeBudget) -> tuple[SeasonTarget, bool]:
    budget.spend(1)
    if not isinstance(entry, dict):
        raise WrongParameter(f'"{where}" must be an object')
    number = _number(entry.get("number"), f"{where}.number")
    if number is None:
        raise EmptyField(f'Missed "number" parameter in "{where}"')
    watched_at, bad = _date(entry.get("watched_at"))
    listed = _array(entry.get("episodes"), f"{where}.episodes")
    if listed is None:
        return SeasonTarget(number, None, watched_at), bad
    budget.spend(len(listed))
    episodes, episodes_bad = _episodes(listed, number, f"{where}.episodes")
    return SeasonTarget(number, episodes, watched_at), bad or episodes_bad


def _episodes(listed: list[Any], season: int, where: str) -> tuple[tuple[EpisodeTarget, ...], bool]:
    episodes: list[EpisodeTarget] = []
    bad = False
    for position, entry in enumerate(listed):
        here = f"{where}[{position}]"
        if not isinstance(entry, dict):
            raise WrongParameter(f'"{here}" must be an object')
        number = _number(entry.get("number"), f"{here}.number")
        tvdb = _episode_tvdb(entry.get("ids"), here)
        if number is None and tvdb is None:
            raise EmptyField(f'Missed "number" parameter in "{here}"')
        watched_at, episode_bad = _date(entry.get("watched_at"))
        episodes.append(EpisodeTarget(season, number, watched_at, tvdb))
        bad = bad or episode_bad
    return tuple(episodes), bad


def _number(value: Any, where: str) -> int | None:
    """A season or episode number: a non-negative integer (or integer string)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise WrongParameter(f'"{where}" must be an integer')
    number = as_integer(value)
    if number is None or not 0 <= number < 2**31:
        raise WrongParameter(f'"{where}" must be a non-negative integer')
    return number


def _episode_tvdb(ids: Any, where: str) -> int | None:
    """An episode's own TVDB id, which takes priority over its number."""
    if ids is None:
        return None
    if not isinstance(ids, dict):
        raise WrongParameter(f'"{where}.ids" must be an object')
    value = ids.get("tvdb")
    if value is None or isinstance(value, bool) or not isinstance(value, str | int):
        return None
    number = as_integer(value)
    return number if number is not None and 0 < number < 2**63 else None


def _date(value: Any) -> tuple[int | None, bool]:
    """A `watched_at`: epoch milliseconds, or (None, True) when it does not parse."""
    if value is None:
        return None, False
    stamp = parse_iso(value) if isinstance(value, str) else None
    return stamp, stamp is None


def item_date(raw: dict[str, Any], name: str) -> tuple[int | None, bool]:
    """An item's date field (`watched_at`, `added_at`, ...): (milliseconds or None, bad)."""
    return _date(raw.get(name))


def _walk(
    document: dict[str, Any], wrappers: tuple[Wrapper, ...] = WRAPPERS
) -> Iterator[tuple[Wrapper, dict[str, Any], str]]:
    for wrapper in wrappers:
        array = document.get(wrapper)
        if array is None:
            continue
        if not isinstance(array, list):
            raise WrongParameter(f'"{wrapper}" must be an array of objects')
        for position, raw in enumerate(array):
            where = f"{wrapper}[{position}]"
            if not isinstance(raw, dict):
                raise WrongParameter(f'"{where}" must be an object')
            yield wrapper, raw, where


def parse_ref(
    raw: dict[str, Any], wrapper: Wrapper, *, where: str, max_title_chars: int = MAX_TITLE_CHARS
) -> ItemRef:
    """How one item identifies its media: ids, then title and year."""
    ids = raw.get("ids")
    simkl: str | int | None = None
    external: tuple[tuple[str, str], ...] = ()
    if ids is not None and not isinstance(ids, dict):
        raise WrongParameter(f'"{where}.ids" must be an object')
    if ids:
        scalars = {kind: _id_scalar(value, where, kind) for kind, value in ids.items()}
        simkl = scalars.get("simkl")
        external = external_ids(scalars)
    if "title" in raw or "year" in raw:
        title, year, year_usable = _title_and_year(raw, where, max_title_chars)
        folded = title_key(title) if title and year_usable else None
    else:  # the usual item: ids alone
        year = folded = None
    # Positional: a batch builds thousands of these, and keywords cost a third more.
    return ItemRef(
        wrapper, None if simkl is None else parse_simkl_id(simkl), external, folded, year
    )


def _id_scalar(value: Any, where: str, kind: str) -> str | int | None:
    """An id's value as given (a whole float as an integer); the error names `where`.ids.`kind`
    (built only then: a batch has thousands of ids)."""
    if type(value) is int:  # the usual id, a JSON integer (not a bool, whose type is bool)
        return value
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise WrongParameter(f'"{where}.ids.{kind}" must be a string or an integer')
    if isinstance(value, str):
        reject_nul(value, where, ".ids.", kind)
    return value


def _title_and_year(
    raw: dict[str, Any], where: str, max_chars: int
) -> tuple[str | None, int | None, bool]:
    title = raw.get("title")
    if title is not None and not isinstance(title, str):
        raise WrongParameter(f'"{where}.title" must be a string')
    if title is not None:
        reject_nul(title, where, ".title")
        if len(title) > max_chars:  # folding (NFKC) can make it 18 times longer
            raise WrongParameter(f'"{where}.title" is longer than {max_chars} characters')
    year = raw.get("year")
    if year is None:
        return title, None, True
    if isinstance(year, bool) or not isinstance(year, str | int | float):
        raise WrongParameter(f'"{where}.year" must be an integer')
    number = as_integer(year)
    return title, number, number is not None


def as_integer(value: str | int | float) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    return int(value) if _INTEGER.fullmatch(value) else None


def reject_nul(text: str, *where: str) -> None:
    """Refuse text holding NUL; `where`'s parts name it, joined only for the error (a batch
    checks thousands of ids)."""
    if "\x00" in text:
        raise WrongParameter(f'"{"".join(where)}" must not contain NUL characters')


def echo(item: SyncItem) -> dict[str, Any]:
    """The item as sent, plus the `type` Simkl adds (`movie`, or `show` for shows and anime)."""
    return {**item.sent, "type": item.ref.wrapper.echo_type}


def not_found(items: Iterable[SyncItem]) -> dict[str, list[Any]]:
    """`{"movies": [...], "shows": [...]}`: unmatched items echoed, anime under shows."""
    buckets: dict[str, list[Any]] = {bucket: [] for bucket in RESPONSE_BUCKETS}
    for item in items:
        buckets[item.ref.wrapper.response_bucket].append(echo(item))
    return buckets
