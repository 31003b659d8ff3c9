"""Rewatch sessions (Simkl PRO / VIP, with `?allow_rewatch=yes`), as the rewatches guide
describes them.

A history write lands in a session only when the regular write would change nothing: the movie
is already completed, or every episode named is already watched, or a completed show is sent
whole (that starts an empty session). Items on Plan to Watch have nothing to rewatch. A write
resumes the session it names (`rewatch_id`), else the item's active one, else starts one (at
most 50 per item). Two watches of the same movie or episode less than two days apart are one
watch: the later date is kept. An episode already in the session watched more than two days
earlier closes the session and opens a new one. A show's session is completed once it covers
every aired episode; `rewatch_status` sets `active` (closing the item's other active session),
`closed` (not a completed one) or `completed` (as the official examples show it honoured).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from simkl_server.domain.changes import LibraryChanges
from simkl_server.domain.kinds import ListStatus, MediaType
from simkl_server.domain.models import CatalogItem, EpisodeKey, RewatchSession, frozen
from simkl_server.storage.base import WriteTx

PAID_PLANS = frozenset({"pro", "vip"})
MAX_SESSIONS = 50
GAP_MS = 2 * 24 * 3600 * 1000
ACTIVE, COMPLETED, CLOSED = "active", "completed", "closed"
SESSION_STATES = frozenset({ACTIVE, COMPLETED, CLOSED})
# Simkl answers a rewatch write with its numeric code of the item's list (the official
# examples show 3 for completed; the other codes follow Simkl's list order).
LIST_CODES = {
    ListStatus.WATCHING: 1,
    ListStatus.PLANTOWATCH: 2,
    ListStatus.COMPLETED: 3,
    ListStatus.HOLD: 4,
    ListStatus.DROPPED: 5,
}


@frozen
class RewatchRequest:
    """What a history item says about rewatching: the flag, a session to resume, a state."""

    is_rewatch: bool = False
    rewatch_id: int | None = None
    status: str | None = None


@frozen
class RewatchResult:
    """The session a write landed in, whether it started it, and the episodes it added."""

    session: RewatchSession
    started: bool
    episodes: int


@dataclass(slots=True)
class Rewatches:
    """The sessions of one write's items, changed in memory, then saved at once."""

    now: int
    sessions: dict[int, list[RewatchSession]]
    fresh_ids: list[int]
    changed: dict[int, RewatchSession] = field(default_factory=dict)
    episodes: dict[tuple[int, EpisodeKey], int | None] = field(default_factory=dict)

    @classmethod
    async def load(cls, tx: WriteTx, user_id: int, item_ids: Collection[int]) -> Rewatches:
        """The items' sessions, and enough fresh ids for every session the write may start."""
        sessions = await tx.rewatches.sessions(user_id, item_ids)
        return cls(tx.now_ms, sessions, await tx.rewatches.new_ids(2 * len(item_ids)))

    def applies(
        self,
        changes: LibraryChanges,
        item: CatalogItem,
        targets: Mapping[EpisodeKey, int] | None,
    ) -> bool:
        """Whether the regular write would change nothing, so the write is a rewatch."""
        entry = changes.entry(item)
        if entry is None or entry.status is ListStatus.PLANTOWATCH:
            return False
        if item.type is MediaType.MOVIE:
            return entry.status is ListStatus.COMPLETED
        if targets is None:
            return entry.status is ListStatus.COMPLETED
        watched = changes.watched(item)
        return bool(targets) and all(key in watched for key in targets)

    def record_movie(
        self, item: CatalogItem, at: int | None, last: int | None
    ) -> RewatchResult | None:
        """A movie watched again: a completed session, unless within two days of a watch."""
        stamp = self.now if at is None else at
        watches = [last, *(s.last_watched_at for s in self.sessions.get(item.id, []))]
        if any(w is not None and abs(stamp - w) < GAP_MS for w in watches):
            return None
        session = self._start(item.id, self.now, COMPLETED)
        if session is None:
            return None
        session.last_watched_at = stamp
        return RewatchResult(session, True, 0)

    def record_show(
        self,
        changes: LibraryChanges,
        item: CatalogItem,
        targets: Mapping[EpisodeKey, int],
        request: RewatchRequest,
    ) -> RewatchResult | None:
        """Episodes watched again, into the session the write names or the active one."""
        canonical = changes.watched(item)
        wanted = {key: at for key, at in targets.items() if not _close(canonical.get(key), at)}
        if targets and not wanted:
            return None  # every episode was just watched: too soon for a rewatch
        session, started = self._session_for(item.id, request)
        if session is None:
            return None
        if any(
            k in session.episodes and _apart(session.episodes[k], at) for k, at in wanted.items()
        ):
            session.status = CLOSED  # the same episode again, days later: a new session
            self._touch(session)
            session, started = self._start(item.id, self.now, ACTIVE), True
            if session is None:
                return None
        added = self._add(session, wanted)
        self._settle(changes, item, session, request.status)
        return RewatchResult(session, started, added)

    def _session_for(
        self, item_id: int, request: RewatchRequest
    ) -> tuple[RewatchSession | None, bool]:
        sessions = self.sessions.get(item_id, [])
        chosen = next((s for s in sessions if s.id == request.rewatch_id), None)
        chosen = chosen or next((s for s in sessions if s.status == ACTIVE), None)
        if chosen is not None:
            return chosen, False
        return self._start(item_id, self.now, ACTIVE), True

    def _start(self, item_id: int, started_at: int, status: str) -> RewatchSession | None:
        """A new session, started now (the request's time), unless the item has 50."""
        sessions = self.sessions.setdefault(item_id, [])
        if len(sessions) >= MAX_SESSIONS or not self.fresh_ids:
            return None
        session = RewatchSession(self.fresh_ids.pop(0), item_id, status, started_at, None, self.now)
        sessions.append(session)
        self._touch(session)
        return session

    def _add(self, session: RewatchSession, wanted: Mapping[EpisodeKey, int]) -> int:
        added = 0
        for key, at in wanted.items():
            before = session.episodes.get(key)
            if key not in session.episodes:
                added += 1
            elif before is not None and before >= at:
                continue
            session.episodes[key] = at
            self.episodes[(session.id, key)] = at
        if wanted:
            newest = max(wanted.values())
            if session.last_watched_at is None or newest > session.last_watched_at:
                session.last_watched_at = newest
            self._touch(session)
        return added

    def _settle(
        self,
        changes: LibraryChanges,
        item: CatalogItem,
        session: RewatchSession,
        wanted: str | None,
    ) -> None:
        """Apply an explicit state, then promote a session that covers every aired episode."""
        if wanted == ACTIVE:
            for other in self.sessions.get(item.id, []):
                if other is not session and other.status == ACTIVE:
                    other.status = CLOSED
                    self._touch(other)
            session.status = ACTIVE
        elif wanted == CLOSED and session.status != COMPLETED:
            session.status = CLOSED
        elif wanted == COMPLETED:
            session.status = COMPLETED
        aired = changes.episodes(item).aired_keys
        if session.status != COMPLETED and aired and all(k in session.episodes for k in aired):
            session.status = COMPLETED
        self._touch(session)

    def _touch(self, session: RewatchSession) -> None:
        session.changed_at = self.now
        self.changed[session.id] = session

    async def save(self, tx: WriteTx, user_id: int) -> None:
        """Write the sessions and episodes this write changed."""
        episodes = [(sid, key[0], key[1], at) for (sid, key), at in sorted(self.episodes.items())]
        await tx.rewatches.save(user_id, list(self.changed.values()), episodes)


def _apart(before: int | None, at: int) -> bool:
    """Two dated watches of the same thing at least two days apart."""
    return before is not None and abs(at - before) >= GAP_MS


def _close(before: int | None, at: int) -> bool:
    """A dated watch less than two days from this one (one watch, not a rewatch)."""
    return before is not None and abs(at - before) < GAP_MS
