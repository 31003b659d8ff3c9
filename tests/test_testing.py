"""The pytest plugin, used as a Simkl client developer would: `requests` and `httpx` against
the `simkl_server` fixture. The PIN flow and the 429 back-off here are the README's worked
examples."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2 as httpx
import pytest
import requests

from simkl_server.testing import ControlError, SimklServer

TERMINATOR_3 = 53536  # in the demo catalog the fixture's server holds
MOVIE: dict[str, Any] = {
    "movies": [{"ids": {"simkl": TERMINATOR_3}, "watched_at": "2024-05-01T18:00:00Z"}]
}


def test_the_fixture_gives_a_server_with_an_app_a_user_and_a_token(
    simkl_server: SimklServer,
) -> None:
    response = requests.get(
        f"{simkl_server.url}/users/settings", headers=simkl_server.headers, timeout=10
    )
    assert response.status_code == 200
    assert response.json()["user"]["name"] == simkl_server.username


@pytest.mark.parametrize("attempt", [1, 2])
def test_each_test_starts_from_an_empty_library(simkl_server: SimklServer, attempt: int) -> None:
    url = f"{simkl_server.url}/sync/all-items"
    assert requests.get(url, headers=simkl_server.headers, timeout=10).json() == {}
    added = requests.post(
        f"{simkl_server.url}/sync/history", json=MOVIE, headers=simkl_server.headers, timeout=10
    )
    assert added.json()["added"]["movies"] == 1
    assert requests.get(url, headers=simkl_server.headers, timeout=10).json()["movies"]


def test_the_journal_says_what_the_app_sent(simkl_server: SimklServer) -> None:
    with httpx.Client(base_url=simkl_server.url, headers=simkl_server.headers) as client:
        client.post("/sync/history", json=MOVIE, params={"app-name": "mine"})
    sent = simkl_server.journal(limit=1)[0]
    assert (sent["method"], sent["path"], sent["query"]) == (
        "POST",
        "/sync/history",
        "app-name=mine",
    )
    assert sent["body"] == MOVIE
    assert sent["headers"]["authorization"] == "Bearer ***"
    assert sent["status"] == 201
    simkl_server.clear_journal()
    assert simkl_server.journal() == []


def sign_in_with_pin(
    base_url: str, client_id: str, *, wait: Callable[[float], None], show: Callable[[str], None]
) -> str:
    """A device's PIN sign-in, as a Simkl client writes it: ask for a code, show it, poll
    every `interval` seconds until the user approves; the access token."""
    with requests.Session() as session:
        started = session.get(f"{base_url}/oauth/pin", params={"client_id": client_id}, timeout=10)
        code = started.json()
        show(code["user_code"])
        while True:
            wait(code["interval"])
            polled = session.get(
                f"{base_url}/oauth/pin/{code['user_code']}",
                params={"client_id": client_id},
                timeout=10,
            ).json()
            if polled["result"] == "OK":
                return str(polled["access_token"])


def test_worked_example_a_pin_sign_in(simkl_server: SimklServer) -> None:
    simkl_server.set_clock("2030-01-01T00:00:00Z")
    shown: list[str] = []
    polls = 0

    def wait(seconds: float) -> None:  # instead of time.sleep: the server's clock moves
        nonlocal polls
        polls += 1
        if polls == 3:  # the user types the code on the /pin page meanwhile
            simkl_server.approve(shown[0])
        simkl_server.advance_clock(seconds)

    token = sign_in_with_pin(simkl_server.url, simkl_server.client_id, wait=wait, show=shown.append)
    assert polls == 3
    settings = requests.get(
        f"{simkl_server.url}/users/settings",
        headers={"Authorization": f"Bearer {token}", "simkl-api-key": simkl_server.client_id},
        timeout=10,
    )
    assert settings.json()["user"]["name"] == simkl_server.username


def test_a_pin_runs_out_when_the_clock_moves_past_it(simkl_server: SimklServer) -> None:
    simkl_server.set_clock("2030-01-01T00:00:00Z")
    params = {"client_id": simkl_server.client_id}
    code = requests.get(f"{simkl_server.url}/oauth/pin", params=params, timeout=10).json()
    simkl_server.advance_clock(code["expires_in"] + 1)
    polled = requests.get(
        f"{simkl_server.url}/oauth/pin/{code['user_code']}", params=params, timeout=10
    ).json()
    assert polled["user_code"] != code["user_code"]  # gone: Simkl answers a fresh code
    with pytest.raises(ControlError, match="no live code"):
        simkl_server.approve(code["user_code"])


def post_with_backoff(
    client: httpx.Client, path: str, body: Any, *, wait: Callable[[float], None], tries: int = 5
) -> httpx.Response:
    """A write that honours 429 and 5xx: wait Retry-After (else 1, 2, 4, 8 s), then again."""
    for attempt in range(tries):
        response = client.post(path, json=body)
        if response.status_code != 429 and response.status_code < 500:
            return response
        wait(float(response.headers.get("Retry-After", 2**attempt)))
    return response


def test_worked_example_a_429_back_off(simkl_server: SimklServer) -> None:
    simkl_server.fail("/sync/history", "rate_limit", method="POST", times=1, retry_after_s=3)
    waited: list[float] = []
    with httpx.Client(base_url=simkl_server.url, headers=simkl_server.headers) as client:
        response = post_with_backoff(client, "/sync/history", MOVIE, wait=waited.append)
    assert response.status_code == 201
    assert waited == [3.0]
    first, second = reversed(simkl_server.journal(limit=2))
    assert (first["status"], first["fault"]) == (429, "rate_limit")
    assert (second["status"], second["fault"]) == (201, None)
    assert response.json()["added"]["movies"] == 1  # applied once: the 429 applied nothing


def test_faults_follow_simkls_failure_modes(simkl_server: SimklServer) -> None:
    simkl_server.fail("/sync/activities", "null", times=2)
    url = f"{simkl_server.url}/sync/activities"
    answers = [requests.get(url, headers=simkl_server.headers, timeout=10) for _ in range(3)]
    assert [answer.content for answer in answers[:2]] == [b"null", b"null"]
    assert answers[2].status_code == 200  # two times, then the real answer
    assert "all" in answers[2].json()
    simkl_server.fail("/sync/*", "user_token_failed")
    refused = requests.get(url, headers=simkl_server.headers, timeout=10)
    assert refused.status_code == 401
    assert refused.json()["error"] == "user_token_failed"
    simkl_server.clear_faults()
    assert simkl_server.control("GET", "faults") == []


def test_the_state_round_trips(simkl_server: SimklServer) -> None:
    requests.post(
        f"{simkl_server.url}/sync/history", json=MOVIE, headers=simkl_server.headers, timeout=10
    )
    saved = simkl_server.state()
    simkl_server.reset()
    assert saved["tables"]["library"]
    simkl_server.load_state(saved)
    assert simkl_server.state() == saved


def test_seed_adds_what_a_test_needs(simkl_server: SimklServer) -> None:
    seeded = simkl_server.seed(
        users=[{"username": "second"}],
        tokens=[{"username": "second", "client_id": simkl_server.client_id}],
    )
    token = seeded["tokens"][0]["access_token"]
    answer = requests.get(
        f"{simkl_server.url}/users/settings",
        headers={"Authorization": f"Bearer {token}", "simkl-api-key": simkl_server.client_id},
        timeout=10,
    )
    assert answer.json()["user"]["name"] == "second"
    with pytest.raises(ControlError, match="400"):
        simkl_server.seed(users=[{"username": "second"}])
