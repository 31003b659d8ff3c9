"""Where a rated item lands when it was not yet in the user's library."""

from __future__ import annotations

from simkl_server.domain.kinds import ListStatus
from simkl_server.domain.models import CatalogItem

_NOT_OUT_YET = frozenset({"upcoming", "tba"})
_STILL_AIRING = frozenset({"airing", "tba", "upcoming"})


def auto_status(item: CatalogItem) -> ListStatus:
    """Released movie → completed, upcoming movie → plantowatch, single-episode show that
    has aired → completed, any other show or anime → watching. Anime films follow the movie
    rule; a movie with no known release state counts as released."""
    if item.is_movie_like:
        return ListStatus.PLANTOWATCH if item.status in _NOT_OUT_YET else ListStatus.COMPLETED
    if item.total_episodes == 1 and item.status not in _STILL_AIRING:
        return ListStatus.COMPLETED
    return ListStatus.WATCHING
