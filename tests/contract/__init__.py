"""Tests driven by this server's OpenAPI document: the document itself, every operation's
request surface and answers, and the golden examples of Simkl's official document."""

import pytest

# The helpers' assertions explain their failures the way a test module's do.
pytest.register_assert_rewrite(
    "tests.contract.goldens", "tests.contract.official", "tests.contract.operations"
)
