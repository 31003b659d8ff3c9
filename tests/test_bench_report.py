"""The benchmark report's verdicts on the single writes (bench/report.py): a write that
misses its target is marked out of reach only when the least remove (bench/least.py), which
does less than any write, misses that target too, measured against the write's own ceiling
and Prism run."""

from __future__ import annotations

from typing import Any

from bench import report


def _runs(rps: float) -> dict[str, Any]:
    return {"runs": {"16": {"rps": rps}}}


def _results(server: float, least: float, prism: float) -> dict[str, Any]:
    """A run of the single remove and add at 16 connections: the server, the least remove,
    a ceiling of 10,000 req/s for both and Prism at `prism`."""
    writes = ("remove_1", "add_1")
    return {
        "config": {"concurrency": [16]},
        "bare_asgi": {name: _runs(10_000) for name in writes},
        "prism": {name: _runs(prism) for name in writes},
        "backends": {
            "sqlite": {
                "scenarios": {name: _runs(server) for name in writes},
                "least": {"remove": {"connections": 16, "run": {"rps": least}}},
            }
        },
    }


def _verdicts(results: dict[str, Any]) -> dict[str, str]:
    report.analyse(results)
    targets = results["backends"]["sqlite"]["targets"]
    return {t["target"].partition(": share")[0]: report.verdict(t) for t in targets[:3]}


def test_a_write_the_least_remove_cannot_reach_either_is_out_of_reach() -> None:
    verdicts = _verdicts(_results(server=1_000, least=2_000, prism=1_000))  # 20 %, 2x Prism

    assert verdicts["remove 1 item"].startswith("**missed**, out of reach")
    assert verdicts["add 1 item"].startswith("**missed**, out of reach")
    assert verdicts["history: 1 movie watched"] == "not measured"


def test_a_write_missing_a_target_the_least_remove_reaches_is_only_missed() -> None:
    verdicts = _verdicts(_results(server=1_000, least=4_000, prism=1_000))  # 40 %, 4x Prism

    assert verdicts["remove 1 item"] == "**missed**"


def test_a_write_reaching_its_target_holds() -> None:
    verdicts = _verdicts(_results(server=3_000, least=4_000, prism=900))  # 30 %, 3.3x Prism

    assert verdicts["remove 1 item"] == "holds"


def test_two_workers_are_judged_against_the_one_worker_run_made_beside_them() -> None:
    results = _results(server=1_000, least=2_000, prism=1_000)
    backend = results["backends"]["sqlite"]
    backend["workers"] = {
        "2": {
            "remove_1": {"runs": {"16": {"rps": 1_500}}, "one_worker_runs": {"16": {"rps": 750}}},
            "add_1": {"runs": {"16": {"rps": 1_500}}},  # a run from before the pairing
        }
    }
    report.analyse(results)

    assert report._two_workers_ratio(backend, "remove_1", 16) == 2.0
    assert report._two_workers_ratio(backend, "add_1", 16) == 1.5  # the main table's 1,000
