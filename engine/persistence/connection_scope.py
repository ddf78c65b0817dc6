"""One pool checkout per unit of work (a web request): the pool lends its connection again.

Every ``engine.connect()``, ``engine.begin()`` and session of the engine takes a connection from
SQLAlchemy's pool and gives it back; on PostgreSQL each checkout first pings the server
(``pool_pre_ping``, so that a connection broken by a server restart is replaced, not used). A web
request runs several reads and a command: about ten checkouts and ten pings.

Inside :func:`connection_scope`, :class:`ScopedQueuePool` keeps the first connection it hands out
until the scope ends and hands the same one out again, without a checkout (no ping, no pool lock),
whenever nobody else in the scope is using it. Each user still owns its transaction: SQLAlchemy
ends it (commit, or rollback) when its ``Connection`` or session closes, before the next user gets
the connection. A second connection asked for while the kept one is in use (a read nested in a
command) is an ordinary checkout, so two transactions never share one connection.

A connection invalidated in the scope (the server went away: SQLAlchemy checks it in as
invalid) is dropped; the next user checks out a new one, pinged as usual, and the scope keeps
that one. Outside a scope (workers, the command line) the pool behaves as SQLAlchemy's QueuePool.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

from sqlalchemy.pool import PoolProxiedConnection, QueuePool

#: the connections kept by the current scope, one per pool; None outside a scope
_KEPT: ContextVar[dict | None] = ContextVar("dsdt_connection_scope", default=None)


@contextlib.contextmanager
def connection_scope() -> Iterator[None]:
    """Let every :class:`ScopedQueuePool` lend one connection for the whole ``with`` block.

    Nothing is checked out until the block's first database use. Scopes nest: an inner scope
    within an outer one adds nothing.
    """
    if _KEPT.get() is not None:
        yield
        return
    kept: dict = {}
    token = _KEPT.set(kept)
    try:
        yield
    finally:
        _KEPT.reset(token)
        for connection in kept.values():
            _release(connection)


def in_scope() -> bool:
    """Whether a :func:`connection_scope` is open in this context."""
    return _KEPT.get() is not None


def _alive(connection) -> bool:
    """Whether a kept connection is still checked out to the scope (not invalidated)."""
    return connection._connection_record is not None and connection.dbapi_connection is not None


def _broken(connection) -> bool:
    """Whether the driver already knows the kept connection is lost (a statement failed on it
    with the server gone; psycopg's ``broken``): checked locally, without a round trip, so that
    a command's retry after a lost connection gets a new one."""
    driver = connection.driver_connection
    return bool(getattr(driver, "broken", False) or getattr(driver, "closed", False))


def _release(connection) -> None:
    """Give the scope's hold on ``connection`` back (checked in when no user has it open)."""
    if _alive(connection):
        connection.close()


class ScopedQueuePool(QueuePool):
    """A QueuePool that lends one connection repeatedly inside a :func:`connection_scope`."""

    def connect(self) -> PoolProxiedConnection:
        kept = _KEPT.get()
        if kept is None:
            return super().connect()
        connection = kept.get(self)
        if connection is not None:
            if _alive(connection) and connection._counter == 1 and _broken(connection):
                connection.invalidate()  # lost (seen by the driver, no round trip): checked in
            if not _alive(connection):
                del kept[self]  # invalidated: already checked in by SQLAlchemy
            elif connection._counter == 1:  # only the scope holds it: lend it again, unpinged
                return connection._checkout_existing()
            else:  # in use (a read inside a command): an ordinary checkout
                return super().connect()
        connection = super().connect()  # pinged (pre_ping) as every checkout
        kept[self] = connection._checkout_existing()  # the scope's own hold
        return connection

