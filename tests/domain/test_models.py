"""KeptReads: whole small reads kept by key, the least recently used going first once the rows
they hold pass the limit."""

from __future__ import annotations

from simkl_server.domain.models import KeptReads


def test_a_kept_read_is_found_under_its_key_only() -> None:
    kept: KeptReads[str, str] = KeptReads(rows_limit=10)
    kept.put("a", "answer a", rows=3)
    assert kept.get("a") == "answer a"
    assert kept.get("b") is None


def test_the_least_recently_used_reads_go_first_past_the_row_limit() -> None:
    kept: KeptReads[str, str] = KeptReads(rows_limit=10)
    kept.put("a", "A", rows=4)
    kept.put("b", "B", rows=4)
    assert kept.get("a") == "A"  # now b is the least recently used
    kept.put("c", "C", rows=4)
    assert (kept.get("a"), kept.get("b"), kept.get("c")) == ("A", None, "C")


def test_a_read_put_again_replaces_its_rows_in_the_count() -> None:
    kept: KeptReads[str, str] = KeptReads(rows_limit=10)
    for version in range(20):
        kept.put("a", f"A{version}", rows=6)
    kept.put("b", "B", rows=4)
    assert (kept.get("a"), kept.get("b")) == ("A19", "B")


def test_a_read_larger_than_the_limit_is_not_kept() -> None:
    kept: KeptReads[str, str] = KeptReads(rows_limit=10)
    kept.put("a", "A", rows=4)
    kept.put("huge", "H", rows=11)
    assert (kept.get("a"), kept.get("huge")) == ("A", None)
