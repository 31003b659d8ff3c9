"""`library export`, `library import` (a backup file, or a copy from another Simkl-compatible
server over its API): a user's whole library in and out."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from simkl_server.cli._shared import CommandError, load, say, with_store

if TYPE_CHECKING:
    from simkl_server.domain.transfer import LibraryRecord, RestoreReport
    from simkl_server.storage.base import Store

library_cli = typer.Typer(
    no_args_is_help=True, help="A user's library: back it up, restore it, copy it from a server."
)
MAX_UNMATCHED_SHOWN = 50


@library_cli.command("export")
def library_export(
    path: Annotated[Path, typer.Argument(help="The backup file to write (JSON).")],
    user: Annotated[str, typer.Option("--user", help="Whose library.")],
) -> None:
    """Write a user's whole library to a backup file that `library import` restores."""
    from simkl_server.domain.transfer import export_library
    from simkl_server.transfer import backup

    settings = load()

    async def run(store: Store) -> list[LibraryRecord]:
        return await export_library(store, user_id=await _user_id(store, user))

    records = with_store(settings, run)
    try:
        path.write_bytes(backup.dump(records))
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None
    say(f"exported {len(records)} items of {user}'s library to {path}")


@library_cli.command("import")
def library_import(
    path: Annotated[
        Path | None, typer.Argument(help="A backup file written by `library export`.")
    ] = None,
    *,
    user: Annotated[str, typer.Option("--user", help="Whose library receives the items.")],
    source: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Copy from this Simkl-compatible server instead, e.g. https://api.simkl.com.",
        ),
    ] = None,
    token: Annotated[str | None, typer.Option("--token", help="The source user's token.")] = None,
    client_id: Annotated[
        str | None, typer.Option("--client-id", help="An app's client_id on the source.")
    ] = None,
    rate: Annotated[
        float, typer.Option("--rate", min=0.0, help="Most requests a second to the source.")
    ] = 1.0,
    state: Annotated[
        Path | None,
        typer.Option(
            "--state",
            help="Where an interrupted copy keeps its progress "
            "(default: .simkl-copy-USER.json here).",
        ),
    ] = None,
) -> None:
    """Restore a backup file, or copy a library from a server, into a user.

    Items already in the user's library take the imported state, others stay; running it
    again changes nothing."""
    from simkl_server.transfer.remote import CopyState

    if (path is None) == (source is None):
        raise CommandError("give a backup file to import, or --from URL to copy from a server")
    settings = load()
    if path is not None:
        records = _read_backup(path)
    else:
        if not token or not client_id:
            raise CommandError("--from needs the source's --token and --client-id")
        records = _copy(
            source or "", token=token, client_id=client_id, user=user, rate=rate, state=state
        )
    report = with_store(settings, lambda store: _restore(store, user, records))
    _report(report)
    if path is None:
        CopyState.open(_state_path(state, user), source=source or "", user=user).remove()


async def _user_id(store: Store, username: str) -> int:
    user_id = await store.read.accounts.find_user(username)
    if user_id is None:
        raise CommandError(f"no user {username!r}: create it with `simkl-server users create`")
    return user_id


async def _restore(store: Store, user: str, records: list[LibraryRecord]) -> RestoreReport:
    from simkl_server.domain.transfer import restore_library

    return await restore_library(store, user_id=await _user_id(store, user), records=records)


def _read_backup(path: Path) -> list[LibraryRecord]:
    from simkl_server.transfer import backup

    try:
        return backup.load(path.read_bytes())
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
    except backup.BackupError as exc:
        raise CommandError(f"{path} is not a library backup: {exc}") from None


def _state_path(state: Path | None, user: str) -> Path:
    return state or Path(f".simkl-copy-{user}.json")


def _copy(
    source: str, *, token: str, client_id: str, user: str, rate: float, state: Path | None
) -> list[LibraryRecord]:
    """Fetch the source's library, paced and resumable, with a progress bar."""
    from rich.console import Console
    from rich.progress import Progress

    from simkl_server.transfer.remote import (
        STEPS,
        CopyState,
        Fetcher,
        Pacer,
        Source,
        TransferError,
        fetch_library,
    )

    try:
        fetcher = Fetcher(Source(source, token, client_id), Pacer(1.0 / rate if rate else 0.0))
        saved = CopyState.open(_state_path(state, user), source=source, user=user)
        console = Console(stderr=True, highlight=False, markup=False, emoji=False)
        with Progress(console=console, transient=True, disable=not console.is_terminal) as bar:
            task = bar.add_task(f"copying from {source}", total=len(STEPS))
            return fetch_library(fetcher, saved, on_step=lambda _: bar.advance(task))
    except TransferError as exc:
        raise CommandError(f"{exc} (run the same command again to resume)") from None


def _report(report: RestoreReport) -> None:
    say(f"imported {report.restored} items, {len(report.unmatched)} not in this catalog")
    for record in report.unmatched[:MAX_UNMATCHED_SHOWN]:
        ids = ", ".join(f"{kind} {value}" for kind, value in record.ids.items())
        simkl = f"simkl {record.simkl}, " if record.simkl is not None else ""
        say(f"  not matched: {record.type.value} {record.title!r} ({record.year}; {simkl}{ids})")
    if len(report.unmatched) > MAX_UNMATCHED_SHOWN:
        say(f"  ... and {len(report.unmatched) - MAX_UNMATCHED_SHOWN} more")
