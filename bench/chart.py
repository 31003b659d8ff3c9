"""The PNG chart of a run (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from bench.report import BACKEND_LABELS, backend_order, reference_concurrency
from bench.scenarios import SCENARIOS

Result = dict[str, Any]
_COLORS = {
    "SQLite": "#1f77b4",
    "PostgreSQL": "#2ca02c",
    "bare ASGI": "#7f7f7f",
    "Prism": "#d62728",
}


def _series(results: Result) -> dict[str, Result]:
    series = {
        BACKEND_LABELS.get(n, n): results["backends"][n]["scenarios"]
        for n in backend_order(results)
    }
    if results.get("bare_asgi"):
        series["bare ASGI"] = results["bare_asgi"]
    if results.get("prism"):
        series["Prism"] = results["prism"]
    return series


def _throughput(ax: Axes, results: Result) -> None:
    c = reference_concurrency(results)
    series = _series(results)
    width = 0.8 / max(1, len(series))
    for offset, (label, blocks) in enumerate(series.items()):
        values = [
            blocks.get(s.name, {}).get("runs", {}).get(str(c), {}).get("rps", 0) for s in SCENARIOS
        ]
        positions = [i + offset * width for i in range(len(SCENARIOS))]
        ax.bar(positions, values, width, label=label, color=_COLORS.get(label))
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(SCENARIOS))])
    ax.set_xticklabels(
        [s.name.replace("_", " ") for s in SCENARIOS], rotation=35, ha="right", fontsize=8
    )
    ax.set_yscale("log")
    ax.set_ylabel("requests / s (log)")
    ax.set_title(f"Throughput at {c} connections")
    ax.legend(fontsize=8)


def _concurrency(ax: Axes, results: Result) -> None:
    levels = results["config"]["concurrency"]
    for label, blocks in _series(results).items():
        runs = blocks.get("remove_1", {}).get("runs", {})
        values = [runs.get(str(c), {}).get("rps") for c in levels]
        points = [(c, v) for c, v in zip(levels, values, strict=True) if v is not None]
        if points:
            ax.plot(*zip(*points, strict=True), marker="o", label=label, color=_COLORS.get(label))
    ax.set_xscale("log", base=2)
    ax.set_xticks(levels)
    ax.set_xticklabels([str(c) for c in levels])
    ax.set_yscale("log")
    ax.set_xlabel("connections")
    ax.set_ylabel("requests / s (log)")
    ax.set_title("Single-item remove vs concurrency")
    ax.legend(fontsize=8)


def _storage(ax: Axes, results: Result) -> None:
    labels: list[str] = []
    bars: dict[str, list[float]] = {"HTTP": [], "SQL only": [], "domain only": []}
    for name in backend_order(results):
        backend = results["backends"][name]
        for scenario, entry in backend.get("ratios", {}).get("vs_storage", {}).items():
            labels.append(f"{scenario.replace('_', ' ')}\n{BACKEND_LABELS.get(name, name)}")
            bars["HTTP"].append(entry.get("http_best_items_per_s") or 0)
            bars["SQL only"].append(entry.get("sql_best_items_per_s") or 0)
            bars["domain only"].append(entry.get("domain_best_items_per_s") or 0)
    width = 0.27
    for offset, (label, values) in enumerate(bars.items()):
        ax.bar([i + offset * width for i in range(len(labels))], values, width, label=label)
    ax.set_xticks([i + width for i in range(len(labels))])
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylabel("items / s (best concurrency)")
    ax.set_title("Batches vs the storage ceiling")
    ax.legend(fontsize=8)


def _curve(ax: Axes, results: Result) -> None:
    for name in backend_order(results):
        curve = results["backends"][name].get("curve", {})
        points = sorted((int(size), run["per_item_us"]) for size, run in curve.items())
        if not points:
            continue
        label = BACKEND_LABELS.get(name, name)
        ax.plot(*zip(*points, strict=True), marker="o", label=label, color=_COLORS.get(label))
        base = points[0][1]
        ax.fill_between(
            [p[0] for p in points], base * 0.8, base * 1.2, alpha=0.12, color=_COLORS.get(label)
        )
    ax.set_xscale("log")
    ax.set_xlabel("library size (items)")
    ax.set_ylabel("µs per item (p50)")
    ax.set_ylim(bottom=0)
    ax.set_title("Per-item cost of a 100-item remove (band: ±20 %)")
    ax.legend(fontsize=8)


def draw(results: Result, path: Path) -> None:
    """Write the four-panel chart of `results` to `path`."""
    figure, axes = plt.subplots(2, 2, figsize=(13, 9))
    _throughput(axes[0][0], results)
    _concurrency(axes[0][1], results)
    _storage(axes[1][0], results)
    _curve(axes[1][1], results)
    machine = results["machine"]
    figure.suptitle(
        f"simkl-server benchmark, {results['date'][:10]}: {machine['cpu']}, "
        f"{machine['cores']} cores",
        fontsize=12,
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
