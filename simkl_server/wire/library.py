"""Library rows on the wire: /sync/all-items (the ratings read returns the very same rows), its
path segments and query parameters, and the shape of one row."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

from simkl_server.domain.kinds import TYPE_OF_PLURAL, ListStatus, MediaType
from simkl_server.domain.library import LibraryRead, episode_code
from simkl_server.domain.models import (
    ROWS_KEPT,
    CatalogEpisode,
    EpisodeKey,
    KeptReads,
    LibraryQuery,
    LibraryRow,
    LibraryView,
    RewatchSession,
    WatchedEpisode,
    keeps_rows,
)
from simkl_server.errors import WrongParameter
from simkl_server.wire.common import kept_json
from simkl_server.wire.media import media_object, media_stub
from simkl_server.wire.timestamps import format_ms, format_seconds, parse_iso

_ALL_TYPES = frozenset(MediaType)
_STATUS_OF_WORD = {status.value: status for status in ListStatus}
_IDS_MODES = frozenset({"ids_only", "simkl_ids_only"})
_FULL_MODES = frozenset({"full", "full_anime_seasons"})
# Movies are never watching or on hold: those lists of movies are empty by definition.
_NO_MOVIE_STATUSES = frozenset({ListStatus.WATCHING, ListStatus.HOLD})


@dataclass(frozen=True, slots=True)
class AllItemsRequest:
    """A parsed all-items request: which rows, how to render them, and the type segment
    (None: every type) that decides the empty answer's shape."""

    query: LibraryQuery
    view: LibraryView
    media_type: MediaType | None
    status: ListStatus | None


def all_items_request(
    type_word: str | None, status_word: str | None, params: Mapping[str, str]
) -> AllItemsRequest:
    """Parse `/sync/all-items[/{type}[/{status}]]` leniently, as Simkl does: an unknown type
    word means every type, an unknown status word every status."""
    media_type = TYPE_OF_PLURAL.get((type_word or "").strip().lower())
    status = _STATUS_OF_WORD.get((status_word or "").strip().lower())
    query = LibraryQuery(
        types=_ALL_TYPES if media_type is None else frozenset({media_type}),
        statuses=None if status is None else frozenset({status}),
        changed_after=date_from(params.get("date_from")),
        anime_movies=_yes(params.get("anime_type"), "movies"),
    )
    return AllItemsRequest(query, library_view(params), media_type, status)


def library_view(params: Mapping[str, str]) -> LibraryView:
    """The rendering a read's query parameters ask for; unknown values are ignored."""
    extended = (params.get("extended") or "").strip().lower()
    full = extended in _FULL_MODES
    include = (params.get("include_all_episodes") or "").strip().lower()
    return LibraryView(
        ids=extended if extended in _IDS_MODES else None,
        full=full,
        anime_seasons=extended == "full_anime_seasons",
        memos=_yes(params.get("memos")),
        next_watch_info=_yes(params.get("next_watch_info")),
        episode_watched_at=_yes(params.get("episode_watched_at")),
        episode_runtime=_yes(params.get("episode_runtime")),
        episode_tvdb_id=_yes(params.get("episode_tvdb_id")),
        all_episodes=include if full and include in {"yes", "original"} else None,
        rewatches=_yes(params.get("allow_rewatch")),
    )


def _yes(value: str | None, word: str = "yes") -> bool:
    return value is not None and value.strip().lower() == word


def date_from(text: str | None) -> int | None:
    """A `date_from` parameter: any ISO-8601 date-time; unparsable → 400 wrong_parameter."""
    if text is None or not text.strip():
        return None
    stamp = parse_iso(text)
    if stamp is None:
        raise WrongParameter(f"date_from is not an ISO-8601 date-time: {text!r}")
    return stamp


def all_items_parts(request: AllItemsRequest, read: LibraryRead) -> Iterator[bytes]:
    """The rows grouped under `movies`, `shows` and `anime` (see `encode_parts`). Empty: `{}`
    without a type segment (and for the lists movies never enter), `{"<type>": []}` with
    one."""
    if read.rows:
        return encode_parts(read)
    if request.media_type is None or (
        request.media_type is MediaType.MOVIE and request.status in _NO_MOVIE_STATUSES
    ):
        return iter((b"{}",))
    return iter((orjson.dumps({request.media_type.plural: []}),))


# Rows per part of a streamed answer: a few milliseconds of rendering, about 100 KB.
PART_ROWS = 256


def encode_parts(read: LibraryRead) -> Iterator[bytes]:
    """Every row of a read under its type's key (a key appears only when it has rows; with
    rewatch sessions, each item's sessions follow its own row, one row each), encoded as
    JSON in parts of about PART_ROWS rows (a small read that renders from its rows and view
    alone: in one part, kept for the next read of the same rows)."""
    if read.small and _from_rows_and_view(read):
        return iter((_kept_answer(read),))
    return _encoded_parts(read)


# Small reads rendered, by their view and the identity of their rows: the rows of a read
# that came back unchanged are the same objects (storage keeps them), and each entry holds
# its rows, so no other object can take their ids while it is kept.
_ANSWERS: KeptReads[tuple[LibraryView, tuple[int, ...]], tuple[tuple[LibraryRow, ...], bytes]] = (
    KeptReads()
)


def _kept_answer(read: LibraryRead) -> bytes:
    key = (read.view, tuple(map(id, read.rows)))
    kept = _ANSWERS.get(key)
    if kept is not None:
        return kept[1]
    answer = b"".join(_encoded_parts(read))
    _ANSWERS.put(key, (tuple(read.rows), answer), rows=len(read.rows))
    return answer


def _from_rows_and_view(read: LibraryRead) -> bool:
    """Whether a read's answer comes from its rows and view alone: no episodes, next episode
    details, catalog episodes or rewatch sessions read beside them."""
    return read.rewatches is None and not (read.episodes or read.next_episodes or read.catalog)


def _encoded_parts(read: LibraryRead) -> Iterator[bytes]:
    """`encode_parts`, rendered row by row.
    Each row is rendered and encoded on its own, its objects gone before the next is built,
    and a part can be sent before the next is rendered: the answer of a large library is
    never held whole, as objects or as bytes. Holding it grows the heap the garbage
    collector traces while the rendering thread holds the interpreter lock, and other
    requests wait out those pauses."""
    encode = _row_encoder(read)
    by_type: dict[str, list[LibraryRow]] = {}
    for row in read.rows:
        by_type.setdefault(row.item.type.plural, []).append(row)
    part = [b"{"]
    for position, (key, rows) in enumerate(by_type.items()):
        part.append((b"," if position else b"") + orjson.dumps(key) + b":[")
        for index, row in enumerate(rows):
            part.append(encode(row) if index == 0 else b"," + encode(row))
            if len(part) >= PART_ROWS:
                yield b"".join(part)
                part = []
        part.append(b"]")
    part.append(b"}")
    yield b"".join(part)


def _row_encoder(read: LibraryRead) -> Callable[[LibraryRow], bytes]:
    """A row's JSON, followed by its rewatch sessions' rows where the read lists them."""
    render = _renderer(read)
    sessions = read.rewatches if read.view.ids is None else None
    if sessions is None:
        if _from_row_alone(read) and keeps_rows(len(read.rows)):
            view = read.view
            return lambda row: _encoded_row(row, view)
        return lambda row: orjson.dumps(render(row))

    def encode(row: LibraryRow) -> bytes:
        entry = render(row)
        entry["is_rewatch"] = False
        rewatches = [_rewatch_row(row, s, read) for s in sessions.get(row.item.id, [])]
        return b",".join([orjson.dumps(entry), *map(orjson.dumps, rewatches)])

    return encode


def _from_row_alone(read: LibraryRead) -> bool:
    """Whether each row renders from itself and the view alone: a whole row (not ids only)
    of a read whose answer comes from its rows and view (`_from_rows_and_view`)."""
    return read.view.ids is None and _from_rows_and_view(read)


# Rows kept rendered, by everything their JSON comes from: the row (entry and catalog item)
# and the view. Clients read a whole library on every sync, mostly unchanged since the last
# time, and rendering was most of such a read's cost; a changed entry or item is another key.
@lru_cache(maxsize=ROWS_KEPT)
def _encoded_row(row: LibraryRow, view: LibraryView) -> bytes:
    return kept_json(library_row(row, LibraryRead([], view)))


def _rewatch_row(row: LibraryRow, session: RewatchSession, read: LibraryRead) -> dict[str, Any]:
    """A rewatch session as a row of its own: the item's row with the session's dates and
    episodes (its counts are a sentinel 0 without `extended=full`, as Simkl sends them)."""
    full = read.view.full
    regular = sorted(key for key in session.episodes if key[0] > 0)
    dated = [(at, key) for key, at in session.episodes.items() if at is not None and key[0] > 0]
    entry = library_row(row, read)
    entry.pop("seasons", None)
    entry.pop("next_to_watch_info", None)
    entry |= {
        "added_to_watchlist_at": format_ms(session.started_at),
        "last_watched_at": format_ms(session.last_watched_at),
        "watched_episodes_count": len(regular) if full else 0,
        "is_rewatch": True,
        "rewatch_id": session.id,
        "rewatch_status": session.status,
    }
    if row.item.type is not MediaType.MOVIE:
        entry["last_watched"] = episode_code(row.item, max(dated)[1]) if full and dated else None
        entry["next_to_watch"] = None
    if full and session.episodes:
        catalog = {(e.season, e.number): e for e in read.catalog.get(row.item.id, ())}
        episodes = [
            _watched(key, at, catalog.get(key)) for key, at in sorted(session.episodes.items())
        ]
        entry["seasons"] = _seasons(row, episodes, read.view)
    return entry


def _watched(key: EpisodeKey, at: int | None, known: CatalogEpisode | None) -> WatchedEpisode:
    if known is None:
        return WatchedEpisode(key[0], key[1], at)
    return WatchedEpisode(
        key[0], key[1], at, known.runtime, known.tvdb_id, known.tvdb_season, known.tvdb_number
    )


def _renderer(read: LibraryRead) -> Callable[[LibraryRow], dict[str, Any]]:
    view = read.view
    if view.ids is not None:
        simkl_only = view.ids == "simkl_ids_only"
        return lambda row: {_wrapper(row): media_stub(row.item, simkl_only=simkl_only)}
    return lambda row: library_row(row, read)


def _wrapper(row: LibraryRow) -> str:
    return "movie" if row.item.type is MediaType.MOVIE else "show"


def library_row(row: LibraryRow, read: LibraryRead) -> dict[str, Any]:
    """One library entry: dates, rating, status, episode progress and the media object, plus
    what the read's view adds (memo, next episode, watched episodes, TVDB mapping)."""
    item, view = row.item, read.view
    entry: dict[str, Any] = {
        "added_to_watchlist_at": format_ms(row.added_at),
        "last_watched_at": format_ms(row.last_watched_at),
        "user_rated_at": format_ms(row.user_rated_at),
        "user_rating": row.user_rating,
        "status": row.status.value,
    }
    if item.type is not MediaType.MOVIE:
        entry["last_watched"] = row.last_watched
        entry["next_to_watch"] = row.next_to_watch
    entry["watched_episodes_count"] = row.watched_episodes
    entry["total_episodes_count"] = max(item.total_episodes or 0, row.watched_episodes)
    entry["not_aired_episodes_count"] = row.not_aired
    if item.type is MediaType.ANIME and item.anime_type is not None:
        entry["anime_type"] = item.anime_type
    entry[_wrapper(row)] = media_object(item, runtime=view.full)
    if view.memos:
        memo = row.memo
        entry["memo"] = {} if memo is None else {"text": memo.text, "is_private": memo.is_private}
    if view.next_watch_info and item.id in read.next_episodes:
        entry["next_to_watch_info"] = _next_info(row, *read.next_episodes[item.id])
    if view.anime_seasons and item.type is MediaType.ANIME:
        mapped = {e.tvdb_season for e in read.catalog.get(item.id, ()) if e.tvdb_season}
        entry["mapped_tvdb_seasons"] = sorted(mapped)
    episodes = read.episodes.get(item.id)
    if episodes:
        seasons = _seasons(row, episodes, view)
        if seasons:
            entry["seasons"] = seasons
    return entry


def _next_info(row: LibraryRow, key: EpisodeKey, episode: CatalogEpisode | None) -> dict[str, Any]:
    info: dict[str, Any] = {"title": None if episode is None else episode.title}
    if row.item.type is not MediaType.ANIME:
        info["season"] = key[0]
    info["episode"] = key[1]
    info["date"] = None if episode is None else format_seconds(episode.aired_at)
    return info


def _seasons(
    row: LibraryRow, episodes: list[WatchedEpisode], view: LibraryView
) -> list[dict[str, Any]]:
    seasons: dict[int, list[dict[str, Any]]] = {}
    for episode in episodes:
        if episode.watched_at is None and view.all_episodes == "original":
            continue  # marked with the whole show: no row of its own to report
        seasons.setdefault(episode.season, []).append(_episode(row, episode, view))
    return [{"number": number, "episodes": listed} for number, listed in seasons.items()]


def _episode(row: LibraryRow, episode: WatchedEpisode, view: LibraryView) -> dict[str, Any]:
    rendered: dict[str, Any] = {"number": episode.number}
    if view.episode_watched_at:
        # An episode marked with the whole show has no date of its own: the show's stands in.
        at = row.last_watched_at if episode.watched_at is None else episode.watched_at
        rendered["watched_at"] = format_ms(at)
    if view.episode_runtime:
        rendered["runtime"] = episode.runtime
    if view.episode_tvdb_id:
        rendered["ids"] = {"tvdb_id": episode.tvdb_id}
    if view.anime_seasons and row.item.type is MediaType.ANIME and episode.tvdb_season:
        rendered["tvdb"] = {"season": episode.tvdb_season, "episode": episode.tvdb_number}
    return rendered
