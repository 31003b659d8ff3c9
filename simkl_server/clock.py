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
