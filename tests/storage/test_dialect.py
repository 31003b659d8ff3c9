"""Statements' parameters become the drivers' placeholders exactly as SQLAlchemy's text() makes
them, for every statement the server compiles (it no longer loads SQLAlchemy to do so)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import asyncpg
from sqlalchemy.engine import Dialect

from simkl_server.storage.dialect import POSTGRES, SQLITE, Query, SqlDialect

# Run in a process of its own, so every module compiles its statements as it is imported.
_EVERY_STATEMENT = """
import json, pkgutil, importlib
import simkl_server
from simkl_server.storage import dialect
seen = []
compile = dialect.SqlDialect.compile
def recording(self, sql):
    seen.append([self.name, sql])
    return compile(self, sql)
dialect.SqlDialect.compile = recording
for module in pkgutil.walk_packages(simkl_server.__path__, "simkl_server."):
    if ".migrations" not in module.name and not module.name.endswith("__main__"):
        importlib.import_module(module.name)
from simkl_server.storage import base, control
control.state_tables()  # built on first use
base._reset_order()
print(json.dumps(seen))
"""

_EDGES = [
    "SELECT :a, :b, :a",
    "SELECT x::TEXT, CAST(:value AS BIGINT[]), :id::INTEGER",
    "SELECT 'a:b', :ab:cd, a:b, (:c),:d",
    "SELECT '%', :first_1 || '%%' WHERE x = :é",
    "SELECT \\:literal, :real",
    "SELECT 1\n:line",
]


def _sqlalchemys(sql: str, dialect: Dialect) -> Query:
    compiled = text(sql).compile(dialect=dialect)
    return Query(str(compiled), tuple(compiled.positiontup or ()))


def _compilers(name: str) -> tuple[SqlDialect, Dialect]:
    if name == "sqlite":
        return SQLITE, sqlite.dialect()
    return POSTGRES, asyncpg.dialect()  # type: ignore[no-untyped-call]


def _every_statement() -> list[tuple[str, str]]:
    done = subprocess.run(
        [sys.executable, "-c", _EVERY_STATEMENT],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return [(name, sql) for name, sql in json.loads(done.stdout)]


def test_every_statement_of_the_server_compiles_as_sqlalchemy_compiles_it() -> None:
    statements = _every_statement()
    assert len({sql for _, sql in statements}) > 300, "the modules' statements were not seen"
    for name, sql in statements:
        ours, theirs = _compilers(name)
        assert ours.compile(sql) == _sqlalchemys(sql, theirs), sql


@pytest.mark.parametrize("name", ["sqlite", "postgresql"])
@pytest.mark.parametrize("sql", _EDGES)
def test_casts_colons_and_repeated_names_compile_as_sqlalchemy_compiles_them(
    name: str, sql: str
) -> None:
    ours, theirs = _compilers(name)
    assert ours.compile(sql) == _sqlalchemys(sql, theirs)


def test_sqlite_takes_a_value_for_each_use_and_postgresql_one_for_each_name() -> None:
    assert SQLITE.compile("SELECT :a, :b, :a") == Query("SELECT ?, ?, ?", ("a", "b", "a"))
    assert POSTGRES.compile("SELECT :a, :b, :a") == Query("SELECT $1, $2, $1", ("a", "b"))
