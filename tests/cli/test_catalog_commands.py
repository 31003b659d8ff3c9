"""`catalog import` without knowing where the demo catalog lives, refusing a file in which
nothing parses, and showing progress that a terminal or a log can follow."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from rich.console import Console

from simkl_server.catalog.interchange import open_binary
from simkl_server.cli.progress import ImportProgress
from simkl_server.demo import DEMO_RATINGS
from tests.catalog.support import catalog_items
from tests.cli.support import assert_one_line_error, simkl_server


def test_the_shipped_demo_catalog_imports_by_name(empty_database: str) -> None:
    done = simkl_server(empty_database, "catalog", "import", "--demo")
    assert done.stderr.startswith("inserted ")
    items = catalog_items(empty_database)
    assert {simkl_id for _, simkl_id, _ in DEMO_RATINGS} <= set(items)
    again = simkl_server(empty_database, "catalog", "import", "--demo")
    assert again.stderr.startswith(
        f"inserted 0, updated 0, unchanged {len(items)}, conflicts 0, bad rows 0"
    )


def test_import_needs_a_file_or_demo_but_not_both(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    for args in ([], ["--demo", str(tmp_path / "x.jsonl")]):
        done = simkl_server(url, "catalog", "import", *args, code=1)
        assert_one_line_error(done, "give a catalog file to import, or --demo")


def test_a_file_in_which_nothing_parses_fails(empty_database: str, tmp_path: Path) -> None:
    noise = tmp_path / "noise.jsonl"
    noise.write_bytes(os.urandom(4096).replace(b"\n", b"") + b"\n" + b"[1, 2]\n" + b"{}\n")
    done = simkl_server(empty_database, "catalog", "import", str(noise), code=1)
    lines = done.stderr.splitlines()
    assert lines[0] == "inserted 0, updated 0, unchanged 0, conflicts 0, bad rows 3"
    assert lines[-1] == f"error: nothing in {noise} is a catalog item: is it a catalog file?"
    assert catalog_items(empty_database) == {}


def test_an_empty_file_imports_nothing_and_succeeds(empty_database: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    done = simkl_server(empty_database, "catalog", "import", str(empty))
    assert done.stderr == "inserted 0, updated 0, unchanged 0, conflicts 0, bad rows 0\n"


class Ticks:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_off_a_terminal_is_a_plain_line_every_few_seconds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ticks = Ticks()
    console = Console(file=io.StringIO(), force_terminal=False)
    with ImportProgress("big.jsonl", console, every_s=5, clock=ticks) as progress:
        ticks.now += 1
        progress.advance(2000)  # too soon for a line
        ticks.now += 4
        progress.advance(2000)  # 5 s after the start: a line
        ticks.now += 2
        progress.advance(2000)
    assert progress.records == 6000
    printed = capsys.readouterr().err.splitlines()
    assert printed == ["importing big.jsonl: 4,000 records read, 800 records/s"]


def test_progress_on_a_terminal_is_a_live_line() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    ticks = Ticks()
    with ImportProgress("big.jsonl", console, clock=ticks) as progress:
        ticks.now += 2
        progress.advance(10_000)
    assert "importing big.jsonl:" in out.getvalue()
    assert "10,000 records read, 5,000 records/s" in out.getvalue()


def test_progress_says_how_much_of_the_file_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "big.jsonl"
    source.write_bytes(b"x" * 1000)
    ticks = Ticks()
    console = Console(file=io.StringIO(), force_terminal=False)
    with (
        ImportProgress("big.jsonl", console, every_s=5, clock=ticks, size=1000) as progress,
        open_binary(source, progress.meter) as stream,
    ):
        stream.read(250)
        ticks.now += 5
        progress.advance(2000)
    printed = capsys.readouterr().err.splitlines()
    assert printed == ["importing big.jsonl: 2,000 records read, 400 records/s (25 % of the file)"]


def test_a_folder_of_downloads_imports_items_before_what_adds_to_them(
    empty_database: str, tmp_path: Path
) -> None:
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "README.txt").write_text("not a catalog file")
    # Named so that alphabetical order would put the episodes and the mapping first.
    (folder / "a-title.episode.tsv").write_text(
        "tconst\tparentTconst\tseasonNumber\tepisodeNumber\ntt9\ttt2560140\t1\t1\n"
    )
    (folder / "b-anime_ids.json").write_text('{"9541": {"mal_id": 16498, "imdb_id": "tt2560140"}}')
    (folder / "c-items.jsonl").write_text(
        '{"type": "anime", "title": "Shingeki no Kyojin", "ids": {"simkl": 39687, "anidb": 9541}}\n'
    )
    done = simkl_server(empty_database, "catalog", "import", settings={"catalog_dir": str(folder)})
    assert done.stderr.splitlines() == [
        "c-items.jsonl: inserted 1, updated 0, unchanged 0, conflicts 0, bad rows 0",
        "b-anime_ids.json: inserted 0, updated 1, unchanged 0, conflicts 0, bad rows 0",
        "a-title.episode.tsv: episodes: inserted 1, updated 0, unchanged 0, conflicts 0, "
        "bad rows 0",
    ]
    assert catalog_items(empty_database)[39687].ids == {
        "anidb": "9541",
        "mal": "16498",
        "imdb": "tt2560140",
    }
    # A relative name is looked for in the folder; --dir wins over the setting.
    again = simkl_server(
        empty_database,
        "catalog",
        "import",
        "b-anime_ids.json",
        "--dir",
        str(folder),
        cwd=tmp_path,
        settings={"catalog_dir": str(tmp_path / "elsewhere")},
    )
    assert again.stderr == "inserted 0, updated 0, unchanged 1, conflicts 0, bad rows 0\n"


def test_a_folder_without_catalog_files_is_one_line_error(
    empty_database: str, tmp_path: Path
) -> None:
    done = simkl_server(empty_database, "catalog", "import", "--dir", str(tmp_path), code=1)
    assert_one_line_error(done, f"no catalog files (.json, .jsonl, .tsv, .gz) in {tmp_path}")
