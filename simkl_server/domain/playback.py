"""Paused playbacks: the list a "Continue watching" row reads (GET /sync/playback) and its
removal (DELETE /sync/playback/{id}).

A paused playback is listed while its plan keeps it (free 7 days, PRO 30, VIP 90 by default;
the days are settings), newest pause first, one per movie or episode. `hide_watched` leaves out
a playback overtaken by a watch at or after its pause; one paused after a watch (a re-viewing)
is listed.
"""

from __future__ import annotations

from collections.abc import Mapping

from simkl_server.domain.kinds import MediaType
from simkl_server.domain.models import (
    MOVIE_KEY,
    CatalogEpisode,
    CatalogItem,
    PausedQuery,
    Playback,
    frozen,
)
from simkl_server.domain.scrobble import mature_checkins, playback_bucket
from simkl_server.errors import PlaybackNotFound
from simkl_server.storage.base import Store, WriteTx

DAY_MS = 24 * 3600 * 1000
FOREVER_MS = 2**62


@frozen
class PlaybackFilter:
    """What a list read asks for."""

    movies: bool = True
    episodes: bool = True
    date_from: int | None = None
    date_to: int | None = None
    hide_watched: bool = True
    limit: int = 10_000


@frozen
class PausedPlayback:
    """A listed playback with the catalog's record of its item and episode."""

    playback: Playback
    item: CatalogItem
    episode: CatalogEpisode | None


async def list_playbacks(
    store: Store, *, user_id: int, wanted: PlaybackFilter, retention_days: Mapping[str, int]
) -> list[PausedPlayback]:
    """The user's paused playbacks, newest pause first (a fixed number of queries)."""
    read = store.read
    if await read.playbacks.due_checkins(user_id, store.clock.now_ms()):

        async def mature(tx: WriteTx) -> int:
            return await mature_checkins(tx, user_id)

        await store.write(user_id, mature, size=1)
    profile = await read.accounts.profile(user_id)
    plan = "free" if profile is None else profile.account_type
    now = store.clock.now_ms()
    query = PausedQuery(
        since=now - retention_days.get(plan, retention_days["free"]) * DAY_MS,
        date_from=wanted.date_from if wanted.date_from is not None else 0,
        date_to=wanted.date_to if wanted.date_to is not None else FOREVER_MS,
        movies=wanted.movies,
        episodes=wanted.episodes,
        limit=wanted.limit,
    )
    paused = await read.playbacks.paused(user_id, query)
    item_ids = {p.item_id for p in paused}
    items = await read.catalog.items(item_ids)
    shows = [i for i in item_ids if items[i].type is not MediaType.MOVIE]
    catalog = await read.catalog.episodes(shows) if shows else {}
    entries = await read.library.entries(user_id, item_ids) if wanted.hide_watched else {}
    watched = await read.history.watched(user_id, shows) if wanted.hide_watched and shows else {}
    listed: list[PausedPlayback] = []
    for playback in paused:
        paused_at = playback.paused_at or 0
        if playback.key == MOVIE_KEY:
            entry = entries.get(playback.item_id)
            last = None if entry is None else entry.last_watched_at
        else:
            last = watched.get(playback.item_id, {}).get(playback.key)
        if wanted.hide_watched and last is not None and last >= paused_at:
            continue
        episode = next(
            (e for e in catalog.get(playback.item_id, []) if (e.season, e.number) == playback.key),
            None,
        )
        listed.append(PausedPlayback(playback, items[playback.item_id], episode))
    return listed


async def delete_playback(store: Store, *, user_id: int, playback_id: int) -> None:
    """Remove one of the user's paused (or running, or checked-in) playbacks; a check-in is
    cancelled with it. PlaybackNotFound when the user has no such playback."""

    async def work(tx: WriteTx) -> None:
        playback = await tx.playbacks.by_id(user_id, playback_id)
        if playback is None or playback.state == "ended":
            raise PlaybackNotFound()
        await tx.playbacks.end(user_id, playback_id)
        items = await tx.catalog.items([playback.item_id])
        await tx.activities.touch(user_id, [playback_bucket(items[playback.item_id])], at=tx.now_ms)

    await store.write(user_id, work, size=1)
