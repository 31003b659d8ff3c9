"""A batch of any size costs the same number of statements, and a batch too big to run on the
event loop (SQLite runs it in a worker thread) gives the same answer."""

from __future__ import annotations

from typing import Any

from tests.api.support import (
    ATTACK_ON_TITAN,
    GAME_OF_THRONES,
    TERMINATOR_3,
    by_simkl,
    rate,
    read,
    unrate,
    warm_credentials,
)
from tests.conftest import Api, serve_api
from tests.helpers import StatementLog

BATCH = 500  # the default inline_batch_items: the largest batch SQLite runs on the loop


def mixed_items(count: int, *, rating: int | None = None) -> dict[str, list[dict[str, Any]]]:
    """`count` items: catalog items by every kind of reference, the rest matching nothing."""
    extra = {} if rating is None else {"rating": rating}
    movies: list[dict[str, Any]] = [
        by_simkl(TERMINATOR_3, **extra),
        {"ids": {"imdb": "tt1587310"}, **extra},
        {"title": "The Truman Show", "year": 1998, **extra},
    ]
    shows: list[dict[str, Any]] = [{"ids": {"tvdb": 121361}, **extra}]
    anime: list[dict[str, Any]] = [{"ids": {"mal": "16498"}, **extra}]
    for n in range(count - 5):
        kinds: list[dict[str, Any]] = [
            {"ids": {"imdb": f"tt9{n:07d}"}},
            {"ids": {"simkl": 5_000_000 + n, "tmdb": n}},
            {"title": f"Nothing Like It {n}", "year": 1990 + n % 30},
        ]
        [movies, shows, anime][n % 3].append({**kinds[n % 3], **extra})
    return {"movies": movies, "shows": shows, "anime": anime}


def test_an_add_batch_costs_as_many_statements_as_a_few_items(
    api: Api, statements: StatementLog
) -> None:
    """Against a batch of a few items like it (found and missing ones): a lookup whose items
    were all found is remembered, and costs no statement in the write on SQLite, where it is
    read ahead."""
    warm_credentials(api)
    few = statements.count_during(lambda: rate(api, mixed_items(6, rating=5)))
    many = statements.count_during(lambda: rate(api, mixed_items(BATCH, rating=7)))

    assert read(api, "/sync/ratings/movies/7")["movies"][0]["user_rating"] == 7
    assert many == few


def test_a_remove_batch_costs_as_many_statements_as_one_item(
    api: Api, statements: StatementLog
) -> None:
    rate(api, mixed_items(BATCH, rating=7))
    # Looked up once before, as the batch's items were by the add: a lookup this process
    # keeps costs no statement on PostgreSQL.
    by_imdb = {"shows": [{"ids": {"imdb": "tt0944947"}}]}
    unrate(api, by_imdb)
    rate(api, {"shows": [by_simkl(GAME_OF_THRONES, rating=6)]})

    one = statements.count_during(lambda: unrate(api, by_imdb))
    many = statements.count_during(lambda: unrate(api, mixed_items(BATCH)))

    assert read(api, "/sync/ratings/movies,shows,anime/1,2,3,4,5,6,7,8,9,10") == {}
    assert many == one


def _run_batches(api: Api) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    added = rate(api, mixed_items(40, rating=8))
    removed = unrate(api, {**mixed_items(40), "anime": [by_simkl(ATTACK_ON_TITAN)]})
    return added, removed, read(api)


def test_a_batch_over_the_inline_limit_gives_the_same_answer(
    catalog_database: str, backend: str, statements: StatementLog
) -> None:
    with serve_api(catalog_database) as inline:
        expected = _run_batches(inline)
    with serve_api(catalog_database, inline_batch_items=4) as offloaded:
        start = len(statements.sent)
        assert _run_batches(offloaded) == expected
    threads = {thread for _, thread in statements.sent[start:]}
    if backend == "sqlite":
        assert len(threads) > 1, "the large batches should have run in a worker thread"
