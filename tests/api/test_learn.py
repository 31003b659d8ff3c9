"""Learn mode over HTTP: every sync write teaches the catalog items it lacks (strict mode
answers not_found), removals never do, ids enrich known items, conflicts and malformed ids are
left out, a batch costs a fixed number of statements, budgets hold, and two writers learning
one item at once leave one item."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from simkl_server.domain import ratings
from simkl_server.domain.catalog import LOCAL_ID_BASE
from simkl_server.domain.kinds import Wrapper
from simkl_server.domain.learn import LearnPolicy
from simkl_server.domain.models import CatalogHits, CatalogQuery, ItemRef, SyncItem
from simkl_server.domain.ratings import RatingInput
from tests.api.support import TERMINATOR_3, WALKING_DEAD, rate, read, rows_by_id, warm_credentials
from tests.conftest import Api, _load_catalog, run, serve_api
from tests.helpers import StatementLog

UNKNOWN_MOVIE = {"title": "A Film Nobody Imported", "year": 2021, "ids": {"imdb": "tt9900001"}}
UNKNOWN_SHOW = {"title": "A Show Nobody Imported", "year": 2019, "ids": {"tvdb": "9900002"}}
UNKNOWN_ANIME = {"title": "An Anime Nobody Imported", "year": 2020, "ids": {"mal": "9900003"}}
NO_NOT_FOUND: dict[str, list[Any]] = {"movies": [], "shows": []}


@pytest.fixture
def learn_database(empty_database: str) -> str:
    """A database of the test's own with the test catalog: learning changes the catalog."""
    run(_load_catalog, empty_database)
    return empty_database


@pytest.fixture
def learning(learn_database: str) -> Iterator[Api]:
    """The app with learn mode on."""
    with serve_api(learn_database, catalog_learn=True) as api:
        yield api


@pytest.fixture
def strict(learn_database: str) -> Iterator[Api]:
    """The app as made in-process with no setting: strict emulation."""
    with serve_api(learn_database) as api:
        yield api


def catalog_size(api: Api) -> int:
    return api.call(api.store.read.catalog.size)


def lookup(api: Api, *keys: str) -> CatalogHits:
    query = CatalogQuery(frozenset(), frozenset(keys), frozenset())
    return api.call(api.store.read.catalog.find, query)


def post(api: Api, path: str, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    response = api.post(path, json=body, **kwargs)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def all_items(api: Api) -> dict[str, Any]:
    response = api.get("/sync/all-items", params={"extended": "full"})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def only_row(answer: dict[str, Any], bucket: str) -> dict[str, Any]:
    rows = answer[bucket]
    assert len(rows) == 1, answer
    row: dict[str, Any] = rows[0]
    return row


# --- each write endpoint, learn and strict -------------------------------------------------


def test_a_rating_of_an_unknown_movie_teaches_the_catalog(learning: Api) -> None:
    before = catalog_size(learning)

    answer = rate(learning, {"movies": [{**UNKNOWN_MOVIE, "rating": 8}]})

    # Simkl-shaped: the item counts as applied, as a catalog item would.
    assert (answer["added"]["movies"], answer["added"]["shows"]) == (1, 0)
    status = answer["added"]["statuses"][0]
    assert status["request"] == {**UNKNOWN_MOVIE, "rating": 8, "type": "movie"}
    assert status["response"] == {"status": "completed"}
    assert answer["not_found"] == NO_NOT_FOUND
    assert catalog_size(learning) == before + 1
    row = only_row(read(learning), "movies")
    assert row["user_rating"] == 8
    assert row["status"] == "completed"  # a movie with no release state known counts released
    movie = row["movie"]
    assert (movie["title"], movie["year"], movie["ids"]["imdb"]) == (
        UNKNOWN_MOVIE["title"],
        2021,
        "tt9900001",
    )
    assert movie["ids"]["simkl"] >= LOCAL_ID_BASE


def test_strict_mode_answers_not_found_and_learns_nothing(strict: Api) -> None:
    before = catalog_size(strict)
    item = {**UNKNOWN_MOVIE, "rating": 8}

    answer = rate(strict, {"movies": [item]})

    assert (answer["added"]["movies"], answer["added"]["shows"]) == (0, 0)
    assert answer["not_found"]["movies"] == [{**item, "type": "movie"}]
    assert catalog_size(strict) == before


def test_history_of_an_unknown_show_learns_it_with_the_episodes_watched(learning: Api) -> None:
    show = {**UNKNOWN_SHOW, "seasons": [{"number": 1, "episodes": [{"number": 1}, {"number": 2}]}]}

    answer = post(learning, "/sync/history", {"shows": [show]})

    assert (answer["added"]["shows"], answer["added"]["episodes"]) == (1, 2)
    assert answer["not_found"]["shows"] == []
    row = only_row(all_items(learning), "shows")
    assert row["status"] == "watching"
    assert row["watched_episodes_count"] == 2
    assert row["show"]["ids"]["tvdb"] == "9900002"
    # The next episode is accepted too: the catalog keeps no episode list for a learned show.
    later = {**UNKNOWN_SHOW, "seasons": [{"number": 1, "episodes": [{"number": 3}]}]}
    assert post(learning, "/sync/history", {"shows": [later]})["added"]["episodes"] == 1


def test_history_in_strict_mode_answers_not_found(strict: Api) -> None:
    answer = post(strict, "/sync/history", {"shows": [UNKNOWN_SHOW]})

    assert answer["added"]["shows"] == 0
    assert [item["ids"] for item in answer["not_found"]["shows"]] == [UNKNOWN_SHOW["ids"]]


def test_add_to_list_of_unknown_anime_learns_it_as_anime(learning: Api) -> None:
    item = {**UNKNOWN_ANIME, "to": "plantowatch", "anime_type": "ona"}

    answer = post(learning, "/sync/add-to-list", {"anime": [item]})

    assert answer["not_found"] == NO_NOT_FOUND
    row = only_row(all_items(learning), "anime")
    assert row["status"] == "plantowatch"
    assert row["show"]["ids"]["mal"] == "9900003"
    assert row["anime_type"] == "ona"


def test_add_to_list_in_strict_mode_answers_not_found(strict: Api) -> None:
    item = {**UNKNOWN_ANIME, "to": "plantowatch"}

    answer = post(strict, "/sync/add-to-list", {"anime": [item]})

    assert answer["not_found"]["shows"] == [{**item, "type": "show"}]


def test_a_scrobble_of_an_unknown_movie_learns_it_and_its_stop_marks_it_watched(
    learning: Api,
) -> None:
    started = post(learning, "/scrobble/start", {"movie": UNKNOWN_MOVIE, "progress": 5})
    assert started["action"] == "start"
    assert started["movie"]["ids"]["imdb"] == "tt9900001"
    learning.clock.advance(60_000)  # past the user's 20-second scrobble lock
    stopped = post(learning, "/scrobble/stop", {"movie": UNKNOWN_MOVIE, "progress": 95})

    assert stopped["action"] == "scrobble"
    row = only_row(all_items(learning), "movies")
    assert row["status"] == "completed"
    assert row["movie"]["title"] == UNKNOWN_MOVIE["title"]


def test_a_scrobble_in_strict_mode_is_404_and_learns_nothing(strict: Api) -> None:
    before = catalog_size(strict)

    response = strict.post("/scrobble/start", json={"movie": UNKNOWN_MOVIE, "progress": 5})

    assert response.status_code == 404
    assert response.json()["error"] == "id_err"
    assert catalog_size(strict) == before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/sync/ratings/remove", {"movies": [UNKNOWN_MOVIE]}),
        ("/sync/history/remove", {"movies": [UNKNOWN_MOVIE]}),
        ("/sync/add-to-list", {"movies": [{**UNKNOWN_MOVIE, "to": "remove"}]}),
    ],
)
def test_removals_never_learn(learning: Api, path: str, body: dict[str, Any]) -> None:
    before = catalog_size(learning)

    answer = post(learning, path, body)

    assert len(answer["not_found"]["movies"]) == 1
    assert catalog_size(learning) == before


@pytest.mark.parametrize(
    "ids",
    [
        {"imdb": "not-an-imdb-id"},
        {"tmdb": "abc"},
        {"mal": "-5"},
        {"tmdb": "0"},
        {"anilist": "9" * 25},
        {"traktslug": "has spaces in it"},
        {"crunchyroll": "656647"},  # an episode's id, never an item's
        {"simkl": 123456789},  # a simkl id the catalog lacks teaches nothing on its own
        {},
    ],
)
def test_an_item_without_a_well_formed_external_id_stays_not_found(
    learning: Api, ids: dict[str, Any]
) -> None:
    before = catalog_size(learning)
    item = {"title": "Malformed", "year": 2020, "ids": ids, "rating": 5}

    answer = rate(learning, {"movies": [item]})

    assert answer["not_found"]["movies"] == [{**item, "type": "movie"}]
    assert catalog_size(learning) == before


# --- enrichment and conflicts -------------------------------------------------------------


def test_later_writes_add_the_ids_an_item_lacked(learning: Api) -> None:
    rate(learning, {"movies": [{"title": "Learned", "ids": {"tmdb": "9900010"}, "rating": 6}]})
    learned = lookup(learning, "tmdb:movie:9900010").by_key["tmdb:movie:9900010"]

    rate(learning, {"movies": [{"ids": {"tmdb": 9900010, "imdb": "tt9900011"}, "rating": 7}]})

    assert lookup(learning, "imdb:tt9900011").by_key["imdb:tt9900011"].id == learned.id
    enriched = lookup(learning, "imdb:tt9900011").by_key["imdb:tt9900011"]
    assert dict(enriched.ids) == {"tmdb": "9900010", "imdb": "tt9900011"}
    # The imdb id alone now finds it, and nothing new was learned.
    answer = rate(learning, {"movies": [{"ids": {"imdb": "tt9900011"}, "rating": 9}]})
    assert answer["added"]["movies"] == 1
    assert rows_by_id(read(learning))[learned.id]["user_rating"] == 9


def test_an_imported_item_gains_ids_too(learning: Api) -> None:
    body = {"movies": [{"ids": {"imdb": "tt0181852", "letterboxd": "terminator-3"}, "rating": 7}]}

    rate(learning, body)

    found = lookup(learning, "letterboxd:terminator-3").by_key
    assert found["letterboxd:terminator-3"].id == TERMINATOR_3


def test_conflicting_ids_are_ignored_and_logged(
    learning: Api, caplog: pytest.LogCaptureFixture
) -> None:
    # The Walking Dead's imdb id sent for a movie, with a tmdb id nobody has: the movie is
    # learned with the tmdb id alone; Terminator 3 keeps its own tmdb id.
    body = {
        "movies": [
            {"title": "Imposter", "ids": {"imdb": "tt1520211", "tmdb": "9900020"}, "rating": 4},
            {"ids": {"imdb": "tt0181852", "tmdb": "9900021"}, "rating": 4},
        ]
    }
    with caplog.at_level("INFO", logger="simkl_server.learn"):
        answer = rate(learning, body)

    assert answer["added"]["movies"] == 2
    hits = lookup(learning, "imdb:tt1520211", "tmdb:movie:9900020", "tmdb:movie:9900021").by_key
    assert hits["imdb:tt1520211"].id == WALKING_DEAD
    assert dict(hits["tmdb:movie:9900020"].ids) == {"tmdb": "9900020"}
    assert "tmdb:movie:9900021" not in hits
    assert "conflicting ids" in caplog.text


def test_one_unknown_item_twice_in_a_batch_is_learned_once(learning: Api) -> None:
    before = catalog_size(learning)
    twice = [{**UNKNOWN_MOVIE, "rating": 5}, {"ids": {"imdb": "tt9900001"}, "rating": 6}]

    answer = rate(learning, {"movies": twice})

    assert answer["added"]["movies"] == 2
    assert catalog_size(learning) == before + 1
    assert only_row(read(learning), "movies")["user_rating"] == 6


# --- cost and budgets ---------------------------------------------------------------------


def unknown_movies(count: int, start: int = 9_800_000) -> dict[str, Any]:
    return {
        "movies": [
            {
                "title": f"Unknown {start + n}",
                "year": 2000,
                "ids": {"tmdb": str(start + n)},
                "rating": 5,
            }
            for n in range(count)
        ]
    }


def test_learning_a_batch_costs_as_many_statements_as_learning_one(
    learning: Api, statements: StatementLog
) -> None:
    warm_credentials(learning)
    one = statements.count_during(lambda: rate(learning, unknown_movies(1)))
    many = statements.count_during(lambda: rate(learning, unknown_movies(100, 9_700_000)))

    assert many == one
    assert len(read(learning)["movies"]) == 101


def test_a_request_learns_at_most_its_budget(learn_database: str) -> None:
    with serve_api(learn_database, catalog_learn=True, catalog_learn_per_request=2) as api:
        answer = rate(api, unknown_movies(3))

        assert answer["added"]["movies"] == 2
        assert len(answer["not_found"]["movies"]) == 1


def test_a_user_learns_at_most_the_daily_budget(learn_database: str) -> None:
    with serve_api(learn_database, catalog_learn=True, catalog_learn_per_user_day=3) as api:
        assert rate(api, unknown_movies(2))["added"]["movies"] == 2
        assert rate(api, unknown_movies(2, 9_600_000))["added"]["movies"] == 1
        api.clock.advance(86_400_000)
        assert rate(api, unknown_movies(2, 9_500_000))["added"]["movies"] == 2


def test_all_users_together_learn_at_most_the_daily_budget(learn_database: str) -> None:
    with serve_api(learn_database, catalog_learn=True, catalog_learn_per_day=3) as api:
        assert rate(api, unknown_movies(2))["added"]["movies"] == 2
        api.token = api.new_user("bob")
        assert rate(api, unknown_movies(2, 9_600_000))["added"]["movies"] == 1


def test_a_learned_title_is_cut_to_250_characters(learning: Api) -> None:
    item = {"title": "x" * 1_000, "ids": {"imdb": "tt9900040"}, "rating": 5}

    rate(learning, {"movies": [item]})

    assert only_row(read(learning), "movies")["movie"]["title"] == "x" * 250


# --- concurrency --------------------------------------------------------------------------


def test_two_writers_learning_one_item_at_once_leave_one_item(learning: Api) -> None:
    learning.new_user("bob")
    found = [learning.call(learning.store.read.accounts.find_user, n) for n in ("alice", "bob")]
    users = [user_id for user_id in found if user_id is not None]
    ref = ItemRef(Wrapper.MOVIES, external=(("imdb", "tt9900030"),))
    item = SyncItem({"ids": {"imdb": "tt9900030"}}, ref)
    policy = LearnPolicy(enabled=True)
    before = catalog_size(learning)

    async def both() -> list[Any]:
        return await asyncio.gather(
            *(
                ratings.add_ratings(
                    learning.store,
                    user_id=user_id,
                    inputs=[RatingInput(item, 8)],
                    learning=policy,
                )
                for user_id in users
            )
        )

    outcomes = learning.call(both)

    assert [outcome.added.movies for outcome in outcomes] == [1, 1]
    assert catalog_size(learning) == before + 1
