"""A real `simkl-server serve` process for tests: free port, readiness, kill -9, logs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx2

_START_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 15.0
_PORT_ATTEMPTS = 3


def free_port() -> int:
    """A TCP port nobody listens on right now (the server may still lose a race for it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServerError(RuntimeError):
    """The server did not start, or misbehaved in a way a test cannot continue from."""


class ServerProcess:
    """`python -m simkl_server serve` on a database, started and stopped on request.

    Each start appends to the same log file, so a test that restarts the server keeps every
    incarnation's output for its failure report."""

    def __init__(self, database_url: str, log_path: Path, *, env: dict[str, str] | None = None):
        self.database_url = database_url
        self.log_path = log_path
        self.port = 0
        self._env = env or {}
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL of the running server."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """Process id while running."""
        return None if self._process is None else self._process.pid

    def start(self) -> ServerProcess:
        """Start on a free port and return once the server answers HTTP."""
        for _ in range(_PORT_ATTEMPTS):
            self.port = free_port()
            self._spawn()
            if self._wait_ready():
                return self
            if "address already in use" not in self.log_text().lower():
                break
        raise ServerError(f"server did not start; log:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, no goodbye."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM (graceful), escalating to SIGKILL if it does not exit in time."""
        self._signal(signal.SIGTERM)

    def log_text(self) -> str:
        """Everything the server wrote so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 60) -> str:
        """The last lines of the log, for assertion messages."""
        return "\n".join(self.log_text().splitlines()[-lines:])

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _spawn(self) -> None:
        env = {
            **os.environ,
            "SIMKL_SERVER_DATABASE_URL": self.database_url,
            "PYTHONUNBUFFERED": "1",
            **self._env,
        }
        with self.log_path.open("ab") as log:
            log.write(f"--- start on port {self.port}\n".encode())
            log.flush()
            self._process = subprocess.Popen(
                [sys.executable, "-m", "simkl_server", "serve", "--port", str(self.port)],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _wait_ready(self) -> bool:
        """Poll until the server answers (True) or its process ends (False). The answer counts
        once this process has said it listens on the port: until then another test's server,
        which took the port between `free_port` and this process's bind, may be answering."""
        assert self._process is not None
        deadline = time.monotonic() + _START_TIMEOUT_S
        with httpx2.Client(base_url=self.url, timeout=2.0, verify=False) as client:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    self._process = None
                    return False
                try:
                    if self._listening() and client.get("/openapi.json").status_code == 200:
                        return True
                except httpx2.TransportError:
                    pass
                time.sleep(0.05)  # polling a condition, not synchronising on time
        self.kill()
        raise ServerError(f"server not ready after {_START_TIMEOUT_S} s; log:\n{self.log_tail()}")

    def _listening(self) -> bool:
        """Whether this start's own process logged that it listens on the port."""
        latest = self.log_text().rpartition(f"--- start on port {self.port}\n")[2]
        return f"listening on {self.url} " in latest

    def _signal(self, signum: int) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signum)
        try:
            process.wait(timeout=_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
