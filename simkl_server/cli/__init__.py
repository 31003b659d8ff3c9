"""The `simkl-server` command: serve, db upgrade, catalog import/export, library
import/export, apps, users and tokens to create, list, delete and revoke, and pin approve.

Every failure a person can cause or fix (a bad setting, a database that is away, a taken port,
a missing file) ends in one line on stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated, NoReturn

import typer

from simkl_server import __version__
from simkl_server.catalog.load import CatalogFileError
from simkl_server.cli._shared import CommandError
from simkl_server.cli.accounts import apps_cli, pin_cli, tokens_cli, users_cli
from simkl_server.cli.catalog import catalog_cli
from simkl_server.cli.library import library_cli
from simkl_server.cli.serve import db_cli, serve
from simkl_server.config import ConfigError
from simkl_server.domain.auth import AccountError
from simkl_server.keys import SecretKeyError
from simkl_server.server import ListenError, WorkerError
from simkl_server.storage.base import DatabaseUnavailable

cli = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__.split("\n\n")[0])
cli.command()(serve)
for name, group in (
    ("db", db_cli),
    ("catalog", catalog_cli),
    ("library", library_cli),
    ("apps", apps_cli),
    ("users", users_cli),
    ("tokens", tokens_cli),
    ("pin", pin_cli),
):
    cli.add_typer(group, name=name)
# Failures whose message already says what happened and what to do.
EXPLAINED = (
    AccountError,
    CatalogFileError,
    CommandError,
    ConfigError,
    DatabaseUnavailable,
    ListenError,
    SecretKeyError,
    WorkerError,
)
USAGE_ERROR = 2
log = logging.getLogger("simkl_server")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"simkl-server {__version__}")
        raise typer.Exit


@cli.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    pass


def main() -> None:
    """Entry point of the console script."""
    try:
        status = cli(standalone_mode=False)
    except typer.TyperException as exc:  # usage: an unknown option, a value of the wrong type
        if type(exc).__name__ == "NoArgsIsHelpError":  # the help is already printed
            sys.exit(USAGE_ERROR)
        _fail(_usage_message(exc), status=exc.exit_code)
    except typer.Abort:
        _fail("aborted")
    except EXPLAINED as exc:
        _fail(str(exc))
    except Exception as exc:
        log.debug("unexpected failure", exc_info=True)
        _fail(f"unexpected {type(exc).__name__}: {exc} (SIMKL_SERVER_LOG_LEVEL=debug shows where)")
    sys.exit(status if isinstance(status, int) else 0)


def _usage_message(exc: typer.TyperException) -> str:
    ctx = getattr(exc, "ctx", None)
    hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    return exc.format_message().rstrip(".") + hint


def _fail(message: str, *, status: int = 1) -> NoReturn:
    """One line on stderr, then exit."""
    typer.echo("error: " + " ".join(message.split()), err=True)
    sys.exit(status)
