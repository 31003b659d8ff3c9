"""The profile summary gives each sample to the layer it was taken in, and ranks the
statements by the storage method that made them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.profile_share import LAYERS, read_profile, table

ROOT = "<module> (<string>:1);run (asyncio/runners.py:118)"
APP = f"{ROOT};__call__ (starlette/applications.py:92);add (simkl_server/api/ratings.py:46)"
DOMAIN = "add_ratings (simkl_server/domain/ratings.py:115)"
WRITE = f"{APP};{DOMAIN};_write (simkl_server/storage/base.py:314)"
RAW = "\n".join(
    [
        f"{WRITE};SqliteDriver._run (simkl_server/storage/drivers.py:563) 7",
        f"{WRITE};LibraryQueries.save (simkl_server/storage/library.py:348);"
        "SqliteConnection.execute (simkl_server/storage/drivers.py:284) 5",
        f"{APP};find_stamped (simkl_server/storage/catalog.py:351);"
        "SqliteConnection.fetch (simkl_server/storage/drivers.py:260) 3",
        f"{WRITE} 2",
        f"{APP};sync_items (simkl_server/wire/common.py:155) 2",
        f"{APP} 2",
        f"{ROOT};send (uvicorn/protocols/http/httptools_impl.py:522) 4",
        "Thread._bootstrap (threading.py:1002);_Checkpointer.run "
        "(simkl_server/storage/drivers.py:336) 3",
        f"{ROOT};dumps (json/__init__.py:231) 1",
        "",
        "not a sample line",
        f"{ROOT};__call__ (starlette/routing.py:679) 1",
    ]
)


def test_each_sample_goes_to_the_layer_of_its_leaf_frame() -> None:
    profile = read_profile(RAW.splitlines())
    assert profile.total == 30
    assert dict(profile.layers) == {
        "database calls": 15,
        "storage": 2,
        "wire": 2,
        "api": 2,
        "uvicorn": 4,
        "other threads": 3,
        "other": 1,
        "Starlette": 1,
    }
    assert profile.share("database calls") == 0.5
    assert profile.share("domain") == 0


def test_database_calls_are_named_by_the_storage_method_that_made_them() -> None:
    statements = read_profile(RAW.splitlines()).statements
    assert statements.most_common() == [
        ("BEGIN, COMMIT (the driver's transaction)", 7),
        ("LibraryQueries.save", 5),
        ("find_stamped", 3),
    ]


def test_asyncpg_is_a_database_call_named_by_the_pool_s_caller_or_by_the_loop() -> None:
    pool = "PgPool._on_connection (simkl_server/storage/pg_pool.py:120)"
    raw = [
        f"{WRITE};ActivityQueries.lock_user (simkl_server/storage/activities.py:77);"
        f"PgConnection.fetchrow (simkl_server/storage/drivers.py:650);{pool};"
        "Connection._do_execute (asyncpg/connection.py:2066) 4",
        f"{ROOT};_run_once (asyncio/base_events.py:1922);"
        "data_received (asyncpg/connect_utils.py:1) 1",
    ]
    profile = read_profile(raw)
    assert dict(profile.layers) == {"database calls": 5}
    assert dict(profile.statements) == {
        "ActivityQueries.lock_user": 4,
        "(no storage method: asyncpg reading answers on the loop)": 1,
    }


def test_the_table_has_a_column_per_layer_and_a_row_per_profile() -> None:
    rendered = table([("add_1", read_profile(RAW.splitlines()))]).splitlines()
    assert rendered[0] == "| profile | samples | " + " | ".join(LAYERS) + " |"
    assert rendered[2].startswith("| add_1 | 30 | 50 % | 7 % | 0 % | 7 % | 7 % | 3 % | 13 % |")


def test_the_command_prints_the_table_and_each_files_statements(tmp_path: Path) -> None:
    raw = tmp_path / "add_1.txt"
    raw.write_text(RAW)
    done = subprocess.run(
        [sys.executable, "-m", "bench.profile_share", str(raw), "--statements", "1"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "| add_1 | 30 |" in done.stdout
    assert "add_1: database calls by the storage method making them" in done.stdout
    assert "23.3 %  BEGIN, COMMIT (the driver's transaction)" in done.stdout
    assert "LibraryQueries.save" not in done.stdout  # one statement asked for
