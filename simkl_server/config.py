"""Settings read once at start-up from the environment (prefix SIMKL_SERVER_), and the
database URL they name, parsed once."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "SIMKL_SERVER_"
DEFAULT_DATABASE_URL = "sqlite:///simkl-server.db"
SECRET_KEY_FILE_NAME = "simkl-server.secret-key"  # noqa: S105 -- a file name, not a key
MIN_SECRET_KEY_CHARS = 32
DEFAULT_CONNECT_TIMEOUT_S = 10.0
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_POSTGRES_SCHEMES = frozenset({"postgresql", "postgres", "postgresql+asyncpg"})
_URL_FORMS = "use sqlite:///PATH or postgresql://USER[:PASSWORD]@HOST[:PORT]/DB"
# libpq parameters the asyncpg driver has no equivalent for. Left in the URL, asyncpg would
# send them to the server as settings, which refuses them; they are dropped with a warning.
_CLIENT_ONLY_PARAMETERS = frozenset(
    {
        "channel_binding",
        "client_encoding",  # the driver always speaks UTF-8
        "gssdelegation",
        "gssencmode",
        "hostaddr",
        "keepalives",
        "keepalives_count",
        "keepalives_idle",
        "keepalives_interval",
        "load_balance_hosts",
        "replication",
        "require_auth",
        "requirepeer",
        "requiressl",
        "sslcertmode",
        "sslcompression",
        "sslcrldir",
        "sslsni",
    }
)


class ConfigError(Exception):
    """A setting the server cannot use; the message is one sentence naming the setting."""


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    """A database URL, parsed once: where a SQLite file lives, or how to reach PostgreSQL."""

    kind: Literal["sqlite", "postgresql"]
    sqlite_path: Path | None = None
    # libpq URL form, which asyncpg reads as libpq does (sslmode, sslrootcert, host=/socket/dir,
    # target_session_attrs, options, ...), minus the parameters it cannot honour.
    postgres_dsn: str | None = None
    connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT_S
    ignored_parameters: tuple[str, ...] = ()

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded SQLite file."""
        return self.kind == "sqlite"

    def describe(self) -> str:
        """Where the data lives, without any password (for logs and messages)."""
        if self.sqlite_path is not None:
            return f"SQLite file {self.sqlite_path}"
        return f"PostgreSQL database {self.postgres_name} at {self.postgres_address}"

    @property
    def postgres_name(self) -> str:
        """The database name the URL gives (PostgreSQL then defaults it to the user name)."""
        parts = urlsplit(self.postgres_dsn or "")
        query = dict(parse_qsl(parts.query))
        return unquote(parts.path.lstrip("/")) or query.get("dbname") or "(the user's name)"

    @property
    def postgres_address(self) -> str:
        """host:port, or the socket folder, the URL points at."""
        parts = urlsplit(self.postgres_dsn or "")
        query = dict(parse_qsl(parts.query))
        host = query.get("host") or parts.hostname or "localhost"
        if host.startswith("/"):
            return host
        port = query.get("port") or parts.port or 5432
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@cache
def parse_database_url(text: str) -> DatabaseUrl:
    """`sqlite:///PATH` or `postgresql://USER[:PASSWORD]@HOST[:PORT]/DB[?libpq parameters]`;
    anything else raises ValueError with a sentence a person can act on (never the password)."""
    scheme, separator, rest = text.strip().partition("://")
    scheme = scheme.lower()
    if not separator:
        raise ValueError(f"the database URL is not a URL: {_URL_FORMS}")
    if scheme == "sqlite":
        return _sqlite_url(text, rest)
    if scheme in _POSTGRES_SCHEMES:
        return _postgres_url(rest)
    raise ValueError(f"database URL scheme {scheme!r} is not supported: {_URL_FORMS}")


def _sqlite_url(text: str, rest: str) -> DatabaseUrl:
    if not rest.startswith("/") or rest == "/":
        raise ValueError(f"SQLite URL {text!r} names no file: use sqlite:///PATH (three slashes)")
    path = Path(rest[1:].split("?", 1)[0])
    if str(path) in {"", ".", ":memory:"}:
        raise ValueError(f"SQLite URL {text!r} must name a file, e.g. sqlite:///simkl-server.db")
    return DatabaseUrl("sqlite", sqlite_path=path)


def _postgres_url(rest: str) -> DatabaseUrl:
    location, _, query = rest.partition("?")
    try:
        urlsplit(f"postgresql://{location}").port  # noqa: B018 -- raises on a bad port
    except ValueError:
        raise ValueError("the port in the database URL is not a number from 0 to 65535") from None
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise ValueError("the parameters after '?' in the database URL are malformed") from None
    kept: dict[str, str] = {}
    ignored: list[str] = []
    timeout: float | None = DEFAULT_CONNECT_TIMEOUT_S
    for name, value in pairs:
        if name == "connect_timeout":
            timeout = _connect_timeout(value)
        elif name in _CLIENT_ONLY_PARAMETERS:
            ignored.append(name)
        else:
            kept[name] = value
    _translate_aliases(kept)
    if kept.get("sslmode", "prefer") not in SSL_MODES:
        raise ValueError(f"sslmode {kept['sslmode']!r} is not one of {', '.join(SSL_MODES)}")
    dsn = f"postgresql://{location}" + (f"?{urlencode(kept)}" if kept else "")
    return DatabaseUrl(
        "postgresql", postgres_dsn=dsn, connect_timeout=timeout, ignored_parameters=tuple(ignored)
    )


def _translate_aliases(kept: dict[str, str]) -> None:
    """Spellings people paste from other tools: SQLAlchemy's `ssl=`, libpq's fallback name."""
    fallback = kept.pop("fallback_application_name", None)
    if fallback is not None:
        kept.setdefault("application_name", fallback)
    ssl = kept.pop("ssl", None)
    if ssl is not None:
        kept.setdefault("sslmode", "require" if ssl.lower() in {"true", "1", "on"} else ssl)


def _connect_timeout(value: str) -> float | None:
    """libpq's connect_timeout: seconds; zero or less waits for ever."""
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"connect_timeout {value!r} is not a number of seconds") from None
    if not math.isfinite(seconds):
        raise ValueError(f"connect_timeout {value!r} is not a number of seconds")
    return seconds if seconds > 0 else None


class Settings(BaseSettings):
    """Every knob of the server; each field is documented in the README's settings table."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True)

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
    max_read_episodes: int = Field(
        default=1_000_000,
        gt=0,
        description="Most episode rows one library read may list (`extended=full`); more get "
        "400 max_items, as Simkl refuses a response too large to build.",
    )
    max_body_bytes_in_flight: int = Field(
        default=16 * 1024 * 1024,
        gt=0,
        description="Request bodies over 64 KiB the server holds at once, all requests together; "
        "a request whose body does not fit waits up to write_wait_ms, then gets 503.",
    )
    max_json_containers: int = Field(
        default=200_000,
        gt=0,
        description="Most JSON objects and arrays one request body may hold (counted as its "
        "`{` and `[` bytes); more get 400 wrong_parameter before the body is parsed.",
    )
    max_title_chars: int = Field(
        default=1_000,
        gt=0,
        description="Longest `title` a sync item may carry; longer get 400 wrong_parameter "
        "before Unicode normalisation (which can expand text 18 times).",
    )
    max_header_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        description="Largest request head (request line and headers); larger get 431 "
        "headers_too_large and the connection is closed.",
    )
    read_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="Longest a connection may take to send a request's head, or pause while "
        "sending its body; then it is answered 408 (or closed) and closed.",
    )
    max_connections: int = Field(
        default=1_000,
        gt=0,
        description="Open connections the server keeps at once; more get 503 and are closed.",
    )
    max_connections_per_client: int = Field(
        default=256,
        gt=0,
        description="Open connections from one client address at once; more get 503 and are "
        "closed (behind a reverse proxy every connection has the proxy's address).",
    )
    write_wait_ms: int = Field(
        default=5_000,
        ge=0,
        description="Longest a request waits for the SQLite write lock another process holds "
        "(or for room for its body), off the event loop; then 503 service_unavailable.",
    )
    inline_batch_items: int = Field(
        default=500,
        ge=0,
        description="SQLite write batches up to this size run on the event loop; larger ones "
        "run in a worker thread so the loop keeps serving.",
    )
    pg_pool_size: int = Field(default=10, gt=0, description="PostgreSQL connections per process.")
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Server processes sharing the listening socket (each with its own database "
        "connections, so pg_pool_size and max_connections count per process); a dead one is "
        "replaced.",
    )
    playback_retention_days_free: int = Field(
        default=7, gt=0, description="Days a free account's paused playbacks are listed."
    )
    playback_retention_days_pro: int = Field(
        default=30, gt=0, description="Days a PRO account's paused playbacks are listed."
    )
    playback_retention_days_vip: int = Field(
        default=90, gt=0, description="Days a VIP account's paused playbacks are listed."
    )
    scrobble_lock_wait_ms: int = Field(
        default=2_000,
        ge=0,
        description="Longest a scrobble waits for another scrobble of the same user to finish; "
        "then 400 RATE_LIMIT, as Simkl answers a collision with its per-user lock.",
    )
    catalog_dir: Path | None = Field(
        default=None,
        description="Folder of catalog files downloaded by hand (IMDb, TMDB, anime "
        "databases and id mappings, our .jsonl): `catalog import` with no file imports every "
        "one in it, and a relative file name not found is looked for in it. Nothing is ever "
        "fetched.",
    )
    demo_data: bool = Field(
        default=False,
        description="On start, load the bundled demo catalog and create the demo app, user and "
        "token if absent (what `make serve` turns on).",
    )
    log_level: str = Field(default="info", description="Level of every log line (ours, uvicorn's).")
    access_log: bool = Field(default=True, description="One log line per request.")
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
    catalog_learn: bool | None = Field(
        default=None,
        description="Learn mode: a sync write naming an item the catalog lacks by a well-formed "
        "external id adds it to the catalog (Simkl would answer not_found). Unset: on for "
        "`serve`, off for apps made in-process (tests: strict emulation).",
    )
    catalog_learn_per_request: int = Field(
        default=1_000,
        ge=0,
        description="Most catalog items one request may teach; further unknown items stay "
        "not_found.",
    )
    catalog_learn_per_user_day: int = Field(
        default=10_000,
        ge=0,
        description="Most catalog items one user may teach in a day (shared by every server "
        "process); further unknown items stay not_found.",
    )
    catalog_learn_per_day: int = Field(
        default=100_000,
        ge=0,
        description="Most catalog items all users together may teach in a day; further unknown "
        "items stay not_found.",
    )
    control: bool = Field(
        default=False,
        description="Serve the control plane under /_control/ (reset, state, seed, clock, "
        "journal, faults) for client developers' tests; no credentials: never on a server "
        "others reach.",
    )
    journal_size: int = Field(
        default=1000,
        gt=0,
        le=100_000,
        description="Requests the control plane's journal keeps (the oldest go first).",
    )
    rate_limits: bool = Field(
        default=False,
        description="Apply Simkl's documented rate limits: per access token (or per client_id "
        "without one) 10 GET and 1 POST a second, over them 429 rate_limit with Retry-After.",
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
            raise ValueError(f"not one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("public_url")
    @classmethod
    def _absolute_public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query:
            raise ValueError("must look like https://host[:port][/path]")
        return value.strip().rstrip("/")

    @field_validator("secret_key")
    @classmethod
    def _strong_secret_key(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        """Outside demo mode, a key a person could guess is refused."""
        if value is None or info.data.get("demo_data"):
            return value
        key = value.get_secret_value()
        if len(key) < MIN_SECRET_KEY_CHARS or len(set(key)) < 8:
            raise ValueError(
                f"secret key is too weak: use at least {MIN_SECRET_KEY_CHARS} random "
                "characters, e.g. the output of `python -c 'import secrets; "
                "print(secrets.token_hex(32))'`"
            )
        return value

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


def load_settings(**overrides: Any) -> Settings:
    """The settings from the environment with command-line overrides; ConfigError names each
    bad variable (or option) and why, on one line."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, overrides)) from None


def _explain(exc: ValidationError, overrides: Mapping[str, Any]) -> str:
    problems = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        name = f"--{field.replace('_', '-')}" if field in overrides else ENV_PREFIX + field.upper()
        reason = str(error["msg"]).removeprefix("Value error, ")
        secret = field in ("database_url", "secret_key")  # a password or the key: never shown
        shown = "" if secret else f"={error.get('input')!r}"
        problems.append(f"{name}{shown}: {reason[:1].lower()}{reason[1:]}")
    return "invalid setting " + "; ".join(problems)
