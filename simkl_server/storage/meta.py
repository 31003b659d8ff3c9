"""What the database says about itself: the schema revision it is at."""

from __future__ import annotations

import asyncio

from simkl_server.storage.dialect import statement
from simkl_server.storage.drivers import (
    DRIVER_ERRORS,
    SCHEMA_REVISION_SQL,
    Connection,
    DatabaseUnavailable,
    one_line,
)

SCHEMA_REVISION = statement(SCHEMA_REVISION_SQL)
# A health probe must answer while the prober still waits: a database that hangs is down.
PROBE_TIMEOUT_S = 5.0


class MetaQueries:
    """Meta statements on one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def schema_revision(self) -> str | None:
        """The Alembic revision the schema is at (None before the first migration);
        DatabaseUnavailable when the database fails or does not answer in time."""
        try:
            row = await asyncio.wait_for(self._conn.fetchrow(SCHEMA_REVISION, {}), PROBE_TIMEOUT_S)
        except DRIVER_ERRORS as exc:
            raise DatabaseUnavailable(f"the database does not answer: {one_line(exc)}") from exc
        return None if row is None else str(row[0])
