"""The `simkl-server` command exactly as scripts call it: the real console script in a
subprocess, with SIMKL_SERVER_DATABASE_URL naming a database of each backend."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from starlette.testclient import TestClient

from simkl_server.app import create_app
from simkl_server.cli import cli
from simkl_server.config import Settings
from tests.catalog.support import catalog_items
from tests.cli.support import assert_one_line_error, fields, simkl_server
from tests.conftest import fresh_database

FIXTURES = Path(__file__).parents[1] / "fixtures"
AOD_EXAMPLE = FIXTURES / "catalog" / "anime-offline-database-readme-example.json"
HEX = re.compile(r"[0-9a-f]{64}")
T3 = b'{"type":"movie","title":"Terminator 3","ids":{"simkl":53536,"imdb":"tt0181852"}}\n'


@pytest.fixture
def new_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database that exists but has never been migrated (an SQLite file not yet made)."""
    yield from fresh_database(backend, tmp_path, migrated=False)


def test_db_upgrade_creates_the_schema(new_database: str, tmp_path: Path) -> None:
    done = simkl_server(new_database, "db", "upgrade")
    assert "database is up to date" in done.stderr
    simkl_server(new_database, "db", "upgrade")  # a second upgrade is a no-op
    out = tmp_path / "empty.jsonl"
    assert "exported 0 items" in simkl_server(new_database, "catalog", "export", str(out)).stderr
    assert out.read_bytes() == b""


def test_catalog_import_reports_and_export_writes_the_format(
    empty_database: str, tmp_path: Path
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(T3 + b"{broken\n" + b'{"type":"movie","title":"x","ids":{"[/x]":""}}\n')
    done = simkl_server(empty_database, "catalog", "import", str(source))
    assert "inserted 1, updated 0, unchanged 0, conflicts 0, bad rows 2" in done.stderr
    assert "line 2: not valid JSON" in done.stderr
    assert 'line 3: "ids.[/x]" must be a string or an integer' in done.stderr
    again = simkl_server(empty_database, "catalog", "import", str(source))
    assert "inserted 0, updated 0, unchanged 1, conflicts 0, bad rows 2" in again.stderr
    out = tmp_path / "out.jsonl.gz"
    done = simkl_server(empty_database, "catalog", "export", str(out))
    assert f"exported 1 items to {out}" in done.stderr
    assert gzip.decompress(out.read_bytes()) == T3


def test_catalog_import_reads_anime_offline_database(empty_database: str) -> None:
    done = simkl_server(empty_database, "catalog", "import", str(AOD_EXAMPLE))
    assert "inserted 1, updated 0, unchanged 0, conflicts 0, bad rows 0" in done.stderr
    assert catalog_items(empty_database)[40190].title == "Death Note"


def test_catalog_import_refuses_a_missing_or_unreadable_file(
    empty_database: str, tmp_path: Path
) -> None:
    missing = tmp_path / "no.jsonl"
    done = simkl_server(empty_database, "catalog", "import", str(missing), code=1)
    assert_one_line_error(done, f"cannot read {missing}: the file does not exist")
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(b"not gzip at all")
    done = simkl_server(empty_database, "catalog", "import", str(broken), code=1)
    assert_one_line_error(done, f"cannot read {broken}: not a gzipped file")


def test_apps_create_prints_credentials_as_lines_or_json(empty_database: str) -> None:
    plain = fields(simkl_server(empty_database, "apps", "create", "My app").stdout)
    assert plain.keys() == {"name", "client_id", "client_secret", "kind", "auth", "redirect_uris"}
    assert plain["name"] == "My app"
    assert (plain["kind"], plain["auth"], plain["redirect_uris"]) == ("server", "v1", "")
    assert HEX.fullmatch(plain["client_id"])
    assert HEX.fullmatch(plain["client_secret"])
    done = simkl_server(
        empty_database,
        "apps",
        "create",
        "Other",
        "--redirect-uri",
        "http://x/cb",
        "--redirect-uri",
        "myapp://auth",
        "--json",
    )
    assert len(done.stdout.splitlines()) == 1
    document = json.loads(done.stdout)
    assert document["redirect_uris"] == ["http://x/cb", "myapp://auth"]
    assert HEX.fullmatch(document["client_id"])
    assert document["client_id"] != plain["client_id"]


def test_users_create_refuses_a_duplicate_or_invalid_name(empty_database: str) -> None:
    done = simkl_server(empty_database, "users", "create", "alice")
    assert re.fullmatch(r"created user alice \(id \d+\)\n", done.stdout)
    twice = simkl_server(empty_database, "users", "create", "alice", code=1)
    assert "error: user 'alice' already exists" in twice.stderr
    bad = simkl_server(empty_database, "users", "create", "[/bad]", code=1)
    assert "error: invalid username '[/bad]'" in bad.stderr


def test_tokens_create_gives_the_same_token_again(empty_database: str) -> None:
    client_id = fields(simkl_server(empty_database, "apps", "create", "app").stdout)["client_id"]
    simkl_server(empty_database, "users", "create", "bob")
    args = ("tokens", "create", "--user", "bob", "--client-id", client_id)
    first = fields(simkl_server(empty_database, *args).stdout)
    second = json.loads(simkl_server(empty_database, *args, "--json").stdout)
    assert HEX.fullmatch(first["access_token"])
    assert second == {"access_token": first["access_token"], "token_type": "bearer",
                      "scope": "public"}  # fmt: skip
    nobody = simkl_server(empty_database, "tokens", "create", "--user", "eve", "--client-id",
                          client_id, code=1)  # fmt: skip
    assert "error: no user named 'eve'" in nobody.stderr


def test_python_m_simkl_server_help_lists_every_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "simkl_server", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("serve", "db", "catalog", "apps", "users", "tokens", "pin"):
        assert re.search(rf"^\W*{command}\b", done.stdout, re.MULTILINE), command


def test_a_cli_token_works_over_http_and_cli_imported_items_resolve(empty_database: str) -> None:
    client_id = fields(simkl_server(empty_database, "apps", "create", "app").stdout)["client_id"]
    simkl_server(empty_database, "users", "create", "carol")
    token = json.loads(
        simkl_server(
            empty_database, "tokens", "create", "--user", "carol", "--client-id", client_id,
            "--json",
        ).stdout
    )["access_token"]  # fmt: skip
    simkl_server(empty_database, "catalog", "import", str(AOD_EXAMPLE))
    auth = {"Authorization": f"Bearer {token}"}
    query = {"client_id": client_id, "app-name": "tests", "app-version": "1"}
    with TestClient(create_app(Settings(database_url=empty_database))) as client:
        activities = client.get("/sync/activities", params=query, headers=auth)
        refused = client.get(
            "/sync/activities", params=query, headers={"Authorization": "Bearer x"}
        )
        rated = client.post(
            "/sync/ratings", params=query, headers=auth,
            json={"anime": [{"ids": {"mal": 1535}, "rating": 9}]},
        )  # fmt: skip
        read = client.get("/sync/ratings/anime/9", params=query, headers=auth)
    assert activities.status_code == 200, activities.text
    assert "all" in activities.json()
    assert refused.status_code == 401
    assert rated.status_code == 201, rated.text
    assert rated.json()["added"]["shows"] == 1
    assert [row["show"]["ids"]["simkl"] for row in read.json()["anime"]] == [40190]


def test_every_command_and_option_is_in_the_readme() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Command line", 1)[1].split("\n## ", 1)[0]
    for usage, options in _commands(typer.main.get_command(cli), "simkl-server"):
        lines = [line for line in section.splitlines() if f"{usage} " in f"{line} "]
        assert lines, usage
        for option in options:
            assert any(option in line for line in lines), (usage, option)
    assert "simkl-server --version" in section


def _commands(command: Any, usage: str) -> Iterator[tuple[str, list[str]]]:
    """(usage, its --options) of every leaf command under `command`."""
    children = getattr(command, "commands", None)
    if not children:
        options = [o for p in command.params for o in p.opts if o.startswith("--")]
        yield usage, [o for o in options if o != "--help"]
        return
    for name, child in children.items():
        yield from _commands(child, f"{usage} {name}")


def test_apps_create_registers_v2_apps_of_each_kind(empty_database: str) -> None:
    device = json.loads(
        simkl_server(
            empty_database, "apps", "create", "TV", "--v2", "--kind", "device", "--json"
        ).stdout
    )
    assert (device["auth"], device["kind"], device["client_secret"]) == ("v2", "device", None)
    refused = simkl_server(
        empty_database, "apps", "create", "TV", "--kind", "device", "--redirect-uri", "x://y",
        code=1,
    )  # fmt: skip
    assert_one_line_error(refused, "a device app registers no redirect URI")
    bad = simkl_server(
        empty_database, "apps", "create", "X", "--redirect-uri", "javascript:x", code=1
    )
    assert_one_line_error(bad, "not allowed")


def test_a_user_created_with_a_password_can_sign_in(empty_database: str) -> None:
    simkl_server(
        empty_database, "users", "create", "erin", "--password-stdin", stdin="long enough pw\n"
    )
    short = simkl_server(
        empty_database, "users", "create", "frank", "--password-stdin", stdin="short\n", code=1
    )
    assert_one_line_error(short, "password needs 8")
    with TestClient(create_app(Settings(database_url=empty_database))) as client:
        page = client.get("/signin")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        done = client.post(
            "/signin",
            data={"csrf_token": token.group(1), "username": "erin", "password": "long enough pw"},
            follow_redirects=False,
        )
    assert done.status_code == 303


def test_pin_approve_approves_a_pin_or_a_device_code_typed_loosely(empty_database: str) -> None:
    simkl_server(empty_database, "users", "create", "gina")
    v1 = fields(simkl_server(empty_database, "apps", "create", "Plugin").stdout)["client_id"]
    v2 = json.loads(
        simkl_server(
            empty_database, "apps", "create", "TV", "--v2", "--kind", "device", "--json"
        ).stdout
    )["client_id"]
    with TestClient(create_app(Settings(database_url=empty_database))) as client:
        pin = client.get(f"/oauth/pin?client_id={v1}").json()["user_code"]
        device = client.post("/oauth2/device", data={"client_id": v2}).json()
        approved = simkl_server(empty_database, "pin", "approve", pin.lower(), "--user", "gina")
        assert "approved" in approved.stdout
        typed = device["user_code"].replace("-", "").lower()
        simkl_server(empty_database, "pin", "approve", typed, "--user", "gina")
        token = client.get(f"/oauth/pin/{pin}?client_id={v1}").json()["access_token"]
        assert HEX.fullmatch(token)
        polled = client.post(
            "/oauth2/token",
            data={
                "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                "client_id": v2,
                "device_code": device["device_code"],
            },
        )
        assert polled.status_code == 200, polled.text
    unknown = simkl_server(empty_database, "pin", "approve", "ZZZZZ", "--user", "gina", code=1)
    assert_one_line_error(unknown, "no live code")
    nobody = simkl_server(empty_database, "pin", "approve", "ZZZZZ", "--user", "nobody", code=1)
    assert_one_line_error(nobody, "no user named")


def test_a_weak_secret_key_is_one_line_of_error(empty_database: str) -> None:
    done = simkl_server(empty_database, "db", "upgrade", settings={"secret_key": "weak"}, code=1)
    line = assert_one_line_error(done, "SIMKL_SERVER_SECRET_KEY", "too weak")
    assert "weak'" not in line  # the key itself is never printed
