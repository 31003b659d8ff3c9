"""One log format for every line the server writes, its own and uvicorn's, on stderr.

The access log writes a line per request, so lines are made cheaply: no caller lookup, no
thread or process names (the format shows none), the time text made once a second, and
`info_writer` puts a logger's INFO lines straight on the stream when nothing else listens.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# uvicorn logs its life cycle as "uvicorn.error", which reads as a failure; it is not one.
_RENAMED = {"uvicorn.error": "uvicorn"}


class _PlainNames(logging.Filter):
    """Shows uvicorn's life-cycle logger under its plain name."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rename, never drop."""
        record.name = _RENAMED.get(record.name, record.name)
        return True


class LineFormatter(logging.Formatter):
    """FORMAT, with the date and time of a second formatted once for all its lines."""

    def __init__(self) -> None:
        super().__init__(FORMAT)
        self._second = -1
        self._second_text = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        """`2026-05-28 20:26:40,123`, as logging's default, in local time."""
        return self.time_text(record.created)

    def time_text(self, created: float) -> str:
        """The time of a line created at `created` (epoch seconds)."""
        second = int(created)
        if second != self._second:
            self._second_text = time.strftime("%Y-%m-%d %H:%M:%S", self.converter(second))
            self._second = second
        return f"{self._second_text},{int((created - second) * 1000):03d}"


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The one handler `configure` installs (known by its class, so writers can trust it).
    Lines a batched writer still holds go out first, so the log keeps its order."""

    before_emit: Callable[[], None] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        """Write pending batched lines, then this record."""
        if self.before_emit is not None:
            self.before_emit()
        super().emit(record)


def configure(level: str) -> None:
    """Send every logger's lines, at `level` and above, through one handler and format."""
    # What logging's own optimisation notes turn off when a format does not show it.
    logging._srcfile = None  # no caller lookup per line
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = _Handler(sys.stderr)
    handler.setFormatter(LineFormatter())
    handler.addFilter(_PlainNames())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Alembic announces its migration context on every start; only its warnings say something.
    logging.getLogger("alembic").setLevel(logging.DEBUG if level == "debug" else logging.WARNING)


def info_writer(name: str) -> Callable[[str], None]:
    """Log an INFO line as logger `name`, the caller having checked the level: written
    straight to the stream in FORMAT when `configure`'s handler is the only one the line
    would reach (logging's own path costs several microseconds a line), else through logging
    (a test's capture, or an application's own logging set-up)."""
    logger = logging.getLogger(name)
    handler = _sole_handler(logger)
    if handler is None:
        return logger.info
    stream, lock = handler.stream, handler.lock
    formatter = handler.formatter
    assert isinstance(formatter, LineFormatter)
    assert lock is not None
    batch = _BatchedLines(stream, lock, formatter, f" INFO {name}: ")
    handler.before_emit = batch.flush
    return batch.write


class _BatchedLines:
    """Lines written together a moment after the first of them, not one write each: on a busy
    server one write (and flush) per request cost more than making the line (issue-6 A/B:
    15 % of a small request). Outside an event loop, and past BATCH_LINES, lines go at once;
    what is pending at exit is written then."""

    BATCH_SECONDS = 0.02
    BATCH_LINES = 512

    def __init__(self, stream: Any, lock: Any, formatter: LineFormatter, middle: str) -> None:
        self._stream, self._lock, self._formatter, self._middle = stream, lock, formatter, middle
        self._pending: list[str] = []
        atexit.register(self.flush)

    def write(self, message: str) -> None:
        """Queue one line; schedule the batch's write with its first line."""
        pending = self._pending
        pending.append(self._formatter.time_text(time.time()) + self._middle + message + "\n")
        if len(pending) == 1:
            try:
                asyncio.get_running_loop().call_later(self.BATCH_SECONDS, self.flush)
            except RuntimeError:  # no loop: nothing would ever flush the batch
                self.flush()
        elif len(pending) >= self.BATCH_LINES:
            self.flush()

    def flush(self) -> None:
        """Write every pending line at once."""
        if not self._pending:
            return
        text = "".join(self._pending)
        self._pending.clear()
        with self._lock:
            self._stream.write(text)
            self._stream.flush()


def _sole_handler(logger: logging.Logger) -> _Handler | None:
    """`configure`'s handler when a line of `logger` would reach it and nothing else."""
    current: logging.Logger | None = logger
    while current is not None and current.parent is not None:  # up to, not including, root
        if current.handlers or current.filters or not current.propagate:
            return None
        current = current.parent
    root = logging.getLogger()
    handlers = root.handlers
    if root.filters or len(handlers) != 1 or type(handlers[0]) is not _Handler:
        return None
    return handlers[0]
