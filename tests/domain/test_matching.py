"""Which catalog item a request item means: over HTTP against the test catalog, and the
resolution order on its own."""

from __future__ import annotations

from typing import Any

import pytest

from simkl_server.domain.kinds import MediaType, Wrapper
from simkl_server.domain.matching import resolve
from simkl_server.domain.models import CatalogHits, CatalogItem, ItemRef
from tests.api.support import (
    ATTACK_ON_TITAN,
    DEATH_NOTE,
    DEMON_SLAYER,
    DUNE_2,
    GAME_OF_THRONES,
    GOT_MOVIE,
    MALEFICENT,
    SARAH_CONNOR,
    SPIRITED_AWAY,
    TERMINATOR_3,
    TRUMAN_SHOW,
    WALKING_DEAD,
    rate,
    read,
    rows_by_id,
)
from tests.conftest import Api


def matched(api: Api, wrapper: str, item: dict[str, Any]) -> int | None:
    """The simkl id a rating of `item` under `wrapper` lands on, or None when not found."""
    answer = rate(api, {wrapper: [{**item, "rating": 7}]})
    rated = list(rows_by_id(read(api)))
    if not rated:
        assert sum(len(echoes) for echoes in answer["not_found"].values()) == 1
        return None
    assert len(rated) == 1
    return rated[0]


@pytest.mark.parametrize(
    ("wrapper", "ids", "expected"),
    [
        # ids.simkl wins over every other id.
        ("movies", {"imdb": "tt0181852", "simkl": MALEFICENT}, MALEFICENT),
        # An unknown simkl id, or one of another kind, falls through to the other ids.
        ("movies", {"simkl": 1, "imdb": "tt0181852"}, TERMINATOR_3),
        ("movies", {"simkl": "abc", "imdb": "tt0181852"}, TERMINATOR_3),
        ("movies", {"simkl": GAME_OF_THRONES, "tmdb": 102651}, MALEFICENT),
        # The fixed order decides, not the order sent.
        ("movies", {"tmdb": "102651", "imdb": "tt0181852"}, TERMINATOR_3),
        ("movies", {"netflix": 81669396, "letterboxd": "the-truman-show"}, TRUMAN_SHOW),
        ("movies", {"netflix": 81669396, "traktslug": "the-truman-show-1998"}, TRUMAN_SHOW),
        ("shows", {"tvdb": "121361", "tmdb": "1402"}, WALKING_DEAD),
        ("anime", {"anidb": 9541, "mal": 1535}, DEATH_NOTE),
        ("anime", {"kitsu": 1376, "anilist": 101922}, DEMON_SLAYER),
        ("anime", {"animeplanet": "spirited-away", "livechart": 4954}, DEATH_NOTE),
        # The first id that resolves: unknown ones are skipped.
        ("movies", {"imdb": "tt0000001", "tmdb": 296}, TERMINATOR_3),
        ("anime", {"mal": 424242, "anidb": 99999, "kitsu": "41370"}, DEMON_SLAYER),
        # Every kind resolves on its own.
        ("movies", {"letterboxd": "the-truman-show"}, TRUMAN_SHOW),
        ("movies", {"traktslug": "the-truman-show-1998"}, TRUMAN_SHOW),
        ("movies", {"netflix": "81669396"}, DUNE_2),
        ("shows", {"tvdb": 121361}, GAME_OF_THRONES),
        ("anime", {"anilist": "101922"}, DEMON_SLAYER),
        ("anime", {"livechart": 3437}, SPIRITED_AWAY),
        ("anime", {"anisearch": "3633"}, DEATH_NOTE),
        ("anime", {"animeplanet": "death-note"}, DEATH_NOTE),
        ("shows", {"mal": "16498"}, ATTACK_ON_TITAN),
    ],
)
def test_ids_resolve_simkl_first_then_in_the_fixed_order(
    api: Api, wrapper: str, ids: dict[str, Any], expected: int
) -> None:
    assert matched(api, wrapper, {"ids": ids}) == expected


@pytest.mark.parametrize(
    "ids",
    [
        {"tmdb": "296"},
        {"tmdb": 296},
        {"tmdb": 296.0},
        {"tmdb": " 296 "},
        {"simkl": "53536"},
        {"simkl": 53536.0},
        {"imdb": "tt0181852"},
        {"imdb": "TT0181852"},
        {"imdb": "https://www.imdb.com/title/tt0181852/"},
        {"imdb": "http://m.imdb.com/title/tt0181852/?ref_=nv_sr_1"},
    ],
)
def test_ids_may_be_numbers_strings_or_imdb_urls(api: Api, ids: dict[str, Any]) -> None:
    assert matched(api, "movies", {"ids": ids}) == TERMINATOR_3


@pytest.mark.parametrize(
    ("wrapper", "expected"),
    [("movies", TERMINATOR_3), ("shows", SARAH_CONNOR), ("anime", SARAH_CONNOR)],
)
def test_tmdb_is_scoped_by_the_wrapper(api: Api, wrapper: str, expected: int) -> None:
    assert matched(api, wrapper, {"ids": {"tmdb": 296}}) == expected


@pytest.mark.parametrize(
    ("wrapper", "item", "expected"),
    [
        ("movies", {"title": "terminator 3 rise of the machines", "year": 2003}, TERMINATOR_3),
        ("movies", {"title": "TERMINATOR 3:  RISE OF THE MACHINES!", "year": "2003"}, TERMINATOR_3),
        ("movies", {"title": "Terminator 3 - Rise of the Machines", "year": 2003.0}, TERMINATOR_3),
        ("movies", {"title": "Terminator 3: Rise of the Machines", "year": 2004}, None),
        ("movies", {"title": "Terminator 3: Rise of the Machines", "year": "20x3"}, None),
        ("movies", {"title": "Solaris", "year": 1972}, None),
        ("movies", {"title": "Solaris"}, None),
        ("movies", {"title": "Hamlet"}, None),
        ("movies", {"title": "Hamlet", "year": 1996}, 900011),
        ("movies", {"title": "Maleficent"}, MALEFICENT),
        ("movies", {"title": "Game of Thrones"}, GOT_MOVIE),
        ("shows", {"title": "game of thrones"}, GAME_OF_THRONES),
        ("shows", {"title": "Game of Thrones", "year": 2010}, None),
        ("anime", {"title": "spirited away", "year": 2001}, SPIRITED_AWAY),
        ("movies", {"title": "Spirited Away"}, SPIRITED_AWAY),
        ("movies", {"title": "The Walking Dead", "year": 2010}, None),
        ("movies", {"title": "", "year": 2003}, None),
        ("movies", {"year": 2003}, None),
        # Ids that resolve nothing leave the title to decide.
        ("movies", {"title": "Maleficent", "year": 2014, "ids": {"imdb": "tt0000001"}}, MALEFICENT),
    ],
)
def test_title_and_year_fold_case_and_punctuation_and_must_be_unambiguous(
    api: Api, wrapper: str, item: dict[str, Any], expected: int | None
) -> None:
    assert matched(api, wrapper, item) == expected


@pytest.mark.parametrize(
    ("wrapper", "ids", "expected"),
    [
        ("movies", {"simkl": SPIRITED_AWAY}, SPIRITED_AWAY),
        ("movies", {"mal": 199}, SPIRITED_AWAY),
        ("movies", {"simkl": GAME_OF_THRONES}, None),
        ("movies", {"imdb": "tt0944947"}, None),
        ("movies", {"simkl": ATTACK_ON_TITAN}, None),
        ("shows", {"simkl": TERMINATOR_3}, None),
        ("shows", {"imdb": "tt0181852"}, None),
        ("anime", {"simkl": MALEFICENT}, None),
        ("shows", {"simkl": ATTACK_ON_TITAN}, ATTACK_ON_TITAN),
        ("anime", {"simkl": GAME_OF_THRONES}, GAME_OF_THRONES),
        ("shows", {"simkl": SPIRITED_AWAY}, SPIRITED_AWAY),
    ],
)
def test_each_wrapper_resolves_only_its_kinds(
    api: Api, wrapper: str, ids: dict[str, Any], expected: int | None
) -> None:
    assert matched(api, wrapper, {"ids": ids}) == expected


def _item(simkl: int, kind: MediaType = MediaType.MOVIE, title: str = "x") -> CatalogItem:
    return CatalogItem(id=simkl, type=kind, title=title)


def test_resolve_walks_external_ids_in_the_refs_order_only() -> None:
    hits = CatalogHits(by_key={"imdb:tt1": _item(1), "tvdb:5": _item(2), "netflix:9": _item(3)})
    ref = ItemRef(Wrapper.MOVIES, external=(("tvdb", "5"), ("imdb", "tt1")))

    assert resolve(ref, hits) == _item(2)


def test_resolve_prefers_simkl_and_skips_items_of_another_kind() -> None:
    show = _item(7, MediaType.SHOW)
    hits = CatalogHits(by_simkl={7: show}, by_key={"imdb:tt1": _item(1)})

    assert resolve(ItemRef(Wrapper.MOVIES, simkl=7, external=(("imdb", "tt1"),)), hits) == _item(1)
    assert resolve(ItemRef(Wrapper.SHOWS, simkl=7, external=(("imdb", "tt1"),)), hits) == show


def test_resolve_by_title_needs_exactly_one_candidate_of_the_kind() -> None:
    twins = [_item(1, title="Twin"), _item(2, MediaType.SHOW, title="Twin")]
    hits = CatalogHits(by_title={"twin": twins})

    assert resolve(ItemRef(Wrapper.MOVIES, title_key="twin"), hits) == twins[0]
    assert resolve(ItemRef(Wrapper.SHOWS, title_key="twin"), hits) == twins[1]
    hits.by_title["twin"].append(_item(3, title="Twin"))
    assert resolve(ItemRef(Wrapper.MOVIES, title_key="twin"), hits) is None
