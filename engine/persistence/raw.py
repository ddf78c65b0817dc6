"""Hand-written SQL run on the driver's connection, for the statements every command runs.

SQLAlchemy Core spends 20-40 µs of Python per statement (execution context, parameter
processing, result wrapping): more than SQLite takes to run one of these primary-key statements,
and several times the engine's own work for a command. A :class:`RawStatement` runs on the DBAPI
connection of the caller's SQLAlchemy connection, so inside the same transaction, and converts
values with the column types' own bind and result processors: what it stores and reads is
exactly what SQLAlchemy stores and reads everywhere else.

The SQL is written once with ``:name`` parameters (SQLite's style) and rewritten to
``%(name)s`` for psycopg. Keep it portable: these statements run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager

from sqlalchemy import Column, Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError

_NAMED = re.compile(r"(?<![:\w]):(\w+)")


class _Compiled:
    def __init__(self, sql: str, binds: Mapping[str, Column], results: Sequence[Column], dialect: Dialect):
        self.sql = sql if dialect.name == "sqlite" else _NAMED.sub(r"%(\1)s", sql)
        # The dialect's implementation of each type, as SQLAlchemy itself uses (SQLite stores
        # datetimes as text, for one).
        processors = ((name, column.type.dialect_impl(dialect).bind_processor(dialect))
                      for name, column in binds.items())
        self.bind = [(name, processor) for name, processor in processors if processor is not None]
        self.result = [column.type.dialect_impl(dialect).result_processor(dialect, None) for column in results]
        self.converts_results = any(self.result)

    def params(self, values: dict) -> dict:
        if self.bind:
            values = dict(values)
            for name, processor in self.bind:
                values[name] = processor(values[name])
        return values

    def row(self, raw: tuple) -> tuple:
        if not self.converts_results:
            return raw
        return tuple(value if processor is None else processor(value)
                     for processor, value in zip(self.result, raw, strict=True))


class RawStatement:
    """One SQL statement; ``binds`` names the column each parameter is stored in.

    ``results`` lists the columns a query returns, in order, so their values come back as
    SQLAlchemy would return them (timezone-aware datetimes, decoded JSON).
    """

    def __init__(self, sql: str, binds: Mapping[str, Column] | None = None, results: Sequence[Column] = ()):
        self.sql = " ".join(sql.split())
        self.binds = dict(binds or {})
        self.results = list(results)
        self._by_dialect: dict[str, _Compiled] = {}

    def _compiled(self, dialect: Dialect) -> _Compiled:
        compiled = self._by_dialect.get(dialect.name)
        if compiled is None:
            compiled = self._by_dialect[dialect.name] = _Compiled(self.sql, self.binds, self.results, dialect)
        return compiled

    @contextmanager
    def _cursor(self, connection: Connection):
        """A driver cursor; driver errors become SQLAlchemy's (``IntegrityError``...), as callers expect."""
        dialect = connection.dialect
        cursor = connection.connection.driver_connection.cursor()
        try:
            yield cursor
        except dialect.loaded_dbapi.Error as err:
            raise DBAPIError.instance(self.sql, None, err, dialect.loaded_dbapi.Error, dialect=dialect) from err
        finally:
            cursor.close()

    def execute(self, connection: Connection, values: dict) -> int:
        """Run a write; returns the number of rows it changed."""
        compiled = self._compiled(connection.dialect)
        with self._cursor(connection) as cursor:
            cursor.execute(compiled.sql, compiled.params(values))
            return cursor.rowcount

    def execute_many(self, connection: Connection, rows: Iterable[dict]) -> None:
        compiled = self._compiled(connection.dialect)
        with self._cursor(connection) as cursor:
            cursor.executemany(compiled.sql, [compiled.params(values) for values in rows])

    def all(self, connection: Connection, values: dict) -> list[tuple]:
        compiled = self._compiled(connection.dialect)
        with self._cursor(connection) as cursor:
            cursor.execute(compiled.sql, compiled.params(values))
            return [compiled.row(raw) for raw in cursor.fetchall()]

    def first(self, connection: Connection, values: dict) -> tuple | None:
        rows = self.all(connection, values)
        return rows[0] if rows else None
