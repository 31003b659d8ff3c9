"""The golden registry: for every documented operation that Simkl documents with examples
(tests/fixtures/openapi/<operationId>.json), how each official example is reproduced through
the API and its answer compared.

Each area module (`ratings.py`, `activities.py`, …) holds `GOLDENS`, operationId → `Golden`;
REGISTRY concatenates them and refuses an operationId registered twice. A `Golden` reproduces
the operation's success examples (`answers`) and, by status, any error example the shared
checkers below do not cover (`errors`: a checker, or why this server never gives that answer
for that operation — allowed for unnamed error examples only). The checkers call
`Example.check`, which is how tests/contract/test_golden.py knows every example was compared.

The shared checkers reproduce the error examples every authenticated operation lists: 401 (no
token), 412 (no or an unknown client_id) and 500 (the store failing under authentication).
Error examples that omit `message` are compared without it: Simkl documents `message` as
optional and this server always sends one (spec §1.5).
"""

from __future__ import annotations

from collections.abc import Mapping

from tests.contract.goldens import (
    activities,
    catalog_reads,
    history,
    library,
    lists,
    oauth,
    ratings,
    scrobble,
    users,
    watched,
)
from tests.contract.goldens.base import Checker, Context, Example, Golden, without_message
from tests.contract.operations import sample_request, send
from tests.helpers import assert_simkl_error


def unauthorized(context: Context, example: Example) -> None:
    """401: the sample request without a token."""
    response = send(context.api, sample_request(example.operation), token=None)
    body = assert_simkl_error(response, 401, example.response["error"])
    example.check(without_message(body), without_message(example.response))


def client_id_failed(context: Context, example: Example) -> None:
    """412: the sample request without a client_id, then with an unknown one."""
    sample = sample_request(example.operation)
    assert send(context.api, sample, client_id=None).json() == example.response
    response = send(context.api, sample, client_id="nope")
    example.check(assert_simkl_error(response, 412, example.response["error"]))


def server_error(context: Context, example: Example) -> None:
    """500: the sample request while the store fails; no detail reaches the client."""
    sample = sample_request(example.operation)
    response = context.broken_client().request(
        sample.method,
        sample.path,
        params={"client_id": "any", **sample.params},
        headers={"Authorization": "Bearer any", **sample.headers},
        **sample.body,
    )
    body = assert_simkl_error(response, 500, example.response["error"])
    assert "went away" not in body["message"]  # details go to the log, never to the client
    example.check(without_message(body), without_message(example.response))


SHARED_ERRORS: dict[str, Checker | str] = {
    "401": unauthorized,
    "412": client_id_failed,
    "500": server_error,
    "429": "this server has no rate limit, so it never answers 429 rate_limit",
}


def _registry(*areas: Mapping[str, Golden]) -> dict[str, Golden]:
    registry: dict[str, Golden] = {}
    for area in areas:
        for operation_id, golden in area.items():
            assert operation_id not in registry, f"{operation_id} registered twice"
            registry[operation_id] = golden
    return registry


REGISTRY = _registry(
    ratings.GOLDENS,
    activities.GOLDENS,
    users.GOLDENS,
    oauth.GOLDENS,
    history.GOLDENS,
    library.GOLDENS,
    lists.GOLDENS,
    watched.GOLDENS,
    scrobble.GOLDENS,
    catalog_reads.GOLDENS,
)


def checker_for(example: Example) -> Checker | str | None:
    """The checker of an example, the reason it cannot happen here, or None (no checker)."""
    golden = REGISTRY.get(example.operation.id)
    if example.status is None or int(example.status) < 400:
        return golden.answers if golden is not None else None
    own = golden.errors.get(example.status) if golden is not None else None
    return own or SHARED_ERRORS.get(example.status)
