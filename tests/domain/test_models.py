"""KeptReads: whole small reads kept by key, the least recently used going first once the rows
they hold pass the limit; `replace`: dataclasses.replace's answers, made faster."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from simkl_server.domain.kinds import ListStatus
from simkl_server.domain.models import KeptReads, LibraryEntry, Memo, frozen, replace


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


_ENTRY = LibraryEntry(7, ListStatus.WATCHING, added_at=1_000, user_rating=8, user_rated_at=1_500)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"status": ListStatus.COMPLETED},
        {"user_rating": None, "user_rated_at": None},
        {"memo": Memo("notes", is_private=True), "watched_episodes": 3, "next_to_watch": "S01E04"},
    ],
)
def test_replace_answers_as_dataclasses_replace(changes: dict[str, Any]) -> None:
    made = replace(_ENTRY, **changes)
    assert made == dataclasses.replace(_ENTRY, **changes)
    assert type(made) is LibraryEntry
    assert made is not _ENTRY
    assert _ENTRY.status is ListStatus.WATCHING  # the original is left as it was


def test_replace_refuses_a_name_that_is_no_field() -> None:
    wrong: dict[str, Any] = {"nope": 1}  # what mypy refuses, the function refuses too
    with pytest.raises(TypeError, match="nope"):
        replace(_ENTRY, **wrong)


def test_replace_refuses_a_class_whose_constructor_takes_fields_by_name_only() -> None:
    @frozen
    class Named:
        first: int
        second: int = dataclasses.field(kw_only=True, default=0)

    with pytest.raises(TypeError, match="every field in order"):
        replace(Named(1), first=2)
