"""Hand-written SQL run on the driver's connection, for the statements every command runs.

SQLAlchemy Core spends 20-40 µs of Python per statement (execution context, parameter
processing, result wrapping): more than SQLite takes to run one of these primary-key statements,
and several times the engine's own work for a command. A :class:`RawStatement` runs on the DBAPI
connection of the caller's SQLAlchemy connection, so inside the same transaction, and converts
values with the column types' own bind and result processors: what it stores and reads is
exactly what SQLAlchemy stores and reads everywhere else.

The SQL is written once with ``:name`` parameters (SQLite's style) and rewritten to
``%(name)s`` for psycopg. Keep it portable: these statements run on SQLite and PostgreSQL.

Round trips (PostgreSQL): writes whose result nobody reads (:meth:`RawStatement.defer`,
:meth:`RawStatement.execute_many`) are queued on the connection and sent with the next statement
that needs an answer, in one psycopg pipeline (with the ``BEGIN`` when it is the transaction's
first statement): a read, a write whose row count is used, any
SQLAlchemy statement (``before_cursor_execute``) or the commit (the engine's ``commit`` event).
A command's journal entry, projections and notifications then cost a few round trips instead of
one each. A queued write that fails raises there, as SQLAlchemy's error (``IntegrityError``...),
still inside the transaction; a rollback drops the queue. Only engines set up by
:func:`install_batching` queue (``Database`` does it for PostgreSQL); elsewhere, and on SQLite,
whose statements cost no round trip, every write runs at once.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager

from sqlalchemy import Column, Connection, event
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DBAPIError

_NAMED = re.compile(r"(?<![:\w]):(\w+)")
#: every statement alive, for :func:`compile_all` (weak: a factory's statements may be dropped)
_ALL: weakref.WeakSet[RawStatement] = weakref.WeakSet()
#: ``connection.info`` key of the writes queued on a DBAPI connection: [(statement, [params...])]
_PENDING = "dsdt.raw.pending"
#: ``engine.pool`` attribute set by :func:`install_batching`
_BATCHING = "_dsdt_raw_batching"
#: psycopg's ``TransactionStatus.IDLE`` (no transaction open on the connection)
_IDLE = 0


def install_batching(engine: Engine) -> None:
    """Let :class:`RawStatement` queue unread writes on ``engine``'s connections (PostgreSQL)."""
    if engine.dialect.driver != "psycopg" or getattr(engine.pool, _BATCHING, False):
        return
    event.listen(engine, "before_cursor_execute", _flush_before_statement)
    event.listen(engine, "commit", _flush_on)
    event.listen(engine, "commit_twophase", _flush_on_twophase)
    event.listen(engine, "rollback", _drop_on)
    event.listen(engine.pool, "checkin", _drop_on_checkin)
    event.listen(engine.pool, "reset", _drop_on_reset)
    setattr(engine.pool, _BATCHING, True)


def _flush_before_statement(connection, _cursor, _statement, _parameters, _context, _executemany) -> None:
    if connection.connection.info.get(_PENDING):
        flush(connection)


def _flush_on(connection) -> None:
    if connection.connection.info.get(_PENDING):
        flush(connection)


def _flush_on_twophase(connection, _xid, _is_prepared) -> None:
    _flush_on(connection)


def _drop_on(connection) -> None:
    connection.connection.info.pop(_PENDING, None)


def _drop_on_checkin(dbapi_connection, connection_record) -> None:
    if connection_record is not None:
        connection_record.info.pop(_PENDING, None)


def _drop_on_reset(dbapi_connection, connection_record, reset_state) -> None:
    _drop_on_checkin(dbapi_connection, connection_record)


def flush(connection: Connection) -> None:
    """Send the writes queued on ``connection`` now (one pipeline); their first error raises."""
    _run_pending(connection, None, None)


def _batching(connection: Connection) -> bool:
    """Whether ``connection``'s engine queues writes (a stand-in without an engine does not)."""
    engine = getattr(connection, "engine", None)
    return connection.dialect.name == "postgresql" and getattr(getattr(engine, "pool", None), _BATCHING, False)


def _queue(connection: Connection) -> list | None:
    """The connection's write queue, or ``None`` when writes must run at once here."""
    if not _batching(connection):
        return None
    driver = connection.connection.driver_connection
    if driver.autocommit:
        return None
    return connection.connection.info.setdefault(_PENDING, [])


def _pipelined(connection: Connection) -> bool:
    """Whether a statement goes in a pipeline: after queued writes, or as the transaction's first
    (psycopg then sends its ``BEGIN`` in the same round trip)."""
    if not _batching(connection):
        return False
    record = connection.connection
    if record.info.get(_PENDING):
        return True
    driver = record.driver_connection
    return not driver.autocommit and driver.info.transaction_status == _IDLE


def _run_pending(connection: Connection, statement: RawStatement | None, values: dict | None):
    """The queued writes, then ``statement`` (if any), in one pipeline; ``statement``'s cursor
    (closed by the caller) or ``None``."""
    info = connection.connection.info
    pending = info.pop(_PENDING, None) or []
    if not pending and statement is None:
        return None
    dialect = connection.dialect
    driver = connection.connection.driver_connection
    cursors, answer, current = [], None, None
    try:
        with driver.pipeline():
            for queued, rows in pending:
                current = queued
                cursor = driver.cursor()
                cursors.append(cursor)
                compiled = queued._compiled(dialect)
                if len(rows) == 1:
                    cursor.execute(compiled.sql, compiled.params(rows[0]))
                else:
                    cursor.executemany(compiled.sql, [compiled.params(row) for row in rows])
            if statement is not None:
                current = statement
                compiled = statement._compiled(dialect)
                answer = driver.cursor()
                answer.execute(compiled.sql, compiled.params(values))
    except dialect.loaded_dbapi.Error as err:
        if answer is not None:
            answer.close()
        # the pipeline reports a queued write's failure at a later statement or at its end
        sql = current.sql if current is statement else "(queued writes) " + "; ".join(q.sql for q, _ in pending)
        raise DBAPIError.instance(sql, None, err, dialect.loaded_dbapi.Error, dialect=dialect) from err
    finally:
        for cursor in cursors:
            cursor.close()
    return answer


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


def compile_all(dialect: Dialect) -> int:
    """Prepare every statement alive for ``dialect`` (the SQL and its type processors), as its
    first run would: done at start (:meth:`engine.WorkflowEngine.warm_up`) instead of by a new
    process's first command. Returns how many statements there are."""
    statements = list(_ALL)
    for statement in statements:
        statement._compiled(dialect)
    return len(statements)


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
        _ALL.add(self)

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
        """Run a write now; returns the number of rows it changed."""
        if _pipelined(connection):
            with self._after_pending(connection, values) as cursor:
                return cursor.rowcount
        compiled = self._compiled(connection.dialect)
        with self._cursor(connection) as cursor:
            cursor.execute(compiled.sql, compiled.params(values))
            return cursor.rowcount

    def defer(self, connection: Connection, values: dict) -> None:
        """Run a write whose result nobody reads: queued on PostgreSQL (module docstring)."""
        self.execute_many(connection, [values])

    def execute_many(self, connection: Connection, rows: Iterable[dict]) -> None:
        """Run a write for each of ``rows`` (queued on PostgreSQL, like :meth:`defer`)."""
        rows = list(rows)
        if not rows:
            return
        queue = _queue(connection)
        if queue is not None:
            queue.append((self, rows))
            return
        compiled = self._compiled(connection.dialect)
        with self._cursor(connection) as cursor:
            if len(rows) == 1:  # psycopg's executemany enters and leaves a pipeline: slower for one row
                cursor.execute(compiled.sql, compiled.params(rows[0]))
            else:
                cursor.executemany(compiled.sql, [compiled.params(values) for values in rows])

    def all(self, connection: Connection, values: dict) -> list[tuple]:
        compiled = self._compiled(connection.dialect)
        if _pipelined(connection):
            with self._after_pending(connection, values) as cursor:
                return [compiled.row(raw) for raw in cursor.fetchall()]
        with self._cursor(connection) as cursor:
            cursor.execute(compiled.sql, compiled.params(values))
            return [compiled.row(raw) for raw in cursor.fetchall()]

    def first(self, connection: Connection, values: dict) -> tuple | None:
        rows = self.all(connection, values)
        return rows[0] if rows else None

    @contextmanager
    def _after_pending(self, connection: Connection, values: dict):
        """This statement sent after the connection's queued writes, in the same round trip."""
        cursor = _run_pending(connection, self, values)
        dialect = connection.dialect
        try:
            yield cursor
        except dialect.loaded_dbapi.Error as err:
            raise DBAPIError.instance(self.sql, None, err, dialect.loaded_dbapi.Error, dialect=dialect) from err
        finally:
            cursor.close()
