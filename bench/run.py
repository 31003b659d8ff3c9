"""`make bench`: load benchmarks of simkl-server on SQLite and PostgreSQL, with the HTTP
ceiling (a bare ASGI app), the storage ceiling (the server's statements without HTTP) and the peer
(Stoplight Prism mocking the official OpenAPI) measured in the same run.

Settings (environment):
  BENCH_DURATION   length of each measured run (default 5s; also 1m; whole seconds)
  BENCH_WARMUP     warm-up before each run (default 1s; 0 to skip)
  BENCH_QUICK=1    smoke run: small data set, short runs, results kept in bench/work only
  BENCH_BACKENDS   comma-separated: sqlite,postgresql (default both)
  BENCH_CONCURRENCY  comma-separated connection counts (default 1,16,64)
  BENCH_POSTGRES_URL admin URL of a PostgreSQL server the run may create a database on
                   (default postgresql://postgres@127.0.0.1:5432/postgres)
  BENCH_PRISM      0 to leave Prism out (ratio (c) is then not measured)
  BENCH_CATALOG_SCALE  0 to leave out the catalog scale steps (1M-item imports, ~15 min)
  BENCH_PRISM_LOG  Prism's log level (default warn: its per-request log lines are not
                   what is being compared)
  BENCH_SCENARIOS  comma-separated names of the main table's scenarios (bench/scenarios.py,
                   e.g. movie,redirect) to run alone: on each backend, two workers, the bare
                   ASGI app and Prism, and the storage ceiling of the batch scenarios named;
                   the curve, library, scrobble, learn and catalog scale steps are left
                   out, and results stay in bench/work; `scrobble` and `least` name those
                   steps, which then run too
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import uvloop

from bench import (
    catalog_scale,
    ceiling,
    datagen,
    learn,
    least,
    library,
    loadgen,
    recording,
    report,
    scenarios,
    scrobble,
    servers,
)
from bench.datagen import Dataset, Spec
from bench.loadgen import MAX_DURATION_S
from bench.progress import say
from bench.scenarios import SCENARIOS, Pool, Pools, Scenario
from bench.state import Harness

T = TypeVar("T")
BENCH_DIR = Path(__file__).parent
ROOT = BENCH_DIR.parent
Result = dict[str, Any]
# Requests prepared for each storage-ceiling run, at most half the pool (more than a 5 s run
# gets through today: PostgreSQL replayed 3,881 removes in one on a fast host, where 3,000
# were prepared; a run that wraps around is flagged `wrapped` in the results).
CEILING_REQUESTS = 6_000
CURVE_ROUNDS = 5
# `serve --workers N` measured beside the single process.
WORKERS = 2
# Steps beyond the main table that BENCH_SCENARIOS may name to run alone.
STEPS = ("scrobble", "least")


def parse_seconds(text: str) -> float:
    """`5s`, `500ms`, `1m` or a bare number of seconds."""
    text = text.strip().lower()
    for suffix, factor in (("ms", 0.001), ("s", 1.0), ("m", 60.0)):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


@dataclass(frozen=True, slots=True)
class Config:
    """What a run measures, and where its outputs go."""

    quick: bool
    duration_s: float
    warmup_s: float
    concurrency: tuple[int, ...]
    backends: tuple[str, ...]
    postgres_url: str
    prism: bool
    prism_log: str
    catalog_scale: bool = True
    spec: Spec = field(default_factory=Spec)
    only: tuple[str, ...] = ()  # BENCH_SCENARIOS: these main scenarios alone (empty: all)
    work_dir: Path = BENCH_DIR / "work"

    @classmethod
    def from_env(cls) -> Config:
        """Read the BENCH_* variables."""
        env = os.environ
        quick = env.get("BENCH_QUICK", "") not in {"", "0"}
        default_levels = "1,16" if quick else "1,16,64"
        only = tuple(name for name in env.get("BENCH_SCENARIOS", "").split(",") if name)
        unknown = set(only) - {scenario.name for scenario in SCENARIOS} - set(STEPS)
        if unknown:
            known = ", ".join([*(scenario.name for scenario in SCENARIOS), *STEPS])
            sys.exit(f"BENCH_SCENARIOS: no scenario {', '.join(sorted(unknown))} (known: {known})")
        return cls(
            quick=quick,
            duration_s=parse_seconds(env.get("BENCH_DURATION", "1s" if quick else "5s")),
            warmup_s=parse_seconds(env.get("BENCH_WARMUP", "1s")),
            concurrency=tuple(
                int(c) for c in env.get("BENCH_CONCURRENCY", default_levels).split(",")
            ),
            backends=tuple(env.get("BENCH_BACKENDS", "sqlite,postgresql").split(",")),
            postgres_url=env.get(
                "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
            ),
            prism=env.get("BENCH_PRISM", "1") != "0",
            prism_log=env.get("BENCH_PRISM_LOG", "warn"),
            catalog_scale=env.get("BENCH_CATALOG_SCALE", "1") != "0",
            spec=Spec.quick() if quick else Spec(),
            only=only,
        )

    @property
    def scenarios(self) -> tuple[Scenario, ...]:
        """The main scenarios this run measures."""
        return tuple(s for s in SCENARIOS if not self.only or s.name in self.only)

    @property
    def everything(self) -> bool:
        """Whether the run measures every step (no BENCH_SCENARIOS)."""
        return not self.only

    def runs_step(self, name: str) -> bool:
        """Whether the run measures this step of STEPS."""
        return self.everything or name in self.only

    @property
    def results_dir(self) -> Path:
        """Where results are written (a quick or partial run never replaces the published
        ones)."""
        if self.quick or not self.everything:
            return self.work_dir / "quick-results"
        return BENCH_DIR / "results"

    def public(self) -> Result:
        """The settings recorded with the results."""
        return {
            "quick": self.quick,
            "duration_s": self.duration_s,
            "warmup_s": self.warmup_s,
            "concurrency": list(self.concurrency),
            "backends": list(self.backends),
            "scenarios": [scenario.name for scenario in self.scenarios],
            "prism_log_level": self.prism_log if self.prism else None,
            "spec": asdict(self.spec),
        }


# Tools ----------------------------------------------------------------------------------------


def ensure_tools(config: Config) -> list[str]:
    """wrk, matplotlib and Prism, installed when missing; returns notes on what is left out."""
    notes: list[str] = []
    if shutil.which("wrk") is None:
        if os.geteuid() == 0 and shutil.which("apt-get"):
            say("installing wrk (Debian package)")
            subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False)
        if shutil.which("wrk") is None:
            sys.exit("wrk is required: install it (Debian/Ubuntu: apt-get install wrk)")
    try:
        import matplotlib  # noqa: F401, PLC0415 - only probing
    except ImportError:
        say("installing the bench extra (matplotlib) from bench/requirements.lock")
        lock = str(BENCH_DIR / "requirements.lock")
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--require-hashes", "-r", lock]
        subprocess.run(pip, check=True)
    if config.prism and not servers.PRISM_BIN.exists():
        if shutil.which("npm") is None:
            notes.append("Prism not measured: npm is not installed")
        else:
            say("installing Prism into bench/node_modules (npm ci)")
            npm = ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"]
            subprocess.run(npm, cwd=BENCH_DIR, check=True)
    return notes


def machine_info(config: Config) -> Result:
    """CPU, cores, memory and the versions of everything measured."""
    cpu = platform.processor() or platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kib = int(Path("/proc/meminfo").read_text().split()[1])
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    pg = None
    if "postgresql" in config.backends and servers.postgres_reachable(config.postgres_url) is None:
        pg = asyncio.run(servers.postgres_version(config.postgres_url)).split()[0]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kib / 2**20),
        "os": f"{platform.system()} {platform.release()}",
        "commit": commit or None,
        "versions": {
            "Python": platform.python_version(),
            "SQLite": sqlite3.sqlite_version,
            "PostgreSQL": pg,
            "wrk": loadgen.wrk_version().removeprefix("wrk ").split()[0],
            "Prism": _prism_version() if config.prism else None,
        },
    }


def _prism_version() -> str | None:
    package = BENCH_DIR / "node_modules" / "@stoplight" / "prism-cli" / "package.json"
    if not package.exists():
        return None
    import json  # noqa: PLC0415

    version: str = json.loads(package.read_text())["version"]
    return version


# Runs -----------------------------------------------------------------------------------------


@dataclass(slots=True)
class Bench:
    """One `make bench`: the data set, its pools and the settings."""

    config: Config
    dataset: Dataset
    pools: Pools
    library_pools: library.LibraryPools
    captured: dict[str, servers.Captured] = field(default_factory=dict)
    scrobble_pools: dict[str, Pool] = field(default_factory=dict)
    planned: dict[tuple[str, str], list[recording.DomainCall]] = field(default_factory=dict)

    def headers(self, token: str, *, body: bool) -> dict[str, str]:
        """What every benchmark request carries."""
        headers = {"Authorization": f"Bearer {token}", "User-Agent": "simkl-bench/1.0"}
        return headers | ({"Content-Type": "application/json"} if body else {})

    def query(self) -> str:
        """client_id, app-name and app-version."""
        return f"?client_id={self.dataset.client_id}&app-name=simkl-bench&app-version=1.0"

    def capture(self, server: servers.Server, scenario: Scenario, line: int) -> servers.Captured:
        """Send one request of a pool (by line) and keep the response."""
        pool = self.pools.scenarios[scenario.name]
        parsed = scenarios.parse_line(pool.path.read_bytes().splitlines()[line])
        token = self.dataset.all_users[parsed.token_index].token
        path = parsed.path or scenario.path
        joiner = "&" if "?" in path else "?"
        headers = self.headers(token, body=bool(parsed.body))
        if scenario.api_key_header:
            headers["simkl-api-key"] = self.dataset.client_id
        return servers.request(
            server.port,
            scenario.method,
            path + joiner + self.query().removeprefix("?"),
            headers=headers,
            body=parsed.body or None,
        )

    def capture_last(self, server: servers.Server, scenario: Scenario) -> servers.Captured:
        """Send the pool's last request (the warm-up and runs start from the first) and keep
        the response; a status the scenario does not expect stops the run."""
        line = self.pools.scenarios[scenario.name].lines - 1
        captured = self.capture(server, scenario, line)
        if not scenario.succeeded(captured.status):
            raise RuntimeError(
                f"{server.name}, {scenario.name}: {captured.status} {captured.body[:300]!r}"
            )
        return captured

    def wrk(
        self,
        server: servers.Server,
        script: str,
        pool: Pool,
        *,
        connections: int,
        first_line: int = 0,
        limit: int = 0,
        duration_s: float | None = None,
    ) -> Result:
        """One wrk run against `server`."""
        spec = loadgen.LoadSpec(
            url=server.url,
            script=script,
            pool=pool.path,
            tokens=self.pools.tokens,
            client_id=self.dataset.client_id,
            connections=connections,
            duration_s=duration_s or self.config.duration_s,
            first_line=first_line,
            limit=limit,
        )
        return loadgen.run_wrk(spec, target_pids=server.pids)

    def measured(
        self,
        server: servers.Server,
        script: str,
        pool: Pool,
        *,
        connections: int,
        warm_from: int,
        duration_s: float | None = None,
    ) -> Result:
        """A warm-up of the configured length from line `warm_from` of the pool (none when
        that length is 0), then the measured wrk run from its first line."""
        if self.config.warmup_s > 0:
            self.wrk(
                server,
                script,
                pool,
                connections=connections,
                first_line=warm_from,
                duration_s=self.config.warmup_s,
            )
        return self.wrk(server, script, pool, connections=connections, duration_s=duration_s)

    def scenario_runs(
        self, server: servers.Server, scenario: Scenario, *, after_run: Callable[[], None]
    ) -> Result:
        """Warm-up and measured run at every concurrency level."""
        return self.turn_runs([server], scenario, after_run=after_run)[0]

    def turn_runs(
        self,
        taking_turns: list[servers.Server],
        scenario: Scenario,
        *,
        after_run: Callable[[], None],
    ) -> list[Result]:
        """Warm-up and measured run at every concurrency level, on each server in turn at
        each level (the host's speed drifts over a run: runs to be compared are made side by
        side), runs by server."""
        pool = self.pools.scenarios[scenario.name]
        half = pool.lines // 2 if scenario.writes else 0
        runs: list[Result] = [{} for _ in taking_turns]
        single_s: float | None = None
        for c in self.config.concurrency:
            # Slow requests get a longer run, so that every connection completes a few.
            duration = self.config.duration_s
            if single_s is not None:
                duration = max(duration, min(MAX_DURATION_S, 3 * c * single_s))
            for server, by_level in zip(taking_turns, runs, strict=True):
                run = self.measured(
                    server,
                    scenario.script,
                    pool,
                    connections=c,
                    warm_from=half,
                    duration_s=duration,
                )
                run["wrapped"] = bool(scenario.writes and run["requests"] > half)
                by_level[str(c)] = run
                shown = f"{scenario.name} c={c}" + (f" ({server.name})" if len(runs) > 1 else "")
                say(f"  {shown}: {run['rps']:,.0f} req/s, p50 {run['p50_ms']:.1f} ms")
                after_run()
            single_s = single_s or runs[0][str(c)]["p50_ms"] / 1000
        return runs


def _items_per_request(scenario: Scenario, captured: servers.Captured) -> int:
    if scenario.name != "read_ratings":
        return scenario.items
    import orjson  # noqa: PLC0415

    document = orjson.loads(captured.body)
    return sum(len(rows) for rows in document.values())


def _restore(harness: Harness) -> Callable[[], None]:
    def run() -> None:
        restored = asyncio.run(harness.restore())
        if restored.deleted or restored.rerated:
            say(f"  restored: {restored.deleted} rows deleted, {restored.rerated} re-rated")

    return run


def bench_backend(bench: Bench, backend: str, database_url: str) -> Result:
    """Load the data set, then every HTTP scenario, the storage ceiling, the curve."""
    config, dataset = bench.config, bench.dataset
    say(f"[{backend}] loading the data set")
    parallel = 1 if backend == "sqlite" else 4
    info = asyncio.run(datagen.load(database_url, dataset, parallel=parallel))
    say(f"[{backend}] loaded {info.rows:,} library rows in {info.seconds:.0f} s")
    harness = Harness(database_url, dataset, loaded_at_ms=info.loaded_at_ms)
    asyncio.run(harness.settle_after_load())
    restore = _restore(harness)
    out: Result = {"load": {"rows": info.rows, "seconds": round(info.seconds, 1)}}
    log = config.work_dir / f"server-{backend}.log"
    with servers.simkl_server(database_url, log=log) as server:
        out["scenarios"] = {}
        for scenario in config.scenarios:
            captured = bench.capture_last(server, scenario)
            bench.captured.setdefault(scenario.name, captured)
            if scenario.writes:
                restore()
            out["scenarios"][scenario.name] = {
                "label": scenario.label,
                "status": captured.status,
                "response_bytes": len(captured.body),
                "items_per_request": _items_per_request(scenario, captured),
                "runs": bench.scenario_runs(server, scenario, after_run=restore),
            }
        if config.everything or set(config.only) & set(report.BATCH_SCENARIOS):
            out["ceiling"] = storage_ceiling(bench, database_url, restore)
        if config.everything:
            out["curve"], out["batch_1000"] = curve(bench, server, restore)
            say(f"[{backend}] library scenarios")
            out["library"] = library.run(bench, server, database_url, bench.library_pools, restore)
        if config.runs_step("scrobble"):
            say(f"[{backend}] scrobble scenarios")
            out["scrobble"] = scrobble.run(bench, server, bench.scrobble_pools, restore)
    if any(scenario.name == FLOOR_SCENARIO for scenario in config.scenarios):
        out["floor"] = statement_floor(bench, backend, database_url, restore)
    if config.runs_step("least"):
        out["least"] = least_work(bench, backend, database_url, restore)
    if config.everything:
        out["learn"] = learn_mode(bench, backend, database_url, restore)
    out["workers"] = {str(WORKERS): more_workers(bench, backend, database_url, restore)}
    return out


def more_workers(
    bench: Bench, backend: str, database_url: str, restore: Callable[[], None]
) -> Result:
    """Every HTTP scenario again on `serve --workers WORKERS`, beside a one-worker server on
    the same database, the two taking turns at each level: the ratio compares runs made
    minutes apart no more (on a shared host the speed drifted by a fifth between the main
    table's runs and these)."""
    say(f"[{backend}] {WORKERS} workers, taking turns with one")
    work_dir = bench.config.work_dir
    more_log = work_dir / f"server-{backend}-{WORKERS}-workers.log"
    one_log = work_dir / f"server-{backend}-beside-{WORKERS}-workers.log"
    out: Result = {}
    with (
        servers.simkl_server(database_url, log=more_log, workers=WORKERS) as more,
        servers.simkl_server(database_url, log=one_log) as one,
    ):
        for scenario in bench.config.scenarios:
            for server in (one, more):
                bench.capture_last(server, scenario)
                if scenario.writes:
                    restore()
            beside, runs = bench.turn_runs([one, more], scenario, after_run=restore)
            out[scenario.name] = {"runs": runs, "one_worker_runs": beside}
    return out


# The scenario the statement floor (bench/floor.py) answers.
FLOOR_SCENARIO = "remove_1"


def statement_floor(
    bench: Bench, backend: str, database_url: str, restore: Callable[[], None]
) -> Result:
    """The single remove on the statement floor: the same requests, database and statements,
    with the least Python around them."""
    say(f"[{backend}] statement floor")
    scenario = next(s for s in bench.config.scenarios if s.name == FLOOR_SCENARIO)
    log = bench.config.work_dir / f"floor-{backend}.log"
    with servers.floor(database_url, log=log) as server:
        bench.capture_last(server, scenario)
        restore()
        return {scenario.name: {"runs": bench.scenario_runs(server, scenario, after_run=restore)}}


def least_work(
    bench: Bench, backend: str, database_url: str, restore: Callable[[], None]
) -> Result:
    """The single remove's requests against each kind of the least work a request can do
    (bench/least.py), at the run's highest concurrency."""
    say(f"[{backend}] least work")
    scenario = next(s for s in SCENARIOS if s.name == FLOOR_SCENARIO)
    pool = bench.pools.scenarios[scenario.name]
    connections = max(bench.config.concurrency)
    out: Result = {}
    for kind in least.KINDS:
        if kind == "grouped" and backend != "sqlite":
            continue  # PostgreSQL's write is one statement already: nothing to group
        log = bench.config.work_dir / f"least-{kind}-{backend}.log"
        with servers.least_work(database_url, kind, log=log) as server:
            run = bench.measured(
                server, scenario.script, pool, connections=connections, warm_from=pool.lines // 2
            )
        say(f"  {kind} c={connections}: {run['rps']:,.0f} req/s")
        out[kind] = {"connections": connections, "run": run}
        restore()
    return out


def learn_mode(
    bench: Bench, backend: str, database_url: str, restore: Callable[[], None]
) -> Result:
    """The learn scenario on a server with learn mode on."""
    say(f"[{backend}] learn mode")
    scenario = learn.LEARN_100
    bench.pools.scenarios.setdefault(
        scenario.name,
        learn.write_learn_pool(bench.config.work_dir, bench.dataset, batch=scenario.items),
    )
    forget = learn.restorer(database_url, restore)
    log = bench.config.work_dir / f"server-{backend}-learn.log"
    with servers.simkl_server(database_url, log=log, extra=learn.SERVER_SETTINGS) as server:
        captured = bench.capture(server, scenario, 0)
        if captured.status >= 300 or b'"not_found":{"movies":[],"shows":[]}' not in captured.body:
            raise RuntimeError(f"{scenario.name}: {captured.status} {captured.body[:300]!r}")
        forget()
        return {
            "label": scenario.label,
            "status": captured.status,
            "items_per_request": scenario.items,
            "runs": bench.scenario_runs(server, scenario, after_run=forget),
        }


def storage_ceiling(bench: Bench, database_url: str, restore: Callable[[], None]) -> Result:
    """The batch scenarios as SQL only and as domain calls, at 1 and 16 tasks."""
    out: Result = {}
    levels = [c for c in (1, 16) if c in bench.config.concurrency] or [1]
    for name in report.BATCH_SCENARIOS:
        if bench.config.only and name not in bench.config.only:
            continue
        adding = name.startswith("add")
        key = (database_url.split(":", 1)[0], name)
        if key not in bench.planned:
            # Recorded once per database: the data set is the same on both, but the statements
            # and their array parameters are each dialect's own.
            pool = bench.pools.scenarios[name]
            count = min(pool.lines // 2, CEILING_REQUESTS)
            requests = ceiling.read_requests(
                bench.dataset, pool.path, first=0, count=count, adding=adding
            )
            uvloop.run(recording.record(database_url, requests))
            restore()  # recording ran each request's writes once
            bench.planned[key] = requests
        requests = bench.planned[key]
        out[name] = {}
        for mode in ("sql", "domain"):
            out[name][mode] = {}
            for c in levels:
                result = uvloop.run(
                    ceiling.measure(
                        database_url,
                        requests,
                        mode=mode,
                        concurrency=c,
                        duration_s=bench.config.duration_s,
                    )
                )
                out[name][mode][str(c)] = result
                say(f"  ceiling {name} {mode} c={c}: {result['rps']:,.0f} req/s")
                restore()
    return out


def curve(
    bench: Bench, server: servers.Server, restore: Callable[[], None]
) -> tuple[Result, Result]:
    """Per-item cost of a 100-item remove by library size, and a 1,000-item remove.

    The sizes take turns, a slice of each pool at a time (CURVE_ROUNDS rounds), so a burst
    of other work on the machine cannot land on one size alone; each size reports the
    median of its rounds' p50."""
    batch = bench.config.spec.batch_size
    rounds: dict[int, list[Result]] = {size: [] for size in bench.pools.curve}
    for index in range(CURVE_ROUNDS):
        for size, pool in sorted(bench.pools.curve.items()):
            share = pool.lines // CURVE_ROUNDS
            rounds[size].append(
                bench.wrk(
                    server,
                    "remove_batch.lua",
                    pool,
                    connections=1,
                    first_line=index * share,
                    limit=share,
                    duration_s=300,
                )
            )
    restore()
    out: Result = {}
    for size, runs in sorted(rounds.items()):
        p50s = sorted(run["p50_ms"] for run in runs)
        p50 = statistics.median(p50s)
        out[str(size)] = {
            "requests": sum(run["requests"] for run in runs),
            "p50_ms": p50,
            "round_p50_ms": p50s,
            "p99_ms": max(run["p99_ms"] for run in runs),
            "per_item_us": round(p50 * 1000 / batch, 2),
            "cpu_cores_other_max": max(run["cpu_cores"]["other"] for run in runs),
        }
        say(f"  curve {size:,}: p50 {p50:.1f} ms = {out[str(size)]['per_item_us']:.1f} µs/item")
    pool = bench.pools.batch_1000
    big = bench.wrk(
        server, "remove_batch.lua", pool, connections=1, limit=pool.lines, duration_s=300
    )
    say(f"  1,000-item remove: p50 {big['p50_ms']:.1f} ms")
    restore()
    return out, big


def bench_bare(bench: Bench) -> Result:
    """The bare ASGI app answering each scenario's captured response."""
    out: Result = {}
    for scenario in bench.config.scenarios:
        captured = bench.captured[scenario.name]
        body_file = bench.config.work_dir / f"bare-{scenario.name}.body"
        log = bench.config.work_dir / "bare-asgi.log"
        with servers.bare_asgi(captured, body_file=body_file, log=log) as server:
            out[scenario.name] = {"runs": bench.scenario_runs(server, scenario, after_run=_nothing)}
    return out


def bench_prism(bench: Bench) -> Result:
    """Prism mocking the trimmed official OpenAPI, same requests."""
    out: Result = {}
    log = bench.config.work_dir / "prism.log"
    with servers.prism(log=log, verbosity=bench.config.prism_log) as server:
        for scenario in (s for s in bench.config.scenarios if s.official):
            captured = bench.capture(server, scenario, 0)
            if not scenario.succeeded(captured.status):
                raise RuntimeError(f"Prism refused {scenario.name}: {captured.status}")
            out[scenario.name] = {
                "status": captured.status,
                "response_bytes": len(captured.body),
                "runs": bench.scenario_runs(server, scenario, after_run=_nothing),
            }
    return out


def _nothing() -> None:
    return None


# Main -----------------------------------------------------------------------------------------


def main() -> None:
    """Run everything the settings ask for and write the results."""
    config = Config.from_env()
    config.work_dir.mkdir(parents=True, exist_ok=True)
    notes = ensure_tools(config)
    backends = list(config.backends)
    if "postgresql" in backends:
        why = servers.postgres_reachable(config.postgres_url)
        if why is not None:
            notes.append(f"PostgreSQL not measured: {why}")
            backends.remove("postgresql")
    prism = config.prism and servers.PRISM_BIN.exists()
    say(f"generating the data set ({'quick' if config.quick else 'full'})")
    dataset = datagen.generate(config.spec)
    pools = scenarios.write_pools(config.work_dir / "pools", dataset)
    library_pools = library.write_pools(config.work_dir / "pools", dataset)
    bench = Bench(config, dataset, pools, library_pools)
    bench.scrobble_pools = scrobble.write_pools(config.work_dir / "pools", dataset)
    results: Result = {
        "schema": 1,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine_info(config),
        "config": config.public(),
        "backends": {},
        "notes": notes,
    }
    for backend in backends:
        if backend == "sqlite":
            path = config.work_dir / "bench.db"
            for leftover in config.work_dir.glob("bench.db*"):
                leftover.unlink()
            results["backends"][backend] = bench_backend(bench, backend, f"sqlite:///{path}")
            for leftover in config.work_dir.glob("bench.db*"):
                leftover.unlink()
        else:
            with servers.postgres_database(config.postgres_url) as url:
                results["backends"][backend] = bench_backend(bench, backend, url)
    if config.catalog_scale and config.everything:
        results["catalog_scale"] = catalog_scale.run(config, backends)
    say("bare ASGI app (HTTP ceiling)")
    results["bare_asgi"] = bench_bare(bench)
    if prism:
        say("Prism (the peer)")
        results["prism"] = bench_prism(bench)
    publish(results, config)


def publish(results: Result, config: Config) -> None:
    """Ratios, targets, JSON, chart, README block."""
    from bench import chart  # noqa: PLC0415 - matplotlib may have just been installed

    report.analyse(results)
    directory = config.results_dir
    written = report.write_json(results, directory)
    chart.draw(results, directory / "latest.png")
    published = not config.quick and config.everything
    rel = "bench/results" if published else str(directory.relative_to(ROOT))
    block = report.markdown(results, chart=f"{rel}/latest.png", data=f"{rel}/latest.json")
    if not published:
        (directory / "table.md").write_text(block, encoding="utf-8")
    else:
        report.update_readme(ROOT / "README.md", block)
    say(f"wrote {', '.join(str(p.relative_to(ROOT)) for p in written)} and the chart")
    for backend, result in results["backends"].items():
        for target in result["targets"] + result.get("library", {}).get("targets", []):
            verdict = {True: "holds", False: "MISSED", None: "n/a"}[target["holds"]]
            if target.get("out_of_reach"):
                verdict += ", out of reach"
            say(f"  {backend}: {target['target']}: {target['shown']} ({verdict})")


if __name__ == "__main__":
    main()
