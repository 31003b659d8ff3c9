"""The control plane's queries: its settings (the clock), faults, the request journal, and the
whole state as one document, read from and written to every table the schema declares.

The state statements are built from the schema metadata, so a table another area adds later
is dumped, loaded and reset without any change here. They are built on first use (`state_tables`):
the metadata is SQLAlchemy's, which a server without the control plane never loads; one with it
builds them as it opens its store.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import asyncpg
import orjson

from simkl_server.domain.models import Fault, JournalEntry
from simkl_server.storage.dialect import SqlDialect, Statement, statement
from simkl_server.storage.drivers import Connection, Row
from simkl_server.storage.tables import CONTROL_TABLES, INTERNAL_TABLES

if TYPE_CHECKING:
    from sqlalchemy import Table

_LOAD_SLICE = 500  # rows per insert statement when loading a state

SETTING = statement("SELECT value FROM control_settings WHERE name = :name")
SETTINGS = statement("SELECT name, value FROM control_settings")
PUT_SETTING = statement(
    "INSERT INTO control_settings (name, value) VALUES (:name, :value) "
    "ON CONFLICT (name) DO UPDATE SET value = excluded.value"
)
DELETE_SETTING = statement("DELETE FROM control_settings WHERE name = :name")

_FAULT_COLUMNS = (
    "id, method, path, respond, times_left, probability, seed, delay_ms, retry_after_s, hits"
)
FAULTS = statement(f"SELECT {_FAULT_COLUMNS} FROM control_faults ORDER BY id")
INSERT_FAULT = statement(
    "INSERT INTO control_faults (method, path, respond, times_left, probability, seed, "
    "delay_ms, retry_after_s, hits, created_at) VALUES (:method, :path, :respond, :times_left, "
    ":probability, :seed, :delay_ms, :retry_after_s, 0, :now) "
    f"RETURNING {_FAULT_COLUMNS}"
)
# Claimed atomically, so two processes never both spend a fault's last time.
CLAIM_COUNTED_FAULT = statement(
    "UPDATE control_faults SET times_left = times_left - 1, hits = hits + 1 "
    "WHERE id = :id AND times_left > 0 RETURNING hits"
)
CLAIM_DRAW = statement(
    "UPDATE control_faults SET hits = hits + 1 WHERE id = :id AND times_left IS NULL RETURNING hits"
)
CLEAR_FAULTS = statement("DELETE FROM control_faults")

_JOURNAL_COLUMNS = "id, at, method, path, query, headers, body, status, response_body, fault"
INSERT_JOURNAL = statement(
    "INSERT INTO control_journal (at, method, path, query, headers, body, status, "
    "response_body, fault) VALUES (:at, :method, :path, :query, :headers, :body, :status, "
    ":response_body, :fault) RETURNING id"
)
# The ring: ids only grow, so everything `cap` or more below the newest is out.
TRIM_JOURNAL = statement("DELETE FROM control_journal WHERE id <= :oldest_gone")
JOURNAL = statement(f"SELECT {_JOURNAL_COLUMNS} FROM control_journal ORDER BY id DESC LIMIT :limit")
CLEAR_JOURNAL = statement("DELETE FROM control_journal")


@dataclass(frozen=True, slots=True)
class StateTable:
    """A table of the state document: its columns and the statements that dump and load it."""

    name: str
    columns: tuple[str, ...]
    select_all: Statement
    insert_rows: Statement
    next_id: Statement | None
    booleans: frozenset[str]
    floats: frozenset[str]


@functools.cache
def state_tables() -> tuple[StateTable, ...]:
    """The state document's tables, parents before children (the order a load inserts in)."""
    from sqlalchemy import Boolean, Float  # noqa: PLC0415 (see the module's docstring)

    from simkl_server.storage import schema  # noqa: PLC0415

    return tuple(
        StateTable(
            name=str(table.name),
            columns=tuple(str(column.name) for column in table.columns),
            select_all=statement(
                f"SELECT {', '.join(c.name for c in table.columns)} FROM {table.name} "
                f"ORDER BY {_order_by(table)}"
            ),
            insert_rows=_insert_rows(table),
            next_id=_next_id(table),
            booleans=frozenset(c.name for c in table.columns if isinstance(c.type, Boolean)),
            floats=frozenset(c.name for c in table.columns if isinstance(c.type, Float)),
        )
        for table in schema.metadata.sorted_tables
        if table.name not in CONTROL_TABLES | INTERNAL_TABLES
    )


def _order_by(table: Table) -> str:
    keys = [column.name for column in table.primary_key.columns] or [
        column.name for column in table.columns
    ]
    return ", ".join(keys)


def _pg_type(table: Table, name: str) -> str:
    from sqlalchemy.dialects import postgresql  # noqa: PLC0415 (see the module's docstring)

    return str(table.columns[name].type.compile(dialect=postgresql.dialect()))  # type: ignore[no-untyped-call]


def _insert_rows(table: Table) -> Statement:
    names = [str(column.name) for column in table.columns]

    def build(dialect: SqlDialect) -> str:
        rows = dialect.json_rows("rows", [(name, _pg_type(table, name)) for name in names])
        columns = ", ".join(names)
        return f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM ({rows}) AS given"

    return statement(build)


def _next_id(table: Table) -> Statement | None:
    """PostgreSQL's sequence of an integer `id` key moved past the loaded rows (SQLite
    numbers on from the largest id by itself)."""
    keys = list(table.primary_key.columns)
    if len(keys) != 1 or keys[0].name != "id" or keys[0].autoincrement is False:
        return None

    def build(dialect: SqlDialect) -> str:
        if dialect.name == "sqlite":
            return "SELECT 1"
        return (
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
            f"COALESCE(MAX(id), 0) + 1, false) FROM {table.name}"
        )

    return statement(build)


# What a load turns into a refusal: a row that breaks a key, a type or a constraint.
_REFUSED = (sqlite3.IntegrityError, sqlite3.DataError, sqlite3.InterfaceError,
            asyncpg.IntegrityConstraintViolationError, asyncpg.DataError)  # fmt: skip


class StateRefused(ValueError):
    """A state document the database does not accept; the message says which table."""


def state_columns() -> dict[str, tuple[str, ...]]:
    """Every table of the state document and its columns, in load order."""
    return {table.name: table.columns for table in state_tables()}


def _fault(row: Row) -> Fault:
    return Fault(
        id=int(row[0]),
        method=str(row[1]),
        path=str(row[2]),
        respond=str(row[3]),
        times_left=None if row[4] is None else int(row[4]),
        probability=None if row[5] is None else float(row[5]),
        seed=int(row[6]),
        delay_ms=int(row[7]),
        retry_after_s=int(row[8]),
        hits=int(row[9]),
    )


def _entry(row: Row) -> JournalEntry:
    headers = [(str(name), str(value)) for name, value in orjson.loads(row[5])]
    return JournalEntry(
        id=int(row[0]),
        at=int(row[1]),
        method=str(row[2]),
        path=str(row[3]),
        query=str(row[4]),
        headers=headers,
        body=row[6],
        status=int(row[7]),
        response_body=row[8],
        fault=row[9],
    )


def _slices(rows: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(rows), _LOAD_SLICE):
        yield rows[start : start + _LOAD_SLICE]


class ControlQueries:
    """Control plane statements on one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def settings(self) -> dict[str, str]:
        """Every setting as name -> JSON text."""
        return {str(name): str(value) for name, value in await self._conn.fetch(SETTINGS, {})}

    async def put_setting(self, name: str, value: str | None) -> None:
        """Store a setting (None removes it)."""
        if value is None:
            await self._conn.execute(DELETE_SETTING, {"name": name})
        else:
            await self._conn.execute(PUT_SETTING, {"name": name, "value": value})

    async def faults(self) -> list[Fault]:
        """Every fault, oldest first."""
        return [_fault(row) for row in await self._conn.fetch(FAULTS, {})]

    async def add_fault(self, fault: Fault, *, now: int) -> Fault:
        """Store a new fault (its id and hits are the database's)."""
        params = {
            "method": fault.method,
            "path": fault.path,
            "respond": fault.respond,
            "times_left": fault.times_left,
            "probability": fault.probability,
            "seed": fault.seed,
            "delay_ms": fault.delay_ms,
            "retry_after_s": fault.retry_after_s,
            "now": now,
        }
        row = await self._conn.fetchrow(INSERT_FAULT, params)
        assert row is not None
        return _fault(row)

    async def claim_fault(self, fault: Fault) -> int | None:
        """Count one hit of a fault; its hit number, or None when it has no time left."""
        claim = CLAIM_DRAW if fault.times_left is None else CLAIM_COUNTED_FAULT
        row = await self._conn.fetchrow(claim, {"id": fault.id})
        return None if row is None else int(row[0])

    async def clear_faults(self) -> None:
        """Remove every fault."""
        await self._conn.execute(CLEAR_FAULTS, {})

    async def journal(self, limit: int) -> list[JournalEntry]:
        """The newest `limit` entries, newest first."""
        return [_entry(row) for row in await self._conn.fetch(JOURNAL, {"limit": limit})]

    async def record(self, entry: JournalEntry, *, cap: int) -> None:
        """Add an entry and drop what falls out of the ring of `cap` entries."""
        params = {
            "at": entry.at,
            "method": entry.method,
            "path": entry.path,
            "query": entry.query,
            "headers": orjson.dumps(list(entry.headers)).decode(),
            "body": entry.body,
            "status": entry.status,
            "response_body": entry.response_body,
            "fault": entry.fault,
        }
        row = await self._conn.fetchrow(INSERT_JOURNAL, params)
        assert row is not None
        await self._conn.execute(TRIM_JOURNAL, {"oldest_gone": int(row[0]) - cap})

    async def clear_journal(self) -> None:
        """Forget every entry."""
        await self._conn.execute(CLEAR_JOURNAL, {})

    async def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every state table, by primary key, as column -> value."""
        tables: dict[str, list[dict[str, Any]]] = {}
        for table in state_tables():
            rows = await self._conn.fetch(table.select_all, {})
            tables[table.name] = [
                {
                    name: _plain(value, name in table.booleans, name in table.floats)
                    for name, value in zip(table.columns, row, strict=True)
                }
                for row in rows
            ]
        return tables

    async def load(self, tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        """Insert the rows of a state document into empty tables (StateRefused when the
        database refuses a row), and move id sequences past them."""
        for table in state_tables():
            given = tables.get(table.name, ())
            rows = [[row.get(name) for name in table.columns] for row in given]
            for chunk in _slices(rows):
                try:
                    await self._conn.execute(
                        table.insert_rows, {"rows": orjson.dumps(list(chunk)).decode()}
                    )
                except _REFUSED as exc:
                    raise StateRefused(f"{table.name}: {_first_line(exc)}") from None
            if table.next_id is not None:
                await self._conn.fetch(table.next_id, {})


def _plain(value: Any, boolean: bool, floating: bool) -> Any:
    """A column value as JSON shows it the same on both databases."""
    if value is None:
        return None
    if boolean:
        return bool(value)
    if floating:
        return float(value)
    return value


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]
