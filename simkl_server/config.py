"""Settings read once at start-up from the environment (prefix SIMKL_SERVER_)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///simkl-server.db"
SECRET_KEY_FILE_NAME = "simkl-server.secret-key"  # noqa: S105 -- a file name, not a key
MIN_SECRET_KEY_CHARS = 32
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
_POSTGRES_SCHEMES = frozenset({"postgresql", "postgres", "postgresql+asyncpg"})


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    """A database URL, parsed once: where a SQLite file lives, or how to reach PostgreSQL."""

    kind: Literal["sqlite", "postgresql"]
    sqlite_path: Path | None = None
    # libpq form (postgresql://user@host:port/db?sslmode=...), which asyncpg reads as libpq does.
    postgres_dsn: str | None = None

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded SQLite file."""
        return self.kind == "sqlite"

    def describe(self) -> str:
        """Where the data lives, without any password (for logs and messages)."""
        if self.sqlite_path is not None:
            return f"SQLite file {self.sqlite_path}"
        parts = urlsplit(self.postgres_dsn or "")
        where = f"{parts.hostname or 'localhost'}:{parts.port or 5432}"
        return f"PostgreSQL database {parts.path.lstrip('/') or '(default)'} at {where}"


@cache
def parse_database_url(text: str) -> DatabaseUrl:
    """`sqlite:///PATH` or `postgresql://USER[:PASSWORD]@HOST[:PORT]/DB[?libpq parameters]`;
    anything else raises ValueError with a sentence a person can act on."""
    scheme, separator, rest = text.strip().partition("://")
    scheme = scheme.lower()
    if not separator:
        raise ValueError(
            f"database URL {text!r} is not a URL: use sqlite:///PATH or postgresql://USER@HOST/DB"
        )
    if scheme == "sqlite":
        return _sqlite_url(text, rest)
    if scheme in _POSTGRES_SCHEMES:
        return DatabaseUrl("postgresql", postgres_dsn=f"postgresql://{rest}")
    raise ValueError(
        f"database URL scheme {scheme!r} is not supported: use sqlite:///PATH or "
        "postgresql://USER@HOST/DB"
    )


def _sqlite_url(text: str, rest: str) -> DatabaseUrl:
    if not rest.startswith("/") or rest == "/":
        raise ValueError(f"SQLite URL {text!r} names no file: use sqlite:///PATH (three slashes)")
    path = Path(rest[1:].split("?", 1)[0])
    if str(path) in {"", ".", ":memory:"}:
        raise ValueError(f"SQLite URL {text!r} must name a file, e.g. sqlite:///simkl-server.db")
    return DatabaseUrl("sqlite", sqlite_path=path)


class Settings(BaseSettings):
    """Every knob of the server; each field is documented in the README's settings table."""

    model_config = SettingsConfigDict(env_prefix="SIMKL_SERVER_", frozen=True)

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="sqlite:///PATH (created on first start) or postgresql://USER@HOST:PORT/DB.",
    )
    host: str = Field(default="127.0.0.1", description="Address `serve` binds to.")
    port: int = Field(default=8765, ge=0, le=65535, description="Port `serve` listens on.")
    max_body_bytes: int = Field(
        default=8 * 1024 * 1024,
        gt=0,
        description="Largest request body accepted; larger bodies get 413 body_too_large.",
    )
    max_batch_items: int = Field(
        default=10_000,
        gt=0,
        description="Most items one sync write may carry; more get 400 max_items.",
    )
    inline_batch_items: int = Field(
        default=500,
        ge=0,
        description="SQLite write batches up to this size run on the event loop; larger ones "
        "run in a worker thread so the loop keeps serving.",
    )
    pg_pool_size: int = Field(default=10, gt=0, description="PostgreSQL connections per process.")
    demo_data: bool = Field(
        default=False,
        description="On start, load the bundled demo catalog and create the demo app, user and "
        "token if absent (what `make serve` turns on).",
    )
    log_level: str = Field(default="info", description="Log level of the server's own logger.")
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key that AUTH V1 access tokens, CSRF tokens and session cookies are derived "
        "with (at least 32 characters). Unset: read from `secret_key_file`, created on first "
        "start. Every server process sharing a database needs the same key.",
    )
    secret_key_file: Path | None = Field(
        default=None,
        description="Where the generated key lives when `secret_key` is unset; default: "
        "`simkl-server.secret-key` next to the SQLite database, or in the working folder for "
        "PostgreSQL. Created with mode 0600.",
    )
    public_url: str | None = Field(
        default=None,
        description="This server's public base URL (e.g. https://simkl.example.org), used for "
        "the OAuth issuer, `verification_uri` and token realms; unset: taken from each "
        "request's Host.",
    )
    allow_signup: bool = Field(
        default=True,
        description="Whether anyone may create an account on the sign-up page; false: only "
        "`simkl-server users create` makes users.",
    )

    @field_validator("database_url")
    @classmethod
    def _valid_database_url(cls, value: str) -> str:
        parse_database_url(value)
        return value.strip()

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        level = value.strip().lower()
        if level not in LOG_LEVELS:
            raise ValueError(f"log level {value!r} is not one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("public_url")
    @classmethod
    def _absolute_public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query:
            raise ValueError(f"public URL {value!r} must look like https://host[:port][/path]")
        return value.strip().rstrip("/")

    @model_validator(mode="after")
    def _strong_secret_key(self) -> Settings:
        if self.secret_key is not None and not self.demo_data:
            key = self.secret_key.get_secret_value()
            if len(key) < MIN_SECRET_KEY_CHARS or len(set(key)) < 8:
                raise ValueError(
                    f"secret key is too weak: use at least {MIN_SECRET_KEY_CHARS} random "
                    "characters, e.g. the output of `python -c 'import secrets; "
                    "print(secrets.token_hex(32))'`"
                )
        return self

    @property
    def key_file(self) -> Path:
        """Where the generated secret key is kept when none is set."""
        if self.secret_key_file is not None:
            return self.secret_key_file
        sqlite_path = self.database.sqlite_path
        folder = sqlite_path.parent if sqlite_path is not None else Path()
        return folder / SECRET_KEY_FILE_NAME

    @property
    def database(self) -> DatabaseUrl:
        """The parsed database URL."""
        return parse_database_url(self.database_url)

    @property
    def is_sqlite(self) -> bool:
        """True when the database is an embedded SQLite file."""
        return self.database.is_sqlite
