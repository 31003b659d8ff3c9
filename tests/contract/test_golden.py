"""Golden tests: every official example (tests/fixtures/openapi) of every operation this
server documents under Simkl's operationId, sent through the real HTTP stack and compared with
the documented answer by the operation's checker in the golden registry
(tests/contract/goldens). An operation with official examples but no checker fails here, and so
does a checker that leaves an example uncompared: adding an endpoint means adding its goldens.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tests.conftest import Api
from tests.contract.goldens import REGISTRY, checker_for
from tests.contract.goldens.base import ABSENT, Context, Example
from tests.contract.official import official
from tests.contract.operations import Operation, operations


def _examples_of(operation: Operation, fixture: dict[str, Any]) -> list[Example]:
    """Every response example by status and name, each with the request example of its name;
    then the request examples no response example goes with."""
    request = fixture.get("request", {})
    named_requests = request.get("examples", {})
    examples: list[Example] = []
    for status, media in sorted(fixture["responses"].items()):
        for name, value in sorted(media.get("examples", {}).items()):
            paired = named_requests.get(name, ABSENT)
            examples.append(Example(operation, status, name, paired, value))
        if "example" in media:
            paired = request.get("example", ABSENT) if int(status) < 400 else ABSENT
            examples.append(Example(operation, status, None, paired, media["example"]))
    answered = {example.name for example in examples if example.request is not ABSENT}
    for name, value in sorted(named_requests.items()):
        if name not in answered:
            examples.append(Example(operation, None, name, value))
    if "example" in request and None not in answered:
        examples.append(Example(operation, None, None, request["example"]))
    return examples


def official_examples() -> list[Example]:
    """The official examples of every documented operation Simkl documents too."""
    found: list[Example] = []
    for operation in operations():
        fixture = official(operation.id)
        if fixture is not None:
            found += _examples_of(operation, fixture)
    return found


EXAMPLES = official_examples()


def test_every_operation_with_official_examples_has_its_checkers() -> None:
    missing = [example.label for example in EXAMPLES if checker_for(example) is None]
    assert not missing, f"no golden checker (tests/contract/goldens/<area>.py) for {missing}"


def test_every_registered_operation_is_documented_with_official_examples() -> None:
    assert set(REGISTRY) <= {example.operation.id for example in EXAMPLES}


def test_only_unnamed_error_examples_may_be_declared_impossible() -> None:
    """Each with its reason in the registry; they are the only examples not run below."""
    for example in EXAMPLES:
        if isinstance(checker_for(example), str):
            assert example.name is None, example.label
            assert example.status is not None, example.label
            assert int(example.status) >= 400, example.label


def test_examples_pair_requests_and_responses_by_name() -> None:
    fixture = {
        "request": {"examples": {"a": 1, "b": 2}, "example": 3},
        "responses": {
            "201": {"examples": {"a": 10}},
            "200": {"example": 30},
            "401": {"example": {"error": "user_token_failed"}},
        },
    }
    examples = _examples_of(operations()[0], fixture)
    assert [(e.status, e.name, e.request, e.response) for e in examples] == [
        ("200", None, 3, 30),
        ("201", "a", 1, 10),
        ("401", None, ABSENT, {"error": "user_token_failed"}),
        (None, "b", 2, ABSENT),
    ]


REPRODUCIBLE = [
    pytest.param(example, id=example.label)
    for example in EXAMPLES
    if not isinstance(checker_for(example), str)
]


@pytest.mark.parametrize("example", REPRODUCIBLE)
def test_official_example(api: Api, request: pytest.FixtureRequest, example: Example) -> None:
    checker = checker_for(example)
    assert checker is not None, f"no golden checker for {example.label}"
    assert not isinstance(checker, str)
    fresh = dataclasses.replace(example, compared=False)  # one parameter serves both databases
    checker(Context(api, request), fresh)
    assert fresh.compared, f"the checker of {example.operation.id} never compared {example.label}"
