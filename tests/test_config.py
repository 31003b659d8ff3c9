"""Settings: every one documented, safe defaults, read from the environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simkl_server.config import ConfigError, Settings, load_settings, parse_database_url

README = Path(__file__).parents[1] / "README.md"


def test_every_setting_is_documented_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"`SIMKL_SERVER_{name.upper()}`" in text, f"{name} is not in the README table"


def test_defaults_are_local_and_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(f"SIMKL_SERVER_{name.upper()}", raising=False)
    settings = Settings()
    assert settings.host == "127.0.0.1"
    assert settings.is_sqlite
    assert settings.demo_data is False


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMKL_SERVER_DATABASE_URL", "postgresql://u@h:5432/db")
    monkeypatch.setenv("SIMKL_SERVER_MAX_BATCH_ITEMS", "12")
    settings = Settings()
    assert not settings.is_sqlite
    assert settings.max_batch_items == 12


# --- The database URL, parsed once ------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "dsn", "timeout", "ignored"),
    [
        ("postgresql://u@h/db", "postgresql://u@h/db", 10.0, ()),
        ("postgres://u@h/db?sslmode=disable", "postgresql://u@h/db?sslmode=disable", 10.0, ()),
        ("postgresql+asyncpg://u@h/db?ssl=true", "postgresql://u@h/db?sslmode=require", 10.0, ()),
        (
            "postgresql://u:p%40ss@h:6432/db?sslmode=require&connect_timeout=3&keepalives=1"
            "&channel_binding=require&fallback_application_name=psql",
            "postgresql://u:p%40ss@h:6432/db?sslmode=require&application_name=psql",
            3.0,
            ("keepalives", "channel_binding"),
        ),
        ("postgresql://u@h/db?connect_timeout=0", "postgresql://u@h/db", None, ()),
        (
            "postgresql:///db?host=/var/run/postgresql&options=-c%20search_path%3Dx",
            "postgresql:///db?host=%2Fvar%2Frun%2Fpostgresql&options=-c+search_path%3Dx",
            10.0,
            (),
        ),
    ],
)
def test_libpq_parameters_are_kept_translated_or_ignored(
    url: str, dsn: str, timeout: float | None, ignored: tuple[str, ...]
) -> None:
    database = parse_database_url(url)
    assert (database.postgres_dsn, database.connect_timeout) == (dsn, timeout)
    assert database.ignored_parameters == ignored


@pytest.mark.parametrize(
    ("url", "where"),
    [
        ("postgresql://u:secret@db.example:6432/simkl", "simkl at db.example:6432"),
        ("postgresql://u@[::1]/simkl", "simkl at [::1]:5432"),
        ("postgresql:///simkl?host=/run/postgresql", "simkl at /run/postgresql"),
        ("postgresql://u@h", "(the user's name) at h:5432"),
    ],
)
def test_describe_names_the_place_never_the_password(url: str, where: str) -> None:
    assert parse_database_url(url).describe() == f"PostgreSQL database {where}"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("notaurl", "is not a URL"),
        ("mysql://u:secret@h/db", "scheme 'mysql' is not supported"),
        ("sqlite://relative.db", "names no file"),
        ("sqlite:///:memory:", "must name a file"),
        ("postgresql://h:port/db", "port in the database URL is not a number"),
        ("postgresql://h/db?sslmode=strict", "sslmode 'strict' is not one of"),
        ("postgresql://h/db?connect_timeout=soon", "connect_timeout 'soon' is not a number"),
        ("postgresql://h/db?a&b", "parameters after '?' in the database URL are malformed"),
    ],
)
def test_a_bad_database_url_is_explained(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)) as refused:
        parse_database_url(url)
    assert "secret" not in str(refused.value)


def test_load_settings_names_every_bad_variable_or_option(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SIMKL_SERVER_LOG_LEVEL", "verbose")
    monkeypatch.setenv("SIMKL_SERVER_DATABASE_URL", "mysql://u:secret@h/db")
    with pytest.raises(ConfigError) as refused:
        load_settings(port=70000)
    message = str(refused.value)
    assert message.startswith("invalid setting ")
    assert "SIMKL_SERVER_LOG_LEVEL='verbose': not one of critical" in message
    assert "SIMKL_SERVER_DATABASE_URL: database URL scheme 'mysql'" in message
    assert "--port=70000: input should be less than or equal to 65535" in message
    assert "secret" not in message
