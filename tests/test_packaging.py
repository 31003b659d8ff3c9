"""What a packaged install says about itself, and the lock files it is installed from."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import simkl_server

ROOT = Path(__file__).parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;]+)", re.MULTILINE)


def pins(lock: Path) -> dict[str, str]:
    """Each package a lock file pins, by normalised name, with its version."""
    return {canonicalize_name(name): version for name, version in PIN.findall(lock.read_text())}


def test_the_installed_version_is_the_one_the_package_declares() -> None:
    assert metadata.version("simkl-server") == simkl_server.__version__


def test_the_licence_is_mit() -> None:
    assert metadata.metadata("simkl-server")["License-Expression"] == "MIT"


@pytest.mark.parametrize(
    ("lock", "requirements"),
    [
        (
            "requirements.lock",
            [
                *PYPROJECT["project"]["dependencies"],
                *PYPROJECT["project"]["optional-dependencies"]["dev"],
                *PYPROJECT["build-system"]["requires"],
            ],
        ),
        ("bench/requirements.lock", PYPROJECT["project"]["optional-dependencies"]["bench"]),
    ],
)
def test_the_lock_pins_every_requirement_within_its_range(
    lock: str, requirements: list[str]
) -> None:
    pinned = pins(ROOT / lock)
    stale = []
    for text in requirements:
        requirement = Requirement(text)
        version = pinned.get(canonicalize_name(requirement.name))
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            stale.append(f"{text} (locked: {version})")
    assert not stale, f"{lock} is out of date, run `make lock`: {', '.join(stale)}"
