"""The Dockerfile and compose.yaml, checked against the program they start (no container is
built here: the commands, settings and paths they name must be the ones the CLI, the settings
and the repository have)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # (no stubs in the lock)
from typer.testing import CliRunner

from simkl_server.cli import cli
from simkl_server.config import Settings

ROOT = Path(__file__).parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVER = COMPOSE["services"]["server"]
_DEFAULT = re.compile(r"^\$\{[A-Z_]+:-(.*)\}$")


def instruction(name: str) -> list[str]:
    """The JSON (exec) form of a Dockerfile instruction."""
    found = re.search(rf"^{name} (\[.*\])$", DOCKERFILE, re.MULTILINE)
    assert found is not None, f"no {name} in exec form"
    arguments: list[str] = json.loads(found.group(1))
    return arguments


def accepted(arguments: list[str]) -> bool:
    """Whether the CLI parses these arguments (with --help, so nothing runs)."""
    result = CliRunner().invoke(cli, [*arguments, "--help"])
    return result.exit_code == 0


def documented_runs() -> list[list[str]]:
    """The arguments after the image name of every `docker run` the Dockerfile and the
    README show."""
    runs = []
    for text in (DOCKERFILE, (ROOT / "README.md").read_text()):
        for line in re.findall(r"docker run [^\n`]*", text):
            words = shlex.split(line)
            runs.append(words[words.index("simkl-server") + 1 :])
    return runs


def test_the_image_runs_the_cli() -> None:
    assert instruction("ENTRYPOINT") == ["simkl-server"]
    assert accepted(instruction("CMD"))


@pytest.mark.parametrize("arguments", documented_runs())
def test_every_documented_docker_run_is_a_valid_command(arguments: list[str]) -> None:
    assert accepted(arguments or instruction("CMD"))  # none given: the image's own


def test_the_compose_server_runs_a_valid_command() -> None:
    assert accepted(SERVER["command"])


def settings_from(variables: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name, value in variables.items():
        assert name.removeprefix("SIMKL_SERVER_").lower() in Settings.model_fields, name
        monkeypatch.setenv(name, value)
    return Settings()


def test_the_images_settings_are_real_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    block = re.search(r"^ENV ((?:.*\\\n)*.*)$", DOCKERFILE, re.MULTILINE)
    assert block is not None
    pairs = dict(re.findall(r"(SIMKL_SERVER_[A-Z_]+)=(\S+)", block.group(1)))
    settings = settings_from(pairs, monkeypatch)
    assert settings.host == "0.0.0.0"  # noqa: S104 -- inside a container, as the file says
    assert str(settings.database.sqlite_path) == "/data/simkl-server.db"


def test_the_compose_settings_are_real_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    variables = {
        name: _DEFAULT.sub(r"\1", str(value)) for name, value in SERVER["environment"].items()
    }
    settings = settings_from(variables, monkeypatch)
    assert settings.database.kind == "postgresql"
    assert not settings.control  # off unless asked for


def test_the_health_check_asks_a_served_path() -> None:
    from simkl_server.api import ROUTES  # noqa: PLC0415

    path = re.search(r"^HEALTHCHECK .*?http://127\.0\.0\.1:8765(/[a-z]+)", DOCKERFILE, re.M | re.S)
    assert path is not None
    assert path.group(1) in {route.path for route in ROUTES}


def test_what_the_image_copies_is_in_the_repository() -> None:
    for sources in re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE, re.MULTILINE):
        for source in sources.split():
            assert (ROOT / source).exists(), source
