"""The synthetic catalog generator and the catalog-scale benchmark's batches, at a small size:
the file imports cleanly (no id shared), re-imports unchanged, and batches resolve."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson

from bench import catalog_file, catalog_scale
from simkl_server.storage.base import Store
from tests.catalog.support import catalog_items, import_path, on_store

SIZE = 400


def test_the_generated_catalog_imports_without_conflicts_and_round_trips(
    empty_database: str, tmp_path: Path
) -> None:
    path = tmp_path / "synthetic.jsonl.gz"
    catalog_file.write(path, SIZE)
    lines = gzip.decompress(path.read_bytes()).splitlines()
    assert len(lines) == SIZE
    assert [orjson.loads(line) for line in lines[:50]] == list(catalog_file.items(50))
    # Every fact is a function of the index: a catalog can grow in steps.
    assert list(catalog_file.items(SIZE, start=SIZE - 5)) == [
        orjson.loads(line) for line in lines[-5:]
    ]
    first = import_path(empty_database, path)
    assert (first.inserted, first.skipped) == (SIZE, 0)
    kinds = {item.type.value for item in catalog_items(empty_database).values()}
    assert kinds == {"movie", "show", "anime"}
    again = import_path(empty_database, path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, SIZE)


def test_scale_batches_resolve_all_but_the_missing_share(empty_database: str) -> None:
    async def measure(store: Store) -> catalog_scale.Result:
        await catalog_scale.grow(store, 0, SIZE)
        return await catalog_scale.resolve_batches(store, SIZE, batches=5, seed=1)

    done = on_store(empty_database, measure)
    assert done["catalog_items"] == SIZE
    assert 0.85 <= done["matched_share"] < 1.0
