"""Driving load with wrk, and watching where the CPU went while it ran.

wrk runs as its own process; its Lua scripts (bench/lua) replay a request pool. Next to
wrk's own numbers every run records the CPU time wrk used (from its rusage), the CPU time of
the process under test, and the whole machine's busy time, so a run shows whether the
generator or something else on the machine was the bottleneck.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

LUA_DIR = Path(__file__).with_name("lua")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def wrk_version() -> str:
    """The first line wrk prints about itself."""
    found = shutil.which("wrk")
    if found is None:
        return "missing"
    probe = subprocess.run([found, "-v"], capture_output=True, text=True, check=False)
    return (probe.stdout or probe.stderr).splitlines()[0].split(" Copyright")[0].strip()


def _process_ticks(pid: int) -> int:
    """utime + stime of a process and its reaped children, in clock ticks (0 if gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return sum(int(value) for value in fields[11:15])


def _machine_busy_ticks() -> int:
    """Busy clock ticks of all cores since boot (everything but idle and I/O wait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(values) - values[3] - values[4]


@dataclass(frozen=True, slots=True)
class CpuSample:
    """CPU counters at one instant."""

    at: float
    target: int
    machine_busy: int

    @classmethod
    def take(cls, pids: list[int]) -> CpuSample:
        """Sample the target processes and the machine."""
        target = sum(_process_ticks(p) for p in pids)
        return cls(time.monotonic(), target, _machine_busy_ticks())


def wait_idle(pids: list[int], *, timeout_s: float = 180, step_s: float = 0.25) -> float:
    """Wait until the processes use under 5 % of a core for two steps in a row (a server
    still works through requests wrk gave up on when its time ran out); return the wait."""
    started = time.monotonic()
    quiet = 0
    last = sum(_process_ticks(p) for p in pids)
    while quiet < 2 and time.monotonic() - started < timeout_s:
        time.sleep(step_s)
        now = sum(_process_ticks(p) for p in pids)
        quiet = quiet + 1 if (now - last) / _CLOCK_TICKS < 0.05 * step_s else 0
        last = now
    return round(time.monotonic() - started, 2)


@dataclass(frozen=True, slots=True)
class LoadSpec:
    """One wrk run."""

    url: str
    script: str
    pool: Path
    tokens: Path
    client_id: str
    connections: int
    duration_s: float
    first_line: int = 0
    limit: int = 0
    timeout_s: int = 60


def run_wrk(spec: LoadSpec, *, target_pids: list[int]) -> dict[str, Any]:
    """Run wrk once; return its numbers plus CPU use (in cores) of wrk, target and machine."""
    threads = 1 if spec.connections == 1 else min(2, os.cpu_count() or 1)
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{spec.connections}",
        f"-d{max(1, round(spec.duration_s))}s",  # wrk takes whole seconds
        f"--timeout={spec.timeout_s}s",
        "-s",
        spec.script,
        spec.url,
        "--",
        str(spec.pool.resolve()),
        str(spec.tokens.resolve()),
        spec.client_id,
        str(threads),
        str(spec.first_line),
        str(spec.limit),
    ]
    before = CpuSample.take(target_pids)
    process = subprocess.Popen(
        command, cwd=LUA_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line.decode(errors="replace"))
        if spec.limit and line.startswith(b"BENCH_LIMIT"):
            process.send_signal(signal.SIGINT)  # wrk then stops sleeping and reports
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    after = CpuSample.take(target_pids)
    text = "".join(lines)
    found = re.search(r"^BENCH_JSON (.*)$", text, re.MULTILINE)
    if process.returncode != 0 or found is None:
        raise RuntimeError(f"wrk failed ({' '.join(command)}):\n{text}")
    raw: dict[str, Any] = orjson.loads(found.group(1))
    summary = _summary(raw, before, after, wrk_cpu_s=usage.ru_utime + usage.ru_stime)
    summary["drain_s"] = wait_idle(target_pids)
    return summary


def _summary(
    raw: dict[str, Any], before: CpuSample, after: CpuSample, *, wrk_cpu_s: float
) -> dict[str, Any]:
    seconds = raw["duration_us"] / 1e6
    wall = after.at - before.at
    latency = raw["latency_us"]
    errors = {k: v for k, v in raw["errors"].items() if v}
    machine_cores = (after.machine_busy - before.machine_busy) / _CLOCK_TICKS / wall
    target_cores = (after.target - before.target) / _CLOCK_TICKS / wall
    return {
        "requests": raw["requests"],
        "seconds": round(seconds, 3),
        "rps": round(raw["requests"] / seconds, 1),
        "p50_ms": latency["p50"] / 1000,
        "p90_ms": latency["p90"] / 1000,
        "p99_ms": latency["p99"] / 1000,
        "max_ms": latency["max"] / 1000,
        "mean_ms": round(latency["mean"] / 1000, 3),
        "bytes": raw["bytes"],
        "errors": errors,
        "cpu_cores": {
            "wrk": round(wrk_cpu_s / wall, 3),
            "target": round(target_cores, 3),
            "machine": round(machine_cores, 3),
            "other": round(max(0.0, machine_cores - target_cores - wrk_cpu_s / wall), 3),
        },
    }
