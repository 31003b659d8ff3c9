"""A first run on a fresh machine: every configuration or start-up mistake ends in one line
on stderr and a non-zero exit, never a traceback, through the real console script."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from simkl_server import __version__
from simkl_server.config import Settings
from tests.cli.support import CONSOLE_SCRIPT, assert_one_line_error, environment, simkl_server
from tests.conftest import PG_ADMIN_URL, require_postgres
from tests.robustness.server import free_port

# A value each setting refuses (host: any text is an address to try; `serve` tests it).
BAD_VALUES = {
    "database_url": "notaurl",
    "port": "abc",
    "max_body_bytes": "0",
    "max_batch_items": "-5",
    "max_read_episodes": "0",
    "inline_batch_items": "-1",
    "pg_pool_size": "many",
    "workers": "0",
    "demo_data": "maybe",
    "log_level": "verbose",
    "access_log": "perhaps",
    "secret_key": "guessable",
    "public_url": "ftp://simkl.example",
    "allow_signup": "perhaps",
    "max_body_bytes_in_flight": "0",
    "max_json_containers": "none",
    "max_title_chars": "0",
    "max_header_bytes": "512",
    "read_timeout_s": "-1",
    "max_connections": "0",
    "max_connections_per_client": "lots",
    "write_wait_ms": "-5",
    "control": "maybe",
    "journal_size": "0",
    "rate_limits": "sometimes",
    "playback_retention_days_free": "0",
    "playback_retention_days_pro": "a month",
    "playback_retention_days_vip": "-90",
    "scrobble_lock_wait_ms": "-1",
    "catalog_learn": "sometimes",
    "catalog_learn_per_request": "-1",
    "catalog_learn_per_user_day": "unlimited",
    "catalog_learn_per_day": "-3",
}


def every_command(tmp_path: Path) -> list[list[str]]:
    """Each command, with arguments that would work on a healthy database."""
    source = tmp_path / "in.jsonl"
    source.write_text('{"type":"movie","title":"x","ids":{"imdb":"tt0000001"}}\n')
    return [
        ["serve", "--port", "0"],
        ["db", "upgrade"],
        ["catalog", "import", str(source)],
        ["catalog", "import", "--demo"],
        ["catalog", "export", str(tmp_path / "out.jsonl")],
        ["apps", "create", "app"],
        ["apps", "list"],
        ["apps", "delete", "x"],
        ["users", "create", "alice"],
        ["users", "list"],
        ["users", "delete", "alice"],
        ["tokens", "create", "--user", "alice", "--client-id", "x"],
        ["tokens", "list"],
        ["tokens", "revoke", "x"],
    ]


def run_all(url: str, commands: list[list[str]]) -> list[subprocess.CompletedProcess[str]]:
    """Run the commands side by side (each is a process of its own) and collect them."""
    env = environment(url)
    running = [
        subprocess.Popen(
            [str(CONSOLE_SCRIPT), *args],
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for args in commands
    ]
    done = []
    for process, args in zip(running, commands, strict=True):
        stdout, stderr = process.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(args, process.returncode, stdout, stderr))
    return done


def test_every_setting_has_a_refused_value_here() -> None:
    # Any host, key file path and catalog folder is a value to try (binding or reading it may
    # still fail; `catalog import` says so when it does).
    paths = {"host", "secret_key_file", "catalog_dir"}
    assert set(BAD_VALUES) | paths == set(Settings.model_fields)


@pytest.mark.parametrize(("name", "value"), BAD_VALUES.items())
def test_an_invalid_setting_names_its_variable(name: str, value: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    done = simkl_server(url, "db", "upgrade", code=1, settings={name: value})
    line = assert_one_line_error(done, f"SIMKL_SERVER_{name.upper()}")
    assert name in ("database_url", "secret_key") or repr(value) in line
    assert value not in line or name != "secret_key", "a key is never printed"
    assert not (tmp_path / "x.db").exists()


def test_a_database_url_error_never_shows_the_password() -> None:
    done = simkl_server("mysql://me:s3cret@db.example/simkl", "users", "list", code=1)
    line = assert_one_line_error(done, "scheme 'mysql' is not supported", "postgresql://")
    assert "s3cret" not in line


def test_a_command_line_value_names_the_option() -> None:
    done = simkl_server(None, "serve", "--port", "70000", code=1)
    assert_one_line_error(done, "--port=70000", "65535")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["serve", "--port", "abc"], "'--port'"),
        (["users", "create"], "Missing argument 'username'"),
        (["no-such-command"], "No such command"),
    ],
)
def test_a_usage_mistake_is_one_line_too(args: list[str], expected: str) -> None:
    done = simkl_server(None, *args, code=2)
    assert_one_line_error(done, expected, "--help")


def test_every_command_says_in_one_line_that_postgresql_is_down(tmp_path: Path) -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/simkl"
    for done in run_all(url, every_command(tmp_path)):
        assert done.returncode == 1, (done.args, done.stderr)
        assert_one_line_error(done, "cannot connect to PostgreSQL at 127.0.0.1:")


def test_a_postgresql_database_that_does_not_exist_is_named(tmp_path: Path) -> None:
    require_postgres()
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/simkl_no_such_database"
    for done in run_all(url, [["db", "upgrade"], ["serve", "--port", "0"]]):
        assert_one_line_error(
            done,
            "database 'simkl_no_such_database' does not exist",
            "createdb simkl_no_such_database",
        )


def test_sslmode_is_honoured(tmp_path: Path) -> None:
    require_postgres()

    async def ssl_setting() -> str:
        conn = await asyncpg.connect(PG_ADMIN_URL)
        try:
            return str(await conn.fetchval("SHOW ssl"))
        finally:
            await conn.close()

    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/simkl_never_created?sslmode=require"
    if asyncio.run(ssl_setting()) == "on":
        pytest.skip("this PostgreSQL server speaks TLS, so sslmode=require cannot be refused")
    done = simkl_server(url, "db", "upgrade", code=1)
    assert_one_line_error(done, "rejected SSL upgrade")


def test_sqlite_in_a_missing_folder_is_refused_and_no_folder_made(tmp_path: Path) -> None:
    folder = tmp_path / "missing" / "dir"
    done = simkl_server(f"sqlite:///{folder / 'x.db'}", "db", "upgrade", code=1)
    assert_one_line_error(done, f"the folder {folder} of SQLite file", "does not exist")
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize(
    ("kind", "expected"), [("folder", "unable to open"), ("text", "file is not a database")]
)
def test_sqlite_url_naming_no_database_file(tmp_path: Path, kind: str, expected: str) -> None:
    target = tmp_path / "target"
    if kind == "folder":
        target.mkdir()
    else:
        target.write_text("hello\n")
    done = simkl_server(f"sqlite:///{target}", "users", "list", code=1)
    assert_one_line_error(done, f"cannot open SQLite file {target}: {expected}")


def test_export_into_a_missing_folder_says_so(tmp_path: Path) -> None:
    out = tmp_path / "missing" / "x.jsonl"
    done = simkl_server(f"sqlite:///{tmp_path / 'x.db'}", "catalog", "export", str(out), code=1)
    assert_one_line_error(done, f"cannot write {out}: the folder {out.parent} does not exist")
    assert not out.parent.exists()


@pytest.mark.parametrize("name", ["n.jsonl", "n" * 200 + ".jsonl"])
def test_messages_never_wrap_whatever_the_path_length(tmp_path: Path, name: str) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    short = simkl_server(url, "catalog", "import", name, cwd=tmp_path, code=1)
    assert_one_line_error(short, f"cannot read {name}: the file does not exist")
    full = tmp_path / name
    done = simkl_server(url, "catalog", "import", str(full), code=1)
    assert_one_line_error(done, f"cannot read {full}: the file does not exist")


@pytest.mark.parametrize("kind", ["folder", "under-a-file"])
def test_an_unreadable_import_path_is_refused(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "catalog"
    if kind == "folder":  # a folder is imported file by file; this one has no catalog file
        path.mkdir()
        (path / "notes.txt").write_text("not a catalog file")
        expected = f"no catalog files (.json, .jsonl, .tsv, .gz) in {path}"
    else:
        path.write_text("{}\n")
        path = path / "x.jsonl"
        expected = f"cannot read {path}: not a directory"
    done = simkl_server(f"sqlite:///{tmp_path / 'x.db'}", "catalog", "import", str(path), code=1)
    assert_one_line_error(done, expected)


def test_version() -> None:
    done = simkl_server(None, "--version")
    assert done.stdout == f"simkl-server {__version__}\n"


def test_even_an_unexpected_failure_is_one_line(tmp_path: Path) -> None:
    # A failure nobody foresaw, planted in the real entry point (no console script can be
    # made to fail this way on purpose).
    plant = (
        "import sys\n"
        "from simkl_server import cli\n"
        "from simkl_server.domain import auth\n"
        "async def broken(store): raise RuntimeError('planted failure')\n"
        "auth.list_users = broken\n"
        "sys.argv = ['simkl-server', 'users', 'list']\n"
        "cli.main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", plant],
        env=environment(f"sqlite:///{tmp_path / 'x.db'}"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert_one_line_error(
        done, "unexpected RuntimeError: planted failure", "SIMKL_SERVER_LOG_LEVEL=debug"
    )
    debug = subprocess.run(
        [sys.executable, "-c", plant],
        env=environment(f"sqlite:///{tmp_path / 'x.db'}", log_level="debug"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Traceback" in debug.stderr, "asked for, the traceback is there"
