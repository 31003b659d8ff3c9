"""Ratings on write items: what counts as a rating, the `?rating=` fallback, `rated_at`."""

from __future__ import annotations

from typing import Any

import pytest

from simkl_server.wire.common import sync_items
from simkl_server.wire.ratings import rating_inputs


@pytest.mark.parametrize(
    ("rating", "expected"),
    [
        (1, 1),
        (10, 10),
        ("8", 8),
        (" 7 ", 7),
        (0, None),
        (11, None),
        (-1, None),
        (100, None),
        (8.5, None),
        (8.0, None),
        (None, None),
        (True, None),
        ("abc", None),
        ("8.5", None),
        ([8], None),
        ("\u0668", None),  # ARABIC-INDIC DIGIT EIGHT: only ASCII digits make a number
    ],
)
def test_only_integers_from_1_to_10_are_ratings(rating: Any, expected: int | None) -> None:
    items = sync_items({"movies": [{"ids": {"simkl": 1}, "rating": rating}]}, max_items=1)

    assert rating_inputs(items, query_rating=None)[0].rating == expected


def test_the_query_rating_fills_in_only_missing_ratings() -> None:
    document = {"movies": [{"ids": {"simkl": 1}}, {"ids": {"simkl": 2}, "rating": 4}]}

    inputs = rating_inputs(sync_items(document, max_items=2), query_rating="9")

    assert [entry.rating for entry in inputs] == [9, 4]


@pytest.mark.parametrize(
    ("rated_at", "stamp", "invalid"),
    [
        ("2014-09-01T09:10:11Z", 1_409_562_611_000, False),
        ("2014-09-01", 1_409_529_600_000, False),
        (None, None, False),
        ("soon", None, True),
        (1409562611, None, True),
    ],
)
def test_rated_at_is_parsed_or_marks_the_item_unusable(
    rated_at: Any, stamp: int | None, invalid: bool
) -> None:
    document = {"movies": [{"ids": {"simkl": 1}, "rating": 5, "rated_at": rated_at}]}

    entry = rating_inputs(sync_items(document, max_items=1), query_rating=None)[0]

    assert (entry.rated_at, entry.rated_at_invalid, entry.acceptable) == (
        stamp,
        invalid,
        not invalid,
    )
