"""The one place SQLite and PostgreSQL differ in SQL: placeholders, array parameters, JSON rows,
two-argument maximum, fresh ids, writes in a WITH clause and row locks.

A statement is written once (`statement(...)`, at module level in its area's module) and
compiled for both dialects when that module is imported, so no request ever compiles SQL.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

# A `:name` parameter, found as SQLAlchemy's text() finds one: `x::TEXT` casts and `a:b` are
# left alone, and `\:name` is a literal `:name`. Written here rather than compiled through
# SQLAlchemy, which only the migrations need: loading it took a quarter of every process's
# start (each command, each server). tests/storage/test_dialect.py holds every statement of
# the server to SQLAlchemy's own compilation.
_PARAMETER = re.compile(r"(?<![:\w\\]):(\w+)(?![:\w])")
_ESCAPED_COLON = re.compile(r"\\(:\w*)(?![:\w])")


@dataclass(frozen=True, slots=True)
class Query:
    """A statement compiled for one dialect, with its parameter names in positional order."""

    sql: str
    names: tuple[str, ...]

    def args(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        """Order named parameters the way the driver expects them."""
        return tuple(params[name] for name in self.names)


class SqlDialect:
    """SQL fragments whose spelling depends on the database."""

    def __init__(self, name: str) -> None:
        self.name = name

    def compile(self, sql: str) -> Query:
        """Turn `:name` parameters into the driver's positional placeholders: sqlite3's `?`,
        one for each use of a name, or asyncpg's `$1`, one for each name."""
        names: list[str] = []

        def placeholder(match: re.Match[str]) -> str:
            name = match.group(1)
            if self.name == "sqlite":
                names.append(name)
                return "?"
            if name not in names:
                names.append(name)
            return f"${names.index(name) + 1}"

        positional = _PARAMETER.sub(placeholder, sql)
        return Query(_ESCAPED_COLON.sub(r"\1", positional), tuple(names))

    def in_array(self, column: str, param: str, sql_type: str) -> str:
        """`column` is one of the values of an array parameter (see `encode_array`).

        PostgreSQL gets a real array and `= ANY`, an index condition whose plan does not hinge
        on the planner guessing the array's length; SQLite walks a JSON array."""
        if self.name == "sqlite":
            return f"{column} IN (SELECT value FROM json_each(:{param}))"
        return f"{column} = ANY(CAST(:{param} AS {sql_type}[]))"

    def array_source(self, param: str, sql_type: str) -> str:
        """A subquery yielding the values of an array parameter as rows of `value`."""
        if self.name == "sqlite":
            return f"SELECT value FROM json_each(:{param})"
        return f"SELECT unnest(CAST(:{param} AS {sql_type}[])) AS value"

    def join_each_row(self, table: str, alias: str, condition: str) -> str:
        """`JOIN table alias ON condition`, the table looked up once per row on the left.

        PostgreSQL plans each statement once for any parameters (drivers._PG_SESSION): a
        library read's plan weighs the average library against the whole catalog, and as
        libraries grew it turned to a merge join that reads every catalog item, 54 ms for
        100k items even for a 1,000-row library. A LATERAL subquery that cannot be flattened
        (OFFSET 0) keeps the cost with the rows read. SQLite joins row by row anyway."""
        if self.name == "sqlite":
            return f"JOIN {table} {alias} ON {condition}"
        return (
            f"CROSS JOIN LATERAL (SELECT * FROM {table} {alias} WHERE {condition} OFFSET 0) "
            f"AS {alias}"
        )

    def encode_array(self, values: Iterable[Any]) -> Any:
        """An array parameter's value: JSON text for SQLite, a list for asyncpg."""
        if self.name == "sqlite":
            return orjson.dumps(list(values)).decode()
        return list(values)

    def json_rows(self, param: str, columns: Sequence[tuple[str, str]]) -> str:
        """A subquery yielding a JSON array of arrays (one JSON text parameter on both
        databases) as rows with the given columns."""
        if self.name == "sqlite":
            picks = ", ".join(
                f"json_extract(value, '$[{i}]') AS {name}" for i, (name, _) in enumerate(columns)
            )
            return f"SELECT {picks} FROM json_each(:{param})"
        picks = ", ".join(
            f"CAST(x->>{i} AS {sql_type}) AS {name}" for i, (name, sql_type) in enumerate(columns)
        )
        return f"SELECT {picks} FROM jsonb_array_elements(CAST(:{param} AS JSONB)) AS t(x)"

    def greatest(self, left: str, right: str) -> str:
        """The larger of two values (SQLite's two-argument MAX is PostgreSQL's GREATEST)."""
        return f"MAX({left}, {right})" if self.name == "sqlite" else f"GREATEST({left}, {right})"

    def new_ids(self, table: str, count_param: str) -> str:
        """Rows of `:count_param` fresh ids of a table's `id` column, for rows a statement then
        inserts with them. PostgreSQL draws them from the column's sequence; SQLite, whose one
        writer holds the database, counts on from the largest id."""
        if self.name == "sqlite":
            return (
                f"WITH RECURSIVE n(i) AS (SELECT 1 WHERE :{count_param} > 0 UNION ALL "
                f"SELECT i + 1 FROM n WHERE i < :{count_param}) "
                f"SELECT (SELECT COALESCE(MAX(id), 0) FROM {table}) + i FROM n"
            )
        return (
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
            f"FROM generate_series(1, CAST(:{count_param} AS INTEGER))"
        )

    def json_fill(self, base: str, patch: str) -> str:
        """JSON object text `base` with the members of the JSON object text `patch` it lacks
        (members `base` already has are kept)."""
        if self.name == "sqlite":
            return f"json_patch({patch}, {base})"
        return f"CAST(CAST({patch} AS JSONB) || CAST({base} AS JSONB) AS TEXT)"

    @property
    def writes_in_with(self) -> bool:
        """Whether a data-modifying statement may run in a WITH clause of another, so two
        writes are one statement: PostgreSQL, where each statement is a round trip (SQLite
        allows only SELECT there, and its statements cost no round trip)."""
        return self.name != "sqlite"

    @property
    def lock_suffix(self) -> str:
        """Row lock for the per-user write lock; SQLite's BEGIN IMMEDIATE already locks."""
        return "" if self.name == "sqlite" else " FOR UPDATE"


SQLITE = SqlDialect("sqlite")
POSTGRES = SqlDialect("postgresql")


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement, compiled for both databases."""

    sqlite: Query
    postgres: Query


def statement(source: str | Callable[[SqlDialect], str]) -> Statement:
    """Compile a statement for both dialects: plain SQL, or a function of the dialect for
    statements that use its fragments (arrays, JSON rows, locks)."""

    def build(dialect: SqlDialect) -> Query:
        return dialect.compile(source if isinstance(source, str) else source(dialect))

    return Statement(build(SQLITE), build(POSTGRES))


def json_text(values: Iterable[Any]) -> str:
    """Rows for a `json_rows` parameter: one JSON array of arrays, on both databases."""
    return orjson.dumps(list(values)).decode()


# Accented Latin letters and their base letters, for text search on PostgreSQL: `translate()`
# with fixed strings is immutable, so an expression index can hold the folded titles (SQLite's
# FTS5 tokenizer folds diacritics itself). Queries are folded in Python with the same table.
def _accent_table() -> tuple[str, str]:
    accented, plain = [], []
    for code in range(0xC0, 0x250):
        char = chr(code)
        parts = unicodedata.normalize("NFKD", char)
        base = "".join(c for c in parts if not unicodedata.combining(c))
        if len(base) == 1 and base.isascii() and base != char:
            accented.append(char)
            plain.append(base)
    return "".join(accented), "".join(plain)


ACCENTED, UNACCENTED = _accent_table()
_UNACCENT = str.maketrans(ACCENTED, UNACCENTED)


def _title_search_sqlite(match: str) -> str:
    return (
        "catalog_items c JOIN catalog_search s ON s.rowid = c.id "
        f"WHERE catalog_search MATCH :{match}"
    )


def _title_search_postgres(match: str) -> str:
    return f"catalog_items c WHERE {SEARCH_VECTOR_SQL} @@ to_tsquery('simple', :{match})"


# The indexed expression (migration 0005 builds its GIN index on exactly this text).
SEARCH_VECTOR_SQL = f"to_tsvector('simple', translate(c.title_key, '{ACCENTED}', '{UNACCENTED}'))"


def title_search_source(dialect: SqlDialect, match: str) -> str:
    """`FROM ... WHERE ...` of catalog items (alias `c`) whose folded title holds every word of
    the `:match` parameter as a word prefix (see `title_search_query`)."""
    if dialect.name == "sqlite":
        return _title_search_sqlite(match)
    return _title_search_postgres(match)


def title_search_query(dialect_name: str, words: list[str]) -> str:
    """The `:match` parameter for `title_search_source`: every word (folded titles' words,
    which hold no quote or operator), each as a prefix."""
    if dialect_name == "sqlite":
        return " AND ".join(f'"{word}"*' for word in words)
    return " & ".join(f"{word.translate(_UNACCENT)}:*" for word in words)
