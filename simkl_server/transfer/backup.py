"""The library backup file: one JSON document holding every item of a user's library, named by
its ids, title and year (so it restores on any server with those items in its catalog), with
its list, dates, rating, memo, watched episodes and rewatch sessions. Export, then import,
then export again gives the same bytes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from simkl_server.domain.kinds import LIST_STATUS_OF_WORD, MEDIA_TYPE_OF_WORD
from simkl_server.domain.models import EpisodeKey, Memo
from simkl_server.domain.transfer import LibraryRecord, SessionRecord

FORMAT = "simkl-server-library"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
VERSION = 1


class BackupError(ValueError):
    """A file that is not a library backup this version can read."""


def dump(records: Iterable[LibraryRecord]) -> bytes:
    """The backup document, sorted by item so the same library always gives the same bytes."""
    items = sorted((_item(record) for record in records), key=_order)
    document = {"format": FORMAT, "version": VERSION, "items": items}
    return orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"


def load(data: bytes) -> list[LibraryRecord]:
    """The records of a backup document; a malformed one raises BackupError naming why."""
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BackupError(f"not JSON: {exc.msg}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BackupError(f'not a library backup (no "format": "{FORMAT}")')
    if document.get("version") != VERSION:
        raise BackupError(
            f"backup version {document.get('version')!r}; this server reads {VERSION}"
        )
    items = document.get("items")
    if not isinstance(items, list):
        raise BackupError('"items" must be an array')
    return [_record(entry, f"items[{n}]") for n, entry in enumerate(items)]


def _order(item: dict[str, Any]) -> tuple[str, int, str]:
    return (item["type"], item["ids"].get("simkl") or 0, orjson.dumps(item["ids"]).decode())


def _stamp(ms: int | None) -> str | None:
    if ms is None:
        return None
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _item(record: LibraryRecord) -> dict[str, Any]:
    ids: dict[str, Any] = {"simkl": record.simkl} if record.simkl is not None else {}
    memo = record.memo
    return {
        "type": record.type.value,
        "title": record.title,
        "year": record.year,
        "ids": ids | dict(sorted(record.ids.items())),
        "status": record.status.value,
        "added_at": _stamp(record.added_at),
        "last_watched_at": _stamp(record.last_watched_at),
        "user_rating": record.user_rating,
        "user_rated_at": _stamp(record.user_rated_at),
        "memo": None if memo is None else {"text": memo.text, "is_private": memo.is_private},
        "episodes": _episodes(record.episodes),
        "rewatches": [
            {
                "status": session.status,
                "started_at": _stamp(session.started_at),
                "last_watched_at": _stamp(session.last_watched_at),
                "episodes": _episodes(session.episodes),
            }
            for session in sorted(record.sessions, key=lambda s: s.started_at)
        ],
    }


def _episodes(episodes: dict[EpisodeKey, int | None]) -> list[dict[str, Any]]:
    return [
        {"season": key[0], "number": key[1], "watched_at": _stamp(at)}
        for key, at in sorted(episodes.items())
    ]


def _record(entry: Any, where: str) -> LibraryRecord:
    if not isinstance(entry, dict):
        raise BackupError(f"{where} must be an object")
    try:
        ids = {str(k): str(v) for k, v in entry["ids"].items() if k != "simkl" and v is not None}
        simkl = entry["ids"].get("simkl")
        memo = entry.get("memo")
        return LibraryRecord(
            type=MEDIA_TYPE_OF_WORD[entry["type"]],
            title=str(entry["title"]),
            ids=ids,
            status=LIST_STATUS_OF_WORD[entry["status"]],
            added_at=_ms(entry["added_at"], where),
            simkl=int(simkl) if simkl is not None else None,
            year=entry.get("year"),
            last_watched_at=_optional_ms(entry.get("last_watched_at"), where),
            user_rating=entry.get("user_rating"),
            user_rated_at=_optional_ms(entry.get("user_rated_at"), where),
            memo=None if memo is None else Memo(str(memo["text"]), bool(memo["is_private"])),
            episodes=_read_episodes(entry.get("episodes", []), where),
            sessions=tuple(_session(s, where) for s in entry.get("rewatches", [])),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BackupError(f"{where}: {type(exc).__name__} {exc}") from None


def _session(entry: Any, where: str) -> SessionRecord:
    return SessionRecord(
        status=str(entry["status"]),
        started_at=_ms(entry["started_at"], where),
        last_watched_at=_optional_ms(entry.get("last_watched_at"), where),
        episodes=_read_episodes(entry.get("episodes", []), where),
    )


def _read_episodes(entries: Any, where: str) -> dict[EpisodeKey, int | None]:
    return {
        (int(e["season"]), int(e["number"])): _optional_ms(e.get("watched_at"), where)
        for e in entries
    }


def _ms(text: Any, where: str) -> int:
    value = _optional_ms(text, where)
    if value is None:
        raise BackupError(f"{where}: a required time is missing")
    return value


def parse_time(text: str) -> int:
    """Epoch milliseconds of an ISO-8601 time (any offset; none means UTC)."""
    value = _optional_ms(text, "time")
    assert value is not None
    return value


def _optional_ms(text: Any, where: str) -> int | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise BackupError(f"{where}: {text!r} is not an ISO-8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(milliseconds=1)
