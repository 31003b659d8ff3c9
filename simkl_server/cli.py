"""The `simkl-server` command: serve, db upgrade, catalog import/export, apps, users, tokens,
pin."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import sys
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

from simkl_server import server
from simkl_server.app import open_store
from simkl_server.catalog.load import export_file, import_file
from simkl_server.clock import SystemClock
from simkl_server.config import Settings
from simkl_server.demo import ensure_demo
from simkl_server.domain import auth, pin
from simkl_server.domain.models import AppKind
from simkl_server.domain.tokens import Keys
from simkl_server.keys import SecretKeyError, load_secret_key
from simkl_server.storage import migrate
from simkl_server.storage.base import Store

T = TypeVar("T")
cli = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
db_cli = typer.Typer(no_args_is_help=True, help="Database schema.")
catalog_cli = typer.Typer(no_args_is_help=True, help="The media catalog items resolve against.")
apps_cli = typer.Typer(no_args_is_help=True, help="Client applications (client_id, secret).")
users_cli = typer.Typer(no_args_is_help=True, help="User accounts.")
tokens_cli = typer.Typer(no_args_is_help=True, help="Access tokens.")
pin_cli = typer.Typer(no_args_is_help=True, help="PIN and device codes waiting for a user.")
for name, group in (
    ("db", db_cli),
    ("catalog", catalog_cli),
    ("apps", apps_cli),
    ("users", users_cli),
    ("tokens", tokens_cli),
    ("pin", pin_cli),
):
    cli.add_typer(group, name=name)
# Messages carry user input (file lines, names): never read as markup, never wrapped.
err = Console(stderr=True, markup=False, highlight=False, soft_wrap=True)


def _with_store(settings: Settings, use: Callable[[Store], Awaitable[T]]) -> T:
    """Migrate, open the store, run `use`, close; account errors exit with status 1."""
    migrate.upgrade(settings.database)

    async def run() -> T:
        store = await open_store(settings, SystemClock())
        try:
            return await use(store)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except (auth.AccountError, pin.UnknownCode) as exc:
        message = f"no live code {exc}" if isinstance(exc, pin.UnknownCode) else str(exc)
        err.print(f"error: {message}")
        raise typer.Exit(1) from None


def _keys(settings: Settings) -> Keys:
    return Keys(load_secret_key(settings))


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    demo: Annotated[
        bool, typer.Option(help="Load the demo catalog and demo app, user and token.")
    ] = False,
) -> None:
    """Run the server (migrating the database first)."""
    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = Settings(**overrides)  # type: ignore[arg-type]
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if demo or settings.demo_data:
        credentials = _with_store(settings, ensure_demo)
        err.print(credentials.banner(settings.host, settings.port))
    else:
        migrate.upgrade(settings.database)
    server.run(settings)


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the newest schema."""
    migrate.upgrade(Settings().database)
    err.print("database is up to date")


@apps_cli.command("create")
def apps_create(
    name: str,
    redirect_uri: Annotated[
        list[str] | None,
        typer.Option("--redirect-uri", help="A registered OAuth redirect URI (repeatable)."),
    ] = None,
    v2: Annotated[bool, typer.Option("--v2", help="Register for AUTH V2 (/oauth2/*).")] = False,
    kind: Annotated[
        AppKind,
        typer.Option(help="server: has a client_secret; public or device: none."),
    ] = AppKind.SERVER,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Register an app and print its client_id and client_secret (shown only now)."""
    created = _with_store(
        Settings(),
        lambda store: auth.create_app(
            store,
            name=name,
            redirect_uris=redirect_uri or [],
            kind=kind,
            auth_version=2 if v2 else 1,
        ),
    )
    app = created.app
    fields: dict[str, object] = {
        "name": app.name,
        "client_id": app.client_id,
        "client_secret": created.client_secret,
        "kind": app.kind.value,
        "auth": "v2" if app.is_v2 else "v1",
        "redirect_uris": list(app.redirect_uris),
    }
    _print(fields, as_json=as_json)


@users_cli.command("create")
def users_create(
    username: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read a password (for signing in) from stdin.")
    ] = False,
) -> None:
    """Create a user account (with a password for the web pages, if given on stdin)."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    user_id = _with_store(
        Settings(), lambda store: auth.create_user(store, username=username, password=password)
    )
    typer.echo(f"created user {username} (id {user_id})")


@tokens_cli.command("create")
def tokens_create(
    user: Annotated[str, typer.Option("--user", help="Username the token acts for.")],
    client_id: Annotated[str, typer.Option("--client-id", help="App the token is issued to.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Issue (or show again) the AUTH V1 access token of a user for an app."""
    settings = Settings()
    token = _with_store(
        settings,
        lambda store: auth.issue_token(store, _keys(settings), username=user, client_id=client_id),
    )
    _print({"access_token": token, "token_type": "bearer", "scope": "public"}, as_json=as_json)


@pin_cli.command("approve")
def pin_approve(
    user_code: str,
    user: Annotated[str, typer.Option("--user", help="Username that approves.")],
) -> None:
    """Approve a PIN (AUTH V1) or device code (AUTH V2) for a user, typed as loosely as the
    /pin page accepts it (any case, with or without the hyphen)."""

    async def approve(store: Store) -> str:
        account = await store.read.accounts.find_account(user)
        if account is None:
            raise auth.AccountError(f"no user named {user!r}")
        approval = await pin.decide(store, typed=user_code, user_id=account.id, allowed=True)
        return approval.app.name

    app_name = _with_store(Settings(), approve)
    typer.echo(f"approved {user_code.strip().upper()} for {user} ({app_name})")


@catalog_cli.command("import")
def catalog_import(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Import a catalog file: our .jsonl(.gz) format or an anime-offline-database file."""
    try:
        report = _with_store(Settings(), lambda store: import_file(store, path, console=err))
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:  # a broken or truncated .gz
        err.print(f"error: cannot read {path}: {exc}")
        raise typer.Exit(1) from None
    err.print(report.summary())
    for problem in report.problems[:50]:
        err.print(f"  {problem}")
    if len(report.problems) > 50:
        err.print(f"  ... and {len(report.problems) - 50} more")


@catalog_cli.command("export")
def catalog_export(path: Annotated[Path, typer.Argument(dir_okay=False)]) -> None:
    """Write the whole catalog in our .jsonl format (.gz when the name ends so)."""
    count = _with_store(Settings(), lambda store: export_file(store, path))
    err.print(f"exported {count} items to {path}")


def _print(fields: dict[str, object], *, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(fields))
        return
    for key, value in fields.items():
        shown = " ".join(value) if isinstance(value, list) else value
        typer.echo(f"{key}: {shown if shown is not None else ''}")


def main() -> None:
    """Entry point of the console script: a setting or key that cannot be used is one line
    on stderr and status 1, never a traceback."""
    try:
        cli()
    except ValidationError as exc:
        for problem in exc.errors():
            where = ".".join(str(part) for part in problem["loc"]) or "settings"
            err.print(f"error: {where}: {problem['msg']}")
        raise SystemExit(1) from None
    except SecretKeyError as exc:
        err.print(f"error: {exc}")
        raise SystemExit(1) from None
