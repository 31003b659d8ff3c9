"""Progress lines of a benchmark run, timed from the start of the run."""

from __future__ import annotations

import sys
import time

_STARTED = time.monotonic()


def say(message: str) -> None:
    """Progress on stderr, with the time since start."""
    elapsed = time.monotonic() - _STARTED
    print(f"[bench {elapsed // 60:02.0f}:{elapsed % 60:04.1f}] {message}", file=sys.stderr)
