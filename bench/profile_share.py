"""Where a server's CPU went, by layer, from a sampling profile of it under load.

Reads py-spy's raw output (`py-spy record --format raw`: one collapsed stack per line, root
first, frames `function (file:line)` joined by `;`, then the sample count) and gives each
sample to the layer of the frame it was taken in (its leaf):

- `database calls`: the drivers' lines that call sqlite3 or asyncpg (a C call shows as the
  Python line that made it), plus asyncpg's own Python. On PostgreSQL this is the client's
  side of each round trip; the database's own work is in its processes, not sampled here;
- `storage`, `domain`, `wire`, `api`: the server's own Python, by package;
- `Starlette`, `uvicorn`, `asyncio`: the frameworks and the event loop;
- `other threads`: samples outside the event loop's thread (the WAL checkpointer, the worker
  threads of large reads);
- `other`: everything else (standard library, orjson, ...).

It also ranks the statements by the samples taken in the database calls they made, named
by the storage method that made them.

    py-spy record --pid <server pid> --duration 10 --rate 300 --nonblocking \\
        --format raw --output remove.txt     # while wrk runs the scenario
    python -m bench.profile_share remove.txt [more.txt ...]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

LAYERS = (
    "database calls",
    "storage",
    "domain",
    "wire",
    "api",
    "Starlette",
    "uvicorn",
    "asyncio",
    "other threads",
    "other",
)
# The drivers and PostgreSQL's pool: their lines are where sqlite3's and asyncpg's calls show.
_DRIVERS = ("simkl_server/storage/drivers.py", "simkl_server/storage/pg_pool.py")
_BY_PATH = (
    ("asyncpg/", "database calls"),
    ("simkl_server/storage/", "storage"),
    ("simkl_server/domain/", "domain"),
    ("simkl_server/wire/", "wire"),
    ("simkl_server/api/", "api"),
    ("simkl_server/web/", "api"),
    ("starlette/", "Starlette"),
    ("uvicorn/", "uvicorn"),
    ("httptools/", "uvicorn"),
    ("asyncio/", "asyncio"),
)
# Frames that only other threads run: the checkpointer, thread pools, thread start-up.
_OTHER_THREADS = ("_Checkpointer.run", "Thread._bootstrap", "_worker (concurrent/")
_FRAME = re.compile(r"^(?P<function>.*?) \((?P<path>.*):\d+\)$")


@dataclass
class Profile:
    """Samples by layer, and the database calls' samples by the storage method making them."""

    total: int = 0
    layers: Counter[str] = field(default_factory=Counter)
    statements: Counter[str] = field(default_factory=Counter)

    def share(self, layer: str) -> float:
        """The layer's share of all samples, 0 to 1."""
        return self.layers[layer] / self.total if self.total else 0.0


def _parts(frame: str) -> tuple[str, str]:
    """A frame's function and file (the whole frame for both when it is not `f (file:line)`)."""
    match = _FRAME.match(frame)
    return (match.group("function"), match.group("path")) if match else (frame, frame)


def _in_driver(path: str) -> bool:
    return any(driver in path for driver in _DRIVERS)


def _layer(frames: list[str]) -> str:
    if any(marker in frame for frame in frames for marker in _OTHER_THREADS):
        return "other threads"
    _, path = _parts(frames[-1])
    if _in_driver(path):
        return "database calls"
    return next((layer for part, layer in _BY_PATH if part in path), "other")


def _caller(frames: list[str]) -> str:
    """The storage method (outside the drivers) whose statement the sample was taken in; the
    transactions' own BEGIN and COMMIT (and the writers' turn) are the driver's."""
    if _parts(frames[-1])[0].startswith("SqliteDriver."):
        return "BEGIN, COMMIT (the driver's transaction)"
    for frame in reversed(frames):
        function, path = _parts(frame)
        if "simkl_server/storage/" in path and not _in_driver(path):
            return function
    return "(no storage method: asyncpg reading answers on the loop)"


def read_profile(lines: Iterable[str]) -> Profile:
    """A profile from py-spy's raw lines (blank or malformed lines are skipped)."""
    profile = Profile()
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames, samples = stack.split(";"), int(count)
        layer = _layer(frames)
        profile.total += samples
        profile.layers[layer] += samples
        if layer == "database calls":
            profile.statements[_caller(frames)] += samples
    return profile


def table(named: Iterable[tuple[str, Profile]]) -> str:
    """A Markdown table: one row per profile, one column per layer (share of its samples)."""
    rows = [
        "| profile | samples | " + " | ".join(LAYERS) + " |",
        "| --- | --: | " + " | ".join("--:" for _ in LAYERS) + " |",
    ]
    for name, profile in named:
        shares = " | ".join(f"{profile.share(layer) * 100:.0f} %" for layer in LAYERS)
        rows.append(f"| {name} | {profile.total:,} | {shares} |")
    return "\n".join(rows)


def main() -> None:
    """Print the layer table for every file given, then each file's costliest statements."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profiles", nargs="+", type=Path, help="py-spy raw output files")
    parser.add_argument("--statements", type=int, default=5, help="statements to list each")
    args = parser.parse_args()
    named = [(path.stem, read_profile(path.read_text().splitlines())) for path in args.profiles]
    print(table(named))
    for name, profile in named:
        print(f"\n{name}: database calls by the storage method making them")
        for method, samples in profile.statements.most_common(args.statements):
            print(f"  {samples / profile.total * 100:5.1f} %  {method}")


if __name__ == "__main__":
    main()
