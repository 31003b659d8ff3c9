"""`catalog import` and `catalog export`, with progress a person or a log can follow."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from simkl_server.cli._shared import CommandError, load, say, with_store

if TYPE_CHECKING:
    from simkl_server.catalog.load import CatalogFile
    from simkl_server.config import Settings
    from simkl_server.domain.catalog import ImportReport

catalog_cli = typer.Typer(no_args_is_help=True, help="The media catalog items resolve against.")
MAX_PROBLEMS_SHOWN = 50


@catalog_cli.command("import")
def catalog_import(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Catalog files or folders: our .jsonl(.gz), anime-offline-database, anime id "
            "mappings (Kometa anime_ids, bangumi-data, arm), IMDb title.basics / title.episode "
            ".tsv(.gz), TMDB daily id exports. The format is read from the content.",
            show_default=False,
        ),
    ] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Import the demo catalog shipped with the server.")
    ] = False,
    catalog_dir: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            help="Folder of downloaded catalog files (default: SIMKL_SERVER_CATALOG_DIR). With no "
            "PATH every catalog file in it is imported, items before the files that add to them.",
        ),
    ] = None,
) -> None:
    """Import catalog files (or the shipped demo catalog); re-importing changes nothing."""
    from simkl_server.demo import demo_catalog

    settings = load(catalog_dir=catalog_dir)
    if demo:
        if paths:
            raise CommandError(_GIVE_A_FILE)
        with demo_catalog() as source:
            report = _import(settings, source, name="the demo catalog")
        if not _report(report):
            raise CommandError("nothing in the demo catalog is a catalog item")
        return
    folder = settings.catalog_dir
    wanted = paths or ([folder] if folder is not None else [])
    if not wanted:
        raise CommandError(_GIVE_A_FILE)
    files = [file for path in wanted for file in _catalog_files(_located(path, folder))]
    failed = [
        file.path
        for file in files
        if not _report(
            _import(settings, file.path, name=file.path.name),
            name=file.path.name if len(files) > 1 else None,
        )
    ]
    if failed:
        raise CommandError(
            f"nothing in {', '.join(map(str, failed))} is a catalog item: is it a catalog file?"
        )


_GIVE_A_FILE = (
    "give a catalog file to import, or --demo for the shipped demo catalog "
    "(or a folder: --dir or SIMKL_SERVER_CATALOG_DIR)"
)


def _located(path: Path, folder: Path | None) -> Path:
    """A relative path that is not here is looked for in the catalog folder."""
    if folder is not None and not path.is_absolute() and not path.exists():
        return folder / path
    return path


def _catalog_files(path: Path) -> list[CatalogFile]:
    from simkl_server.catalog.load import catalog_files, detect, file_problem

    try:
        if path.is_dir():
            found = catalog_files(path)
            if not found:
                raise CommandError(f"no catalog files (.json, .jsonl, .tsv, .gz) in {path}")
            return found
        _check_readable(path)
        return [detect(path)]
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {file_problem(exc)}") from None


@catalog_cli.command("export")
def catalog_export(
    path: Annotated[Path, typer.Argument(help="File to write (.gz: gzipped).")],
) -> None:
    """Write the whole catalog in our .jsonl format (.gz when the name ends so)."""
    from simkl_server.catalog.load import export_file

    settings = load()
    _check_writable(path)
    count = with_store(settings, lambda store: export_file(store, path))
    say(f"exported {count} items to {path}")


def _import(settings: Settings, path: Path, *, name: str) -> ImportReport:
    from rich.console import Console

    from simkl_server.catalog.load import import_file
    from simkl_server.cli.progress import ImportProgress

    console = Console(stderr=True, highlight=False, markup=False, emoji=False)
    with ImportProgress(name, console, size=path.stat().st_size) as progress:
        return with_store(
            settings,
            lambda store: import_file(
                store, path, on_progress=progress.advance, meter=progress.meter
            ),
        )


def _report(report: ImportReport, *, name: str | None = None) -> bool:
    """Say what an import did; False when nothing in the file was a catalog item."""
    say(f"{name}: {report.summary()}" if name else report.summary())
    for problem in report.problems[:MAX_PROBLEMS_SHOWN]:
        say(f"  {problem}")
    if report.skipped > MAX_PROBLEMS_SHOWN:
        say(f"  ... and {report.skipped - MAX_PROBLEMS_SHOWN} more")
    found = report.inserted + report.updated + report.unchanged + report.not_in_catalog
    return not report.skipped or bool(found)


def _check_readable(path: Path) -> None:
    """Refuse a missing, unreadable or non-file path before touching the database."""
    from simkl_server.catalog.load import file_problem

    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {file_problem(exc)}") from None


def _check_writable(path: Path) -> None:
    """Refuse a path in a missing or read-only folder, or a folder itself, before exporting."""
    folder = path.parent
    if not folder.is_dir():
        raise CommandError(f"cannot write {path}: the folder {folder} does not exist")
    if path.is_dir():
        raise CommandError(f"cannot write {path}: it is a folder")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise CommandError(f"cannot write {path}: permission denied")
