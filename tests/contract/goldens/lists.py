"""Golden checkers of `POST /sync/add-to-list`.

- the official document lists the success answer under 200 while its own text says 201, as
  every sync write answers; this server answers 201 and the bodies are compared as printed;
- `change_movie_status` moves an item already in the library: it is first planned;
- the unnamed example is the legacy one: its echoes carry no `type`/`anime_type` (every named
  example's do), The Walking Dead was still airing then (`completed` became `watching`; it has
  ended since) and its `not_found` lists an item its request does not send (sent here too);
- `negative_top_level_to_rejected` has no response example of its own: its answer is the 400
  `empty_field` ("Missed \"to\" parameter") the operation's text gives it, as printed in the
  shared 400 example;
- each applied item is then read back from /sync/all-items on the list it was stored on (a
  movie sent `watching` is stored completed, as the quirk example's text says).
"""

from __future__ import annotations

import copy
from typing import Any

from tests.contract.goldens.base import ABSENT, Context, Example, Golden
from tests.contract.operations import sample_request, send
from tests.seed import answer

PRIOR: dict[str, dict[str, Any]] = {
    "change_movie_status": {"movies": [{"ids": {"simkl": 472214}, "to": "plantowatch"}]},
}
STORED_AS = {"watching": "completed", "hold": "plantowatch"}  # what a movie's `to` becomes


MISSED_TO = {"code": 400, "error": "empty_field", "message": 'Missed "to" parameter'}
LOST = {"ids": {"imdb": "tt0000222"}, "to": "plantowatch"}


def add_to_list_answers(context: Context, example: Example) -> None:
    """Each named example after the state it describes; the 400 examples as printed."""
    api = context.api
    if example.status == "400" or example.status is None:
        top_level_to = {"movies": [{"ids": {"simkl": 472214}}], "to": "plantowatch"}
        body = top_level_to if example.request is ABSENT else example.request
        response = send(api, sample_request(example.operation), json=body)
        shown = MISSED_TO if example.status is None else example.response
        example.check(answer(response, 400), shown)
        assert answer(api.get("/sync/all-items"), 200) == {}
        return
    if example.name is None:
        legacy_answer(context, example)
        return
    if example.name in PRIOR:
        answer(api.post("/sync/add-to-list", json=PRIOR[example.name]), 201)
    example.check(answer(api.post("/sync/add-to-list", json=example.request), 201))
    rows = _statuses(answer(api.get("/sync/all-items"), 200))
    for bucket, echoes in example.response["added"].items():
        for echoed in echoes:
            to = STORED_AS.get(echoed["to"], echoed["to"]) if bucket == "movies" else echoed["to"]
            assert to in rows.values(), (echoed, rows)


def legacy_answer(context: Context, example: Example) -> None:
    """The legacy example, as today's answer gives it (see the module's docstring)."""
    request = {**example.request, "movies": [*example.request["movies"], LOST]}
    expected = copy.deepcopy(example.response)
    for echoed in expected["added"]["movies"]:
        echoed.update(type="movie", anime_type=None)
    attack, walking = expected["added"]["shows"]
    attack.update(type="show", anime_type="tv")
    walking.update(type="show", anime_type=None, to="completed")  # ended since
    expected["not_found"]["movies"] = [{**LOST, "type": "movie"}]
    example.check(answer(context.api.post("/sync/add-to-list", json=request), 201), expected)


def _statuses(library: dict[str, Any]) -> dict[int, str]:
    return {
        (row.get("movie") or row["show"])["ids"]["simkl"]: row["status"]
        for rows in library.values()
        for row in rows
    }


GOLDENS = {"post-sync-add-to-list": Golden(add_to_list_answers, {"400": add_to_list_answers})}
