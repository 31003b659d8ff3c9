"""Timestamps on the wire: any ISO-8601 form in, UTC with a `Z` out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)
_EARLIEST_MS = (datetime(1, 1, 1, tzinfo=UTC) - _EPOCH) // _ONE_MS
_LATEST_MS = (datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC) - _EPOCH) // _ONE_MS


def parse_iso(text: str) -> int | None:
    """Epoch milliseconds of an ISO-8601 date or date-time (naive means UTC), or None."""
    if "\x00" in text:  # CPython's parser stops at a NUL and would accept what follows
        return None
    try:
        moment = datetime.fromisoformat(text.strip().upper())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    ms = (moment - _EPOCH) // _ONE_MS
    return ms if _EARLIEST_MS <= ms <= _LATEST_MS else None


@lru_cache(maxsize=65_536)
def _date_text(days: int) -> str:
    """`YYYY-MM-DDT` of a day number since the epoch (cached: rows share few days)."""
    day = _EPOCH + timedelta(days=days)
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}T"


@lru_cache(maxsize=65_536)
def _clock_text(seconds: int) -> str:
    # Plain arithmetic on the time of day, cached: formatting is on the hot path of every
    # read, and one response repeats the same few seconds many times.
    days, in_day = divmod(seconds, 86_400)
    hours, in_hour = divmod(in_day, 3600)
    minutes, secs = divmod(in_hour, 60)
    return f"{_date_text(days)}{hours:02d}:{minutes:02d}:{secs:02d}"


def format_ms(ms: int | None) -> str | None:
    """`2014-09-01T09:10:11.000Z`: the precision of ratings and library rows."""
    if ms is None:
        return None
    return f"{_clock_text(ms // 1000)}.{ms % 1000:03d}Z"


def format_seconds(ms: int | None) -> str | None:
    """`2026-05-14T06:50:38Z`: activities' precision, truncated so it never runs ahead."""
    if ms is None:
        return None
    return f"{_clock_text(ms // 1000)}Z"
