"""The PIN flow (AUTH V1) over HTTP: `GET /oauth/pin`, its poll, approval and revocation.

Goldens: the official examples of `get-oauth-pin` and `get-oauth-pin-user-code` and the 2020
captures. The example's `user_code` and `verification_uri` are compared by form, since each
code is random and the page is this server's own /pin.
"""

from __future__ import annotations

import re

import pytest

from simkl_server.domain import auth, limits, pin
from simkl_server.domain.models import AppKind
from simkl_server.domain.tokens import PIN_ALPHABET
from tests.api.oauth_support import approve, capture, new_app, official
from tests.conftest import Api
from tests.helpers import assert_simkl_error

PIN = official("get-oauth-pin")
POLL = official("get-oauth-pin-user-code")
VERIFICATION_URI = "http://testserver/pin"
CODE = re.compile(f"[{PIN_ALPHABET}]{{5}}")


def start(api: Api, **params: str) -> dict[str, object]:
    response = api.get("/oauth/pin", token=None, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def poll(api: Api, user_code: str, **kwargs: object) -> dict[str, object]:
    response = api.get(f"/oauth/pin/{user_code}", token=None, **kwargs)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_a_new_pin_is_the_documented_answer(api: Api) -> None:
    body = start(api)
    example = PIN["responses"]["200"]["example"]
    assert body.keys() == example.keys()
    assert CODE.fullmatch(str(body["user_code"]))
    assert body == {
        **example,
        "user_code": body["user_code"],
        "verification_uri": VERIFICATION_URI,
        "verification_url": VERIFICATION_URI,
    }
    assert capture("device_code").keys() <= body.keys()


def test_polling_before_approval_is_pending_exactly_as_documented(api: Api) -> None:
    user_code = str(start(api)["user_code"])
    assert poll(api, user_code) == POLL["responses"]["200"]["examples"]["pending"]
    assert capture("auth_pending") == POLL["responses"]["200"]["examples"]["pending"]


def test_an_approved_pin_hands_its_token_out_once(api: Api) -> None:
    user_code = str(start(api)["user_code"])
    api.clock.advance(5_000)
    assert poll(api, user_code)["result"] == "KO"
    approve(api, user_code.lower())  # typed loosely on the /pin page
    api.clock.advance(5_000)
    done = poll(api, user_code)
    complete = POLL["responses"]["200"]["examples"]["complete"]
    assert done == {**complete, "access_token": done["access_token"]}
    assert capture("pin_access_token").keys() == done.keys()
    token = str(done["access_token"])
    assert re.fullmatch(r"[0-9a-f]{64}", token)
    assert api.get("/users/settings", token=token).json()["user"]["name"] == "alice"
    api.clock.advance(5_000)
    again = poll(api, user_code)  # the code is gone: a fresh one, as Simkl answers
    assert again["device_code"] == "DEVICE_CODE"
    assert again["user_code"] != user_code


def test_polling_faster_than_the_interval_is_told_to_slow_down(api: Api) -> None:
    user_code = str(start(api)["user_code"])
    assert poll(api, user_code)["message"] == "Authorization pending"
    api.clock.advance(1_000)
    assert poll(api, user_code) == {"result": "KO", "message": "Slow down"}
    api.clock.advance(4_500)  # 4.5 s after the previous poll: within a second of the interval
    assert poll(api, user_code) == {"result": "KO", "message": "Authorization pending"}


def test_an_expired_unknown_or_foreign_code_answers_a_fresh_code(api: Api) -> None:
    user_code = str(start(api)["user_code"])
    other = new_app(api, name="other")
    foreign = poll(api, user_code, client_id=other.app.client_id)
    assert foreign["device_code"] == "DEVICE_CODE"
    assert foreign["user_code"] != user_code
    unknown = poll(api, "ZZZZZ")
    assert CODE.fullmatch(str(unknown["user_code"]))
    api.clock.advance(901_000)
    expired = poll(api, user_code)
    assert expired["result"] == "OK"
    assert expired["user_code"] != user_code


def test_a_declined_code_is_gone(api: Api) -> None:
    user_code = str(start(api)["user_code"])
    approve(api, user_code, allowed=False)
    assert poll(api, user_code)["user_code"] != user_code


def test_the_same_user_gets_the_same_token_until_the_grant_is_revoked(api: Api) -> None:
    tokens = []
    for _ in range(2):
        user_code = str(start(api)["user_code"])
        approve(api, user_code)
        tokens.append(poll(api, user_code)["access_token"])
    assert tokens[0] == tokens[1]
    api.call(auth.revoke_token, api.store, token=str(tokens[0]))
    assert_simkl_error(api.get("/sync/activities", token=str(tokens[0])), 401, "user_token_failed")
    user_code = str(start(api)["user_code"])
    approve(api, user_code)
    renewed = str(poll(api, user_code)["access_token"])
    assert renewed != tokens[0]
    assert api.get("/sync/activities", token=renewed).status_code == 200


def test_an_auth_v2_client_is_sent_to_the_device_flow(api: Api) -> None:
    app = new_app(api, kind=AppKind.DEVICE, v2=True, redirect_uris=())
    response = api.get("/oauth/pin", token=None, client_id=app.app.client_id)
    body = assert_simkl_error(response, 400, "unauthorized_client")
    assert body == PIN["responses"]["400"]["example"]
    polled = api.get("/oauth/pin/ABCDE", token=None, client_id=app.app.client_id)
    assert_simkl_error(polled, 400, "unauthorized_client")


@pytest.mark.parametrize("client_id", [None, "no-such-app"])
def test_an_unknown_client_gets_412(api: Api, client_id: str | None) -> None:
    for path in ("/oauth/pin", "/oauth/pin/ABCDE"):
        response = api.get(path, token=None, client_id=client_id)
        assert_simkl_error(response, 412, "client_id_failed")


def test_the_redirect_parameter_must_be_registered(api: Api) -> None:
    app = new_app(api, redirect_uris=("https://client.example/welcome",))
    refused = api.get(
        "/oauth/pin",
        token=None,
        client_id=app.app.client_id,
        params={"redirect": "https://evil.example/"},
    )
    assert_simkl_error(refused, 403, "redirect_failed")
    ok = api.get(
        "/oauth/pin",
        token=None,
        client_id=app.app.client_id,
        params={"redirect": "https://client.example/welcome"},
    )
    assert ok.status_code == 200


def test_guessing_codes_is_rate_limited_per_address(api: Api) -> None:
    for _ in range(limits.CODE_GUESSES_PER_ADDRESS.attempts):
        assert poll(api, "QQQQQ")["result"] == "OK"
    refused = api.get("/oauth/pin/QQQQQ", token=None)
    assert_simkl_error(refused, 429, "rate_limit")
    assert int(refused.headers["retry-after"]) > 0
    real = str(start(api)["user_code"])  # a code that exists still answers
    assert poll(api, real)["result"] == "KO"
    api.clock.advance(limits.CODE_GUESSES_PER_ADDRESS.window_ms)
    assert poll(api, "QQQQQ")["result"] == "OK"


def test_guessing_codes_is_rate_limited_per_client(api: Api) -> None:
    for n in range(limits.CODE_GUESSES_PER_CLIENT.attempts):
        outcome = api.call(
            pin.poll,
            api.store,
            api.keys,
            client_id=api.client_id,
            user_code="QQQQQ",
            address=f"10.0.0.{n}",
        )
        assert isinstance(outcome, pin.PinStarted)
    with pytest.raises(Exception, match="Too many attempts"):
        api.call(
            pin.poll, api.store, api.keys, client_id=api.client_id, user_code="QQQQQ",
            address="10.0.1.1",
        )  # fmt: skip
