"""Running the real console script, and what every failure of it must look like."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from simkl_server.config import Settings
from tests.conftest import TEST_SECRET_KEY

CONSOLE_SCRIPT = Path(sys.executable).with_name("simkl-server")
# Variables of the developer's shell that would change what a command does.
_OWN_SETTINGS = {f"SIMKL_SERVER_{name.upper()}" for name in Settings.model_fields}


def environment(url: str | None, **settings: str) -> dict[str, str]:
    """This process's environment with the database URL and these SIMKL_SERVER_* settings
    (and the tests' secret key, so no key file is written into the working folder)."""
    env = {k: v for k, v in os.environ.items() if k not in _OWN_SETTINGS}
    env["SIMKL_SERVER_SECRET_KEY"] = TEST_SECRET_KEY
    if url is not None:
        env["SIMKL_SERVER_DATABASE_URL"] = url
    env.update({f"SIMKL_SERVER_{name.upper()}": value for name, value in settings.items()})
    return env


def simkl_server(
    url: str | None,
    *args: str,
    code: int = 0,
    cwd: Path | None = None,
    settings: dict[str, str] | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the console script against the database at `url` with these SIMKL_SERVER_*
    settings (by field name); check its exit status."""
    done = subprocess.run(
        [str(CONSOLE_SCRIPT), *args],
        env=environment(url, **(settings or {})),
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == code, (done.stdout, done.stderr)
    return done


def fields(stdout: str) -> dict[str, str]:
    """The `key: value` lines a create command prints."""
    return dict(line.split(": ", 1) for line in stdout.splitlines())


def assert_one_line_error(done: subprocess.CompletedProcess[str], *expected: str) -> str:
    """A failure the way every command fails: a non-zero exit, nothing on stdout, exactly one
    line on stderr that starts with `error: ` and contains each expected text. Returns it."""
    assert done.returncode != 0, (done.stdout, done.stderr)
    assert done.stdout == "", done.stdout
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    (line,) = lines
    assert line.startswith("error: "), line
    for text in expected:
        assert text in line, (text, line)
    return line
