"""POST /sync/watched: for each item a client names, whether it is in the user's library, on
which list, when it was last watched, and (asked for) its episode counts and episodes; an item
naming a season and episode asks about that episode. A read: no lock, no write."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from simkl_server.domain.kinds import MediaType
from simkl_server.domain.library import EpisodeList, episode_list
from simkl_server.domain.matching import catalog_query, resolve
from simkl_server.domain.models import (
    CatalogEpisode,
    CatalogHits,
    CatalogItem,
    EpisodeKey,
    ItemRef,
    LibraryEntry,
    frozen,
)
from simkl_server.storage.base import Store


@frozen
class WatchedQuestion:
    """One item asked about: the ways it may be found (a movie reference first when the type
    is not said), and the episode it narrows the question to."""

    refs: tuple[ItemRef, ...]
    season: int | None = None
    episode: int | None = None


@frozen
class WatchedAnswer:
    """What the library says of one asked item (`item` None: it matched nothing)."""

    question: WatchedQuestion
    item: CatalogItem | None
    entry: LibraryEntry | None = None
    episodes: EpisodeList | None = None
    catalog: Sequence[CatalogEpisode] = ()
    watched: Mapping[EpisodeKey, int | None] | None = None


async def lookup_watched(
    store: Store, *, user_id: int, questions: Sequence[WatchedQuestion], episodes: bool
) -> list[WatchedAnswer]:
    """Answer every question in at most four statements; with `episodes`, also the episode
    lists and watched episodes of the shows asked about (an episode question needs them too)."""
    read = store.read
    hits = await read.catalog.find(catalog_query([r for q in questions for r in q.refs]))
    items = [_first(question, hits) for question in questions]
    known = {item.id: item for item in items if item is not None}
    entries = await read.library.entries(user_id, known.keys())
    wanted = episodes or any(q.episode is not None for q in questions)
    shows = [i for i, item in known.items() if item.type is not MediaType.MOVIE] if wanted else []
    catalog = await read.catalog.episodes(shows) if shows else {}
    watched = await read.history.watched(user_id, shows) if shows else {}
    now = store.clock.now_ms()
    answers: list[WatchedAnswer] = []
    for question, item in zip(questions, items, strict=True):
        if item is None:
            answers.append(WatchedAnswer(question, None))
            continue
        listed = catalog.get(item.id, [])
        answers.append(
            WatchedAnswer(
                question,
                item,
                entries.get(item.id),
                episode_list(item, listed, now=now) if item.id in shows else None,
                listed,
                watched.get(item.id, {}) if item.id in shows else None,
            )
        )
    return answers


def _first(question: WatchedQuestion, hits: CatalogHits) -> CatalogItem | None:
    for ref in question.refs:
        found = resolve(ref, hits)
        if found is not None:
            return found
    return None
