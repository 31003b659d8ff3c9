"""`apps`, `users` and `tokens` list, delete and revoke, as text or JSON, and what a deleted
app or a revoked token means to a client over HTTP."""

from __future__ import annotations

import json
import re

from starlette.testclient import TestClient

from simkl_server.app import create_app
from simkl_server.config import Settings
from tests.cli.support import assert_one_line_error, fields, simkl_server

STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def listed(url: str, *command: str) -> list[dict[str, object]]:
    """A list command's --json output."""
    rows: list[dict[str, object]] = json.loads(simkl_server(url, *command, "--json").stdout)
    return rows


def status_with(url: str, client_id: str, token: str) -> int:
    """The status a client gets for /sync/activities with these credentials."""
    with TestClient(create_app(Settings(database_url=url))) as client:
        return client.get(
            "/sync/activities",
            params={"client_id": client_id},
            headers={"Authorization": f"Bearer {token}"},
        ).status_code


def test_apps_list_and_delete(empty_database: str) -> None:
    first = fields(simkl_server(empty_database, "apps", "create", "First").stdout)
    simkl_server(empty_database, "apps", "create", "Second", "--redirect-uri", "http://x/cb")
    plain = simkl_server(empty_database, "apps", "list").stdout.splitlines()
    columns = ["client_id", "name", "kind", "auth", "redirect_uris", "created_at"]
    assert plain[0].split() == columns
    assert plain[1].split()[:5] == [first["client_id"], "First", "server", "v1", "-"]
    rows = listed(empty_database, "apps", "list")
    assert [row["name"] for row in rows] == ["First", "Second"]
    assert rows[1]["redirect_uris"] == "http://x/cb"
    assert all(set(row) == set(columns) for row in rows)
    assert STAMP.fullmatch(str(rows[0]["created_at"]))
    assert first["client_secret"] not in json.dumps(rows), "a secret is shown once, at creation"
    done = simkl_server(empty_database, "apps", "delete", first["client_id"])
    assert done.stderr == f"deleted app {first['client_id']} and its tokens\n"
    assert [row["name"] for row in listed(empty_database, "apps", "list")] == ["Second"]
    again = simkl_server(empty_database, "apps", "delete", first["client_id"], code=1)
    assert_one_line_error(again, f"no app with client_id {first['client_id']!r}")


def test_users_list_and_delete(empty_database: str) -> None:
    simkl_server(empty_database, "users", "create", "alice")
    simkl_server(empty_database, "users", "create", "bob")
    rows = listed(empty_database, "users", "list")
    assert [row["username"] for row in rows] == ["alice", "bob"]
    assert all(set(row) == {"username", "id", "created_at"} for row in rows)
    simkl_server(empty_database, "users", "delete", "bob")
    plain = simkl_server(empty_database, "users", "list").stdout.splitlines()
    assert [line.split()[0] for line in plain] == ["username", "alice"]
    again = simkl_server(empty_database, "users", "delete", "bob", code=1)
    assert_one_line_error(again, "no user named 'bob'")


def test_tokens_list_and_revoke(empty_database: str) -> None:
    client_id = fields(simkl_server(empty_database, "apps", "create", "app").stdout)["client_id"]
    simkl_server(empty_database, "users", "create", "carol")
    issue = ("tokens", "create", "--user", "carol", "--client-id", client_id, "--json")
    token = json.loads(simkl_server(empty_database, *issue).stdout)["access_token"]
    (row,) = listed(empty_database, "tokens", "list")  # the grant: tokens are kept as hashes
    assert (row["user"], row["client_id"], row["auth"], row["scope"]) == (
        "carol", client_id, "v1", "public"
    )  # fmt: skip
    assert token not in json.dumps(row)
    assert status_with(empty_database, client_id, token) == 200
    done = simkl_server(empty_database, "tokens", "revoke", token)
    assert done.stderr == f"revoked token {token[:8]}...\n"
    assert listed(empty_database, "tokens", "list") == []
    assert status_with(empty_database, client_id, token) == 401
    again = simkl_server(empty_database, "tokens", "revoke", token, code=1)
    assert_one_line_error(again, "no live token with that value")
