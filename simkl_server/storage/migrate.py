"""Bring a database to the newest schema (creating the SQLite file if needed)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

_MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_url(database_url: str) -> str:
    """The SQLAlchemy URL Alembic connects with: asyncpg for PostgreSQL."""
    if database_url.startswith("sqlite"):
        return database_url
    scheme, rest = database_url.split("://", 1)
    return f"postgresql+asyncpg://{rest}" if scheme.startswith("postgres") else database_url


def upgrade(database_url: str) -> None:
    """Apply every pending migration."""
    if database_url.startswith("sqlite:///"):
        Path(database_url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.set_main_option("sqlalchemy.url", alembic_url(database_url))
    command.upgrade(config, "head")
