"""Copying a user's library from another Simkl-compatible server (real Simkl, or another
simkl-server) through its API, as a client would: `GET /sync/all-items/{type}` with the whole
library's details, once listing every episode (`include_all_episodes=yes`) and once only those
watched with a date of their own (`original`), so an episode marked with its whole show stays
undated here too. Requests are paced (one a second by default, Simkl's limit for a client),
back off on 429 and server errors (honouring Retry-After), and every answer is kept in a state
file as it arrives: an interrupted copy resumes where it stopped."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import simkl_server
from simkl_server.domain.kinds import LIST_STATUS_OF_WORD, TYPE_OF_PLURAL, MediaType
from simkl_server.domain.models import EpisodeKey, Memo
from simkl_server.domain.transfer import LibraryRecord, SessionRecord
from simkl_server.transfer.backup import parse_time

KINDS = ("movies", "shows", "anime")
# What each copy request asks for, besides the kind: every episode, then only dated ones.
DETAILS = {
    "all": {
        "extended": "full",
        "episode_watched_at": "yes",
        "include_all_episodes": "yes",
        "memos": "yes",
        "allow_rewatch": "yes",
    },
    "dated": {"extended": "full", "episode_watched_at": "yes", "include_all_episodes": "original"},
}
STEPS = [f"{kind}:{detail}" for kind in KINDS for detail in DETAILS]
RETRIES = 5
TIMEOUT_S = 120.0
_REFUSALS = {401: "the token", 403: "the app", 412: "the client_id"}

Getter = Callable[[str, dict[str, str]], tuple[int, dict[str, str], bytes]]


class TransferError(RuntimeError):
    """A copy that cannot go on (its state is kept; running it again resumes)."""


@dataclass(frozen=True, slots=True)
class Source:
    """The server to copy from, and who the copy reads as."""

    base_url: str
    token: str
    client_id: str

    def __post_init__(self) -> None:
        scheme = urllib.parse.urlsplit(self.base_url).scheme
        if scheme not in {"http", "https"}:
            raise TransferError(f"--from must be an http(s) URL, not {self.base_url!r}")


class Pacer:
    """At most one request per `interval` seconds; time and waiting are injected (tests)."""

    def __init__(
        self,
        interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self._next = 0.0

    def wait(self) -> None:
        """Wait until the next request may go."""
        now = self.clock()
        if self._next > now:
            self.sleep(self._next - now)
            now = self._next
        self._next = now + self.interval

    def back_off(self, seconds: float) -> None:
        """Hold every request for a while (the source asked us to slow down)."""
        self._next = max(self._next, self.clock() + seconds)


def http_get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """GET with the standard library: status, headers, body (error statuses too)."""
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 -- http(s) checked
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers or {}), error.read()


@dataclass(slots=True)
class Fetcher:
    """GETs from the source, paced, retried with back-off on 429, 5xx and network errors."""

    source: Source
    pacer: Pacer
    get: Getter = http_get

    def json(self, path: str, params: dict[str, str]) -> Any:
        """The decoded answer of one GET."""
        query = urllib.parse.urlencode(
            {
                "client_id": self.source.client_id,
                "app-name": "simkl-server",
                "app-version": simkl_server.__version__,
                **params,
            }
        )
        url = f"{self.source.base_url.rstrip('/')}{path}?{query}"
        headers = {
            "Authorization": f"Bearer {self.source.token}",
            "User-Agent": f"simkl-server/{simkl_server.__version__}",
            "simkl-api-key": self.source.client_id,
        }
        for attempt in range(RETRIES + 1):
            self.pacer.wait()
            try:
                status, answer_headers, body = self.get(url, headers)
            except (OSError, TimeoutError) as exc:
                status, answer_headers, body = 0, {}, str(exc).encode()
            if status == 200:
                return json.loads(body) if body.strip() else None
            if status in _REFUSALS:
                raise TransferError(
                    f"the source refused {_REFUSALS[status]}: {status} {body[:200]!r}"
                )
            if status not in {0, 429} and status < 500:
                raise TransferError(f"GET {path} answered {status}: {body[:200]!r}")
            if attempt < RETRIES:
                self.pacer.back_off(_retry_after(answer_headers, attempt))
        raise TransferError(f"GET {path} still failing after {RETRIES} retries (status {status})")


def _retry_after(headers: dict[str, str], attempt: int) -> float:
    """Retry-After in seconds when the source says so, else 1, 2, 4, 8, 16."""
    for name, value in headers.items():
        if name.lower() == "retry-after" and value.strip().isdigit():
            return float(value)
    return float(2**attempt)


@dataclass(slots=True)
class CopyState:
    """The answers already fetched, kept in a file so an interrupted copy resumes."""

    path: Path
    source: str
    user: str
    done: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def open(cls, path: Path, *, source: str, user: str) -> CopyState:
        """The state of an earlier copy of the same source into the same user, else empty."""
        if path.exists():
            try:
                saved = json.loads(path.read_text())
            except (OSError, ValueError):
                saved = {}
            if saved.get("source") == source and saved.get("user") == user:
                return cls(path, source, user, dict(saved.get("done", {})))
        return cls(path, source, user)

    def save(self) -> None:
        """Write the state (whole, through a temporary file: never half a state)."""
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(
            json.dumps({"source": self.source, "user": self.user, "done": self.done})
        )
        temporary.replace(self.path)

    def remove(self) -> None:
        """Forget the state (the copy finished)."""
        self.path.unlink(missing_ok=True)


def fetch_library(
    fetcher: Fetcher, state: CopyState, *, on_step: Callable[[str], None] | None = None
) -> list[LibraryRecord]:
    """Every step not fetched yet, each kept as it arrives; then the library's records."""
    for step in STEPS:
        if step not in state.done:
            kind, detail = step.split(":")
            state.done[step] = fetcher.json(f"/sync/all-items/{kind}", DETAILS[detail]) or {}
            state.save()
        if on_step is not None:
            on_step(step)
    return list(records(state.done))


def records(done: dict[str, Any]) -> Iterator[LibraryRecord]:
    """The library records the fetched answers describe."""
    for kind in KINDS:
        rows = (done.get(f"{kind}:all") or {}).get(kind, [])
        dated = _dated_episodes((done.get(f"{kind}:dated") or {}).get(kind, []))
        sessions: dict[int, list[SessionRecord]] = {}
        for row in rows:
            if row.get("is_rewatch"):
                sessions.setdefault(_simkl(row), []).append(_session(row))
        for row in rows:
            if not row.get("is_rewatch"):
                yield _record(TYPE_OF_PLURAL[kind], row, dated, sessions.get(_simkl(row), []))


def _simkl(row: dict[str, Any]) -> int:
    return int((row.get("movie") or row["show"])["ids"]["simkl"])


def _episodes(row: dict[str, Any]) -> dict[EpisodeKey, int | None]:
    return {
        (int(season["number"]), int(episode["number"])): _time(episode.get("watched_at"))
        for season in row.get("seasons", [])
        for episode in season.get("episodes", [])
    }


def _dated_episodes(rows: list[dict[str, Any]]) -> dict[int, dict[EpisodeKey, int | None]]:
    return {_simkl(row): _episodes(row) for row in rows if not row.get("is_rewatch")}


def _record(
    media_type: MediaType,
    row: dict[str, Any],
    dated: dict[int, dict[EpisodeKey, int | None]],
    sessions: list[SessionRecord],
) -> LibraryRecord:
    media = row.get("movie") or row["show"]
    simkl = int(media["ids"]["simkl"])
    own = dated.get(simkl, {})
    memo = row.get("memo") or None
    added = _time(row.get("added_to_watchlist_at"))
    return LibraryRecord(
        type=media_type,
        title=str(media.get("title") or ""),
        ids={k: str(v) for k, v in media["ids"].items() if k != "simkl" and v is not None},
        status=LIST_STATUS_OF_WORD[row["status"]],
        added_at=added if added is not None else 0,
        simkl=simkl,
        year=media.get("year"),
        last_watched_at=_time(row.get("last_watched_at")),
        user_rating=row.get("user_rating"),
        user_rated_at=_time(row.get("user_rated_at")),
        memo=None if memo is None else Memo(str(memo["text"]), bool(memo.get("is_private"))),
        episodes={key: own.get(key) for key in _episodes(row)},
        sessions=tuple(sessions),
    )


def _session(row: dict[str, Any]) -> SessionRecord:
    started = _time(row.get("added_to_watchlist_at"))
    return SessionRecord(
        status=str(row.get("rewatch_status") or "closed"),
        started_at=started if started is not None else 0,
        last_watched_at=_time(row.get("last_watched_at")),
        episodes=_episodes(row),
    )


def _time(text: Any) -> int | None:
    return None if text is None else parse_time(str(text))
