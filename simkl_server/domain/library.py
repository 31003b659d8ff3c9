"""The library model: a user's entry for an item (status, dates, memo, rating, watched
episodes) and what follows from it — counts, the last episode watched, the next one to watch,
whether the item is complete, and where a write files it.

Episodes are (season, number) pairs; season 0 holds specials, which are stored but never
counted. A show's episode list comes from the catalog; when the catalog has none it is
season 1, episodes 1..`total_episodes` (the flat numbering Simkl uses for anime); episodes a
client sends that the catalog does not list still count as watched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from simkl_server.domain.kinds import ListStatus, MediaType
from simkl_server.domain.models import (
    CatalogEpisode,
    CatalogItem,
    EpisodeKey,
    LibraryQuery,
    LibraryRow,
    LibraryView,
    RewatchSession,
    WatchedEpisode,
    frozen,
)
from simkl_server.errors import MaxItems
from simkl_server.storage.base import Session, Store

# Catalog states in which a show has not finished airing (it cannot be completed yet).
_UNFINISHED = frozenset({"airing", "tba", "upcoming"})
_FIRST_EPISODE = "S01E01"


@frozen
class EpisodeList:
    """An item's regular episodes in watch order, and which of them have aired."""

    keys: tuple[EpisodeKey, ...]
    aired: frozenset[EpisodeKey]
    known: bool

    @property
    def aired_keys(self) -> list[EpisodeKey]:
        """The aired regular episodes, in watch order."""
        return [key for key in self.keys if key in self.aired]


@frozen
class Progress:
    """What an entry's watched episodes add up to."""

    watched: int
    last_watched: str | None
    next_to_watch: str | None
    complete: bool


def finished_airing(item: CatalogItem) -> bool:
    """Whether a show can be completed: it is not airing, announced or upcoming."""
    return item.status not in _UNFINISHED


def episode_list(
    item: CatalogItem, catalog: Sequence[CatalogEpisode] | None, *, now: int
) -> EpisodeList:
    """The regular episodes of a show or anime (none for a movie)."""
    if item.type is MediaType.MOVIE:
        return EpisodeList((), frozenset(), known=True)
    regular = [episode for episode in catalog or () if episode.season > 0]
    if regular:
        ended = not _unfinished(item)
        keys = tuple((e.season, e.number) for e in regular)
        aired = frozenset(
            (e.season, e.number)
            for e in regular
            if (e.aired_at is None and ended) or (e.aired_at is not None and e.aired_at <= now)
        )
        return EpisodeList(keys, aired, known=True)
    total = item.total_episodes
    if total is None:
        return EpisodeList((), frozenset(), known=False)
    if total > _FLAT_LIST_KEPT_UP_TO:
        return _flat_episodes.__wrapped__(total)
    return _flat_episodes(total)


# A flat list depends on its length alone, and a batch of shows the catalog lists no episodes
# for built each one again (a quarter of a 100-item add's Python time). The common lengths are
# kept (at most 512 lists of up to 500 episodes, about 20 MB), and every list shares its
# episode keys with the others.
_FLAT_LISTS_KEPT = 512
_FLAT_LIST_KEPT_UP_TO = 500
_FLAT_KEYS = tuple((1, number) for number in range(1, 2_001))


@lru_cache(maxsize=_FLAT_LISTS_KEPT)
def _flat_episodes(total: int) -> EpisodeList:
    """Season 1, episodes 1..`total`, all aired."""
    if total <= len(_FLAT_KEYS):
        keys = _FLAT_KEYS[:total]
    else:
        keys = tuple((1, number) for number in range(1, total + 1))
    return EpisodeList(keys, frozenset(keys), known=True)


def _unfinished(item: CatalogItem) -> bool:
    return item.status in _UNFINISHED


def episode_code(item: CatalogItem, key: EpisodeKey) -> str:
    """`S01E02` for shows; anime, numbered flat, are `E148`."""
    season, number = key
    if item.type is MediaType.ANIME and season == 1:
        return f"E{number}"
    return f"S{season:02d}E{number:02d}"


def progress(
    item: CatalogItem, episodes: EpisodeList, watched: Mapping[EpisodeKey, int | None]
) -> Progress:
    """Counts, last watched, next to watch and completeness of a show's watched episodes."""
    regular = {key: at for key, at in watched.items() if key[0] > 0}
    dated = [(at, key) for key, at in regular.items() if at is not None]
    last = max(dated)[1] if dated else None
    complete = bool(episodes.keys) and not _unfinished(item)
    # Every aired episode watched; counting first spares the check for most shows.
    aired = episodes.aired
    complete = complete and len(regular) >= len(aired) and all(key in regular for key in aired)
    return Progress(
        watched=len(regular),
        last_watched=None if last is None else episode_code(item, last),
        next_to_watch=_next_to_watch(item, episodes, regular, last),
        complete=complete,
    )


def _next_to_watch(
    item: CatalogItem,
    episodes: EpisodeList,
    watched: Mapping[EpisodeKey, int | None],
    last: EpisodeKey | None,
) -> str | None:
    """The first aired, unwatched episode after the last one watched; a show with nothing
    watched is next to watch its first episode (`S01E01`, as Simkl writes it for shows and
    anime alike); None once the user is caught up."""
    if not watched:
        if not episodes.known or not episodes.keys:
            return _FIRST_EPISODE
        return _FIRST_EPISODE if episodes.keys[0] in episodes.aired else None
    for key in episodes.keys:
        if (last is None or key > last) and key in episodes.aired and key not in watched:
            return episode_code(item, key)
    return None


def auto_status(item: CatalogItem) -> ListStatus:
    """Where a rating files an item not yet in the library: released movie → completed,
    upcoming movie → plantowatch, single-episode show that has aired → completed, any other
    show or anime → watching. Anime films follow the movie rule; a movie with no known release
    state counts as released."""
    if item.is_movie_like:
        unreleased = item.status in {"upcoming", "tba"}
        return ListStatus.PLANTOWATCH if unreleased else ListStatus.COMPLETED
    if item.total_episodes == 1 and not _unfinished(item):
        return ListStatus.COMPLETED
    return ListStatus.WATCHING


def movie_status(wanted: ListStatus) -> ListStatus:
    """Movies are watched in one go: `watching` means completed, `hold` means not started."""
    if wanted is ListStatus.WATCHING:
        return ListStatus.COMPLETED
    if wanted is ListStatus.HOLD:
        return ListStatus.PLANTOWATCH
    return wanted


def completable_status(item: CatalogItem, episodes: EpisodeList) -> ListStatus:
    """What `completed` becomes for a show: completed once it has finished airing, watching
    while it airs, plantowatch before anything has aired."""
    if finished_airing(item):
        return ListStatus.COMPLETED
    return ListStatus.WATCHING if episodes.aired else ListStatus.PLANTOWATCH


def parse_episode_code(code: str) -> EpisodeKey | None:
    """(season, number) of `S01E02` or (anime) `E148`."""
    season, _, number = code.upper().removeprefix("S").partition("E")
    if not number.isdigit():
        return None
    if code.upper().startswith("E"):
        return (1, int(number))
    return (int(season), int(number)) if season.isdigit() else None


# Rows (or items' episode lists) a read frees between two chances to switch threads.
_RELEASE_SLICE = 500
# Statuses whose episodes a `full` read lists without `include_all_episodes`.
_EPISODE_STATUSES = frozenset({ListStatus.WATCHING, ListStatus.HOLD, ListStatus.PLANTOWATCH})


@dataclass(slots=True)
class LibraryRead:
    """Rows of a library read and the details its view asks for: watched episodes (`full`),
    the catalog's episodes of anime (TVDB mapping), the next episode of watching items, the
    rewatch sessions."""

    rows: list[LibraryRow]
    view: LibraryView
    episodes: dict[int, list[WatchedEpisode]] = field(default_factory=dict)
    catalog: dict[int, list[CatalogEpisode]] = field(default_factory=dict)
    next_episodes: dict[int, tuple[EpisodeKey, CatalogEpisode | None]] = field(default_factory=dict)
    # Rewatch sessions by item; None when the read shows none (no flag, or a free account).
    rewatches: dict[int, list[RewatchSession]] | None = None
    small: bool = False  # few enough rows, and details bounded by them, to render on the loop

    def release(self) -> None:
        """Empty the read a slice at a time, once rendered. Freeing a whole library in one go
        is one long call that holds the interpreter lock (and, in the loop's thread, the
        loop) for tens of milliseconds; between slices the interpreter may switch threads."""
        while self.rows:
            del self.rows[-_RELEASE_SLICE:]
        for details in (self.episodes, self.catalog, self.next_episodes, self.rewatches or {}):
            keys = list(details)
            for start in range(0, len(keys), _RELEASE_SLICE):
                for key in keys[start : start + _RELEASE_SLICE]:
                    del details[key]


async def read_library(
    store: Store, *, user_id: int, query: LibraryQuery, view: LibraryView, max_episodes: int
) -> LibraryRead:
    """The user's library rows the query selects, with the details the view renders; read on
    one snapshot (see `read_rows`). More than `max_episodes` episode rows: 400 max_items, as
    Simkl refuses a response too big to build."""
    now = store.clock.now_ms()

    async def rows(session: Session, limit: int | None) -> list[LibraryRow] | None:
        if limit is None:
            return await session.library.rows(user_id, query, now=now)
        return await session.library.rows_up_to(user_id, query, now=now, limit=limit)

    return await read_rows(store, rows, user_id=user_id, view=view, max_episodes=max_episodes)


# A read of at most this many rows, whose details grow with its rows only, is read and
# rendered on the event loop: a small library, or the delta a client syncs most often.
SMALL_READ_ROWS = 200

RowsRead = Callable[[Session, int | None], Awaitable[list[LibraryRow] | None]]


async def read_rows(
    store: Store, rows: RowsRead, *, user_id: int, view: LibraryView, max_episodes: int
) -> LibraryRead:
    """The rows `rows` reads (up to a limit, or all of them when it is None: None when there
    are more) with their details, on one snapshot: on the event loop when the view's details
    are bounded by the rows and there are at most SMALL_READ_ROWS of them (`small`), else off
    it (a library may hold many thousands of items, and their episodes many more)."""

    async def details(session: Session, listed: list[LibraryRow]) -> LibraryRead:
        return await library_details(
            session, user_id=user_id, rows=listed, view=view, max_episodes=max_episodes
        )

    async def small(session: Session) -> LibraryRead | None:
        listed = await rows(session, SMALL_READ_ROWS)
        return None if listed is None else await details(session, listed)

    async def whole(session: Session) -> LibraryRead:
        return await details(session, await rows(session, None) or [])

    if not (view.full or view.anime_seasons):  # else episodes, which rows do not bound
        if reads_details(view):
            read = await store.small_snapshot(small, settles=True)
        else:  # one statement, so its own snapshot: one round trip on PostgreSQL
            read = await small(store.read)
        if read is not None:
            read.small = True
            return read
    return await store.snapshot(whole)


async def library_details(
    session: Session,
    *,
    user_id: int,
    rows: list[LibraryRow],
    view: LibraryView,
    max_episodes: int,
) -> LibraryRead:
    """The details a view renders for these rows, in at most five statements."""
    read = LibraryRead(rows, view)
    if not reads_details(view):
        return read
    if view.full:
        listed = [row.item.id for row in rows if _lists_episodes(row, view)]
        episodes = await session.history.details(user_id, listed, limit=max_episodes)
        if episodes is None:
            raise MaxItems(
                f"Too many episodes: more than {max_episodes}. Use date_from, request one "
                "type/status per call, or drop extended/include_all_episodes"
            )
        read.episodes = episodes
    if view.anime_seasons:
        anime = [row.item.id for row in rows if row.item.type is MediaType.ANIME]
        read.catalog = await session.catalog.episodes(anime)
    if view.next_watch_info:
        read.next_episodes = await _next_episodes(session, rows)
    if view.rewatches:
        profile = await session.accounts.profile(user_id)
        if profile is not None and profile.account_type in {"pro", "vip"}:
            read.rewatches = await session.rewatches.sessions(user_id, [r.item.id for r in rows])
            missing = [i for i in read.rewatches if i not in read.catalog] if view.full else []
            read.catalog |= await session.catalog.episodes(missing)
    return read


def reads_details(view: LibraryView) -> bool:
    """Whether the view renders anything the rows alone do not hold."""
    return view.ids is None and (
        view.full or view.anime_seasons or view.next_watch_info or view.rewatches
    )


def _lists_episodes(row: LibraryRow, view: LibraryView) -> bool:
    if row.item.type is MediaType.MOVIE:
        return False
    return view.all_episodes is not None or row.status in _EPISODE_STATUSES


async def _next_episodes(
    session: Session, rows: list[LibraryRow]
) -> dict[int, tuple[EpisodeKey, CatalogEpisode | None]]:
    keys: dict[int, EpisodeKey] = {}
    for row in rows:
        if row.status is ListStatus.WATCHING and row.next_to_watch:
            key = parse_episode_code(row.next_to_watch)
            if key is not None:
                keys[row.item.id] = key
    found = await session.catalog.episodes_at({(i, *key) for i, key in keys.items()})
    return {i: (key, found.get((i, *key))) for i, key in keys.items()}
