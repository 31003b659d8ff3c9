"""The /sync/activities tree, with per-domain and top-level `all` derived from the buckets."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from simkl_server.wire.common import kept_json
from simkl_server.wire.timestamps import format_seconds

_SHOW_FIELDS = (
    "rated_at",
    "playback",
    "plantowatch",
    "watching",
    "completed",
    "hold",
    "dropped",
    "removed_from_list",
)
# Movies are atomic: no `watching` and no `hold`.
_MOVIE_FIELDS = tuple(name for name in _SHOW_FIELDS if name not in {"watching", "hold"})
_BLOCKS = (("tv_shows", _SHOW_FIELDS), ("anime", _SHOW_FIELDS), ("movies", _MOVIE_FIELDS))
_CUSTOM_LIST_FIELDS = ("regular", "favorites", "recommendations", "auto")


# Activities renders kept: one per user whose stamps stand still between polls.
_RENDERS_KEPT = 4096


def activities_body(buckets: Mapping[str, int]) -> bytes:
    """The JSON of `activities_response`, rendered once per distinct set of stamps: clients
    poll it before every sync and it rarely moves, while its 32 timestamps cost more to
    format than the rest of the request."""
    return _rendered(tuple(sorted(buckets.items())))


@lru_cache(maxsize=_RENDERS_KEPT)
def _rendered(buckets: tuple[tuple[str, int], ...]) -> bytes:
    return kept_json(activities_response(dict(buckets)))


def activities_response(buckets: Mapping[str, int]) -> dict[str, Any]:
    """Every bucket, `null` where nothing happened yet."""
    tree: dict[str, Any] = {}
    newest: list[int] = []
    settings = buckets.get("settings.all")
    tree["settings"] = {"all": format_seconds(settings)}
    newest += [settings] if settings is not None else []
    for block, fields in _BLOCKS:
        tree[block], latest = _block(buckets, block, fields)
        newest += [latest] if latest is not None else []
    lists, latest = _block(buckets, "custom_lists.lists", _CUSTOM_LIST_FIELDS)
    tree["custom_lists"] = {"lists": lists}
    newest += [latest] if latest is not None else []
    return {"all": format_seconds(max(newest, default=None)), **tree}


def _block(
    buckets: Mapping[str, int], prefix: str, fields: tuple[str, ...]
) -> tuple[dict[str, str | None], int | None]:
    stamps = {name: buckets.get(f"{prefix}.{name}") for name in fields}
    latest = max((at for at in stamps.values() if at is not None), default=None)
    rendered = {"all": format_seconds(latest)}
    rendered.update({name: format_seconds(at) for name, at in stamps.items()})
    return rendered, latest
