"""Injectable time and secret generation, so tests control both and never sleep."""

from __future__ import annotations

import secrets
import time
from typing import Protocol


class Clock(Protocol):
    """Source of the current time in integer milliseconds since the Unix epoch."""

    def now_ms(self) -> int:
        """Return the current time in milliseconds."""
        ...


class SystemClock:
    """The real wall clock."""

    def now_ms(self) -> int:
        """Return the wall-clock time in milliseconds."""
        return time.time_ns() // 1_000_000


class FrozenClock:
    """A clock that moves only when told to (tests)."""

    def __init__(self, start_ms: int) -> None:
        self.current_ms = start_ms

    def now_ms(self) -> int:
        """Return the frozen time."""
        return self.current_ms

    def advance(self, ms: int) -> None:
        """Move the clock forward by `ms` milliseconds."""
        self.current_ms += ms


def new_secret(nbytes: int = 32) -> str:
    """Return a random hex string suitable for client ids, secrets and access tokens."""
    return secrets.token_hex(nbytes)


class ControlledClock:
    """A clock a test can set: fixed at an instant, shifted by an offset, or the base clock.

    The setting lives in the database (the control plane writes it); each request copies it
    here before anything reads the time, so every process sharing the database follows it."""

    def __init__(self, base: Clock) -> None:
        self.base = base
        self.fixed_ms: int | None = None
        self.offset_ms = 0

    def now_ms(self) -> int:
        """The fixed instant or the base clock's time, plus the offset."""
        start = self.base.now_ms() if self.fixed_ms is None else self.fixed_ms
        return start + self.offset_ms

    def follow(self, fixed_ms: int | None, offset_ms: int) -> None:
        """Take the setting the database holds."""
        self.fixed_ms = fixed_ms
        self.offset_ms = offset_ms
