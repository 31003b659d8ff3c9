"""Settings: every one documented, safe defaults, read from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from simkl_server.config import Settings

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
