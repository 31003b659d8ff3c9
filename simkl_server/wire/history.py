"""Watch-history request and response shapes: what rides on a history item (`watched_at`,
`status`, `rating`, `memo`), and the answers of /sync/history and /sync/history/remove."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simkl_server.domain.history import Applied, HistoryInput, HistoryOutcome, RemoveOutcome
from simkl_server.domain.kinds import LIST_STATUS_OF_WORD, ListStatus, MediaType
from simkl_server.domain.models import Memo, SyncItem
from simkl_server.domain.rewatches import LIST_CODES, SESSION_STATES, RewatchRequest
from simkl_server.errors import WrongParameter
from simkl_server.wire.common import item_date, not_found
from simkl_server.wire.ratings import rating_value

MEMO_MAX_CHARS = 140
_SIMKL_TYPE = {MediaType.MOVIE: "movie", MediaType.SHOW: "tv", MediaType.ANIME: "anime"}
# Keys the echo of an applied item leaves out: what it narrowed the write to.
_NOT_ECHOED = frozenset({"seasons", "episodes"})


def history_inputs(items: Sequence[SyncItem]) -> list[HistoryInput]:
    """What each history item carries besides its media."""
    return [_history_input(item, f"item {position}") for position, item in enumerate(items)]


def _history_input(item: SyncItem, where: str) -> HistoryInput:
    sent = item.sent
    watched_at, bad = item_date(dict(sent), "watched_at")
    added_at, bad_added = item_date(dict(sent), "added_at")
    memo_given = "memo" in sent
    return HistoryInput(
        item=item if not (bad or bad_added) else with_bad_date(item),
        watched_at=watched_at,
        added_at=added_at,
        status=list_status(sent.get("status"), "status"),
        rating=rating_value(sent.get("rating")),
        memo=parse_memo(sent.get("memo"), where) if memo_given else None,
        memo_given=memo_given,
        tvdb_numbering=sent.get("use_tvdb_anime_seasons") is True,
        rewatch=_rewatch_request(sent, where),
    )


def _rewatch_request(sent: Any, where: str) -> RewatchRequest:
    """`is_rewatch`, `rewatch_id` and `rewatch_status` (used with `?allow_rewatch=yes`)."""
    rewatch_id = sent.get("rewatch_id")
    if rewatch_id is not None and (isinstance(rewatch_id, bool) or not isinstance(rewatch_id, int)):
        raise WrongParameter(f'"rewatch_id" of {where} must be an integer')
    status = sent.get("rewatch_status")
    if status is not None and status not in SESSION_STATES:
        raise WrongParameter('Wrong "rewatch_status" parameter')
    return RewatchRequest(sent.get("is_rewatch") is True, rewatch_id, status)


def with_bad_date(item: SyncItem) -> SyncItem:
    """The item, marked as carrying a date that does not parse (it goes to `not_found`)."""
    return SyncItem(item.sent, item.ref, item.seasons, bad_date=True)


def list_status(value: Any, name: str) -> ListStatus | None:
    """A list status word, or None when absent; any other value is 400 wrong_parameter."""
    if value is None:
        return None
    status = LIST_STATUS_OF_WORD.get(value) if isinstance(value, str) else None
    if status is None:
        raise WrongParameter(f'Wrong "{name}" parameter')
    return status


def parse_memo(value: Any, where: str) -> Memo | None:
    """`{"text": ..., "is_private": ...}`; an empty text (or `{}`, or null) clears the memo.
    Text past 140 characters is cut there, as Simkl caps it."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise WrongParameter(f'"memo" of {where} must be an object')
    text = value.get("text", "")
    private = value.get("is_private", False)
    if not isinstance(text, str) or not isinstance(private, bool) or "\x00" in text:
        raise WrongParameter(f'"memo" of {where} must be {{"text": string, "is_private": bool}}')
    text = text.strip()[:MEMO_MAX_CHARS]
    return Memo(text, private) if text else None


def history_response(outcome: HistoryOutcome) -> dict[str, Any]:
    """The answer of POST /sync/history: counts, each applied item with the status it ended in
    and the catalog it resolved to, and the unmatched items as sent."""
    statuses = [
        {"request": _applied_echo(applied.entry.item), "response": _resolved(applied)}
        for applied in outcome.statuses
    ]
    missing = not_found(entry.item for entry in outcome.not_found)
    return {
        "added": {
            "movies": outcome.movies,
            "shows": outcome.shows,
            "episodes": outcome.episodes,
            "statuses": statuses,
        },
        "not_found": {
            bucket: [_unmatched_echo(echoed) for echoed in entries]
            for bucket, entries in missing.items()
        }
        | {"episodes": []},
    }


def _applied_echo(item: SyncItem) -> dict[str, Any]:
    """The item as sent, less the seasons it named, with its `type` and `rating` (null when
    it carried none), as the official examples show."""
    echo = {key: value for key, value in item.sent.items() if key not in _NOT_ECHOED}
    echo["type"] = item.ref.wrapper.echo_type
    echo.setdefault("rating", None)
    return echo


def _unmatched_echo(echo: dict[str, Any]) -> dict[str, Any]:
    """An unmatched history item: as sent, with `rating` (null when none) and no `type`, as the
    official example shows."""
    unmatched = {key: value for key, value in echo.items() if key != "type"}
    unmatched.setdefault("rating", None)
    return unmatched


def _resolved(applied: Applied) -> dict[str, Any]:
    """The list the item is on, the catalog it resolved to; for a rewatch, the session (and
    the list as Simkl's numeric code, as the official examples show)."""
    item, session = applied.item, applied.session
    anime_type = item.anime_type if item.type is MediaType.ANIME else None
    status: str | int = applied.status.value if session is None else LIST_CODES[applied.status]
    resolved = {"status": status, "simkl_type": _SIMKL_TYPE[item.type], "anime_type": anime_type}
    if session is not None:
        resolved["rewatch_id"] = session.id
        resolved["rewatch_status"] = session.status
    return resolved


def remove_response(outcome: RemoveOutcome) -> dict[str, Any]:
    """The answer of POST /sync/history/remove: what was removed and unmarked, and the
    unmatched items as sent (with their `type`)."""
    deleted: dict[str, int | None] = {
        "movies": outcome.movies,
        "shows": outcome.shows,
        "episodes": outcome.episodes,
    }
    missing: dict[str, list[Any]] = not_found(outcome.not_found)
    if outcome.rewatches is not None:
        # A PRO / VIP account's answer, as the official examples show it.
        deleted |= {"rewatches": outcome.rewatches, "rewatch_episodes": outcome.rewatch_episodes}
        missing["episodes"] = []
    return {"deleted": deleted, "not_found": missing}
