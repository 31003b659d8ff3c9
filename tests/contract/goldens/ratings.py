"""Golden checkers of the ratings operations.

Where an example cannot be reproduced as printed, the checker says why next to the one part it
normalises:

- the unnamed `POST /sync/ratings` example is the legacy one: it is listed under 200 and its
  echoes carry no `type`; the current docs answer 201 and echo `type` (spec §7, "Echo"), as
  every named example does;
- watch history (`last_watched_at`, `last_watched`, `next_to_watch`, a `dropped` status) is
  seeded through the store; the ratings themselves go through the API.

The shared 400 example (`empty_field`, a missing field of the OAuth and list endpoints) is not
an answer of the ratings writes: they have no required field, and a bad body is 400
`wrong_parameter`.
"""

from __future__ import annotations

import copy
from typing import Any

from tests.api.support import ALL_RATINGS, ratings_by_id, with_rating
from tests.contract.goldens.base import Context, Example, Golden
from tests.contract.operations import sample_request, send
from tests.seed import answer, seed_library_of_example

NO_EMPTY_FIELD = "empty_field is a missing required field; ratings writes have none"
# Examples that describe a change of existing state, and that state.
ADD_PRIOR_STATE: dict[str, dict[str, Any]] = {
    "overwrite_movie_rating": {"movies": [{"ids": {"simkl": 752138}, "rating": 5}]}
}


def post(context: Context, example: Example, body: Any) -> Any:
    """Send the example's operation a body; its answer, which must be 201."""
    return answer(send(context.api, sample_request(example.operation), json=body), 201)


def remove_answers(context: Context, example: Example) -> None:
    """Each named example clears what it names: the items are rated first."""
    api = context.api
    answer(api.post("/sync/ratings", json=with_rating(example.request, 7)), 201)
    example.check(post(context, example, example.request))
    assert answer(api.get(f"/sync/ratings/all/{ALL_RATINGS}"), 200) == {}


def add_answers(context: Context, example: Example) -> None:
    """Each named example rates its items (after the state it describes, if any); the library
    then holds exactly the in-range ratings."""
    if example.name is None:
        legacy_add_answer(context, example)
        return
    api = context.api
    prior = ADD_PRIOR_STATE.get(example.name, {})
    if prior:
        answer(api.post("/sync/ratings", json=prior), 201)
    before = ratings_by_id(api)
    assert before == {i["ids"]["simkl"]: i["rating"] for items in prior.values() for i in items}
    example.check(post(context, example, example.request))
    applied = {
        status["request"]["ids"]["simkl"]: status["request"]["rating"]
        for status in example.response["added"]["statuses"]
    }
    assert ratings_by_id(api) == before | applied  # out-of-range ratings store nothing


def legacy_add_answer(context: Context, example: Example) -> None:
    """The legacy example: listed under 200 without `type` in the echoes; today's answer is
    201 and each echo carries `type` (spec §7)."""
    expected = copy.deepcopy(example.response)
    for status, kind in zip(expected["added"]["statuses"], ("movie", "movie", "show"), strict=True):
        status["request"]["type"] = kind
    example.check(post(context, example, example.request), expected)
    assert ratings_by_id(context.api) == {53536: 8, 210728: 6, 39687: 10}


def read_answers(context: Context, example: Example) -> None:
    """The example's library, read whole, by every rating, and by kind and rating."""
    api = context.api
    seed_library_of_example(api, example.response)
    example.check(answer(api.get("/sync/ratings"), 200))
    example.check(answer(api.get(f"/sync/ratings/all/{ALL_RATINGS}"), 200))
    for bucket, rows in example.response.items():
        (row,) = rows
        by_rating = answer(api.get(f"/sync/ratings/{bucket}/{row['user_rating']}"), 200)
        example.check(by_rating, {bucket: rows})
        example.check(answer(api.get(f"/sync/ratings/{bucket}"), 200), {bucket: rows})


GOLDENS = {
    "post-sync-ratings-remove": Golden(remove_answers, {"400": NO_EMPTY_FIELD}),
    "post-sync-ratings": Golden(add_answers, {"400": NO_EMPTY_FIELD}),
    "get-user-ratings": Golden(read_answers),
}
