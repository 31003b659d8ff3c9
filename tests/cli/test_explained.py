"""The failures the command explains in one line, told apart without importing them: a
command imports only what it runs."""

from __future__ import annotations

import importlib

import pytest

from simkl_server.cli import EXPLAINED, is_explained


@pytest.mark.parametrize(("module", "name"), sorted(EXPLAINED))
def test_each_explained_failure_is_named_where_it_is_defined(module: str, name: str) -> None:
    failure = getattr(importlib.import_module(module), name)

    assert issubclass(failure, Exception)
    assert (failure.__module__, failure.__qualname__) == (module, name)

    class Narrower(failure):  # type: ignore[misc,valid-type]
        """A failure's subclass, explained as the failure is."""

    assert is_explained(failure.__new__(failure))
    assert is_explained(Narrower.__new__(Narrower))


def test_other_failures_are_not_explained() -> None:
    class ConfigError(Exception):
        """The settings' failure by name only."""

    assert not is_explained(ValueError("bad"))
    assert not is_explained(ConfigError("bad"))
