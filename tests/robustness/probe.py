"""A well-behaved client in a process of its own, timing its requests while an attack runs
(in the attacking process it would also measure that process's own contention).

    python -m tests.robustness.probe URL PATH QUERY TOKEN [LOCAL_ADDRESS]

It reads the same path over one keep-alive connection until SIGTERM, printing one JSON line
per request: its latency in seconds, and what went wrong when the answer was not 200.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from types import FrameType

import httpx2

_TIMEOUT_S = 120.0


def main(argv: list[str]) -> None:
    """Probe until told to stop; report on stdout."""
    url, path, query, token = argv[:4]
    local_address = argv[4] if len(argv) > 4 else None
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    transport = httpx2.HTTPTransport(local_address=local_address) if local_address else None
    headers = {"Authorization": f"Bearer {token}"}
    with httpx2.Client(base_url=url, timeout=_TIMEOUT_S, transport=transport) as client:
        while not stopping:
            started = time.perf_counter()
            failure = None
            try:
                answer = client.get(f"{path}?{query}", headers=headers)
                if answer.status_code != 200:
                    failure = f"{answer.status_code} {answer.text[:200]}"
            except httpx2.TransportError as exc:
                failure = f"{type(exc).__name__}: {exc}"
            seconds = time.perf_counter() - started
            print(json.dumps({"seconds": seconds, "failure": failure}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
