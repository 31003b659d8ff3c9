"""Bring a database to the newest schema (creating the SQLite file if needed)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from simkl_server.config import DatabaseUrl

MIGRATIONS = Path(__file__).with_name("migrations")


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
    """Apply every pending migration."""
    command.upgrade(alembic_config(database), "head")
