"""The `simkl-server` command: serve, db upgrade, catalog import/export, library
import/export, apps, users and tokens to create, list, delete and revoke, and pin approve.

Every failure a person can cause or fix (a bad setting, a database that is away, a taken port,
a missing file) ends in one line on stderr and a non-zero exit status, never a traceback.

Each command imports what it runs when it runs (the settings, the database, the server), so
`simkl-server users list` does not load the web app and `--help` loads none of them.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated, NoReturn

import typer

from simkl_server import __version__
from simkl_server.cli.accounts import apps_cli, pin_cli, tokens_cli, users_cli
from simkl_server.cli.catalog import catalog_cli
from simkl_server.cli.library import library_cli
from simkl_server.cli.serve import db_cli, serve

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
# Failures whose message already says what happened and what to do, as (module, class) where
# the class is defined: named, not imported, since a command imports only what it runs.
EXPLAINED = frozenset(
    {
        ("simkl_server.catalog.load", "CatalogFileError"),
        ("simkl_server.cli._shared", "CommandError"),
        ("simkl_server.config", "ConfigError"),
        ("simkl_server.domain.auth", "AccountError"),
        ("simkl_server.keys", "SecretKeyError"),
        ("simkl_server.server", "ListenError"),
        ("simkl_server.server", "WorkerError"),
        ("simkl_server.storage.drivers", "DatabaseUnavailable"),
    }
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
    except Exception as exc:
        if is_explained(exc):
            _fail(str(exc))
        log.debug("unexpected failure", exc_info=True)
        _fail(f"unexpected {type(exc).__name__}: {exc} (SIMKL_SERVER_LOG_LEVEL=debug shows where)")
    sys.exit(status if isinstance(status, int) else 0)


def is_explained(exc: BaseException) -> bool:
    """Whether `exc` is (a subclass of) one of EXPLAINED, told by its classes' names."""
    return any((cls.__module__, cls.__qualname__) in EXPLAINED for cls in type(exc).__mro__)


def _usage_message(exc: typer.TyperException) -> str:
    ctx = getattr(exc, "ctx", None)
    hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    return exc.format_message().rstrip(".") + hint


def _fail(message: str, *, status: int = 1) -> NoReturn:
    """One line on stderr, then exit."""
    typer.echo("error: " + " ".join(message.split()), err=True)
    sys.exit(status)
