"""anime-offline-database files (.json with a `data` array, or .jsonl)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from simkl_server.domain.catalog import CatalogRecord, Problem


def looks_like_aod(path: Path) -> bool:
    """Whether the file is an anime-offline-database dump."""
    return False


def read_aod(path: Path) -> Iterator[CatalogRecord | Problem]:
    """Records of an anime-offline-database dump."""
    return iter(())
