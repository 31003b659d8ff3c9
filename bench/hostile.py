"""Issue 7's attack at its original sizes, against a real server on each database, with a
well-behaved client timing its reads meanwhile: prints one Markdown row per attack (the
probe's p50 / p99 / max latency, the server's memory at the start, at its highest and after).

    python -m bench.hostile [--only NAME] [--backend sqlite|postgresql]

The attacks and the probe are the robustness suite's (tests/robustness/attacks.py); there they
run smaller and assert the answers, here they are measured. Figures go to the README's
robustness section.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from simkl_server.config import parse_database_url
from simkl_server.storage import migrate
from tests.conftest import create_pg_database, drop_pg_database
from tests.robustness import attacks, database
from tests.robustness.attacks import MIB, Pressure, Target
from tests.robustness.server import ServerProcess

QUIET = {"SIMKL_SERVER_ACCESS_LOG": "false"}


@dataclass(frozen=True)
class Attack:
    """One reproduction: its settings, its library size, and what it does under pressure."""

    name: str
    run: Callable[[Target], object]
    env: dict[str, str]
    movies: int = 10
    backends: tuple[str, ...] = ("sqlite", "postgresql")
    probe_from: str | None = None
    prepare: Callable[[Target], None] | None = None


def _huge_headers(target: Target) -> object:
    return attacks.in_parallel(2, lambda _: attacks.huge_header(target, 128 * MIB))


def _outside_writer(target: Target) -> object:
    with attacks.outside_writer(target.database_url):
        return attacks.in_parallel(
            4, lambda n: attacks.rate(target, target.account.movies[n], 5).status_code
        )


def _connections(target: Target) -> object:
    with attacks.held_connections(target, 1_100) as refused:
        threading.Event().wait(5)  # the probe runs while they are held
        return refused.count(503)


ATTACKS = [
    Attack("1. 128 MB header, twice at once", _huge_headers, {}, backends=("sqlite",)),
    Attack(
        "2. 300 distinct 60 KiB client_ids, no app-name",
        lambda t: attacks.distinct_keys(t, 300, key_bytes=60 * 1024),
        {},
        backends=("sqlite",),
    ),
    Attack(
        "3. outside process holds the SQLite write lock; 4 writes",
        _outside_writer,
        {},
        backends=("sqlite",),
    ),
    Attack(
        "4. 8 MiB title of U+FDFA, 16 at once",
        lambda t: attacks.expanding_title(t, 8 * MIB - 1024, 16),
        {},
    ),
    Attack(
        "6. 300 idle, 300 half-head, 300 half-body connections (read timeout 5 s)",
        lambda t: attacks.half_sent(t, 300, wait_s=60),
        {"SIMKL_SERVER_READ_TIMEOUT_S": "5", "SIMKL_SERVER_MAX_CONNECTIONS_PER_CLIENT": "1000"},
        backends=("sqlite",),
    ),
    Attack(
        "6. 1,100 silent connections from one address, probe from another",
        _connections,
        {},
        backends=("sqlite",),
        probe_from="127.0.0.2",
    ),
    Attack(
        "7. 100 connections x 8 MiB - 1 body",
        lambda t: attacks.large_bodies(t, 100, 8 * MIB - 1),
        {"SIMKL_SERVER_WRITE_WAIT_MS": "600000"},
    ),
    Attack(
        "8. 8 MiB of {} after an escaped key, 16 at once",
        lambda t: attacks.posted_bodies(t, attacks.escaped_objects(8 * MIB - 1), 16),
        {},
        backends=("sqlite",),
    ),
    Attack(
        "8. 8 MiB of escaped colons, 16 at once",
        lambda t: attacks.posted_bodies(t, attacks.escaped_colons(8 * MIB - 1), 16),
        {"SIMKL_SERVER_WRITE_WAIT_MS": "600000"},
        backends=("sqlite",),
    ),
    Attack(
        "9. 100k-row library read, 8 at once",
        lambda t: attacks.library_reads(t, 8, rounds=1),
        {},
        movies=100_000,
        prepare=lambda t: attacks.fill_library(t, t.account.movies),
    ),
    Attack(
        "10. learn mode: 12 batches of 10,000 unknown ids, 750-character titles, 4 at once",
        lambda t: attacks.learn_flood(t, requests=12, items=10_000, title_chars=750, concurrency=4),
        {},
    ),
]


@contextmanager
def fresh(backend: str, folder: Path) -> Iterator[str]:
    """An empty, migrated database of that backend."""
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'hostile.db'}"
        migrate.upgrade(parse_database_url(url))
        yield url
        return
    url = create_pg_database()
    try:
        migrate.upgrade(parse_database_url(url))
        yield url
    finally:
        drop_pg_database(url)


def measure(attack: Attack, backend: str) -> Pressure:
    """Run one attack on a fresh database and server, under the probe."""
    with tempfile.TemporaryDirectory() as scratch, fresh(backend, Path(scratch)) as url:
        account = database.provision(url, movies=attack.movies)
        env = {**QUIET, **attack.env}
        with ServerProcess(url, Path(scratch) / "server.log", env=env) as server:
            assert server.pid is not None
            target = Target(server.url, server.port, server.pid, account, url)
            if attack.prepare is not None:
                attack.prepare(target)
            with attacks.pressure(target, local_address=attack.probe_from) as seen:
                attack.run(target)
        return seen


def main() -> None:
    """Measure every attack (or those named) and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="run the attacks whose name contains this")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    print(
        "| attack | database | probe p50 / p99 / max (ms) | probe requests "
        "| RSS start / peak / end (MiB) |"
    )
    print("| --- | --- | --: | --: | --: |")
    for attack in ATTACKS:
        if args.only and args.only not in attack.name:
            continue
        for backend in attack.backends:
            if args.backend and backend != args.backend:
                continue
            seen = measure(attack, backend)
            failed = f" ({len(seen.failures)} not 200)" if seen.failures else ""
            print(
                f"| {attack.name} | {backend} | {seen.quantile(0.5):.1f} / "
                f"{seen.quantile(0.99):.1f} / {seen.quantile(1.0):.1f} | "
                f"{len(seen.latencies)}{failed} | {seen.rss_start:.0f} / {seen.rss_peak:.0f} / "
                f"{seen.rss_end:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
