"""Golden checkers of `POST /sync/history` and `POST /sync/history/remove`.

Examples that describe a change of existing state get that state first, through the API
(`PRIOR_*`: the user's library before the example's request; `shows: 0` in an answer means the
show was already on the list it ends in, and a show completed by one episode had every other
episode watched). Where an example cannot be reproduced as printed, the checker says why next
to the one part it normalises:

- rewatch examples need a PRO or VIP account (seeded through the store: no endpoint changes a
  plan) and `?allow_rewatch=yes`; session ids are assigned by this server, so where an example
  shows Simkl's (7482, 7484) the id of the session the prior state created stands in, in the
  request and in the expected answer;
- two removal examples show the answer of a PRO / VIP account (rewatch counters and
  `not_found.episodes`); they run as such an account;
- the shared 400 example is `empty_field` for a missing field: here a season without its
  `number` (the message names that field, and is compared without).
"""

from __future__ import annotations

from typing import Any

from simkl_server.storage.base import WriteTx
from simkl_server.storage.dialect import statement
from tests.conftest import Api
from tests.contract.goldens.base import Context, Example, Golden, without_message
from tests.contract.operations import sample_request, send
from tests.helpers import assert_simkl_error
from tests.seed import answer

WALKING_DEAD, GAME_OF_THRONES, DEMON_SLAYER, COWBOY_BEBOP = 2090, 17465, 831411, 37089
DAY_MS = 24 * 3600 * 1000
REWATCH = {"allow_rewatch": "yes"}
SET_PLAN = statement("UPDATE users SET account_type = :plan WHERE username = :username")


def ids(simkl: int, **fields: Any) -> dict[str, Any]:
    """A request item identified by its simkl id, with extra fields."""
    return {"ids": {"simkl": simkl}, **fields}


def set_plan(api: Api, plan: str, username: str = "alice") -> None:
    """Give a user a plan (`free`, `pro`, `vip`)."""

    async def work(tx: WriteTx) -> None:
        await tx.conn.execute(SET_PLAN, {"plan": plan, "username": username})

    api.call(api.store.transaction, work)


def history(api: Api, body: Any, **kwargs: Any) -> Any:
    """POST /sync/history, asserting 201."""
    return answer(api.post("/sync/history", json=body, **kwargs), 201)


def with_session_id(document: Any, theirs: int, ours: int) -> Any:
    """A copy of an example with Simkl's rewatch session id replaced by ours."""
    if isinstance(document, dict):
        return {
            key: ours
            if key == "rewatch_id" and value == theirs
            else with_session_id(value, theirs, ours)
            for key, value in document.items()
        }
    if isinstance(document, list):
        return [with_session_id(value, theirs, ours) for value in document]
    return document


PRIOR_ADD: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "add_anime_episode": [("/sync/history", {"shows": [ids(DEMON_SLAYER, status="watching")]})],
    "add_show_episodes_via_seasons": [
        ("/sync/history", {"shows": [ids(WALKING_DEAD, status="watching")]})
    ],
    "add_show_full_season": [("/sync/history", {"shows": [ids(WALKING_DEAD, status="watching")]})],
    "mixed_types_one_call": [
        ("/sync/history", {"shows": [ids(WALKING_DEAD)]}),
        (
            "/sync/history/remove",
            {"shows": [ids(WALKING_DEAD, seasons=[{"number": 1, "episodes": [{"number": 1}]}])]},
        ),
    ],
}


def first_session(api: Api) -> int:
    """Game of Thrones completed, then (three days on) a rewatch session of its first two
    episodes; the session's id."""
    history(api, {"shows": [ids(GAME_OF_THRONES)]})
    api.clock.advance(3 * DAY_MS)
    episodes = [{"number": 1}, {"number": 2}]
    body = {"shows": [ids(GAME_OF_THRONES, seasons=[{"number": 1, "episodes": episodes}])]}
    session: int = history(api, body, params=REWATCH)["added"]["statuses"][0]["response"][
        "rewatch_id"
    ]
    return session


# Rewatch examples: the completed item the session rewatches, and Simkl's id of the session.
REWATCHES: dict[str, tuple[int, int]] = {
    "rewatch_explicit_flag": (GAME_OF_THRONES, 7482),
    "rewatch_with_allow_rewatch_query": (COWBOY_BEBOP, 7484),
}


def add_answers(context: Context, example: Example) -> None:
    """Each named example after the state it describes; the 400 example by a season
    without its number."""
    api = context.api
    if example.status == "400":
        body = {"shows": [ids(WALKING_DEAD, seasons=[{"episodes": [{"number": 1}]}])]}
        response = send(api, sample_request(example.operation), json=body)
        error = assert_simkl_error(response, 400, example.response["error"])
        example.check(without_message(error), without_message(example.response))
        return
    assert example.name is not None
    if example.name in REWATCHES or example.name == "rewatch_max_info":
        rewatch_answer(api, example)
        return
    for path, body in PRIOR_ADD.get(example.name, []):
        answer(api.post(path, json=body), 201)
    example.check(history(api, example.request))


def rewatch_answer(api: Api, example: Example) -> None:
    """A VIP account rewatching a completed item (three days after completing it)."""
    set_plan(api, "vip")
    assert example.name is not None
    if example.name == "rewatch_max_info":
        ours = first_session(api)
        request = with_session_id(example.request, 7482, ours)
        example.check(
            history(api, request, params=REWATCH), with_session_id(example.response, 7482, ours)
        )
        return
    item, theirs = REWATCHES[example.name]
    history(api, {"shows": [ids(item)]})
    api.clock.advance(3 * DAY_MS)
    got = history(api, example.request, params=REWATCH)
    ours = got["added"]["statuses"][0]["response"]["rewatch_id"]
    example.check(got, with_session_id(example.response, theirs, ours))


# Each removal example's items are first in the library, with the episodes it unmarks.
PRIOR_REMOVE: dict[str, dict[str, Any]] = {
    "anime_under_shows": {"shows": [ids(DEMON_SLAYER)]},
    "bulk_mixed": {"movies": [ids(53536)], "shows": [ids(WALKING_DEAD)]},
    "remove_entire_show": {"shows": [ids(WALKING_DEAD)]},
    "remove_movie_entirely": {"movies": [ids(53536)]},
    "remove_movie_history": {"movies": [ids(752138)]},
    "remove_show_episode": {"shows": [ids(WALKING_DEAD)]},
    "remove_specific_episodes": {"shows": [ids(WALKING_DEAD)]},
    "remove_whole_season": {"shows": [ids(WALKING_DEAD)]},
}
# These two show the answer of a PRO / VIP account (rewatch counters, `not_found.episodes`).
PRO_REMOVE = frozenset({"remove_movie_history", "remove_show_episode"})


def remove_answers(context: Context, example: Example) -> None:
    """Each named example once its items are in the library; repeated, it finds nothing left
    to remove. The 400 example by a season without its number."""
    api = context.api
    if example.status == "400":
        body = {"shows": [ids(WALKING_DEAD, seasons=[{"episodes": []}])]}
        response = send(api, sample_request(example.operation), json=body)
        error = assert_simkl_error(response, 400, example.response["error"])
        example.check(without_message(error), without_message(example.response))
        return
    assert example.name is not None
    if example.name in PRO_REMOVE:
        set_plan(api, "vip")
    if example.name in PRIOR_REMOVE:
        history(api, PRIOR_REMOVE[example.name])
    example.check(answer(api.post("/sync/history/remove", json=example.request), 201))
    again = answer(api.post("/sync/history/remove", json=example.request), 201)
    assert not any(again["deleted"].values()), "a removal repeated finds nothing to remove"


GOLDENS = {
    "post-sync-history": Golden(add_answers, {"400": add_answers}),
    "post-sync-history-remove": Golden(remove_answers, {"400": remove_answers}),
}
