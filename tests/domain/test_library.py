"""The library model: where a rating files an item, episode lists and codes, progress (counts,
last watched, next to watch, completion) and the status rewrites."""

from __future__ import annotations

import pytest

from simkl_server.domain.kinds import ListStatus, MediaType
from simkl_server.domain.library import (
    auto_status,
    completable_status,
    episode_code,
    episode_list,
    movie_status,
    parse_episode_code,
    progress,
)
from simkl_server.domain.models import CatalogEpisode, CatalogItem

COMPLETED, PLANTOWATCH, WATCHING = (
    ListStatus.COMPLETED,
    ListStatus.PLANTOWATCH,
    ListStatus.WATCHING,
)


def item(
    kind: MediaType,
    status: str | None = None,
    *,
    episodes: int | None = None,
    anime_type: str | None = None,
) -> CatalogItem:
    """A catalog item with just the fields filing looks at."""
    return CatalogItem(
        id=1, type=kind, title="t", status=status, total_episodes=episodes, anime_type=anime_type
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("released", COMPLETED),
        ("ended", COMPLETED),
        (None, COMPLETED),
        ("upcoming", PLANTOWATCH),
        ("tba", PLANTOWATCH),
    ],
)
def test_a_movie_is_completed_once_released_else_plan_to_watch(
    status: str | None, expected: ListStatus
) -> None:
    assert auto_status(item(MediaType.MOVIE, status)) is expected


@pytest.mark.parametrize(
    ("status", "expected"), [("ended", COMPLETED), (None, COMPLETED), ("upcoming", PLANTOWATCH)]
)
def test_an_anime_film_follows_the_movie_rule(status: str | None, expected: ListStatus) -> None:
    film = item(MediaType.ANIME, status, episodes=1, anime_type="movie")

    assert auto_status(film) is expected


@pytest.mark.parametrize(
    ("kind", "status", "episodes", "expected"),
    [
        (MediaType.SHOW, "ended", 1, COMPLETED),
        (MediaType.SHOW, None, 1, COMPLETED),
        (MediaType.SHOW, "airing", 1, WATCHING),
        (MediaType.SHOW, "upcoming", 1, WATCHING),
        (MediaType.SHOW, "ended", 73, WATCHING),
        (MediaType.SHOW, "airing", 19, WATCHING),
        (MediaType.SHOW, None, None, WATCHING),
        (MediaType.ANIME, "ended", 25, WATCHING),
        (MediaType.ANIME, "ended", 1, COMPLETED),
        (MediaType.ANIME, None, None, WATCHING),
    ],
)
def test_a_single_aired_episode_is_completed_anything_else_watching(
    kind: MediaType, status: str | None, episodes: int | None, expected: ListStatus
) -> None:
    assert auto_status(item(kind, status, episodes=episodes, anime_type="tv")) is expected


NOW = 1_000_000
SHOW = CatalogItem(id=2, type=MediaType.SHOW, title="s", status="ended", total_episodes=5)
# Two seasons (3 + 2) and a special; the last episode airs after NOW.
EPISODES = [
    CatalogEpisode(0, 1, aired_at=10),
    CatalogEpisode(1, 1, aired_at=10),
    CatalogEpisode(1, 2, aired_at=20),
    CatalogEpisode(1, 3, aired_at=30),
    CatalogEpisode(2, 1, aired_at=40),
    CatalogEpisode(2, 2, aired_at=NOW + 1),
]


def test_an_episode_list_is_the_regular_episodes_in_order_with_what_aired() -> None:
    airing = CatalogItem(id=2, type=MediaType.SHOW, title="s", status="airing")
    episodes = episode_list(airing, EPISODES, now=NOW)

    assert episodes.keys == ((1, 1), (1, 2), (1, 3), (2, 1), (2, 2))
    assert episodes.aired_keys == [(1, 1), (1, 2), (1, 3), (2, 1)]


def test_without_catalog_episodes_the_list_is_one_season_of_total_episodes() -> None:
    assert episode_list(SHOW, None, now=NOW).keys == tuple((1, n) for n in range(1, 6))
    unknown = CatalogItem(id=3, type=MediaType.SHOW, title="u")
    assert not episode_list(unknown, None, now=NOW).known
    assert episode_list(item(MediaType.MOVIE), None, now=NOW).keys == ()


@pytest.mark.parametrize("total", [0, 1, 12, 500, 501, 2_000, 2_001, 3_000])
def test_a_flat_list_is_the_same_whether_its_length_is_kept_or_not(total: int) -> None:
    show = item(MediaType.SHOW, "ended", episodes=total)
    expected = tuple((1, n) for n in range(1, total + 1))

    first, again = episode_list(show, None, now=NOW), episode_list(show, None, now=NOW)

    assert first.keys == again.keys == expected
    assert first.aired == again.aired == frozenset(expected)
    assert first.known


def test_a_whole_flat_show_watched_is_complete_and_one_episode_short_is_not() -> None:
    show = item(MediaType.ANIME, "ended", episodes=24, anime_type="tv")
    episodes = episode_list(show, None, now=NOW)
    every = dict.fromkeys(episodes.keys, 9)

    assert progress(show, episodes, every).complete
    assert not progress(show, episodes, {**dict(list(every.items())[1:]), (0, 1): 9}).complete


def test_episodes_without_an_air_date_aired_only_once_the_show_ended() -> None:
    undated = [CatalogEpisode(1, 1), CatalogEpisode(1, 2)]
    airing = CatalogItem(id=2, type=MediaType.SHOW, title="s", status="airing")

    assert episode_list(SHOW, undated, now=NOW).aired == {(1, 1), (1, 2)}
    assert episode_list(airing, undated, now=NOW).aired == frozenset()


@pytest.mark.parametrize(
    ("kind", "key", "code"),
    [
        (MediaType.SHOW, (1, 1), "S01E01"),
        (MediaType.SHOW, (12, 104), "S12E104"),
        (MediaType.ANIME, (1, 148), "E148"),
        (MediaType.ANIME, (0, 2), "S00E02"),
    ],
)
def test_episode_codes(kind: MediaType, key: tuple[int, int], code: str) -> None:
    assert episode_code(item(kind), key) == code
    assert parse_episode_code(code) == key


@pytest.mark.parametrize("code", ["", "S01", "E", "SxxE01", "S01Eab"])
def test_an_unreadable_episode_code_is_none(code: str) -> None:
    assert parse_episode_code(code) is None


def test_progress_counts_regular_episodes_and_goes_on_after_the_last_watched() -> None:
    episodes = episode_list(SHOW, EPISODES[:5], now=NOW)
    watched = {(0, 1): 5, (1, 1): 100, (1, 3): 300}

    summary = progress(SHOW, episodes, watched)

    assert (summary.watched, summary.last_watched, summary.next_to_watch) == (2, "S01E03", "S02E01")
    assert not summary.complete


def test_the_last_watched_is_the_latest_dated_watch_and_undated_ones_are_skipped() -> None:
    episodes = episode_list(SHOW, EPISODES[:5], now=NOW)
    watched = {(1, 1): None, (1, 2): None, (1, 3): 50, (2, 1): 10}

    summary = progress(SHOW, episodes, watched)

    assert (summary.last_watched, summary.next_to_watch) == ("S01E03", None)
    assert summary.complete


def test_nothing_watched_is_next_to_watch_s01e01_unless_nothing_aired() -> None:
    assert progress(SHOW, episode_list(SHOW, EPISODES, now=NOW), {}).next_to_watch == "S01E01"
    anime = item(MediaType.ANIME, "ended", episodes=12, anime_type="tv")
    assert progress(anime, episode_list(anime, None, now=NOW), {}).next_to_watch == "S01E01"
    future = [CatalogEpisode(1, 1, aired_at=NOW + 1)]
    upcoming = CatalogItem(id=4, type=MediaType.SHOW, title="u", status="upcoming")
    assert progress(upcoming, episode_list(upcoming, future, now=NOW), {}).next_to_watch is None


def test_a_caught_up_airing_show_is_neither_complete_nor_next_to_watch_anything() -> None:
    airing = CatalogItem(id=2, type=MediaType.SHOW, title="s", status="airing")
    episodes = episode_list(airing, EPISODES, now=NOW)
    watched = dict.fromkeys([(1, 1), (1, 2), (1, 3), (2, 1)], 7)

    summary = progress(airing, episodes, watched)

    assert (summary.watched, summary.next_to_watch, summary.complete) == (4, None, False)


def test_completed_becomes_watching_while_airing_and_plantowatch_before_any_episode() -> None:
    airing = CatalogItem(id=2, type=MediaType.SHOW, title="s", status="airing")
    upcoming = CatalogItem(id=2, type=MediaType.SHOW, title="s", status="upcoming")
    future = [CatalogEpisode(1, 1, aired_at=NOW + 1)]

    assert completable_status(SHOW, episode_list(SHOW, None, now=NOW)) is COMPLETED
    assert completable_status(airing, episode_list(airing, EPISODES, now=NOW)) is WATCHING
    assert completable_status(upcoming, episode_list(upcoming, future, now=NOW)) is PLANTOWATCH


@pytest.mark.parametrize(
    ("wanted", "stored"),
    [
        (ListStatus.WATCHING, COMPLETED),
        (ListStatus.HOLD, PLANTOWATCH),
        (ListStatus.DROPPED, ListStatus.DROPPED),
        (COMPLETED, COMPLETED),
        (PLANTOWATCH, PLANTOWATCH),
    ],
)
def test_movies_are_never_watching_or_on_hold(wanted: ListStatus, stored: ListStatus) -> None:
    assert movie_status(wanted) is stored
