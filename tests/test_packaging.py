"""What a packaged install says about itself, and the lock files it is installed from."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
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


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """The wheel built from the files the Dockerfile copies (offline: no build isolation, no
    dependencies), in a folder of its own so the checkout gets no build output."""
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "simkl_server", source / "simkl_server",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(out), str(source)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    (built,) = out.glob("simkl_server-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_starts_the_server_and_registers_the_pytest_plugin(
    wheel: zipfile.ZipFile,
) -> None:
    (entry_points,) = [name for name in wheel.namelist() if name.endswith("entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert "simkl-server = simkl_server.cli:main" in text
    assert "[pytest11]\nsimkl_server = simkl_server.testing" in text


def test_the_wheel_holds_what_serve_demo_control_needs(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    package = ROOT / "simkl_server"
    for needed in (
        *package.glob("storage/migrations/versions/*.py"),
        *package.glob("openapi/*.json"),
        package / "data" / "demo-catalog.jsonl.gz",
        package / "testing.py",
    ):
        assert needed.relative_to(ROOT).as_posix() in names, needed
