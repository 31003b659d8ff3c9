"""Add-to-list request and response shapes: each item's `to`, and the echoes of
POST /sync/add-to-list (`added.movies`/`added.shows` are echoes here, not counts)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simkl_server.domain.kinds import LIST_STATUS_OF_WORD, ListStatus, MediaType
from simkl_server.domain.lists import REMOVE, ListInput, ListOutcome
from simkl_server.domain.models import SyncItem
from simkl_server.errors import EmptyField, WrongParameter
from simkl_server.wire.common import echo, item_date, not_found
from simkl_server.wire.history import with_bad_date


def list_inputs(items: Sequence[SyncItem]) -> list[ListInput]:
    """Each item's destination and dates. An item without `to` is 400 empty_field, one with
    another word 400 wrong_parameter, before anything is applied (a top-level `to` alone is
    not accepted, as Simkl answers)."""
    return [_list_input(item) for item in items]


def _list_input(item: SyncItem) -> ListInput:
    sent = dict(item.sent)
    to = sent.get("to")
    if to is None:
        raise EmptyField('Missed "to" parameter')
    status = LIST_STATUS_OF_WORD.get(to) if isinstance(to, str) else None
    if status is None and to != REMOVE:
        raise WrongParameter('Wrong "to" parameter')
    watched_at, bad_watched = item_date(sent, "watched_at")
    added_at, bad_added = item_date(sent, "added_at")
    return ListInput(
        item=with_bad_date(item) if bad_watched or bad_added else item,
        to=status if status is not None else REMOVE,
        watched_at=watched_at,
        added_at=added_at,
    )


def add_to_list_response(outcome: ListOutcome) -> dict[str, Any]:
    """Each applied item as sent with `type`, `anime_type` and the `to` it went to (a movie
    keeps the `to` it was sent with: the official example echoes `watching` for a movie it
    completed), and the unmatched items."""
    added: dict[str, list[Any]] = {"movies": [], "shows": []}
    for entry, item, went in outcome.added:
        echoed = echo(entry.item)
        echoed["anime_type"] = item.anime_type if item.type is MediaType.ANIME else None
        if item.type is not MediaType.MOVIE:
            echoed["to"] = went.value if isinstance(went, ListStatus) else went
        added[entry.item.ref.wrapper.response_bucket].append(echoed)
    return {"added": added, "not_found": not_found(outcome.not_found)}
