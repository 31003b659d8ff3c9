"""Golden checkers of `/users/settings`: profile fields this server does not keep (gender,
avatar, bio, location, age) are blank, and the account id is the one the database assigned."""

from __future__ import annotations

import copy

from tests.contract.goldens.base import Context, Example, Golden
from tests.seed import answer, iso_ms


def settings_answers(context: Context, example: Example) -> None:
    """The example's user, created when the example says it joined, reads its settings (by GET
    and by the POST form older clients send)."""
    api = context.api
    user = example.response["user"]
    api.clock.current_ms = iso_ms(user["joined_at"])
    token = api.new_user(user["name"])
    user_id = api.call(api.store.read.accounts.find_user, user["name"])
    expected = copy.deepcopy(example.response)
    expected["account"].update(id=user_id, timezone="UTC")  # assigned here; the default zone
    expected["user"].update(gender="", avatar="", bio="", loc=None, age="")  # not kept here
    example.check(answer(api.get("/users/settings", token=token), 200), expected)
    example.check(answer(api.post("/users/settings", token=token), 200), expected)


GOLDENS = {"get-users-settings": Golden(settings_answers)}
