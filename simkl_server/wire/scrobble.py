"""Scrobble and playback shapes: the body of the scrobble endpoints (`progress` and exactly one
of `movie`, `show` + `episode`, `anime` + `episode`), their answers, the paused-playback list
and its query parameters."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from simkl_server.domain.kinds import MediaType, Wrapper
from simkl_server.domain.models import CatalogEpisode, CatalogItem
from simkl_server.domain.playback import PausedPlayback, PlaybackFilter
from simkl_server.domain.scrobble import (
    AlreadyScrobbled,
    EpisodeRef,
    ScrobbleOutcome,
    ScrobbleTarget,
)
from simkl_server.errors import EmptyField, UrlFailed, WrongParameter
from simkl_server.wire.common import as_integer, parse_ref
from simkl_server.wire.media import ids_object
from simkl_server.wire.timestamps import format_ms, format_seconds, parse_iso

_MEDIA_KEYS = {"movie": Wrapper.MOVIES, "show": Wrapper.SHOWS, "anime": Wrapper.ANIME}
MAX_LIMIT = 10_000


def scrobble_body(
    document: dict[str, Any], *, progress_required: bool, max_title_chars: int
) -> tuple[ScrobbleTarget, int]:
    """The media a scrobble names and its progress in hundredths of a percent."""
    sent = [key for key in _MEDIA_KEYS if document.get(key) is not None]
    if not sent:
        raise EmptyField('Missed "movie", "show" or "anime" parameter')
    if len(sent) > 1:
        raise WrongParameter('Send exactly one of "movie", "show" or "anime"')
    key = sent[0]
    media = document[key]
    if not isinstance(media, dict):
        raise WrongParameter(f'"{key}" must be an object')
    ref = parse_ref(media, _MEDIA_KEYS[key], where=key, max_title_chars=max_title_chars)
    target = ScrobbleTarget(key, ref, _episode(document.get("episode")), media)
    return target, _progress(document.get("progress"), required=progress_required)


def _episode(value: Any) -> EpisodeRef | None:
    """`{"season", "number"}` or `{"ids": {"tvdb"}}` (the id first when both are sent)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise WrongParameter('"episode" must be an object')
    season = _count(value.get("season"), "episode.season")
    number = _count(value.get("number"), "episode.number")
    ids = value.get("ids")
    if ids is not None and not isinstance(ids, dict):
        raise WrongParameter('"episode.ids" must be an object')
    tvdb = _count((ids or {}).get("tvdb"), "episode.ids.tvdb")
    anidb = _count((ids or {}).get("anidb"), "episode.ids.anidb")
    if tvdb is None and anidb is None and (season is None or number is None):
        raise EmptyField('Missed "season" and "number" (or "ids") in "episode"')
    return EpisodeRef(season, number, tvdb, anidb)


def _count(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise WrongParameter(f'"{where}" must be an integer')
    number = as_integer(value)
    if number is None or not 0 <= number < 2**31:
        raise WrongParameter(f'"{where}" must be a non-negative integer')
    return number


def _progress(value: Any, *, required: bool) -> int:
    """0-100 with at most two decimals (more are rounded), as hundredths."""
    if value is None:
        if required:
            raise EmptyField('Missed "progress" parameter')
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise WrongParameter('"progress" must be a number from 0 to 100')
    if not 0 <= value <= 100:
        raise WrongParameter('"progress" must be a number from 0 to 100')
    return round(value * 100)


def percent(hundredths: int) -> int | float:
    """A progress as Simkl prints it: `75`, not `75.00`; `45.5`."""
    return hundredths // 100 if hundredths % 100 == 0 else hundredths / 100


def scrobble_response(outcome: ScrobbleOutcome) -> dict[str, Any]:
    """`id`, `action`, `progress`, the media object under the key it was sent as, and the
    episode; with `allow_rewatch` on a watch, `rewatch_id` and `rewatch_status`."""
    body: dict[str, Any] = {
        "id": outcome.playback_id,
        "action": outcome.action.value,
        "progress": percent(outcome.progress),
        outcome.target.sent_as: _media(outcome.item),
    }
    if outcome.item.type is not MediaType.MOVIE and outcome.target.sent_as != "movie":
        body["episode"] = _episode_object(outcome, "number")
    if outcome.rewatch is not None:
        body["rewatch_id"] = outcome.rewatch.rewatch_id
        body["rewatch_status"] = outcome.rewatch.status
    return body


def _media(item: CatalogItem) -> dict[str, Any]:
    media = _listed_media(item)
    if item.type is MediaType.ANIME and item.anime_type is not None:
        media["anime_type"] = item.anime_type
    return media


def _episode_object(outcome: ScrobbleOutcome, number_key: str) -> dict[str, Any]:
    episode = outcome.episode
    sent = outcome.target.episode
    if episode is None:
        season = sent.season if sent is not None else None
        number = sent.number if sent is not None else None
        return {"season": season, number_key: number, "title": f"Episode {number}"}
    return _episode_fields(episode, number_key)


def _episode_fields(episode: CatalogEpisode, number_key: str) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "season": episode.season,
        number_key: episode.number,
        "title": episode.title or f"Episode {episode.number}",
    }
    if episode.tvdb_season is not None and episode.tvdb_number is not None:
        shown["tvdb_season"] = episode.tvdb_season
        shown["tvdb_number"] = episode.tvdb_number
    return shown


def duplicate_stop_body(conflict: AlreadyScrobbled) -> dict[str, Any]:
    """The 409 answer: when the watch was recorded and when a stop may record another."""
    return {
        "watched_at": format_seconds(conflict.watched_at),
        "expires_at": format_seconds(conflict.expires_at),
    }


def playback_filter(kind: str | None, query: dict[str, str]) -> PlaybackFilter:
    """The list's `{type}` segment (`movies`, `episodes`; None: every type) and query
    parameters."""
    return PlaybackFilter(
        movies=kind != "episodes",
        episodes=kind != "movies",
        date_from=_date(query.get("date_from"), "date_from"),
        date_to=_date(query.get("date_to"), "date_to"),
        hide_watched=(query.get("hide_watched") or "true").strip().lower() not in {"false", "0"},
        limit=_limit(query.get("limit")),
    )


def _date(value: str | None, name: str) -> int | None:
    if value is None or not value.strip():
        return None
    stamp = parse_iso(value.strip())
    if stamp is None:
        raise WrongParameter(f'Wrong "{name}" parameter')
    return stamp


def _limit(value: str | None) -> int:
    """1-10000; absent, or no integer, is the default (10000)."""
    number = as_integer(value) if value is not None else None
    return MAX_LIMIT if number is None else max(1, min(number, MAX_LIMIT))


def playback_list(rows: Sequence[PausedPlayback]) -> list[dict[str, Any]]:
    """The paused playbacks as the official example shows them."""
    return [_playback_row(row) for row in rows]


def _playback_row(row: PausedPlayback) -> dict[str, Any]:
    playback, item = row.playback, row.item
    shown: dict[str, Any] = {
        "id": playback.id,
        "progress": percent(playback.progress),
        "paused_at": format_ms(playback.paused_at),
    }
    if row.playback.key[0] < 0:
        shown["type"] = "movie"
        shown["movie"] = _listed_media(item)
        return shown
    shown["type"] = "episode"
    if row.episode is not None:
        shown["episode"] = _episode_fields(row.episode, "episode")
    else:
        season, number = playback.key
        shown["episode"] = {"season": season, "episode": number, "title": f"Episode {number}"}
    shown["anime" if item.type is MediaType.ANIME else "show"] = _listed_media(item)
    return shown


def _listed_media(item: CatalogItem) -> dict[str, Any]:
    """Title, year (when known) and ids."""
    media: dict[str, Any] = {"title": item.title}
    if item.year is not None:
        media["year"] = item.year
    media["ids"] = ids_object(item)
    return media


def playback_id(text: str) -> int:
    """The `{id}` of DELETE /sync/playback/{id}: a positive integer, else 404 url_failed."""
    number = int(text) if text.isascii() and text.isdigit() and len(text) < 19 else 0
    if number <= 0:
        raise UrlFailed()
    return number
