"""The statements a domain call runs, recorded with their parameters, and replayed the way the
store ran them: the storage ceilings' `sql` measurement.

A recording is a list of steps, each as the store ran it: a statement on the reader (outside
any transaction), a write transaction (with its `offload`), a snapshot, or one call of a
server-side function. Replaying runs each step the same way on the same driver, so a ceiling
makes the round trips and transactions the server made, and no more. Recorded, not written
out by hand: a ceiling cannot drift from what the server runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from simkl_server.clock import SystemClock
from simkl_server.config import Settings
from simkl_server.storage.base import Store
from simkl_server.storage.dialect import Statement
from simkl_server.storage.drivers import Connection, Driver, Row, open_driver

T = TypeVar("T")
CallKind = Literal["fetch", "fetchrow", "execute"]
StepKind = Literal["reader", "transaction", "snapshot", "small_snapshot", "routine"]
Call = tuple[CallKind, Statement, dict[str, Any]]


@dataclass(slots=True)
class Step:
    """Statements the store ran together, and how."""

    kind: StepKind
    calls: list[Call] = field(default_factory=list)
    offload: bool = False  # a transaction's: whether the store ran it off the event loop


@dataclass(slots=True)
class Recording:
    """The steps one request ran, in order."""

    steps: list[Step] = field(default_factory=list)

    @property
    def calls(self) -> list[Call]:
        """Every statement, in order."""
        return [call for step in self.steps for call in step.calls]


class RecordingConnection:
    """A connection that notes every statement it runs: into its step, or (the reader) into a
    step of its own per statement, appended to the driver's current recording."""

    def __init__(self, inner: Connection, driver: RecordingDriver, step: Step | None) -> None:
        self._inner = inner
        self._driver = driver
        self._step = step
        self.dialect = inner.dialect

    def array(self, values: Iterable[Any]) -> Any:
        return self._inner.array(values)

    def _note(self, kind: CallKind, statement: Statement, params: Mapping[str, Any]) -> None:
        call: Call = (kind, statement, dict(params))
        if self._step is not None:
            self._step.calls.append(call)
        elif self._driver.recording is not None:
            self._driver.recording.steps.append(Step("reader", [call]))

    async def fetch(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        self._note("fetch", statement, params)
        return await self._inner.fetch(statement, params)

    async def fetchrow(self, statement: Statement, params: Mapping[str, Any]) -> Row | None:
        self._note("fetchrow", statement, params)
        return await self._inner.fetchrow(statement, params)

    async def execute(self, statement: Statement, params: Mapping[str, Any]) -> None:
        self._note("execute", statement, params)
        await self._inner.execute(statement, params)


class RecordingDriver:
    """A driver that records what its connections run while `recording` is set."""

    def __init__(self, inner: Driver) -> None:
        self._inner = inner
        self.dialect = inner.dialect
        self.has_routines = inner.has_routines
        self.one_writer = inner.one_writer
        self.recording: Recording | None = None

    def _step(self, kind: StepKind, *, offload: bool = False) -> Step | None:
        if self.recording is None:
            return None
        step = Step(kind, offload=offload)
        self.recording.steps.append(step)
        return step

    @property
    def reader(self) -> Connection:
        return RecordingConnection(self._inner.reader, self, None)

    async def transaction(self, work: Callable[[Connection], Awaitable[T]], *, offload: bool) -> T:
        step = self._step("transaction", offload=offload)
        return await self._inner.transaction(
            lambda conn: work(RecordingConnection(conn, self, step)), offload=offload
        )

    async def snapshot(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        step = self._step("snapshot")
        return await self._inner.snapshot(lambda conn: work(RecordingConnection(conn, self, step)))

    async def small_snapshot(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        step = self._step("small_snapshot")
        return await self._inner.small_snapshot(
            lambda conn: work(RecordingConnection(conn, self, step))
        )

    async def routine(self, statement: Statement, params: Mapping[str, Any]) -> Row | None:
        step = self._step("routine")
        if step is not None:
            step.calls.append(("fetchrow", statement, dict(params)))
        return await self._inner.routine(statement, params)

    async def close(self) -> None:
        await self._inner.close()


@dataclass(slots=True)
class DomainCall:
    """A call one pool line makes the domain do (as its handler would), whether it writes,
    and the statements it ran once recorded."""

    call: Callable[[Store], Awaitable[Any]]
    writes: bool
    recording: Recording = field(default_factory=Recording)


async def record(database_url: str, calls: Sequence[DomainCall]) -> None:
    """Run each domain call once on a store with the server's default settings, keeping the
    statements it ran (a write's effects stay: the caller restores the database after)."""
    settings = Settings(database_url=database_url)
    driver = RecordingDriver(
        await open_driver(
            settings.database, pool_size=settings.pg_pool_size, write_wait_ms=settings.write_wait_ms
        )
    )
    store = Store(driver, SystemClock(), inline_batch_items=settings.inline_batch_items)
    try:
        for entry in calls:
            driver.recording = entry.recording = Recording()
            await entry.call(store)
            driver.recording = None
    finally:
        await store.close()


async def replay(driver: Driver, recording: Recording) -> None:
    """Run a recording's steps on `driver` the way the store ran them."""
    for step in recording.steps:
        await _replay_step(driver, step)


async def _replay_step(driver: Driver, step: Step) -> None:
    async def calls(conn: Connection) -> None:
        await _run(conn, step.calls)

    if step.kind == "reader":
        await _run(driver.reader, step.calls)
    elif step.kind == "transaction":
        await driver.transaction(calls, offload=step.offload)
    elif step.kind == "snapshot":
        await driver.snapshot(calls)
    elif step.kind == "small_snapshot":
        await driver.small_snapshot(calls)
    else:
        for _, statement, params in step.calls:
            await driver.routine(statement, params)


async def _run(conn: Connection, calls: Sequence[Call]) -> None:
    for kind, statement, params in calls:
        if kind == "execute":
            await conn.execute(statement, params)
        elif kind == "fetchrow":
            await conn.fetchrow(statement, params)
        else:
            await conn.fetch(statement, params)
