"""Scrobbling, as the official scrobble operations describe it: `start` opens (or resumes) a
session of a movie or episode, `pause` keeps a resumable playback, `stop` finalises it (marked
watched, through the same code as POST /sync/history, at 80 % or more; a pause below).

Three windows guard these writes, all kept in the database so every server process enforces
them together, and all measured on the server's clock:

- the per-user lock: one scrobble of a user runs at a time; another waits for it at most
  `lock_wait_ms` (real time), then fails (Simkl's `400 RATE_LIMIT`). A holder that dies holds
  the lock for at most 20 seconds;
- a duplicate stop: a stop at 80 % or more of what a stop already recorded within the hour
  records nothing and reports that watch (`409`);
- with `allow_rewatch`, the rewatch rules of domain/rewatches.py (two watches of the same
  movie or episode less than two days apart are one: `too_soon`).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import field
from enum import StrEnum
from functools import partial
from typing import Any, TypeVar

from simkl_server.domain.changes import LibraryChanges
from simkl_server.domain.history import HistoryInput, Loaded, record_history
from simkl_server.domain.kinds import ListStatus, MediaType, Wrapper, is_movie_like
from simkl_server.domain.learn import STRICT, LearnPolicy, resolve_items
from simkl_server.domain.matching import catalog_query
from simkl_server.domain.models import (
    MOVIE_KEY,
    CatalogEpisode,
    CatalogItem,
    CatalogQuery,
    EpisodeKey,
    EpisodeTarget,
    ItemRef,
    Playback,
    SeasonTarget,
    SyncItem,
    frozen,
)
from simkl_server.domain.rewatches import PAID_PLANS
from simkl_server.errors import EmptyField, IdNotFound, ScrobbleLocked
from simkl_server.storage.base import Store, TakeScrobbleLock, WriteTx

T = TypeVar("T")
WATCHED_AT = 8000  # hundredths of a percent: a stop at 80 % or more marks watched
FULL = 10000
LOCK_LEASE_MS = 20_000
DUPLICATE_WINDOW_MS = 3600 * 1000
_LOCK_POLL_S = 0.02


class Action(StrEnum):
    """What a scrobble call did (the response's `action`)."""

    START = "start"
    PAUSE = "pause"
    SCROBBLE = "scrobble"
    CHECKIN = "checkin"


class Call(StrEnum):
    """Which scrobble endpoint was called."""

    START = "start"
    PAUSE = "pause"
    STOP = "stop"
    CHECKIN = "checkin"


@frozen
class EpisodeRef:
    """How a scrobble names its episode: season and number, or the episode's TVDB id."""

    season: int | None
    number: int | None
    tvdb: int | None = None
    anidb: int | None = None


@frozen
class ScrobbleTarget:
    """The media a scrobble names (`sent_as`: `movie`, `show` or `anime`) and its episode."""

    sent_as: str
    ref: ItemRef
    episode: EpisodeRef | None
    sent: Mapping[str, Any] = field(default_factory=dict)  # the media object as sent


@frozen
class RewatchReport:
    """What `allow_rewatch` did to a watch: the session it landed on and its status."""

    rewatch_id: int | None
    status: str


@frozen
class ScrobbleOutcome:
    """The answer of a scrobble call."""

    action: Action
    playback_id: int
    progress: int
    target: ScrobbleTarget
    item: CatalogItem
    episode: CatalogEpisode | None
    rewatch: RewatchReport | None = None


class AlreadyScrobbled(Exception):
    """A stop repeating a watch a stop recorded within the hour (HTTP 409)."""

    def __init__(self, watched_at: int) -> None:
        super().__init__("already scrobbled")
        self.watched_at = watched_at
        self.expires_at = watched_at + DUPLICATE_WINDOW_MS


async def scrobble(
    store: Store,
    *,
    user_id: int,
    call: Call,
    target: ScrobbleTarget,
    progress: int,
    allow_rewatch: bool,
    lock_wait_ms: int,
    learning: LearnPolicy = STRICT,
) -> ScrobbleOutcome:
    """Run one scrobble call under the user's scrobble lock; an item the catalog lacks is
    learned as `learning` allows (as every sync write does)."""

    async def work(tx: WriteTx) -> ScrobbleOutcome:
        item, key, episode = await identify(tx, target, user_id=user_id, learning=learning)
        running, current = await tx.playbacks.live_and_one(user_id, item.id, key)
        await _mature(tx, user_id, _due_checkins(running, tx.now_ms))
        if call in {Call.START, Call.CHECKIN}:
            await _settle_open(tx, user_id, running, (item.id, key), allow_rewatch=allow_rewatch)
        step = _Step(tx, user_id, item, key, episode, current)
        if call is Call.START:
            playback_id = await step.start(progress)
            return ScrobbleOutcome(Action.START, playback_id, progress, target, item, episode)
        if call is Call.CHECKIN:
            rewatch = allow_rewatch and tx.account_type in PAID_PLANS
            playback_id = await step.checkin(progress, rewatch=rewatch)
            return ScrobbleOutcome(Action.CHECKIN, playback_id, progress, target, item, episode)
        if call is Call.PAUSE or progress < WATCHED_AT:
            playback_id = await step.pause(progress)
            return ScrobbleOutcome(Action.PAUSE, playback_id, progress, target, item, episode)
        playback_id, report = await step.stop(progress, allow_rewatch)
        return ScrobbleOutcome(
            Action.SCROBBLE, playback_id, progress, target, item, episode, report
        )

    async with UserLock(store, user_id, lock_wait_ms) as lock:
        return await lock.write(work, looks_up=partial(catalog_query, [target.ref]))


class UserLock:
    """The user's scrobble lock, held in the database for the body of the `async with`: taken
    in a transaction of its own, so that every process sees it, and given back in the
    transaction of the write it guards (`write`), or in one of its own after a failure."""

    def __init__(self, store: Store, user_id: int, wait_ms: int) -> None:
        self._store = store
        self._user_id = user_id
        self._wait_s = wait_ms / 1000
        self._until = 0
        self._held = False

    async def __aenter__(self) -> UserLock:
        deadline = time.monotonic() + self._wait_s
        while not await self._acquire():
            if time.monotonic() >= deadline:
                raise ScrobbleLocked()
            await asyncio.sleep(_LOCK_POLL_S)
        self._held = True
        return self

    async def write(
        self, work: Callable[[WriteTx], Awaitable[T]], *, looks_up: Callable[[], CatalogQuery]
    ) -> T:
        """`work` as the user's one-item write (`Store.write`), the lock given back in its
        transaction (a transaction fewer)."""

        async def work_then_give_back(tx: WriteTx) -> T:
            result = await work(tx)
            await tx.playbacks.release(self._user_id, until=self._until)
            return result

        result = await self._store.write(
            self._user_id, work_then_give_back, size=1, looks_up=looks_up
        )
        self._held = False  # committed with the write
        return result

    async def _acquire(self) -> bool:
        now = self._store.clock.now_ms()
        self._until = now + LOCK_LEASE_MS

        take = TakeScrobbleLock(self._user_id, now=now, until=self._until)
        return await self._store.write_at_once(take, size=1)

    async def __aexit__(self, *exc: object) -> None:
        if not self._held:
            return

        async def give_back(tx: WriteTx) -> None:
            await tx.playbacks.release(self._user_id, until=self._until)

        await self._store.transaction(give_back)


async def identify(
    tx: WriteTx,
    target: ScrobbleTarget,
    *,
    user_id: int,
    learning: LearnPolicy = STRICT,
) -> tuple[CatalogItem, EpisodeKey, CatalogEpisode | None]:
    """The catalog item, the playback key and the catalog's episode a scrobble names
    (404 id_err when there is none; 400 empty_field for a show without its episode)."""
    (item,) = await resolve_items(
        tx, user_id=user_id, items=[SyncItem(target.sent, target.ref)], policy=learning
    )
    if item is None:
        raise IdNotFound()
    if is_movie_like(item.type, item.anime_type) and (
        target.episode is None or item.type is MediaType.MOVIE
    ):
        return item, MOVIE_KEY, None
    if target.episode is None:
        raise EmptyField('Missed "episode" parameter')
    listed = (await tx.catalog.episodes([item.id])).get(item.id, [])
    episode = find_episode(listed, target.episode)
    if episode is not None:
        return item, (episode.season, episode.number), episode
    sent = target.episode
    if listed or sent.season is None or sent.number is None:
        raise IdNotFound("Episode not found")
    return item, (sent.season, sent.number), None


def find_episode(listed: Sequence[CatalogEpisode], sent: EpisodeRef) -> CatalogEpisode | None:
    """The listed episode a scrobble names: by its TVDB or AniDB episode id first, then by
    season and number."""
    if sent.tvdb is not None or sent.anidb is not None:
        by_id = next(
            (
                e
                for e in listed
                if (sent.tvdb is not None and e.tvdb_id == sent.tvdb)
                or (sent.anidb is not None and e.anidb_id == sent.anidb)
            ),
            None,
        )
        if by_id is not None:
            return by_id
    return next((e for e in listed if (e.season, e.number) == (sent.season, sent.number)), None)


def playback_bucket(item: CatalogItem) -> str:
    """The activities bucket a playback of this item moves."""
    return f"{item.type.activity_block}.playback"


@frozen
class _Step:
    """One scrobble call's movie or episode, as it stands, inside its transaction."""

    tx: WriteTx
    user_id: int
    item: CatalogItem
    key: EpisodeKey
    episode: CatalogEpisode | None
    current: Playback | None

    @property
    def started_at(self) -> int:
        return self.tx.now_ms if self.current is None else self.current.started_at

    @property
    def scrobbled_at(self) -> int | None:
        return None if self.current is None else self.current.scrobbled_at

    async def touch_playback(self) -> None:
        await self.tx.activities.touch(
            self.user_id, [playback_bucket(self.item)], at=self.tx.now_ms
        )

    async def start(self, progress: int) -> int:
        """A session opened (or resumed): any paused playback of it is cleared."""
        if self.current is not None and self.current.state == "paused":
            await self.touch_playback()
        runtime = _runtime_ms(self.item, self.episode)
        now = self.tx.now_ms
        expires = None if runtime is None else now + runtime * (FULL - progress) // FULL
        playback = Playback(
            0,
            self.item.id,
            self.key,
            "playing",
            progress,
            now,
            expires_at=expires,
            scrobbled_at=self.scrobbled_at,
        )
        await self.tx.playbacks.save(self.user_id, playback)
        return 0  # Simkl answers a start with id 0: nothing is kept for the client to name

    async def checkin(self, progress: int, *, rewatch: bool) -> int:
        """A check-in: watched on its own once the movie's or episode's runtime is over (the
        `allow_rewatch` opt-in, checked against the plan now, is kept for that moment)."""
        now = self.tx.now_ms
        runtime = _runtime_ms(self.item, self.episode) or _default_runtime_ms(self.key)
        playback = Playback(
            0,
            self.item.id,
            self.key,
            "checkin",
            progress,
            now,
            expires_at=now + runtime,
            scrobbled_at=self.scrobbled_at,
            rewatch=rewatch,
        )
        return await self.tx.playbacks.save(self.user_id, playback)

    async def pause(self, progress: int) -> int:
        """A resumable playback kept at `progress`."""
        playback = Playback(
            0,
            self.item.id,
            self.key,
            "paused",
            progress,
            self.started_at,
            paused_at=self.tx.now_ms,
            scrobbled_at=self.scrobbled_at,
        )
        await self.touch_playback()
        return await self.tx.playbacks.save(self.user_id, playback)

    async def stop(self, progress: int, allow_rewatch: bool) -> tuple[int, RewatchReport | None]:
        """Marked watched, unless a stop already did so within the hour (AlreadyScrobbled)."""
        last = self.scrobbled_at
        if last is not None and self.tx.now_ms - last < DUPLICATE_WINDOW_MS:
            raise AlreadyScrobbled(last)
        report = await record_watch(
            self.tx,
            self.user_id,
            self.item,
            self.key,
            at=self.tx.now_ms,
            allow_rewatch=allow_rewatch,
        )
        if self.current is not None and self.current.state == "paused":
            await self.touch_playback()
        playback = Playback(
            0,
            self.item.id,
            self.key,
            "ended",
            progress,
            self.started_at,
            scrobbled_at=self.tx.now_ms,
        )
        return await self.tx.playbacks.save(self.user_id, playback), report


async def record_watch(
    tx: WriteTx,
    user_id: int,
    item: CatalogItem,
    key: EpisodeKey,
    *,
    at: int,
    allow_rewatch: bool,
    plan_checked: bool = False,
) -> RewatchReport | None:
    """Mark the movie or episode watched at `at`, as POST /sync/history does; with
    `allow_rewatch`, what happened to the rewatch (None without it)."""
    paid = plan_checked or tx.account_type in PAID_PLANS
    changes = await LibraryChanges.load(tx, user_id, [item])
    entry = changes.entry(item)
    if key == MOVIE_KEY:
        seasons = None
        seen_before = entry is not None and entry.status is ListStatus.COMPLETED
    else:
        seasons = (SeasonTarget(key[0], (EpisodeTarget(key[0], key[1]),)),)
        seen_before = key in changes.watched(item)
    sent: Mapping[str, Any] = {"ids": {"simkl": item.id}}
    wrapper = _wrapper_for(item)
    history_item = SyncItem(sent, ItemRef(wrapper, simkl=item.id), seasons)
    outcome = await record_history(
        tx,
        user_id=user_id,
        inputs=[HistoryInput(history_item, watched_at=at)],
        skip_auto_watching=False,
        allow_rewatch=allow_rewatch and paid,
        plan_checked=plan_checked,
        loaded=Loaded([item], changes),
    )
    if not allow_rewatch:
        return None
    if not paid:
        return RewatchReport(None, "pro_required")
    if entry is not None and entry.status is ListStatus.PLANTOWATCH:
        return RewatchReport(None, "not_eligible")
    if not seen_before:
        return RewatchReport(None, "first_watch")
    session = outcome.statuses[0].session if outcome.statuses else None
    if session is None:
        return RewatchReport(None, "too_soon")
    return RewatchReport(session.id, session.status)


def _wrapper_for(item: CatalogItem) -> Wrapper:
    return Wrapper.MOVIES if item.type is MediaType.MOVIE else Wrapper.SHOWS


async def mature_checkins(tx: WriteTx, user_id: int) -> int:
    """Mark watched every check-in of the user whose runtime is over (at the moment it
    ended); how many."""
    return await _mature(tx, user_id, await tx.playbacks.due_checkins(user_id, tx.now_ms))


def _due_checkins(running: Sequence[Playback], now: int) -> list[Playback]:
    """The check-ins among running sessions whose runtime is over, the earliest first."""
    due = [p for p in running if p.state == "checkin" and _expiry(p) <= now]
    return sorted(due, key=_expiry)


def _expiry(playback: Playback) -> float:
    return math.inf if playback.expires_at is None else playback.expires_at


async def _mature(tx: WriteTx, user_id: int, due: Sequence[Playback]) -> int:
    """Mark these due check-ins watched, each at the moment it ended; how many."""
    if not due:
        return 0
    items = await tx.catalog.items({playback.item_id for playback in due})
    for playback in due:
        ended = playback.expires_at or tx.now_ms
        await _finish(
            tx, user_id, items[playback.item_id], playback, at=ended, rewatch=playback.rewatch
        )
    return len(due)


async def complete_checkins(store: Store, *, batch: int = 100) -> int:
    """Mark watched the check-ins of every user whose runtime is over (a background sweep, so
    activities and the library move without any call of the user); how many."""
    done = 0
    for user_id in await store.read.playbacks.due_users(store.clock.now_ms(), limit=batch):

        async def work(tx: WriteTx, user_id: int = user_id) -> int:
            return await mature_checkins(tx, user_id)

        done += await store.write(user_id, work, size=1)
    return done


async def _settle_open(
    tx: WriteTx,
    user_id: int,
    sessions: Sequence[Playback],
    keep: tuple[int, EpisodeKey],
    *,
    allow_rewatch: bool,
) -> None:
    """A new session replaces the user's running ones (`sessions` as read before this write
    ended any): one that reached 80 % (its progress carried on at the pace of its runtime)
    is marked watched first, the others just end."""
    running = [p for p in sessions if p.running and (p.item_id, p.key) != keep]
    if not running:
        return
    items = await tx.catalog.items({playback.item_id for playback in running})
    for playback in running:
        item = items[playback.item_id]
        if _reached(playback, item, tx.now_ms) >= WATCHED_AT:
            rewatch = playback.rewatch or (allow_rewatch and tx.account_type in PAID_PLANS)
            await _finish(tx, user_id, item, playback, at=tx.now_ms, rewatch=rewatch)
        else:
            await tx.playbacks.end(user_id, playback.id)
            playback.end()


async def _finish(
    tx: WriteTx, user_id: int, item: CatalogItem, playback: Playback, *, at: int, rewatch: bool
) -> None:
    """A running session or check-in marked watched (within the duplicate hour, only ended)."""
    recent = playback.scrobbled_at is not None and at - playback.scrobbled_at < DUPLICATE_WINDOW_MS
    if not recent:
        await record_watch(
            tx, user_id, item, playback.key, at=at, allow_rewatch=rewatch, plan_checked=rewatch
        )
        playback.scrobbled_at = at
    playback.end()
    await tx.playbacks.save(user_id, playback)


def _reached(playback: Playback, item: CatalogItem, now: int) -> int:
    """How far a running session has got by now, in hundredths: a check-in by its runtime
    alone, a started session from its progress on (when the runtime is known)."""
    if playback.state == "checkin":
        expires = playback.expires_at or now
        length = max(1, expires - playback.started_at)
        return min(FULL, FULL * (now - playback.started_at) // length)
    if playback.expires_at is None:
        return playback.progress
    left = playback.expires_at - playback.started_at
    if left <= 0:
        return FULL
    gained = (FULL - playback.progress) * (now - playback.started_at) // left
    return min(FULL, playback.progress + gained)


def _default_runtime_ms(key: EpisodeKey) -> int:
    """A check-in's length when the catalog knows no runtime: two hours for a movie, 45
    minutes for an episode."""
    return (120 if key == MOVIE_KEY else 45) * 60_000


def _runtime_ms(item: CatalogItem, episode: CatalogEpisode | None) -> int | None:
    """How long the movie or episode runs, when the catalog knows."""
    minutes = episode.runtime if episode is not None and episode.runtime else item.runtime
    return None if not minutes else minutes * 60_000
