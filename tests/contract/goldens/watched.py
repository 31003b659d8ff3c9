"""Golden checkers of `POST /sync/watched`.

Each example's library is built first through the API, at the times it shows, by a user
created before them (its show completed in one action, so its episodes have no date of their
own and their `last_watched_at` is null, as printed). Where an example cannot be reproduced as
printed, the checker normalises that one part:

- the 400 example (`max_items`) is more than 100 items asked with `extended=episodes`;
- episode lists: the counter examples show the first season only, and the episode example
  three episodes of it; an answer must hold every season and episode the example shows, with
  the same counts, and may hold more (The Walking Dead has 11 seasons).
"""

from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.contract.goldens.base import Context, Example, Golden, without_message
from tests.contract.goldens.history import history, ids
from tests.contract.goldens.library import at, like
from tests.helpers import assert_simkl_error
from tests.seed import answer

GAME_OF_THRONES, WALKING_DEAD = 17465, 2090
EXTENDED = {"show_with_counters_only": "counters", "show_with_full_episodes": "episodes"}


def _completed(api: Api, simkl: int, when: str) -> None:
    at(api, when)
    history(api, {"shows": [ids(simkl)]})


def watched_answers(context: Context, example: Example) -> None:
    """The example's library, asked about with the example's items; the 400 example by more
    than 100 items with `extended=episodes`."""
    api = context.api
    if example.status == "400":
        many = [{"ids": {"simkl": 2090}}] * 101
        response = api.post("/sync/watched", json=many, params={"extended": "episodes"})
        body = assert_simkl_error(response, 400, example.response["error"])
        example.check(without_message(body), without_message(example.response))
        assert answer(api.post("/sync/watched", json=many), 200)[0]["result"] is False
        return
    at(api, "2014-01-01T00:00:00Z")
    api.token = api.new_user("golden")
    shown = {row.get("simkl") for row in example.response}
    if GAME_OF_THRONES in shown:
        _completed(api, GAME_OF_THRONES, "2026-05-15T00:13:18Z")
    if WALKING_DEAD in shown:
        _completed(api, WALKING_DEAD, "2026-05-15T00:35:15Z")
    params: dict[str, Any] = {}
    if example.name in EXTENDED:
        params["extended"] = EXTENDED[example.name]
    got = answer(api.post("/sync/watched", json=example.request, params=params), 200)
    example.check(like(got, example.response))


GOLDENS = {"post-sync-watched": Golden(watched_answers, {"400": watched_answers})}
