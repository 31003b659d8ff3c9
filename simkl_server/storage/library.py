"""Library queries shared by every area that files items: the entries a user already has."""

from __future__ import annotations

from collections.abc import Collection

from simkl_server.domain.kinds import LIST_STATUS_OF_WORD
from simkl_server.domain.models import LibraryRow, LibraryState
from simkl_server.storage.catalog import ITEM_COLUMN_COUNT, ITEM_COLUMNS, item_from_row
from simkl_server.storage.dialect import statement
from simkl_server.storage.drivers import Connection, Row

# A library row as read endpoints render it: the catalog item, then the entry's own columns.
ROW_COLUMNS = (
    f"{ITEM_COLUMNS}, l.status, l.user_rating, l.user_rated_at, "
    "l.last_watched_at, l.last_watched, l.next_to_watch"
)

STATES = statement(
    lambda d: (
        "SELECT item_id, status, user_rating, user_rated_at FROM library "
        f"WHERE user_id = :user_id AND {d.in_array('item_id', 'item_ids', 'BIGINT')}"
    )
)


def library_row(row: Row) -> LibraryRow:
    """A LibraryRow from the ROW_COLUMNS."""
    rest = row[ITEM_COLUMN_COUNT:]
    return LibraryRow(item_from_row(row), LIST_STATUS_OF_WORD[rest[0]], *rest[1:6])


class LibraryQueries:
    """Library statements on one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def states(self, user_id: int, item_ids: Collection[int]) -> dict[int, LibraryState]:
        """The library entries the user has among `item_ids`."""
        rows = await self._conn.fetch(
            STATES, {"user_id": user_id, "item_ids": self._conn.array(item_ids)}
        )
        return {row[0]: LibraryState(LIST_STATUS_OF_WORD[row[1]], row[2], row[3]) for row in rows}
