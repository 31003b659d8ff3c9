"""Settings read once at start-up from the environment (prefix SIMKL_SERVER_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///simkl-server.db"


class Settings(BaseSettings):
    """Every knob of the server; each field is documented in the README's settings table."""

    model_config = SettingsConfigDict(env_prefix="SIMKL_SERVER_", frozen=True)

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="sqlite:///PATH (created on first start) or postgresql://USER@HOST:PORT/DB.",
    )
    host: str = Field(default="127.0.0.1", description="Address `serve` binds to.")
    port: int = Field(default=8765, description="Port `serve` listens on.")
    max_body_bytes: int = Field(
        default=8 * 1024 * 1024,
        description="Largest request body accepted; larger bodies get 413 body_too_large.",
    )
    max_batch_items: int = Field(
        default=10_000,
        description="Most items one sync write may carry; more get 400 max_items.",
    )
    inline_batch_items: int = Field(
        default=500,
        description="SQLite write batches up to this size run on the event loop; larger ones "
        "run in a worker thread so the loop keeps serving.",
    )
    pg_pool_size: int = Field(default=10, description="PostgreSQL connections per process.")
    demo_data: bool = Field(
        default=False,
        description="On start, load the bundled demo catalog and create the demo app, user and "
        "token if absent (what `make serve` turns on).",
    )
    log_level: str = Field(default="info", description="Log level of the server's own logger.")

    @property
    def is_sqlite(self) -> bool:
        """True when the database is an embedded SQLite file."""
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path:
        """Filesystem path of the SQLite database (only meaningful when is_sqlite)."""
        return Path(self.database_url.split(":///", 1)[1])
