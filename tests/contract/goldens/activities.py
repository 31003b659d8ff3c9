"""Golden checkers of `GET /sync/activities`.

- `fresh_user` shows `settings.all: null`; this server reports the account's creation time
  there (spec §7, "`settings.all` for a user who never changed settings"), so `settings.all`
  and the top-level `all` are the user's creation time;
- activity buckets this server cannot move yet (playback, lists, custom lists) are seeded
  through the store: those examples pin the rendering of the tree, not the writes.
"""

from __future__ import annotations

from tests.conftest import START_MS
from tests.contract.goldens.base import Context, Example, Golden
from tests.seed import answer, iso_seconds, seed_activity_user


def activities_answers(context: Context, example: Example) -> None:
    """A user whose buckets moved at the example's times reads the example's tree."""
    api = context.api
    if example.response["settings"]["all"] is None:
        # A brand-new user: this server reports the account's creation time as settings.all.
        created = iso_seconds(START_MS)
        expected = {**example.response, "all": created, "settings": {"all": created}}
        example.check(answer(api.get("/sync/activities"), 200), expected)
        return
    token = seed_activity_user(api, "golden", example.response)
    example.check(answer(api.get("/sync/activities", token=token), 200))


GOLDENS = {"get-sync-activities": Golden(activities_answers)}
