"""Sync write bodies read item by item: what is refused whole, what merely cannot match; and
the `not_found` echoes every write answers with."""

from __future__ import annotations

from typing import Any

import pytest

from simkl_server.domain.kinds import Wrapper
from simkl_server.errors import MaxItems, WrongParameter
from simkl_server.wire.common import not_found, parse_json_object, parse_ref, sync_items


@pytest.mark.parametrize("body", [b"", b"  \n", b"{}"])
def test_an_empty_body_is_an_empty_object(body: bytes) -> None:
    assert parse_json_object(body) == {}


@pytest.mark.parametrize(
    "body", [b"{", b"[]", b"null", b'"x"', b"1", b'{"a": 1,}', b'{"t": "\xff"}', b"\xef\xbb\xbf{}"]
)
def test_a_body_that_is_no_json_object_is_refused(body: bytes) -> None:
    with pytest.raises(WrongParameter):
        parse_json_object(body)


def test_items_come_in_movies_shows_anime_order_and_unknown_keys_are_skipped() -> None:
    document = {
        "anime": [{"ids": {"mal": 1}}],
        "episodes": "ignored",
        "shows": [{"ids": {"tvdb": 2}}],
        "movies": [{"ids": {"imdb": "tt3"}}, {"title": "x"}],
    }

    items = sync_items(document, max_items=10)

    assert [(i.ref.wrapper, i.sent) for i in items] == [
        (Wrapper.MOVIES, {"ids": {"imdb": "tt3"}}),
        (Wrapper.MOVIES, {"title": "x"}),
        (Wrapper.SHOWS, {"ids": {"tvdb": 2}}),
        (Wrapper.ANIME, {"ids": {"mal": 1}}),
    ]


def test_null_wrappers_are_absent_wrappers() -> None:
    assert sync_items({"movies": None, "shows": []}, max_items=10) == []


@pytest.mark.parametrize(
    "document",
    [
        {"movies": {}},
        {"shows": "a"},
        {"anime": [1]},
        {"movies": [[]]},
        {"movies": [{"ids": []}]},
        {"movies": [{"ids": {"simkl": [1]}}]},
        {"movies": [{"ids": {"imdb": False}}]},
        {"movies": [{"ids": {"tmdb": {"v": 1}}}]},
        {"movies": [{"title": 12}]},
        {"movies": [{"title": "a\x00b"}]},
        {"movies": [{"ids": {"imdb": "tt1\x00"}}]},
        {"movies": [{"year": [2003]}]},
        {"movies": [{"year": True}]},
    ],
)
def test_wrong_structure_or_types_refuse_the_whole_body(document: dict[str, Any]) -> None:
    with pytest.raises(WrongParameter):
        sync_items(document, max_items=10)


def test_more_items_than_allowed_are_refused_across_wrappers() -> None:
    document: dict[str, Any] = {"movies": [{}] * 2, "anime": [{}] * 2}

    assert len(sync_items(document, max_items=4)) == 4
    with pytest.raises(MaxItems):
        sync_items(document, max_items=3)


def test_external_ids_are_normalised_and_kept_in_the_fixed_order() -> None:
    raw = {
        "ids": {
            "netflix": 70210890,
            "slug": "ignored",
            "tmdb": "0296",
            "imdb": "https://www.imdb.com/title/TT0181852/",
            "mal": 16498.0,
            "animeplanet": "One-Piece",
            "anidb": None,
            "tvdb": "the-walking-dead",
        }
    }

    ref = parse_ref(raw, Wrapper.SHOWS, where="shows[0]")

    assert ref.external == (
        ("imdb", "tt0181852"),
        ("tmdb", "296"),
        ("tvdb", "the-walking-dead"),
        ("mal", "16498"),
        ("animeplanet", "one-piece"),
        ("netflix", "70210890"),
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (53536, 53536),
        ("53536", 53536),
        (53536.0, 53536),
        ("x", None),
        (0, None),
        ("\u0665\u0663\u0665\u0663\u0666", None),  # Arabic-Indic digits are no id
    ],
)
def test_the_simkl_id_is_a_positive_integer_or_nothing(value: Any, expected: int | None) -> None:
    assert parse_ref({"ids": {"simkl": value}}, Wrapper.MOVIES, where="m").simkl == expected


@pytest.mark.parametrize(
    ("item", "title_key", "year"),
    [
        (
            {"title": "Terminator 3: Rise of the Machines", "year": 2003},
            "terminator 3 rise of the machines",
            2003,
        ),
        ({"title": "  AMÉLIE!! ", "year": "2001"}, "amélie", 2001),
        ({"title": "Hamlet"}, "hamlet", None),
        ({"title": "Hamlet", "year": "19x6"}, None, None),
        ({"title": "Hamlet", "year": 1996.5}, None, None),
        ({"year": 1996}, None, 1996),
    ],
)
def test_title_folds_and_an_unusable_year_disables_title_matching(
    item: dict[str, Any], title_key: str | None, year: int | None
) -> None:
    ref = parse_ref(item, Wrapper.MOVIES, where="m")

    assert (ref.title_key, ref.year) == (title_key, year)


def test_not_found_echoes_each_item_as_sent_with_its_type_anime_under_shows() -> None:
    document = {
        "movies": [{"ids": {"imdb": "tt1"}, "extra": [1]}],
        "anime": [{"title": "x", "year": "2003"}],
    }

    echoed = not_found(sync_items(document, max_items=5))

    assert echoed == {
        "movies": [{"ids": {"imdb": "tt1"}, "extra": [1], "type": "movie"}],
        "shows": [{"title": "x", "year": "2003", "type": "show"}],
    }
