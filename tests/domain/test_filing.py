"""Where rating an item outside the library files it."""

from __future__ import annotations

import pytest

from simkl_server.domain.filing import auto_status
from simkl_server.domain.kinds import ListStatus, MediaType
from simkl_server.domain.models import CatalogItem

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
