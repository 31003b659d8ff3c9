"""How far a catalog import has read: a live bar on a terminal, plain lines in a log."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from simkl_server.catalog.interchange import ByteMeter
from simkl_server.cli._shared import say

# Off a terminal (a log file, a pipe) progress is a plain line this often.
REPORT_EVERY_S = 5.0


class ImportProgress:
    """Records read so far, the rate and, when the file's size is known, how much of it is
    read: a live bar on a terminal, a plain line every REPORT_EVERY_S seconds elsewhere, so a
    long import never sits silent."""

    def __init__(
        self,
        name: str,
        console: Console,
        *,
        every_s: float = REPORT_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
        size: int | None = None,
        meter: ByteMeter | None = None,
    ) -> None:
        self.name = name
        self.records = 0
        self.meter = meter or ByteMeter()
        self._size = size or None
        self._console = console
        self._every_s = every_s
        self._clock = clock
        self._started = self._last_report = clock()
        self._live: Progress | None = None
        self._task = TaskID(0)

    def __enter__(self) -> ImportProgress:
        if self._console.is_terminal:
            self._live = Progress(
                TextColumn("importing {task.description}:"),
                BarColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[records]:,} records read, {task.fields[rate]}"),
                TimeElapsedColumn(),
                console=self._console,
                transient=True,
            )
            self._live.start()
            self._task = self._live.add_task(self.name, total=self._size, records=0, rate="")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.stop()

    def advance(self, records: int) -> None:
        """Count more records read and show the count when it is time."""
        self.records += records
        now = self._clock()
        rate = f"{self.records / max(now - self._started, 1e-9):,.0f} records/s"
        done = self.meter.position()
        if self._live is not None:
            self._live.update(self._task, completed=done, records=self.records, rate=rate)
        elif now - self._last_report >= self._every_s:
            self._last_report = now
            share = f" ({100 * done / self._size:.0f} % of the file)" if self._size else ""
            say(f"importing {self.name}: {self.records:,} records read, {rate}{share}")
