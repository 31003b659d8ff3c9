"""The body budget: large bodies of all requests together hold at most its bytes, wait their
turn in arrival order, and get 503 when the wait runs out; what a request held comes back
once it is answered."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from simkl_server.api._http import BodyBudget, release_held
from simkl_server.errors import ServiceUnavailable


def test_reservations_wait_their_turn_in_order_and_come_back() -> None:
    async def scenario() -> list[str]:
        budget = BodyBudget(10, wait_s=60)
        first: dict[str, Any] = {}
        await budget.reserve(first, 8)
        order: list[str] = []

        async def take(name: str, size: int) -> None:
            scope: dict[str, Any] = {}
            await budget.reserve(scope, size)
            order.append(name)
            release_held(scope)

        waiting = [asyncio.create_task(take("big", 6)), asyncio.create_task(take("small", 1))]
        await asyncio.sleep(0)  # both are queued now; "small" would fit but must not overtake
        assert order == []
        release_held(first)
        await asyncio.gather(*waiting)
        return order

    assert asyncio.run(scenario()) == ["big", "small"]


def test_a_reservation_larger_than_the_budget_takes_all_of_it() -> None:
    async def scenario() -> None:
        budget = BodyBudget(10, wait_s=60)
        scope: dict[str, Any] = {}
        await budget.reserve(scope, 1_000)
        release_held(scope)
        await budget.reserve({}, 10)

    asyncio.run(scenario())


def test_a_wait_that_runs_out_is_503_and_leaves_the_queue() -> None:
    async def scenario() -> None:
        budget = BodyBudget(10, wait_s=0.01)
        held: dict[str, Any] = {}
        await budget.reserve(held, 10)
        with pytest.raises(ServiceUnavailable):
            await budget.reserve({}, 5)
        release_held(held)
        await budget.reserve({}, 10)  # nothing left behind by the one that gave up

    asyncio.run(scenario())


def test_a_cancelled_wait_gives_its_place_up() -> None:
    async def scenario() -> None:
        budget = BodyBudget(10, wait_s=60)
        held: dict[str, Any] = {}
        await budget.reserve(held, 10)
        waiter = asyncio.create_task(budget.reserve({}, 10))
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        release_held(held)
        await asyncio.wait_for(budget.reserve({}, 10), timeout=5)

    asyncio.run(scenario())
