"""The search endpoints over HTTP: /search/id by every id key, /search/{type} (folding,
ranking, pagination, an index that follows every write to the catalog), /search/file,
/search/random and /redirect; none needs a token, all need a known app."""

from __future__ import annotations

from typing import Any

import pytest

from simkl_server.domain.ids import item_lookup_keys, title_key
from simkl_server.domain.kinds import MediaType
from simkl_server.domain.models import CatalogItem, CatalogUpsert
from simkl_server.storage.base import WriteTx
from tests.api.support import import_catalog
from tests.conftest import Api
from tests.helpers import assert_simkl_error
from tests.seed import answer

INCEPTION, WALKING_DEAD, GAME_OF_THRONES, ATTACK_ON_TITAN = 472214, 2090, 17465, 39687


def search_id(api: Api, **params: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = answer(api.get("/search/id", params=params, token=None), 200)
    return found


def simkl_ids(found: list[dict[str, Any]]) -> list[int]:
    return [row["ids"]["simkl"] for row in found]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"simkl": "2090"}, WALKING_DEAD),
        ({"imdb": "tt1375666"}, INCEPTION),
        ({"imdb": "https://www.imdb.com/title/tt1375666/"}, INCEPTION),
        ({"tmdb": "27205"}, INCEPTION),
        ({"tmdb": "1399", "type": "show"}, GAME_OF_THRONES),
        ({"tvdb": "153021"}, WALKING_DEAD),
        ({"mal": "16498"}, ATTACK_ON_TITAN),
        ({"anidb": "9541"}, ATTACK_ON_TITAN),
        ({"anilist": "101922"}, 831411),
        ({"kitsu": "41370"}, 831411),
        ({"letterboxd": "the-truman-show"}, 210728),
        ({"boxd": "the-truman-show"}, 210728),
        ({"traktslug": "the-truman-show-1998"}, 210728),
        ({"netflix": "81669396"}, 752138),
        ({"title": "the walking dead"}, WALKING_DEAD),
        ({"title": "Hamlet", "year": "1996"}, 900011),
    ],
)
def test_search_id_finds_an_item_by_every_id_key(
    api: Api, params: dict[str, str], expected: int
) -> None:
    assert simkl_ids(search_id(api, **params)) == [expected]


def test_search_id_answers_the_legacy_record(api: Api) -> None:
    (record,) = search_id(api, mal="16498")
    assert record == {
        "type": "anime",
        "title": "Attack on Titan",
        "year": 2013,
        "status": "ended",
        "total_episodes": 25,
        "anime_type": "tv",
        "ids": {"simkl": ATTACK_ON_TITAN, "slug": "attack-on-titan"},
        "mal": {"id": 16498, "type": "tv"},
    }


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"imdb": "tt0000001"},
        {"imdb": "not an id"},
        {"tmdb": "1399"},  # a show's number, looked up among movies without type=show
        {"title": "Hamlet"},  # two items bear it
        {"title": "Inception", "type": "show"},
        {"simkl": "-5"},
        {"simkl": "9" * 400},
    ],
)
def test_search_id_answers_an_empty_array_when_nothing_or_several_match(
    api: Api, params: dict[str, str]
) -> None:
    assert search_id(api, **params) == []


def test_the_simkl_id_wins_then_the_fixed_order(api: Api) -> None:
    assert simkl_ids(search_id(api, simkl="2090", imdb="tt1375666")) == [WALKING_DEAD]
    assert simkl_ids(search_id(api, tvdb="153021", imdb="tt1375666")) == [INCEPTION]


def test_catalog_reads_need_an_app_but_no_token(api: Api) -> None:
    for method, path in [
        ("GET", "/search/id?simkl=2090"),
        ("GET", "/search/tv?q=dead"),
        ("POST", "/search/file"),
        ("POST", "/search/random"),
        ("GET", "/redirect?simkl=2090"),
        ("GET", "/tv/2090"),
    ]:
        refused = api.request(method, path, client_id=None, token=None)
        assert_simkl_error(refused, 412, "client_id_failed")
        assert api.request(method, path, token=None).status_code in (200, 301), path


# ---- /search/{type} ------------------------------------------------------------------------


def titles(api: Api, kind: str, q: str, **params: str) -> list[str]:
    found = answer(api.get(f"/search/{kind}", params={"q": q, **params}, token=None), 200)
    return [row["title"] for row in found]


@pytest.mark.parametrize("q", ["walking dead", "WALKING DEAD", "walking-dead!", "  Wálking  "])
def test_text_search_ignores_case_accents_and_punctuation(api: Api, q: str) -> None:
    assert titles(api, "tv", q) == ["The Walking Dead"]


def test_words_match_as_prefixes_in_any_order(api: Api) -> None:
    assert titles(api, "tv", "dead walk") == ["The Walking Dead"]
    assert titles(api, "movie", "termin") == ["Terminator 3: Rise of the Machines"]


def test_each_type_searches_its_own_items(api: Api) -> None:
    assert titles(api, "movie", "game of thrones") == ["Game of Thrones"]
    assert titles(api, "tv", "game of thrones") == ["Game of Thrones"]
    assert titles(api, "anime", "attack") == ["Attack on Titan"]
    assert titles(api, "movie", "attack") == []


def test_the_whole_title_ranks_first_then_titles_starting_with_it(api: Api) -> None:
    assert titles(api, "movie", "dune") == ["Dune: Part Two", "Dune: Part Two"]
    assert titles(api, "movie", "the")[:2] == ["The Matrix", "The Godfather"]


def test_pages_are_clamped_and_counted_in_headers(api: Api) -> None:
    response = api.get("/search/movie", params={"q": "the", "limit": "1", "page": "2"}, token=None)
    assert answer(response, 200)[0]["title"] == "The Godfather"
    total = int(response.headers["X-Pagination-Item-Count"])
    assert total >= 3
    assert response.headers["X-Pagination-Page-Count"] == str(total)
    clamped = api.get("/search/movie", params={"q": "the", "limit": "500", "page": "99"})
    assert (clamped.headers["X-Pagination-Limit"], clamped.headers["X-Pagination-Page"]) == (
        "50",
        "20",
    )
    assert answer(clamped, 200) == []


def test_odd_queries_find_nothing_and_unknown_types_are_404(api: Api) -> None:
    for q in ["", "!!!", '"', "*", "AND", "a:b", "'; DROP TABLE catalog_items; --"]:
        assert titles(api, "movie", q) == [] or q == "AND", q
    assert_simkl_error(api.get("/search/books", params={"q": "x"}), 404, "url_failed")
    for post_only in ("/search/file", "/search/random"):
        refused = assert_simkl_error(api.get(post_only), 405, "wrong_method")
        assert refused["code"] == 405
    too_long = api.get("/search/movie", params={"q": "x" * 1001})
    assert_simkl_error(too_long, 400, "wrong_parameter")


def test_the_index_follows_imports_renames_and_other_writers(own_catalog: Api) -> None:
    api = own_catalog
    import_catalog(api, {"type": "show", "title": "Pokémon", "year": 1997, "ids": {"simkl": 1}})
    assert titles(api, "tv", "pokemon") == ["Pokémon"]
    import_catalog(api, {"type": "show", "title": "Pocket Monsters", "ids": {"simkl": 1}})
    assert titles(api, "tv", "pokemon") == []
    assert titles(api, "tv", "pocket") == ["Pocket Monsters"]

    learned = CatalogItem(id=2, type=MediaType.SHOW, title="Learned Show", ids={"tvdb": "7"})

    async def write(tx: WriteTx) -> None:  # as any other writer of the catalog would
        await tx.catalog.upsert(
            [CatalogUpsert(learned, title_key(learned.title), item_lookup_keys(learned))]
        )

    api.call(api.store.transaction, write)
    assert titles(api, "tv", "learned") == ["Learned Show"]
    api.call(api.store.reset, keep_catalog=False)  # accounts go too: ask the store itself
    left = api.call(
        api.store.read.search.titles, ["learned"], key="learned", type_="show", limit=5, offset=0
    )
    assert left == []


# ---- /search/file --------------------------------------------------------------------------


def file(api: Api, body: Any) -> Any:
    return answer(api.post("/search/file", json=body, token=None), 200)


def test_a_file_name_resolves_to_an_episode_a_show_or_a_movie(api: Api) -> None:
    episode = file(api, {"file": "/tv/The Walking Dead/Season 1/The.Walking.Dead.S01E02.mkv"})
    assert (episode["type"], episode["show"]["ids"]["simkl"]) == ("episode", WALKING_DEAD)
    assert (episode["episode"]["season"], episode["episode"]["episode"]) == (1, 2)
    show = file(api, {"file": "The.Walking.Dead.S30E01.mkv"})  # an episode the catalog lacks
    assert (show["type"], show["show"]["ids"]["simkl"]) == ("show", WALKING_DEAD)
    movie = file(api, {"File": "Hamlet.1996.720p.mkv"})
    assert (movie["type"], movie["movie"]["ids"]["simkl"]) == ("movie", 900011)
    anime = file(api, {"file": "[Group] Demon Slayer - 03 [1080p].mkv"})
    assert (anime["type"], anime["show"]["ids"]["simkl"]) == ("episode", 831411)
    assert (anime["episode"]["season"], anime["episode"]["episode"]) == (1, 3)


def test_a_file_without_a_name_is_null_and_a_bad_body_is_400(api: Api) -> None:
    assert file(api, {}) is None
    assert file(api, {"file": ""}) is None
    assert file(api, {"file": 42}) is None
    assert file(api, {"file": "zzz.qqq.S01E01.mkv"}) == []
    bad = api.post("/search/file", content=b"[1]", token=None)
    assert_simkl_error(bad, 400, "wrong_parameter")
    long = api.post("/search/file", json={"file": "a" * 1001}, token=None)
    assert_simkl_error(long, 400, "wrong_parameter")


# ---- /search/random ------------------------------------------------------------------------


def test_random_picks_pass_the_filters(api: Api) -> None:
    for _ in range(5):
        pick = answer(api.post("/search/random", params={"type": "anime"}, token=None), 200)
        assert pick["simkl_url"].startswith(f"https://simkl.com/anime/{pick['simkl_id']}/")
    many = answer(api.post("/search/random", json={"type": "tv", "limit": 3}, token=None), 200)
    assert len(many) == 3
    assert all("/tv/" in pick["simkl_url"] for pick in many)
    none = api.post("/search/random", params={"year_from": "3000"}, token=None)
    assert answer(none, 200) == {"error": "not_found"}
    linked = answer(api.post("/search/random", params={"service": "netflix"}, token=None), 200)
    assert (linked["simkl_id"], linked["netflix_id"]) == (752138, "81669396")


# ---- /redirect -----------------------------------------------------------------------------


def location(api: Api, status: int = 301, **params: str) -> str:
    response = api.get("/redirect", params=params, token=None)
    assert response.status_code == status, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.content == b""
    return str(response.headers["location"])


def test_redirect_points_at_the_items_page(api: Api) -> None:
    page = "https://simkl.com/tv/2090/the-walking-dead"
    assert location(api, to="simkl", tvdb="153021") == page
    assert location(api, imdb="tt1375666") == "https://simkl.com/movies/472214/inception"
    assert location(api, tmdb="1399", type="tv") == "https://simkl.com/tv/17465/game-of-thrones"
    assert location(api, title="The Walking Dead", season="1", episode="4") == (
        f"{page}/season-1/episode-4/"
    )
    assert location(api, mal="16498", episode="3") == (
        "https://simkl.com/anime/39687/attack-on-titan/episode-3/"
    )


def test_redirect_modes_and_misses(api: Api) -> None:
    tweet = location(api, to="twitter", simkl="2090", ep_title="Guts")
    assert tweet.startswith("https://twitter.com/intent/tweet?text=The+Walking+Dead+-+Guts&url=")
    watched = location(api, 302, to="watched", simkl="2090")
    assert (
        watched
        == f"https://simkl.com/tv/2090/the-walking-dead?mark=watched&client_id={api.client_id}"
    )
    assert location(api, to="trailer", simkl="2090") == "https://simkl.com/tv/2090/the-walking-dead"
    missed = location(api, title="No Such Title")
    assert missed == "https://simkl.com/search/?type=all&q=No+Such+Title"
    refused = api.get("/redirect", params={"to": "SIMKL", "simkl": "2090"}, token=None)
    assert_simkl_error(refused, 400, "wrong_parameter")
