"""The verdicts of the concurrency tests catch what they claim to: lost updates, half-applied
batches that only a cross-item cycle reveals, values nobody wrote, activities going back."""

from __future__ import annotations

from tests.robustness.workload import Op, Poll, check_activities, check_final_state


def add(number: int, start: float, end: float, **ratings: int) -> Op:
    """An acknowledged add of `i<item>=rating` over [start, end]."""
    parsed: dict[int, int | None] = {int(k[1:]): v for k, v in ratings.items()}
    return Op(number, 0, "add", parsed, start, end, 201)


def remove(number: int, start: float, end: float, *items: int) -> Op:
    """An acknowledged remove of `items` over [start, end]."""
    return Op(number, 0, "remove", dict.fromkeys(items), start, end, 201)


def stamp(op: Op, item: int) -> tuple[int | None, int | None]:
    """The library row `op` leaves for `item`."""
    return op.ratings[item], op.rated_at_ms


def test_the_later_write_wins() -> None:
    first, second = add(1, 0, 1, i1=5), add(2, 2, 3, i1=7)
    assert check_final_state([first, second], {1: stamp(second, 1)}, [1]) == []
    lost = check_final_state([first, second], {1: stamp(first, 1)}, [1])
    assert "lost the later" in lost[0]


def test_overlapping_writes_may_land_either_way() -> None:
    first, second = add(1, 0, 2, i1=5), add(2, 1, 3, i1=7)
    for winner in (first, second):
        assert check_final_state([first, second], {1: stamp(winner, 1)}, [1]) == []


def test_interleaved_batches_are_caught() -> None:
    first, second = add(1, 0, 2, i1=5, i2=5), add(2, 1, 3, i1=7, i2=7)
    mixed = {1: stamp(first, 1), 2: stamp(second, 2)}
    assert "no serial order" in check_final_state([first, second], mixed, [1, 2])[0]


def test_a_cycle_through_real_time_is_caught() -> None:
    early, late, spanning = add(1, 0, 1, i1=1), add(2, 2, 3, i2=2), add(3, 0.5, 4, i1=3, i2=3)
    final = {1: stamp(early, 1), 2: stamp(spanning, 2)}  # spanning before early before late
    assert "no serial order" in check_final_state([early, late, spanning], final, [1, 2])[0]


def test_unrated_needs_a_remove_that_could_come_last() -> None:
    added, removed = add(1, 0, 1, i1=4), remove(2, 2, 3, 1)
    assert check_final_state([added, removed], {1: (None, None)}, [1]) == []
    again = add(3, 4, 5, i1=6)
    assert (
        "no remove could have come last"
        in check_final_state([added, removed, again], {1: (None, None)}, [1])[0]
    )


def test_values_nobody_wrote_and_missing_rows_are_caught() -> None:
    added = add(1, 0, 1, i1=4)
    assert "never acknowledged" in check_final_state([added], {1: (9, added.rated_at_ms)}, [1])[0]
    assert "no library row" in check_final_state([added], {}, [1])[0]
    unacknowledged = Op(2, 0, "add", {2: 3}, 0, 1, None)
    assert (
        "never acknowledged"
        in check_final_state([unacknowledged], {2: stamp(unacknowledged, 2)}, [2])[0]
    )


def test_activities_never_go_back() -> None:
    older, newer = "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z"
    polls = [Poll(0, 1, {"all": newer}), Poll(2, 3, {"all": older})]
    assert "went back" in check_activities(polls)[0]
    concurrent = [Poll(0, 2, {"all": newer}), Poll(1, 3, {"all": older})]
    assert check_activities(concurrent) == []
    assert (
        "went back" in check_activities([Poll(0, 1, {"all": older}), Poll(2, 3, {"all": None})])[0]
    )


def test_in_the_library_mode_a_removed_item_needs_a_removal_that_could_come_last() -> None:
    added, removed = add(1, 0, 1, i1=2), remove(2, 2, 3, 1)
    assert check_final_state([added, removed], {}, [1], "library") == []
    again = add(3, 4, 5, i1=1)
    lost = check_final_state([added, removed, again], {}, [1], "library")
    assert "no removal could have come last" in lost[0]


def test_in_the_library_mode_the_list_is_read_modulo_the_lists_of_its_kind() -> None:
    added = add(1, 0, 1, i1=4)  # code 4 of a movie's three lists is the second one
    assert check_final_state([added], {1: (1, added.rated_at_ms)}, [1], "library") == []
    wrong = check_final_state([added], {1: (0, added.rated_at_ms)}, [1], "library")
    assert "never acknowledged" in wrong[0]
