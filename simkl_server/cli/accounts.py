"""`apps`, `users`, `tokens` and `pin`: create, list, delete and revoke who may call the
server, and approve a PIN or device code from the command line."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from simkl_server.cli._shared import (
    CommandError,
    load,
    print_fields,
    print_rows,
    say,
    timestamp,
    with_store,
)
from simkl_server.domain.models import AppKind

if TYPE_CHECKING:
    from simkl_server.storage.base import Store

apps_cli = typer.Typer(no_args_is_help=True, help="Client applications (client_id, secret).")
users_cli = typer.Typer(no_args_is_help=True, help="User accounts.")
tokens_cli = typer.Typer(no_args_is_help=True, help="Access tokens and the grants behind them.")
pin_cli = typer.Typer(no_args_is_help=True, help="PIN and device codes waiting for a user.")
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


@apps_cli.command("create")
def apps_create(
    name: str,
    redirect_uri: Annotated[
        list[str] | None,
        typer.Option("--redirect-uri", help="A registered OAuth redirect URI (repeatable)."),
    ] = None,
    v2: Annotated[bool, typer.Option("--v2", help="Register for AUTH V2 (/oauth2/*).")] = False,
    kind: Annotated[
        AppKind, typer.Option(help="server: has a client_secret; public or device: none.")
    ] = AppKind.SERVER,
    as_json: JsonFlag = False,
) -> None:
    """Register an app and print its client_id and client_secret (shown this once)."""
    from simkl_server.domain import auth

    created = with_store(
        load(),
        lambda store: auth.create_app(
            store,
            name=name,
            redirect_uris=redirect_uri or [],
            kind=kind,
            auth_version=2 if v2 else 1,
        ),
    )
    app = created.app
    fields = {
        "name": app.name,
        "client_id": app.client_id,
        "client_secret": created.client_secret,
        "kind": app.kind.value,
        "auth": "v2" if app.is_v2 else "v1",
        "redirect_uris": list(app.redirect_uris) if as_json else " ".join(app.redirect_uris),
    }
    print_fields(fields, as_json=as_json)


@apps_cli.command("list")
def apps_list(as_json: JsonFlag = False) -> None:
    """List the registered apps (their secrets are never shown again)."""
    from simkl_server.domain import auth

    apps = with_store(load(), auth.list_apps)
    rows = [
        {
            "client_id": app.client_id,
            "name": app.name,
            "kind": app.kind.value,
            "auth": "v2" if app.is_v2 else "v1",
            "redirect_uris": " ".join(app.redirect_uris),
            "created_at": timestamp(app.created_at),
        }
        for app in apps
    ]
    columns = ("client_id", "name", "kind", "auth", "redirect_uris", "created_at")
    print_rows(rows, columns, as_json=as_json)


@apps_cli.command("delete")
def apps_delete(client_id: str) -> None:
    """Delete an app; every token issued to it stops working at once."""
    from simkl_server.domain import auth

    with_store(load(), lambda store: auth.delete_app(store, client_id=client_id))
    say(f"deleted app {client_id} and its tokens")


@users_cli.command("create")
def users_create(
    username: str,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read a password (for the web pages) from stdin."),
    ] = False,
) -> None:
    """Create a user account (with a password for signing in, when given on stdin)."""
    from simkl_server.domain import auth

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    user_id = with_store(
        load(), lambda store: auth.create_user(store, username=username, password=password)
    )
    typer.echo(f"created user {username} (id {user_id})")


@users_cli.command("list")
def users_list(as_json: JsonFlag = False) -> None:
    """List the user accounts."""
    from simkl_server.domain import auth

    users = with_store(load(), auth.list_users)
    rows = [
        {"username": user.username, "id": user.id, "created_at": timestamp(user.created_at)}
        for user in users
    ]
    print_rows(rows, ("username", "id", "created_at"), as_json=as_json)


@users_cli.command("delete")
def users_delete(username: str) -> None:
    """Delete a user with their library, ratings, activities, grants and apps."""
    from simkl_server.domain import auth

    with_store(load(), lambda store: auth.delete_user(store, username=username))
    say(f"deleted user {username} with their library, ratings and tokens")


@tokens_cli.command("create")
def tokens_create(
    user: Annotated[str, typer.Option("--user", help="Username the token acts for.")],
    client_id: Annotated[str, typer.Option("--client-id", help="App the token is issued to.")],
    as_json: JsonFlag = False,
) -> None:
    """Issue (or show again) the AUTH V1 access token of a user for an app."""
    from simkl_server.domain import auth
    from simkl_server.domain.tokens import Keys
    from simkl_server.keys import load_secret_key

    settings = load()
    keys = Keys(load_secret_key(settings))
    token = with_store(
        settings,
        lambda store: auth.issue_token(store, keys, username=user, client_id=client_id),
    )
    print_fields(
        {"access_token": token, "token_type": "bearer", "scope": "public"}, as_json=as_json
    )


@tokens_cli.command("list")
def tokens_list(as_json: JsonFlag = False) -> None:
    """List the live grants (tokens are stored as hashes, so never shown again)."""
    from simkl_server.domain import auth

    grants = with_store(load(), auth.list_grants)
    rows = [
        {
            "grant": grant.id,
            "user": grant.username,
            "client_id": grant.client_id,
            "auth": f"v{grant.auth_version}",
            "scope": grant.scope,
            "created_at": timestamp(grant.created_at),
        }
        for grant in grants
    ]
    columns = ("grant", "user", "client_id", "auth", "scope", "created_at")
    print_rows(rows, columns, as_json=as_json)


@tokens_cli.command("revoke")
def tokens_revoke(token: str) -> None:
    """Revoke a token's grant: the next request that carries it gets 401."""
    from simkl_server.domain import auth

    with_store(load(), lambda store: auth.revoke_token(store, token=token))
    say(f"revoked token {token[:8]}...")


@pin_cli.command("approve")
def pin_approve(
    user_code: str,
    user: Annotated[str, typer.Option("--user", help="Username that approves.")],
) -> None:
    """Approve a PIN (AUTH V1) or device code (AUTH V2) for a user, typed as loosely as the
    /pin page accepts it (any case, with or without the hyphen)."""
    from simkl_server.domain import pin

    async def approve(store: Store) -> str:
        account = await store.read.accounts.find_account(user)
        if account is None:
            raise CommandError(f"no user named {user!r}")
        try:
            approval = await pin.decide(store, typed=user_code, user_id=account.id, allowed=True)
        except pin.UnknownCode:
            raise CommandError(f"no live code {user_code!r} is waiting") from None
        return approval.app.name

    app_name = with_store(load(), approve)
    typer.echo(f"approved {user_code.strip().upper()} for {user} ({app_name})")
