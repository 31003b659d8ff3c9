"""`apps`, `users` and `tokens`: create, list, delete and revoke who may call the server."""

from __future__ import annotations

from typing import Annotated

import typer

from simkl_server.cli._shared import load, print_fields, print_rows, say, timestamp, with_store
from simkl_server.domain import auth

apps_cli = typer.Typer(no_args_is_help=True, help="Client applications (client_id, secret).")
users_cli = typer.Typer(no_args_is_help=True, help="User accounts.")
tokens_cli = typer.Typer(no_args_is_help=True, help="Access tokens.")
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


@apps_cli.command("create")
def apps_create(
    name: str,
    redirect_uri: Annotated[str | None, typer.Option(help="Registered OAuth redirect URI.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Register an app and print its client_id and client_secret (shown this once)."""
    app = with_store(
        load(), lambda store: auth.create_app(store, name=name, redirect_uri=redirect_uri)
    )
    fields = {
        "name": app.name,
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "redirect_uri": app.redirect_uri,
    }
    print_fields(fields, as_json=as_json)


@apps_cli.command("list")
def apps_list(as_json: JsonFlag = False) -> None:
    """List the registered apps (their secrets are never shown again)."""
    apps = with_store(load(), auth.list_apps)
    rows = [
        {
            "client_id": app.client_id,
            "name": app.name,
            "redirect_uri": app.redirect_uri,
            "created_at": timestamp(app.created_at),
        }
        for app in apps
    ]
    print_rows(rows, ("client_id", "name", "redirect_uri", "created_at"), as_json=as_json)


@apps_cli.command("delete")
def apps_delete(client_id: str) -> None:
    """Delete an app; every token issued to it stops working at once."""
    with_store(load(), lambda store: auth.delete_app(store, client_id=client_id))
    say(f"deleted app {client_id} and its tokens")


@users_cli.command("create")
def users_create(username: str) -> None:
    """Create a user account."""
    user_id = with_store(load(), lambda store: auth.create_user(store, username=username))
    typer.echo(f"created user {username} (id {user_id})")


@users_cli.command("list")
def users_list(as_json: JsonFlag = False) -> None:
    """List the user accounts."""
    users = with_store(load(), auth.list_users)
    rows = [
        {"username": user.username, "id": user.id, "created_at": timestamp(user.created_at)}
        for user in users
    ]
    print_rows(rows, ("username", "id", "created_at"), as_json=as_json)


@users_cli.command("delete")
def users_delete(username: str) -> None:
    """Delete a user with their library, ratings, activities and tokens."""
    with_store(load(), lambda store: auth.delete_user(store, username=username))
    say(f"deleted user {username} with their library, ratings and tokens")


@tokens_cli.command("create")
def tokens_create(
    user: Annotated[str, typer.Option("--user", help="Username the token acts for.")],
    client_id: Annotated[str, typer.Option("--client-id", help="App the token is issued to.")],
    as_json: JsonFlag = False,
) -> None:
    """Issue (or show the existing) access token of a user for an app."""
    token = with_store(
        load(), lambda store: auth.issue_token(store, username=user, client_id=client_id)
    )
    print_fields(
        {"access_token": token, "token_type": "bearer", "scope": "public"}, as_json=as_json
    )


@tokens_cli.command("list")
def tokens_list(as_json: JsonFlag = False) -> None:
    """List the live tokens with their user and app."""
    grants = with_store(load(), auth.list_tokens)
    rows = [
        {
            "access_token": grant.token,
            "user": grant.username,
            "client_id": grant.client_id,
            "created_at": timestamp(grant.created_at),
        }
        for grant in grants
    ]
    print_rows(rows, ("access_token", "user", "client_id", "created_at"), as_json=as_json)


@tokens_cli.command("revoke")
def tokens_revoke(token: str) -> None:
    """Revoke a token: the next request that carries it gets 401 user_token_failed."""
    with_store(load(), lambda store: auth.revoke_token(store, token=token))
    say(f"revoked token {token[:8]}...")
