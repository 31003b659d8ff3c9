"""What a golden checker is given and returns: the example, the context, the `Golden` entry."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import Api
from tests.contract.operations import Operation

AS_PRINTED: Any = object()
ABSENT: Any = object()


@dataclass
class Example:
    """One official example of an operation: the response example of a status and name, with
    the request example of the same name (ABSENT where there is none)."""

    operation: Operation
    status: str | None  # None: a request example no response example goes with
    name: str | None  # None: the unnamed `example`
    request: Any = ABSENT
    response: Any = ABSENT
    compared: bool = False

    @property
    def label(self) -> str:
        """How the test names it."""
        return f"{self.operation.id} {self.status or 'request'} {self.name or '(unnamed)'}"

    def check(self, answer: Any, expected: Any = AS_PRINTED) -> None:
        """Assert the answer is the example as printed (or the normalisation of it the checker
        documents); the example counts as exercised."""
        assert answer == (self.response if expected is AS_PRINTED else expected), self.label
        self.compared = True


@dataclass
class Context:
    """What a checker may use: the API as the test user, and a server whose store fails."""

    api: Api
    request: pytest.FixtureRequest

    def broken_client(self) -> TestClient:
        """The app on a store whose every authentication fails unexpectedly."""
        client: TestClient = self.request.getfixturevalue("broken_client")
        return client


Checker = Callable[[Context, Example], None]


@dataclass(frozen=True)
class Golden:
    """How one operation's official examples are reproduced."""

    answers: Checker
    errors: Mapping[str, Checker | str] = field(default_factory=dict)


def without_message(body: dict[str, Any]) -> dict[str, Any]:
    """An error body less its optional free-text `message`."""
    return {key: value for key, value in body.items() if key != "message"}
