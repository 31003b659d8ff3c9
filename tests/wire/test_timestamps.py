"""Timestamps on the wire: any ISO-8601 form in, UTC `Z` out at the right precision."""

from __future__ import annotations

import pytest

from simkl_server.wire.timestamps import format_ms, format_seconds, parse_iso

T = 1_409_562_611_000  # 2014-09-01T09:10:11Z


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2014-09-01T09:10:11Z", T),
        ("2014-09-01T09:10:11.000Z", T),
        ("2014-09-01T09:10:11+00:00", T),
        ("2014-09-01T11:10:11+02:00", T),
        ("2014-09-01T04:10:11-05:00", T),
        ("2014-09-01T09:10:11.25Z", T + 250),
        ("2014-09-01T09:10:11.123456Z", T + 123),
        ("2014-09-01T09:10:11.999999Z", T + 999),
        ("2014-09-01T09:10:11", T),
        ("2014-09-01 09:10:11", T),
        ("2014-09-01t09:10:11z", T),
        ("  2014-09-01T09:10:11Z  ", T),
        ("2014-09-01", T - (9 * 3600 + 10 * 60 + 11) * 1000),
        ("1970-01-01T00:00:01Z", 1_000),
        ("1969-12-31T23:59:59.999Z", -1),
    ],
)
def test_iso_forms_parse_to_epoch_milliseconds(text: str, expected: int) -> None:
    assert parse_iso(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2014-13-01",
        "2014-09-31",
        "2014-09-01T25:00:00Z",
        "2014-09-01T09:10:11+25:00",
        "1409562611",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-05:00",
        "2014-09-01T09:10:11Z\x00",
    ],
)
def test_anything_else_is_unparsable(text: str) -> None:
    assert parse_iso(text) is None


@pytest.mark.parametrize(
    ("ms", "expected"),
    [
        (T, "2014-09-01T09:10:11.000Z"),
        (T + 7, "2014-09-01T09:10:11.007Z"),
        (T + 999, "2014-09-01T09:10:11.999Z"),
        (0, "1970-01-01T00:00:00.000Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (None, None),
    ],
)
def test_rows_print_utc_with_milliseconds(ms: int | None, expected: str | None) -> None:
    assert format_ms(ms) == expected


@pytest.mark.parametrize(
    ("ms", "expected"),
    [
        (T, "2014-09-01T09:10:11Z"),
        (T + 999, "2014-09-01T09:10:11Z"),
        (T + 1_000, "2014-09-01T09:10:12Z"),
        (-1, "1969-12-31T23:59:59Z"),
        (None, None),
    ],
)
def test_activities_print_whole_seconds_truncated(ms: int | None, expected: str | None) -> None:
    assert format_seconds(ms) == expected


@pytest.mark.parametrize("ms", [T, T + 1, T + 999, -1, 253_402_300_799_999])
def test_both_forms_read_back_to_what_they_print(ms: int) -> None:
    assert parse_iso(format_ms(ms) or "") == ms
    assert parse_iso(format_seconds(ms) or "") == ms - ms % 1000
