"""Bring a database to the newest schema (creating the SQLite file, never its folder)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError

from simkl_server.config import DatabaseUrl
from simkl_server.storage.drivers import DRIVER_ERRORS, DatabaseUnavailable, probe, unavailable

MIGRATIONS = Path(__file__).with_name("migrations")
log = logging.getLogger("simkl_server.storage")
_MIGRATION_ERRORS: tuple[type[BaseException], ...] = (SQLAlchemyError, *DRIVER_ERRORS)


def alembic_config(database: DatabaseUrl) -> Config:
    """Alembic's configuration for our migrations on that database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database"] = database
    return config


def head_revision() -> str:
    """The newest schema revision this code knows."""
    head = ScriptDirectory.from_config(alembic_config(DatabaseUrl("sqlite"))).get_current_head()
    assert head is not None
    return head


def upgrade(database: DatabaseUrl) -> None:
    """Apply every pending migration; DatabaseUnavailable, in one line, when the database
    cannot be reached or changed."""
    asyncio.run(probe(database))
    try:
        command.upgrade(alembic_config(database), "head")
    except _MIGRATION_ERRORS as exc:
        cause = unavailable(database, _root_cause(exc))
        raise DatabaseUnavailable(f"cannot migrate the schema: {cause}") from exc
    if log.isEnabledFor(logging.DEBUG):  # finding the head reads every migration file again
        log.debug("%s is at schema revision %s", database.describe(), head_revision())


def _root_cause(exc: BaseException) -> BaseException:
    """The driver's own error under SQLAlchemy's wrappers."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return exc
