"""What every handler needs, built once at start-up."""

from __future__ import annotations

from simkl_server.clock import Clock
from simkl_server.config import Settings
from simkl_server.storage.base import Store


class ApiContext:
    """The store, the settings and the clock handlers share; the store is attached when
    the app starts (it may need the event loop to open)."""

    def __init__(self, settings: Settings, clock: Clock, store: Store | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self._store = store

    @property
    def store(self) -> Store:
        """The open store."""
        if self._store is None:
            raise RuntimeError("the store is not open yet: the app's lifespan has not started")
        return self._store

    def attach(self, store: Store | None) -> None:
        """Set (or clear) the store once it is open."""
        self._store = store
