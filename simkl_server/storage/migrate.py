"""Bring a database to the newest schema (creating the SQLite file, never its folder).

A database already at the newest revision is told apart with one query, without Alembic: every
command and every server start migrates first, and loading Alembic and SQLAlchemy's SQL
compiler to learn that nothing is pending took half a second of each."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from simkl_server.config import DatabaseUrl
from simkl_server.storage.drivers import (
    DRIVER_ERRORS,
    DatabaseUnavailable,
    schema_revision,
    unavailable,
)

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
log = logging.getLogger("simkl_server.storage")


def known_revisions() -> list[str]:
    """The schema revisions this code knows, oldest first: each migration's file name starts
    with its revision, four digits (tests/storage/test_migrations.py holds Alembic to the same)."""
    names = (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")
    return sorted(path.name[:4] for path in names)


def head_revision() -> str:
    """The newest schema revision this code knows."""
    return known_revisions()[-1]


def alembic_config(database: DatabaseUrl) -> Config:
    """Alembic's configuration for our migrations on that database."""
    from alembic.config import Config  # noqa: PLC0415 (see the module's docstring)

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database"] = database
    return config


def upgrade(database: DatabaseUrl) -> None:
    """Apply every pending migration; DatabaseUnavailable, in one line, when the database
    cannot be reached or changed."""
    revision = asyncio.run(schema_revision(database))
    known = known_revisions()
    if revision == known[-1]:
        return
    if revision is not None and revision not in known:
        raise DatabaseUnavailable(
            f"{database.describe()} is at schema revision {revision}, which this version of "
            f"simkl-server does not know (its newest is {known[-1]}): a newer version "
            "made or upgraded it; run that version, or restore a backup made before"
        )
    from alembic import command  # noqa: PLC0415 (see the module's docstring)
    from sqlalchemy.exc import SQLAlchemyError  # noqa: PLC0415

    failures: tuple[type[BaseException], ...] = (SQLAlchemyError, *DRIVER_ERRORS)
    try:
        command.upgrade(alembic_config(database), "head")
    except failures as exc:
        cause = unavailable(database, _root_cause(exc))
        raise DatabaseUnavailable(f"cannot migrate the schema: {cause}") from exc
    log.debug("%s migrated from %s to %s", database.describe(), revision, known[-1])


def _root_cause(exc: BaseException) -> BaseException:
    """The driver's own error under SQLAlchemy's wrappers."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return exc
