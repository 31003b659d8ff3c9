"""The server's secret key: a setting, else a file made on first start, never a weak one."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from simkl_server.config import Settings
from simkl_server.keys import SecretKeyError, load_secret_key


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings without SIMKL_SERVER_SECRET_KEY (the test suite sets one)."""
    monkeypatch.delenv("SIMKL_SERVER_SECRET_KEY", raising=False)


def test_a_key_file_is_made_once_next_to_the_sqlite_database(no_key: None, tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'data' / 'simkl.db'}")
    first = load_secret_key(settings)
    path = tmp_path / "data" / "simkl-server.secret-key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) == 64
    assert load_secret_key(settings) == first
    assert sorted(p.name for p in path.parent.iterdir()) == ["simkl-server.secret-key"]


def test_postgresql_keeps_the_file_in_the_working_folder(
    no_key: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(database_url="postgresql://u@h/db")
    assert settings.key_file == Path("simkl-server.secret-key")
    load_secret_key(settings)
    assert (tmp_path / "simkl-server.secret-key").exists()


def test_a_configured_key_wins_and_no_file_is_made(tmp_path: Path) -> None:
    key = "k" * 20 + "0123456789abcdef"
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'x.db'}",
        secret_key=key,
        secret_key_file=tmp_path / "never",
    )
    assert load_secret_key(settings) == key.encode()
    assert not (tmp_path / "never").exists()


@pytest.mark.parametrize("key", ["short", "a" * 64, "changeme" * 4])
def test_a_weak_key_is_refused_outside_demo_mode(key: str) -> None:
    with pytest.raises(ValidationError, match="secret key is too weak"):
        Settings(secret_key=key)
    assert Settings(secret_key=key, demo_data=True).secret_key is not None


def test_a_truncated_key_file_is_refused(no_key: None, tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text("abc\n")
    with pytest.raises(SecretKeyError, match="fewer than 32"):
        load_secret_key(Settings(secret_key_file=path))
