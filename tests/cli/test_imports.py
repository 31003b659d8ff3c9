"""A command loads what it runs and no more: every start of `simkl-server` pays for what it
imports, and the web app alone costs most of a second."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.cli.support import environment

# What only `serve` needs: the web app and what serves it.
SERVER_ONLY = {
    "simkl_server.api",
    "simkl_server.app",
    "simkl_server.server",
    "simkl_server.web",
    "jinja2",
    "starlette",
    "uvicorn",
}
# What a command needs only once it runs: the settings, the database, the catalog's files.
RUN_ONLY = {
    "simkl_server.catalog",
    "simkl_server.config",
    "simkl_server.demo",
    "simkl_server.storage",
    "alembic",
    "pydantic",
    "rich",
    "sqlalchemy",
}
# What only migrating a PostgreSQL database needs (it loads SQLAlchemy's ORM).
POSTGRES_MIGRATION_ONLY = {"sqlalchemy.ext.asyncio", "sqlalchemy.orm"}


def modules_after(code: str, url: str | None = None) -> set[str]:
    """The modules a fresh interpreter has imported once it ran `code` (against the database
    at `url`)."""
    show_modules = "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code + show_modules],
        env=environment(url),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_importing_the_cli_loads_nothing_a_command_runs() -> None:
    loaded = modules_after("import simkl_server.cli")

    assert loaded & (SERVER_ONLY | RUN_ONLY) == set()


def test_users_list_on_sqlite_loads_only_what_it_uses(tmp_path: Path) -> None:
    users_list = "from simkl_server.cli import cli\ncli(['users', 'list'], standalone_mode=False)"

    loaded = modules_after(users_list, f"sqlite:///{tmp_path / 'simkl.db'}")

    assert {"simkl_server.storage.base", "simkl_server.storage.migrate"} <= loaded
    assert loaded & (SERVER_ONLY | POSTGRES_MIGRATION_ONLY) == set()
