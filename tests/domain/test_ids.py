"""External ids in their canonical form; a value that cannot be an id is None."""

from __future__ import annotations

import pytest

from simkl_server.domain.ids import external_ids, normalize_id


@pytest.mark.parametrize(
    ("kind", "value", "normal"),
    [
        ("imdb", " TT0181852 ", "tt0181852"),
        ("tmdb", "+0603", "603"),
        ("letterboxd", "The-Matrix", "the-matrix"),
        ("letterboxd", "", None),
        ("tmdb", "six", None),
    ],
)
def test_ids_take_their_canonical_form(kind: str, value: str, normal: str | None) -> None:
    assert normalize_id(kind, value) == normal


@pytest.mark.parametrize("value", ["\x00", "the-matrix\x00", "tt0181852\x00", "6\x0003"])
@pytest.mark.parametrize("kind", ["letterboxd", "imdb", "tmdb", "tvdb"])
def test_no_id_holds_nul(kind: str, value: str) -> None:
    assert normalize_id(kind, value) is None


def test_external_ids_come_normalized_in_priority_order_without_the_unusable() -> None:
    given: dict[str, str | int | None] = {
        "letterboxd": "The-Matrix",
        "simkl": 53992,
        "tmdb": "+0603",
        "imdb": "TT0133093",
    }
    unusable: dict[str, str | int | None] = {"tvdb": None, "mal": "six", "unknown": "7"}
    assert external_ids({**given, **unusable}) == (
        ("imdb", "tt0133093"),
        ("tmdb", "603"),
        ("letterboxd", "the-matrix"),
    )
    assert external_ids({}) == ()
